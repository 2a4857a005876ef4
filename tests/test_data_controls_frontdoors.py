"""The control-family rules of the front-door services (policy/hipaa_policies/data/controls/frontdoors.json),
driven over the Analyzer protocol: load balancers, CloudFront, API Gateway, WAF, Network Firewall,
Verified Access, App Mesh, Cognito and private CA policies.

For each type with rules: the compliant form of every variant botocore's model lists passes; each
rule, read from the JSON, has a violating mutation that reports the rule's own fix text; an unknown
value at each rule's path leaves the policy "not judged". The compliant forms are written by hand:
they are the claim of what a correct resource looks like. Sources of the AWS facts they pin:
- botocore `elbv2` (ProtocolEnum, TargetTypeEnum, RedirectActionProtocol `^(HTTPS?|#\\{protocol\\})$`);
  pulumi-aws `lb.TargetGroup` docstring ("protocol ... Does not apply when target_type is lambda").
- botocore `cloudfront` (ViewerProtocolPolicy, OriginProtocolPolicy, SslProtocol,
  MinimumProtocolVersion); pulumi-aws `cloudfront.Distribution` docstring (minimum_protocol_version
  "Default: TLSv1"; "If you have specified cloudfront_default_certificate, TLSv1 must be specified").
- AWS "Choose a security policy for your REST API custom domain in API Gateway"
  (https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-custom-domain-tls-version.html):
  the default endpoint of edge-optimized and Regional APIs uses TLS-1-0, of private APIs TLS-1-2;
  botocore `apigateway` SecurityPolicy enum (TLS_1_0, TLS_1_2, SecurityPolicy_*).
- botocore `network-firewall` EncryptionType (CUSTOMER_KMS, AWS_OWNED_KMS_KEY).
- botocore `ec2` VerifiedAccessEndpointType / VerifiedAccessEndpointProtocol (http, https, tcp).
- botocore `appmesh` ListenerTlsMode (STRICT, PERMISSIVE, DISABLED).
- botocore `wafv2` FilterBehavior (KEEP, DROP); botocore `cognito-idp` DeletionProtectionType and
  Custom{Email,SMS}SenderLambdaVersionType (V1_0); Cognito "Custom sender Lambda triggers": Cognito
  encrypts the codes it sends to a custom sender with a customer managed KMS key.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.data_controls_harness import DELETE, POLICY, policy_document, rule_tests, rules_of, set_path
from tests.policy_cases import KEY_ARN

RULES = rules_of("frontdoors")
ALIAS_KEY = "arn:aws:kms:us-east-1:123456789012:alias/aws/network-firewall"
SCOPED_POLICY = policy_document(
    "*",
    "execute-api:Invoke",
    {"StringEquals": {"aws:SourceVpce": "vpce-0123456789abcdef0"}},
    resource="execute-api:/*",
)
ACCOUNT_POLICY = policy_document(
    {"AWS": "arn:aws:iam::123456789012:root"}, ["acm-pca:IssueCertificate", "acm-pca:GetCertificate"]
)

CLOUDFRONT_CERT = {
    "acmCertificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/abc",
    "sslSupportMethod": "sni-only",
    "minimumProtocolVersion": "TLSv1.2_2021",
}
CUSTOM_ORIGIN = {
    "domainName": "app.example.org",
    "originId": "app",
    "customOriginConfig": {
        "httpPort": 80,
        "httpsPort": 443,
        "originProtocolPolicy": "https-only",
        "originSslProtocols": ["TLSv1.2"],
    },
}
S3_ORIGIN = {"domainName": "b.s3.us-east-1.amazonaws.com", "originId": "s3", "originAccessControlId": "E2OAC"}
VPC_ORIGIN = {
    "domainName": "internal.example.org",
    "originId": "vpc",
    "vpcOriginConfig": {"vpcOriginId": "vo_1"},
}
DISTRIBUTION = {
    "enabled": True,
    "origins": [CUSTOM_ORIGIN],
    "defaultCacheBehavior": {
        "targetOriginId": "app",
        "viewerProtocolPolicy": "redirect-to-https",
        "allowedMethods": ["GET", "HEAD"],
        "cachedMethods": ["GET", "HEAD"],
    },
    "orderedCacheBehaviors": [
        {
            "pathPattern": "/api/*",
            "targetOriginId": "app",
            "viewerProtocolPolicy": "https-only",
            "allowedMethods": ["GET", "HEAD"],
            "cachedMethods": ["GET", "HEAD"],
        }
    ],
    "viewerCertificate": CLOUDFRONT_CERT,
    "restrictions": {"geoRestriction": {"restrictionType": "none"}},
    "loggingConfig": {"bucket": "logs.s3.amazonaws.com", "prefix": "cf/"},
}
MULTITENANT = {
    "enabled": True,
    "origins": [
        {
            "domainName": "app.example.org",
            "id": "app",
            "customOriginConfigs": [
                {
                    "httpPort": 80,
                    "httpsPort": 443,
                    "originProtocolPolicy": "https-only",
                    "originSslProtocols": ["TLSv1.2"],
                }
            ],
        }
    ],
    "defaultCacheBehavior": {"targetOriginId": "app", "viewerProtocolPolicy": "https-only"},
    "cacheBehaviors": [
        {"pathPattern": "/api/*", "targetOriginId": "app", "viewerProtocolPolicy": "redirect-to-https"}
    ],
    "viewerCertificate": {
        "acmCertificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/abc",
        "sslSupportMethod": "sni-only",
        "minimumProtocolVersion": "TLSv1.2_2025",
    },
    "restrictions": {"geoRestriction": {"restrictionType": "none"}},
}
MESH_TLS = {
    "mode": "STRICT",
    "certificate": {"acm": {"certificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/abc"}},
}
MESH_LOGGING = {"accessLog": {"file": {"path": "/dev/stdout"}}}
FIREWALL_KEY = {"type": "CUSTOMER_KMS", "keyId": KEY_ARN}

# type -> [(variant, compliant props)]: every variant botocore's model lists for the rules' switches.
COMPLIANT: dict[str, list[tuple[str, dict]]] = {
    "aws:acmpca/policy:Policy": [
        ("account", {"resourceArn": "arn:aws:acm-pca:ca", "policy": ACCOUNT_POLICY})
    ],
    "aws:apigateway/domainName:DomainName": [
        (
            "regional-tls12",
            {
                "domainName": "api.example.org",
                "securityPolicy": "TLS_1_2",
                "endpointConfiguration": {"types": "REGIONAL"},
            },
        ),
        (
            "edge-enhanced",
            {
                "domainName": "api.example.org",
                "securityPolicy": "SecurityPolicy_TLS13_2025_EDGE",
                "endpointAccessMode": "STRICT",
                "endpointConfiguration": {"types": "EDGE"},
            },
        ),
        (
            "private-with-policy",
            {
                "domainName": "api.example.org",
                "securityPolicy": "TLS_1_2",
                "endpointConfiguration": {"types": "PRIVATE"},
                "policy": SCOPED_POLICY,
            },
        ),
    ],
    "aws:apigateway/integration:Integration": [
        (
            "http-verified",
            {
                "restApi": "a",
                "resourceId": "r",
                "httpMethod": "GET",
                "type": "HTTP_PROXY",
                "uri": "https://backend.example.org",
                "tlsConfig": {"insecureSkipVerification": False},
            },
        ),
        (
            "lambda-no-tls-block",
            {
                "restApi": "a",
                "resourceId": "r",
                "httpMethod": "GET",
                "type": "AWS_PROXY",
                "uri": "arn:aws:apigateway:us-east-1:lambda:path/fn",
            },
        ),
    ],
    "aws:apigateway/restApi:RestApi": [
        (
            "regional-tls12",
            {"name": "api", "securityPolicy": "TLS_1_2", "endpointConfiguration": {"types": "REGIONAL"}},
        ),
        (
            "edge-enhanced",
            {
                "name": "api",
                "securityPolicy": "SecurityPolicy_TLS13_1_2_2021_06",
                "endpointAccessMode": "STRICT",
                "endpointConfiguration": {"types": "EDGE"},
            },
        ),
        (
            "private-default-tls12",
            {"name": "api", "endpointConfiguration": {"types": "PRIVATE"}, "policy": SCOPED_POLICY},
        ),
        ("execute-api-disabled", {"name": "api", "disableExecuteApiEndpoint": True}),
    ],
    "aws:apigateway/restApiPolicy:RestApiPolicy": [("vpce", {"restApiId": "a", "policy": SCOPED_POLICY})],
    "aws:apigatewayv2/domainName:DomainName": [
        (
            "regional",
            {
                "domainName": "api.example.org",
                "domainNameConfiguration": {
                    "certificateArn": "arn:aws:acm:c",
                    "endpointType": "REGIONAL",
                    "securityPolicy": "TLS_1_2",
                },
            },
        )
    ],
    "aws:appmesh/virtualGateway:VirtualGateway": [
        (
            "strict",
            {
                "meshName": "m",
                "name": "g",
                "spec": {
                    "listeners": [{"portMapping": {"port": 443, "protocol": "http"}, "tls": MESH_TLS}],
                    "logging": MESH_LOGGING,
                },
            },
        )
    ],
    "aws:appmesh/virtualNode:VirtualNode": [
        (
            "strict-listener",
            {
                "meshName": "m",
                "name": "n",
                "spec": {
                    "listeners": [{"portMapping": {"port": 8443, "protocol": "grpc"}, "tls": MESH_TLS}],
                    "backendDefaults": {
                        "clientPolicy": {
                            "tls": {
                                "enforce": True,
                                "validation": {"trust": {"file": {"certificateChain": "/c"}}},
                            }
                        }
                    },
                    "logging": MESH_LOGGING,
                },
            },
        ),
        (
            "client-only",
            {
                "meshName": "m",
                "name": "n",
                "spec": {
                    "backends": [{"virtualService": {"virtualServiceName": "s"}}],
                    "logging": MESH_LOGGING,
                },
            },
        ),
    ],
    "aws:cloudfront/distribution:Distribution": [
        ("custom-origin", DISTRIBUTION),
        (
            "s3-origin-access-control",
            {
                **{k: v for k, v in DISTRIBUTION.items() if k != "orderedCacheBehaviors"},
                "origins": [S3_ORIGIN],
                "defaultCacheBehavior": {**DISTRIBUTION["defaultCacheBehavior"], "targetOriginId": "s3"},
            },
        ),
        ("vpc-origin", {**DISTRIBUTION, "origins": [VPC_ORIGIN, CUSTOM_ORIGIN]}),
        (
            "tls13-policy",
            {
                **DISTRIBUTION,
                "viewerCertificate": {**CLOUDFRONT_CERT, "minimumProtocolVersion": "TLSv1.3_2025"},
            },
        ),
    ],
    "aws:cloudfront/multitenantDistribution:MultitenantDistribution": [
        ("custom-origin", MULTITENANT),
        (
            "s3-origin-no-behaviors",
            {
                **{k: v for k, v in MULTITENANT.items() if k != "cacheBehaviors"},
                "origins": [
                    {
                        "domainName": "b.s3.us-east-1.amazonaws.com",
                        "id": "s3",
                        "originAccessControlId": "E2OAC",
                    },
                    *MULTITENANT["origins"],
                ],
            },
        ),
    ],
    "aws:cloudfront/vpcOrigin:VpcOrigin": [
        (
            "https",
            {
                "vpcOriginEndpointConfig": {
                    "name": "o",
                    "arn": "arn:aws:elasticloadbalancing:lb",
                    "httpPort": 80,
                    "httpsPort": 443,
                    "originProtocolPolicy": "https-only",
                    "originSslProtocols": {"items": ["TLSv1.2"], "quantity": 1},
                }
            },
        )
    ],
    "aws:cognito/userPool:UserPool": [
        ("no-custom-sender", {"name": "users", "deletionProtection": "ACTIVE"}),
        (
            "custom-senders",
            {
                "name": "users",
                "deletionProtection": "ACTIVE",
                "lambdaConfig": {
                    "kmsKeyId": KEY_ARN,
                    "customEmailSender": {"lambdaArn": "arn:aws:lambda:fn:email", "lambdaVersion": "V1_0"},
                    "customSmsSender": {"lambdaArn": "arn:aws:lambda:fn:sms", "lambdaVersion": "V1_0"},
                },
            },
        ),
    ],
    "aws:elb/loadBalancer:LoadBalancer": [
        (
            "internal",
            {
                "internal": True,
                "listeners": [
                    {
                        "instancePort": 443,
                        "instanceProtocol": "https",
                        "lbPort": 443,
                        "lbProtocol": "https",
                        "sslCertificateId": "arn:aws:acm:us-east-1:123456789012:certificate/abc",
                    }
                ],
            },
        )
    ],
    "aws:networkfirewall/firewall:Firewall": [
        (
            "customer-key",
            {
                "name": "fw",
                "firewallPolicyArn": "arn:aws:network-firewall:policy",
                "vpcId": "vpc-1",
                "subnetMappings": [{"subnetId": "subnet-1"}],
                "deleteProtection": True,
                "encryptionConfiguration": FIREWALL_KEY,
            },
        )
    ],
    "aws:networkfirewall/firewallPolicy:FirewallPolicy": [
        (
            "customer-key",
            {
                "name": "p",
                "firewallPolicy": {
                    "statelessDefaultActions": ["aws:forward_to_sfe"],
                    "statelessFragmentDefaultActions": ["aws:forward_to_sfe"],
                },
                "encryptionConfiguration": FIREWALL_KEY,
            },
        )
    ],
    "aws:networkfirewall/resourcePolicy:ResourcePolicy": [
        ("account", {"resourceArn": "arn:aws:network-firewall:rg", "policy": ACCOUNT_POLICY})
    ],
    "aws:networkfirewall/ruleGroup:RuleGroup": [
        (
            f"{kind.lower()}-customer-key",
            {"name": "rg", "capacity": 100, "type": kind, "encryptionConfiguration": FIREWALL_KEY},
        )
        for kind in ("STATEFUL", "STATELESS")
    ],
    "aws:networkfirewall/tlsInspectionConfiguration:TlsInspectionConfiguration": [
        (
            "customer-key",
            {
                "name": "tls",
                "encryptionConfigurations": [FIREWALL_KEY],
                "tlsInspectionConfiguration": {
                    "serverCertificateConfiguration": {"certificateAuthorityArn": "arn:aws:acm:ca"}
                },
            },
        )
    ],
    "aws:verifiedaccess/endpoint:Endpoint": [
        (
            "load-balancer",
            {
                "attachmentType": "vpc",
                "endpointType": "load-balancer",
                "verifiedAccessGroupId": "g",
                "loadBalancerOptions": {
                    "loadBalancerArn": "arn:aws:elasticloadbalancing:lb",
                    "port": 443,
                    "protocol": "https",
                    "subnetIds": ["subnet-1"],
                },
                "sseSpecification": {"customerManagedKeyEnabled": True, "kmsKeyArn": KEY_ARN},
            },
        ),
        (
            "network-interface",
            {
                "attachmentType": "vpc",
                "endpointType": "network-interface",
                "verifiedAccessGroupId": "g",
                "networkInterfaceOptions": {"networkInterfaceId": "eni-1", "port": 443, "protocol": "https"},
                "sseSpecification": {"customerManagedKeyEnabled": True, "kmsKeyArn": KEY_ARN},
            },
        ),
        (
            "rds",
            {
                "attachmentType": "vpc",
                "endpointType": "rds",
                "verifiedAccessGroupId": "g",
                "rdsOptions": {"port": 5432, "protocol": "tcp", "rdsDbInstanceArn": "arn:aws:rds:db"},
                "sseSpecification": {"customerManagedKeyEnabled": True, "kmsKeyArn": KEY_ARN},
            },
        ),
        (
            "cidr",
            {
                "attachmentType": "vpc",
                "endpointType": "cidr",
                "verifiedAccessGroupId": "g",
                "cidrOptions": {
                    "cidr": "10.0.0.0/24",
                    "protocol": "tcp",
                    "subnetIds": ["subnet-1"],
                    "portRanges": [{"fromPort": 22, "toPort": 22}],
                },
                "sseSpecification": {"customerManagedKeyEnabled": True, "kmsKeyArn": KEY_ARN},
            },
        ),
    ],
    "aws:verifiedaccess/group:Group": [
        (
            "customer-key",
            {
                "verifiedaccessInstanceId": "i",
                "sseConfiguration": {"customerManagedKeyEnabled": True, "kmsKeyArn": KEY_ARN},
            },
        )
    ],
    "aws:verifiedaccess/instanceLoggingConfiguration:InstanceLoggingConfiguration": [
        (dest, {"verifiedaccessInstanceId": "i", "accessLogs": {dest: {"enabled": True, **extra}}})
        for dest, extra in (
            ("cloudwatchLogs", {"logGroup": "va"}),
            ("s3", {"bucketName": "logs"}),
            ("kinesisDataFirehose", {"deliveryStream": "va"}),
        )
    ],
    "aws:verifiedaccess/trustProvider:TrustProvider": [
        (
            "customer-key",
            {
                "policyReferenceName": "idp",
                "trustProviderType": "user",
                "userTrustProviderType": "iam-identity-center",
                "sseSpecification": {"customerManagedKeyEnabled": True, "kmsKeyArn": KEY_ARN},
            },
        )
    ],
    **{
        t: [("logged", {"name": "acl", "metricName": "acl", "defaultAction": {"type": "BLOCK"},
                        "loggingConfiguration": {"logDestination": "arn:aws:firehose:aws-waf-logs-x"}})]
        for t in ("aws:waf/webAcl:WebAcl", "aws:wafregional/webAcl:WebAcl")
    },
    "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration": [
        (
            "no-filter",
            {"resourceArn": "arn:aws:wafv2:acl", "logDestinationConfigs": ["arn:aws:logs:aws-waf-logs-x"]},
        ),
        (
            "filter-keeps-by-default",
            {
                "resourceArn": "arn:aws:wafv2:acl",
                "logDestinationConfigs": ["arn:aws:s3:::aws-waf-logs-x"],
                "loggingFilter": {
                    "defaultBehavior": "KEEP",
                    "filters": [
                        {
                            "behavior": "DROP",
                            "requirement": "MEETS_ANY",
                            "conditions": [{"actionCondition": {"action": "CAPTCHA"}}],
                        }
                    ],
                },
            },
        ),
    ],
}
for _token in ("aws:alb/listenerRule:ListenerRule", "aws:lb/listenerRule:ListenerRule"):
    COMPLIANT[_token] = [
        (
            "redirect-https",
            {
                "listenerArn": "l",
                "actions": [
                    {"type": "redirect", "redirect": {"protocol": "HTTPS", "statusCode": "HTTP_301"}}
                ],
                "conditions": [{"pathPattern": {"values": ["/old/*"]}}],
            },
        ),
        (
            "redirect-same-protocol",
            {
                "listenerArn": "l",
                "actions": [
                    {"type": "redirect", "redirect": {"host": "new.example.org", "statusCode": "HTTP_301"}}
                ],
                "conditions": [{"hostHeader": {"values": ["old.example.org"]}}],
            },
        ),
        (
            "forward",
            {
                "listenerArn": "l",
                "actions": [{"type": "forward", "targetGroupArn": "tg"}],
                "conditions": [{"pathPattern": {"values": ["/api/*"]}}],
            },
        ),
    ]
for _token in ("aws:alb/targetGroup:TargetGroup", "aws:lb/targetGroup:TargetGroup"):
    COMPLIANT[_token] = [
        (
            "alb-https-instance",
            {
                "protocol": "HTTPS",
                "port": 443,
                "vpcId": "vpc-1",
                "healthCheck": {"protocol": "HTTPS", "path": "/health"},
            },
        ),
        ("nlb-tls-ip", {"protocol": "TLS", "port": 443, "vpcId": "vpc-1", "targetType": "ip"}),
        ("nlb-tcp-passthrough", {"protocol": "TCP", "port": 443, "vpcId": "vpc-1", "targetType": "ip"}),
        ("nlb-to-alb", {"protocol": "TCP", "port": 443, "vpcId": "vpc-1", "targetType": "alb"}),
        ("nlb-udp", {"protocol": "UDP", "port": 514, "vpcId": "vpc-1"}),
        ("nlb-tcp-udp", {"protocol": "TCP_UDP", "port": 53, "vpcId": "vpc-1"}),
        ("nlb-quic", {"protocol": "QUIC", "port": 443, "vpcId": "vpc-1", "targetType": "ip"}),
        ("nlb-tcp-quic", {"protocol": "TCP_QUIC", "port": 443, "vpcId": "vpc-1", "targetType": "ip"}),
        ("gwlb-geneve", {"protocol": "GENEVE", "port": 6081, "vpcId": "vpc-1"}),
        ("lambda", {"targetType": "lambda"}),
    ]

# (type, family, rule index) -> a deployable defect that breaks exactly that rule (DELETE removes), where the
# one derived from the rule (data_controls_harness.derived_defect) is not it: an absent input whose AWS
# default the rule judges, a value AWS takes that the rule refuses, a block the rule reads into.
VIOLATIONS: dict[tuple[str, str, int], dict[str, Any]] = {
    ("aws:apigatewayv2/domainName:DomainName", "in-transit", 0): {
        "domainNameConfiguration.securityPolicy": "TLS_1_0"
    },
    ("aws:cloudfront/distribution:Distribution", "in-transit", 0): {
        "defaultCacheBehavior.viewerProtocolPolicy": "allow-all"
    },
    ("aws:cloudfront/distribution:Distribution", "in-transit", 1): {
        "orderedCacheBehaviors.[].viewerProtocolPolicy": "allow-all"
    },
    ("aws:cloudfront/distribution:Distribution", "in-transit", 3): {
        "origins.[].customOriginConfig.originSslProtocols": ["TLSv1", "TLSv1.1", "TLSv1.2"]
    },
    ("aws:cloudfront/multitenantDistribution:MultitenantDistribution", "in-transit", 0): {
        "defaultCacheBehavior.viewerProtocolPolicy": "allow-all"
    },
    ("aws:cloudfront/multitenantDistribution:MultitenantDistribution", "in-transit", 1): {
        "cacheBehaviors.[].viewerProtocolPolicy": "allow-all"
    },
    ("aws:cloudfront/multitenantDistribution:MultitenantDistribution", "in-transit", 3): {
        "origins.[].customOriginConfigs.[].originSslProtocols": ["SSLv3"]
    },
    ("aws:cloudfront/multitenantDistribution:MultitenantDistribution", "in-transit", 4): {
        "viewerCertificate.minimumProtocolVersion": "TLSv1_2016"
    },
    ("aws:cloudfront/multitenantDistribution:MultitenantDistribution", "in-transit", 5): {
        "viewerCertificate": {"cloudfrontDefaultCertificate": True, "minimumProtocolVersion": "TLSv1.2_2021"}
    },
    ("aws:cloudfront/vpcOrigin:VpcOrigin", "in-transit", 0): {
        "vpcOriginEndpointConfig.originProtocolPolicy": "match-viewer"
    },
    ("aws:cloudfront/vpcOrigin:VpcOrigin", "in-transit", 1): {
        "vpcOriginEndpointConfig.originSslProtocols": {"items": ["TLSv1.1", "TLSv1.2"], "quantity": 2}
    },
    ("aws:networkfirewall/firewallPolicy:FirewallPolicy", "at-rest", 0): {
        "encryptionConfiguration.type": "AWS_OWNED_KMS_KEY"
    },
    ("aws:networkfirewall/tlsInspectionConfiguration:TlsInspectionConfiguration", "at-rest", 1): {
        "encryptionConfigurations.[].type": "AWS_OWNED_KMS_KEY"
    },
    ("aws:verifiedaccess/endpoint:Endpoint", "in-transit", 0): {"loadBalancerOptions.protocol": "http"},
    ("aws:verifiedaccess/endpoint:Endpoint", "in-transit", 1): {
        "endpointType": "network-interface",
        "loadBalancerOptions": DELETE,
        "networkInterfaceOptions": {"networkInterfaceId": "eni-1", "port": 80, "protocol": "http"},
    },
    ("aws:verifiedaccess/trustProvider:TrustProvider", "at-rest", 1): {"sseSpecification.kmsKeyArn": " "},
    ("aws:verifiedaccess/instanceLoggingConfiguration:InstanceLoggingConfiguration", "logging", 0): {
        "accessLogs.cloudwatchLogs.enabled": False
    },
    ("aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration", "logging", 1): {
        "loggingFilter": {
            "defaultBehavior": "DROP",
            "filters": [
                {
                    "behavior": "KEEP",
                    "requirement": "MEETS_ANY",
                    "conditions": [{"actionCondition": {"action": "BLOCK"}}],
                }
            ],
        }
    },
}
for _token in ("aws:appmesh/virtualGateway:VirtualGateway", "aws:appmesh/virtualNode:VirtualNode"):
    VIOLATIONS[(_token, "in-transit", 0)] = {"spec.listeners.[].tls.mode": "PERMISSIVE"}
    VIOLATIONS[(_token, "in-transit", 1)] = {
        "spec.backendDefaults": {
            "clientPolicy": {
                "tls": {"enforce": False, "validation": {"trust": {"file": {"certificateChain": "/c"}}}}
            }
        }
    }
for _token in ("aws:alb/targetGroup:TargetGroup", "aws:lb/targetGroup:TargetGroup"):
    VIOLATIONS[(_token, "in-transit", 0)] = {"protocol": "HTTP", "port": 80}

globals().update(rule_tests("frontdoors", COMPLIANT, hand_defects=VIOLATIONS))


def test_a_regional_rest_api_without_a_security_policy_is_refused_but_a_private_one_passes(pack):
    """AWS: the default endpoint of an edge-optimized or Regional API uses TLS-1-0, of a private
    API TLS-1-2 ("Choose a security policy for your REST API custom domain in API Gateway")."""
    fix = RULES["aws:apigateway/restApi:RestApi"]["in-transit"][0]["fix"]
    for types, expected in (("EDGE", [fix]), ("REGIONAL", [fix]), ("PRIVATE", [])):
        verdict = pack.analyze(
            "aws:apigateway/restApi:RestApi", {"name": "api", "endpointConfiguration": {"types": types}}
        )
        assert verdict.messages("aws-data-in-transit-tls") == expected, types


def test_the_cloudfront_default_certificate_fails_even_with_a_modern_minimum(pack):
    """pulumi-aws Distribution docstring: with cloudfront_default_certificate, TLSv1 must be specified
    (CloudFront then accepts TLSv1 whatever minimumProtocolVersion says)."""
    props = set_path(
        DISTRIBUTION,
        "viewerCertificate",
        {"cloudfrontDefaultCertificate": True, "minimumProtocolVersion": "TLSv1.2_2021"},
    )
    messages = pack.analyze("aws:cloudfront/distribution:Distribution", props).messages(
        "aws-data-in-transit-tls"
    )
    assert messages == [RULES["aws:cloudfront/distribution:Distribution"]["in-transit"][5]["fix"]]


def _fix(type_: str, family: str, index: int) -> str:
    return RULES[type_][family][index]["fix"]


# Defects whose shape the one-mutation cases above do not cover: an absent block, a second element.
MORE_DEFECTS = [
    (
        "custom-origin-beside-s3-origin",
        "aws:cloudfront/distribution:Distribution",
        {
            **DISTRIBUTION,
            "origins": [
                S3_ORIGIN,
                {
                    **CUSTOM_ORIGIN,
                    "customOriginConfig": {
                        **CUSTOM_ORIGIN["customOriginConfig"],
                        "originProtocolPolicy": "http-only",
                    },
                },
            ],
        },
        _fix("aws:cloudfront/distribution:Distribution", "in-transit", 2),
    ),
    (
        "second-behavior-allows-http",
        "aws:cloudfront/distribution:Distribution",
        {
            **DISTRIBUTION,
            "orderedCacheBehaviors": [
                *DISTRIBUTION["orderedCacheBehaviors"],
                {
                    **DISTRIBUTION["orderedCacheBehaviors"][0],
                    "pathPattern": "/img/*",
                    "viewerProtocolPolicy": "allow-all",
                },
            ],
        },
        _fix("aws:cloudfront/distribution:Distribution", "in-transit", 1),
    ),
    (
        "mesh-listener-without-tls",
        "aws:appmesh/virtualNode:VirtualNode",
        {
            "meshName": "m",
            "name": "n",
            "spec": {
                "listeners": [{"portMapping": {"port": 8080, "protocol": "http"}}],
                "logging": MESH_LOGGING,
            },
        },
        _fix("aws:appmesh/virtualNode:VirtualNode", "in-transit", 0),
    ),
    (
        "firewall-without-encryption-block",
        "aws:networkfirewall/firewall:Firewall",
        {"name": "fw", "firewallPolicyArn": "p", "vpcId": "vpc-1", "deleteProtection": True},
        _fix("aws:networkfirewall/firewall:Firewall", "at-rest", 0),
    ),
    (
        "instance-logging-all-destinations-off",
        "aws:verifiedaccess/instanceLoggingConfiguration:InstanceLoggingConfiguration",
        {"verifiedaccessInstanceId": "i", "accessLogs": {"includeTrustContext": True}},
        _fix("aws:verifiedaccess/instanceLoggingConfiguration:InstanceLoggingConfiguration", "logging", 0),
    ),
    (
        "load-balancer-endpoint-without-protocol",
        "aws:verifiedaccess/endpoint:Endpoint",
        set_path(
            COMPLIANT["aws:verifiedaccess/endpoint:Endpoint"][0][1], "loadBalancerOptions.protocol", DELETE
        ),
        _fix("aws:verifiedaccess/endpoint:Endpoint", "in-transit", 0),
    ),
]


@pytest.mark.parametrize("name,type_,props,fix", MORE_DEFECTS, ids=[d[0] for d in MORE_DEFECTS])
def test_defects_in_absent_blocks_and_later_elements_are_reported(pack, name, type_, props, fix):
    family = next(f for f, rules in RULES[type_].items() if any(r["fix"] == fix for r in rules))
    assert fix in pack.analyze(type_, props).messages(POLICY[family])
