"""One case per resource policy: a compliant resource, violating mutations with their exact
messages, and the property whose unknown value leaves the policy unjudged."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any, Optional

from pulumi_policy.proxy import UNKNOWN_STRING_VALUE as UNKNOWN

DELETE = object()
KEY_ARN = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
TAGS = {"DataClassification": "phi", "Environment": "prod"}


@dataclass
class Case:
    policy: str
    type: str
    compliant: dict
    mutations: list[tuple[dict, str]]
    unknown: Optional[str] = None
    """Dotted path whose unknown value means the policy cannot judge the resource."""
    config: dict = field(default_factory=dict)
    protect: bool = False
    """The resource option `protect` of the compliant resource (mutations may set __protect__)."""


def patched(props: dict, patch: dict) -> dict:
    """A copy of `props` with dotted paths set (DELETE removes; numeric parts index lists)."""
    result = copy.deepcopy(props)
    for path, value in patch.items():
        if path == "__protect__":
            continue
        parts: list[Any] = [int(p) if p.isdigit() else p for p in path.split(".")]
        target = result
        for part in parts[:-1]:
            target = target[part]
        if value is DELETE:
            del target[parts[-1]]
        else:
            target[parts[-1]] = value
    return result


TLS_POLICY = ('{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:*",'
              '"Resource":["arn:aws:s3:::b","arn:aws:s3:::b/*"],"Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}')
PUBLIC_POLICY = ('{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*"}]}')
ROLE_TRUST = '{"Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}]}'
SCOPED = '{"Statement":[{"Effect":"Allow","Action":["s3:GetObject"],"Resource":"arn:aws:s3:::b/*"}]}'

RDS = {"engine": "postgres", "storageEncrypted": True, "kmsKeyId": KEY_ARN, "publiclyAccessible": False,
       "backupRetentionPeriod": 35, "multiAz": True, "deletionProtection": True,
       "iamDatabaseAuthenticationEnabled": True, "enabledCloudwatchLogsExports": ["postgresql", "upgrade"],
       "monitoringInterval": 60, "autoMinorVersionUpgrade": True, "performanceInsightsEnabled": True,
       "performanceInsightsKmsKeyId": KEY_ARN, "manageMasterUserPassword": True, "tags": TAGS}
INSTANCE = {"metadataOptions": {"httpTokens": "required"}, "associatePublicIpAddress": False,
            "rootBlockDevice": {"encrypted": True}, "ebsBlockDevices": [{"deviceName": "/dev/sdf", "encrypted": True}],
            "iamInstanceProfile": "app", "subnetId": "subnet-1"}
LAUNCH_TEMPLATE = {"metadataOptions": {"httpTokens": "required"},
                   "networkInterfaces": [{"associatePublicIpAddress": False}],
                   "blockDeviceMappings": [{"deviceName": "/dev/xvda", "ebs": {"encrypted": True}}]}

CASES: list[Case] = [
    Case("hipaa-baa-eligible-services", "aws:apprunner/service:Service", None,
         [({}, "Remove this AWS App Runner resource: AWS App Runner is not on AWS's HIPAA Eligible Services "
               "Reference (revision of 2026-05-22); if AWS has added it since, add \"AWS App Runner\" to "
               "approvedServices in this stack's pack config after review.")],
         config={"holdsPhi": True}),
    Case("hipaa-no-phi-in-synthetic-stack", "aws:dynamodb/table:Table", {"tags": {"DataClassification": "synthetic"}},
         [({"tags.DataClassification": "phi"}, "Remove this PHI-classified resource: this stack's pack config says it holds no PHI (holdsPhi is false).")],
         unknown="tags"),
    Case("hipaa-data-classification-tagged", "aws:s3/bucket:Bucket", {"tags": {"DataClassification": "synthetic"}},
         [({"tags.DataClassification": "secret"}, "Set tags.DataClassification to phi, synthetic or internal."),
          ({"tags": DELETE}, "Tag this data store with DataClassification phi, synthetic or internal.")], unknown="tags"),
    Case("hipaa-no-data-copied-into-synthetic-stack", "aws:rds/instance:Instance", {"engine": "postgres"},
         [({"snapshotIdentifier": "prod-final"}, "Remove snapshotIdentifier: a stack without PHI must not restore or import data from elsewhere."),
          ({"restoreToPointInTime": {"sourceDbInstanceIdentifier": "prod"}}, "Remove restoreToPointInTime: a stack without PHI must not restore or import data from elsewhere."),
          ({"replicateSourceDb": UNKNOWN}, "Remove replicateSourceDb: a stack without PHI must not restore or import data from elsewhere.")]),
    Case("hipaa-no-phi-access-from-synthetic-stack", "aws:iam/policy:Policy", {"policy": SCOPED},
         [({"policy": SCOPED.replace("arn:aws:s3:::b/*", "arn:aws:s3:::hipaa-aws-prod-phi-documents-1/*")},
           "Remove references to PHI resources (arn:aws:s3:::hipaa-aws-prod-*) from this policy.")],
         unknown="policy", config={"phiResourcePatterns": ["arn:aws:s3:::hipaa-aws-prod-*"]}),
    Case("hipaa-phi-store-protected", "aws:rds/instance:Instance", RDS,
         [({"__protect__": False}, "Set protect=True on this stateful PHI store (ResourceOptions(protect=True)).")],
         config={"holdsPhi": True}, protect=True),
    Case("aws-s3-bucket-acl-prohibited", "aws:s3/bucket:Bucket", {"bucket": "b"},
         [({"acl": "public-read"}, "Remove acl; ACLs are disabled (BucketOwnerEnforced) and access is granted by policy."),
          ({"grants": [{"type": "Group", "permissions": ["READ"]}]}, "Remove grants; ACLs are disabled (BucketOwnerEnforced) and access is granted by policy.")],
         unknown="acl"),
    Case("aws-s3-bucket-ownership-enforced", "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
         {"bucket": UNKNOWN, "rule": {"objectOwnership": "BucketOwnerEnforced"}},
         [({"rule.objectOwnership": "ObjectWriter"}, "Set rule.objectOwnership to BucketOwnerEnforced.")], unknown="rule.objectOwnership"),
    Case("aws-s3-public-access-block-complete", "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
         {"bucket": UNKNOWN, "blockPublicAcls": True, "blockPublicPolicy": True, "ignorePublicAcls": True, "restrictPublicBuckets": True},
         [({"blockPublicAcls": False}, "Set blockPublicAcls to true."), ({"restrictPublicBuckets": DELETE}, "Set restrictPublicBuckets to true.")],
         unknown="blockPublicPolicy"),
    Case("aws-s3-account-public-access-block", "aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock",
         {"blockPublicAcls": True, "blockPublicPolicy": True, "ignorePublicAcls": True, "restrictPublicBuckets": True},
         [({"ignorePublicAcls": False}, "Set ignorePublicAcls to true.")], unknown="ignorePublicAcls"),
    Case("aws-s3-sse-customer-managed-key", "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
         {"bucket": UNKNOWN, "rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms", "kmsMasterKeyId": UNKNOWN}, "bucketKeyEnabled": True}]},
         [({"rules.0.applyServerSideEncryptionByDefault.kmsMasterKeyId": DELETE},
           "Set rules[].applyServerSideEncryptionByDefault.kmsMasterKeyId to a customer-managed KMS key.")], unknown="rules"),
    Case("aws-s3-bucket-policy-tls-only", "aws:s3/bucketPolicy:BucketPolicy", {"bucket": UNKNOWN, "policy": TLS_POLICY},
         [({"policy": SCOPED}, "Add a policy statement denying all principals when aws:SecureTransport is false."),
          ({"policy": TLS_POLICY.replace('"Action":"s3:*"', '"Action":"s3:ListAllMyBuckets"')},
           "Add a policy statement denying all principals when aws:SecureTransport is false.")], unknown="policy"),
    Case("aws-s3-bucket-policy-not-public", "aws:s3/bucketPolicy:BucketPolicy", {"bucket": UNKNOWN, "policy": TLS_POLICY},
         [({"policy": PUBLIC_POLICY}, 'Remove policy statements that allow Principal "*" without a condition.'),
          ({"policy": PUBLIC_POLICY.replace('"Resource":"*"', '"Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"true"}}')},
           'Remove policy statements that allow Principal "*" without a condition.')], unknown="policy"),
    Case("aws-s3-versioning-enabled", "aws:s3/bucketVersioning:BucketVersioning",
         {"bucket": UNKNOWN, "versioningConfiguration": {"status": "Enabled"}},
         [({"versioningConfiguration.status": "Suspended"}, "Set versioningConfiguration.status to Enabled.")],
         unknown="versioningConfiguration.status"),
    Case("aws-rds-storage-encrypted", "aws:rds/instance:Instance", RDS,
         [({"storageEncrypted": False}, "Set storageEncrypted to true."), ({"kmsKeyId": DELETE}, "Set kmsKeyId to a customer-managed key.")],
         unknown="storageEncrypted"),
    Case("aws-rds-not-publicly-accessible", "aws:rds/instance:Instance", RDS,
         [({"publiclyAccessible": True}, "Set publiclyAccessible to false.")], unknown="publiclyAccessible"),
    Case("aws-rds-backup-retention", "aws:rds/instance:Instance", RDS,
         [({"backupRetentionPeriod": 1}, "Set backupRetentionPeriod to at least 7 days."),
          ({"backupRetentionPeriod": DELETE}, "Set backupRetentionPeriod to at least 7 days.")], unknown="backupRetentionPeriod"),
    Case("aws-rds-multi-az", "aws:rds/instance:Instance", RDS, [({"multiAz": False}, "Set multiAz to true.")], unknown="multiAz"),
    Case("aws-rds-deletion-protection", "aws:rds/cluster:Cluster", {"deletionProtection": True},
         [({"deletionProtection": False}, "Set deletionProtection to true.")], unknown="deletionProtection"),
    Case("aws-rds-iam-authentication", "aws:rds/instance:Instance", RDS,
         [({"iamDatabaseAuthenticationEnabled": False}, "Set iamDatabaseAuthenticationEnabled to true.")],
         unknown="iamDatabaseAuthenticationEnabled"),
    Case("aws-rds-logs-exported", "aws:rds/instance:Instance", RDS,
         [({"enabledCloudwatchLogsExports": ["upgrade"]}, "Add postgresql to enabledCloudwatchLogsExports."),
          ({"enabledCloudwatchLogsExports": []}, "Set enabledCloudwatchLogsExports to export the engine's logs to CloudWatch.")],
         unknown="enabledCloudwatchLogsExports"),
    Case("aws-rds-enhanced-monitoring", "aws:rds/instance:Instance", RDS,
         [({"monitoringInterval": 0}, "Set monitoringInterval (1, 5, 10, 15, 30 or 60) and monitoringRoleArn.")], unknown="monitoringInterval"),
    Case("aws-rds-auto-minor-upgrade", "aws:rds/instance:Instance", RDS,
         [({"autoMinorVersionUpgrade": False}, "Set autoMinorVersionUpgrade to true.")], unknown="autoMinorVersionUpgrade"),
    Case("aws-rds-performance-insights-encrypted", "aws:rds/instance:Instance", RDS,
         [({"performanceInsightsKmsKeyId": DELETE}, "Set performanceInsightsKmsKeyId to a customer-managed key.")],
         unknown="performanceInsightsEnabled"),
    Case("aws-rds-managed-master-password", "aws:rds/instance:Instance", RDS,
         [({"password": "hunter2hunter2"}, "Remove the password; set manageMasterUserPassword to true so RDS keeps it in Secrets Manager."),
          ({"passwordWo": "hunter2hunter2"}, "Remove the password; set manageMasterUserPassword to true so RDS keeps it in Secrets Manager.")]),
    Case("aws-rds-parameter-group-requires-tls", "aws:rds/parameterGroup:ParameterGroup",
         {"family": "postgres14", "parameters": [{"name": "rds.force_ssl", "value": "1"}]},
         [({"parameters.0.value": "0"}, "Add parameter rds.force_ssl with value 1."),
          ({"parameters": []}, "Add parameter rds.force_ssl with value 1."),  # PostgreSQL 14 defaults to 0
          ({"family": "mysql8.0"}, "Add parameter require_secure_transport with value 1.")], unknown="parameters"),
    Case("aws-rds-snapshot-not-public", "aws:rds/snapshotCopy:SnapshotCopy", {"kmsKeyId": KEY_ARN, "sharedAccounts": ["210987654321"]},
         [({"sharedAccounts": ["all"]}, 'Remove "all" from sharedAccounts.'), ({"kmsKeyId": DELETE}, "Set kmsKeyId to a customer-managed key.")],
         unknown="sharedAccounts"),
    Case("aws-kms-key-rotation-enabled", "aws:kms/key:Key", {"enableKeyRotation": True, "rotationPeriodInDays": 365},
         [({"enableKeyRotation": False}, "Set enableKeyRotation to true."),
          ({"rotationPeriodInDays": 730}, "Set rotationPeriodInDays to 365 or less.")], unknown="enableKeyRotation"),
    Case("aws-kms-key-deletion-window", "aws:kms/key:Key", {"deletionWindowInDays": 30},
         [({"deletionWindowInDays": 7}, "Set deletionWindowInDays to at least 30.")], unknown="deletionWindowInDays"),
    Case("aws-kms-key-policy-not-public", "aws:kms/key:Key", {"policy": ROLE_TRUST},
         [({"policy": PUBLIC_POLICY}, 'Remove key policy statements that allow Principal "*" without a condition.')], unknown="policy"),
    Case("aws-ec2-subnet-no-public-ip-on-launch", "aws:ec2/subnet:Subnet", {"mapPublicIpOnLaunch": False, "vpcId": UNKNOWN},
         [({"mapPublicIpOnLaunch": True}, "Set mapPublicIpOnLaunch to false.")], unknown="mapPublicIpOnLaunch"),
    Case("aws-ec2-default-security-group-closed", "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup", {"vpcId": UNKNOWN},
         [({"ingress": [{"protocol": "-1", "fromPort": 0, "toPort": 0, "self": True}]},
           "Remove every ingress and egress rule from the default security group.")], unknown="ingress"),
    Case("aws-ec2-sg-no-internet-admin-ports", "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
         {"securityGroupId": UNKNOWN, "ipProtocol": "tcp", "fromPort": 443, "toPort": 443, "cidrIpv4": "0.0.0.0/0"},
         [({"fromPort": 22, "toPort": 22}, "Remove internet ingress to port(s) 22; reach hosts through Session Manager or a private network."),
          ({"ipProtocol": "-1"}, "Remove internet ingress to port(s) 20, 21, 22, 1433, 1521, 3306, 3389, 4333, 5432, 6379, 27017; reach hosts through Session Manager or a private network.")],
         unknown="cidrIpv4"),
    Case("aws-ec2-sg-internet-ingress-authorized-ports", "aws:ec2/securityGroup:SecurityGroup",
         {"ingress": [{"protocol": "tcp", "fromPort": 443, "toPort": 443, "cidrBlocks": ["0.0.0.0/0"]}]},
         [({"ingress.0.fromPort": 80, "ingress.0.toPort": 80}, "Restrict internet ingress to the authorized port(s) [443]; port(s) 80 are open to the internet."),
          ({"ingress.0.cidrBlocks": [], "ingress.0.ipv6CidrBlocks": ["::/0"], "ingress.0.toPort": 8443},
           "Restrict internet ingress to the authorized port(s) [443]; port(s) 443-8443 are open to the internet.")],
         unknown="ingress"),
    Case("aws-ec2-imdsv2-required", "aws:ec2/instance:Instance", INSTANCE,
         [({"metadataOptions.httpTokens": "optional"}, "Set metadataOptions.httpTokens to required (IMDSv2)."),
          ({"metadataOptions": DELETE}, "Set metadataOptions.httpTokens to required (IMDSv2).")], unknown="metadataOptions"),
    Case("aws-ec2-no-public-ip", "aws:ec2/launchTemplate:LaunchTemplate", LAUNCH_TEMPLATE,
         [({"networkInterfaces.0.associatePublicIpAddress": True}, "Set networkInterfaces[].associatePublicIpAddress to false.")],
         unknown="networkInterfaces"),
    Case("aws-ec2-block-devices-encrypted", "aws:ec2/instance:Instance", INSTANCE,
         [({"rootBlockDevice.encrypted": False}, "Set rootBlockDevice.encrypted to true."),
          ({"ebsBlockDevices.0.encrypted": False}, "Set ebsBlockDevices[].encrypted to true.")], unknown="rootBlockDevice"),
    Case("aws-ec2-instance-profile-attached", "aws:ec2/instance:Instance", INSTANCE,
         [({"iamInstanceProfile": DELETE}, "Set iamInstanceProfile to a least-privilege instance profile.")]),
    Case("aws-ec2-instance-in-vpc", "aws:ec2/instance:Instance", INSTANCE,
         [({"subnetId": DELETE}, "Set subnetId to a private subnet.")]),
    Case("aws-ebs-volume-encrypted", "aws:ebs/volume:Volume", {"encrypted": True, "kmsKeyId": KEY_ARN, "size": 10},
         [({"encrypted": False}, "Set encrypted to true."), ({"kmsKeyId": DELETE}, "Set kmsKeyId to a customer-managed key.")],
         unknown="encrypted"),
    Case("aws-ebs-snapshot-not-public", "aws:ec2/snapshotCreateVolumePermission:SnapshotCreateVolumePermission",
         {"accountId": "210987654321", "snapshotId": UNKNOWN},
         [({"accountId": "all"}, 'Share the snapshot with named accounts, never "all".')], unknown="accountId"),
    Case("aws-ebs-encryption-by-default", "aws:ebs/encryptionByDefault:EncryptionByDefault", {"enabled": True},
         [({"enabled": False}, "Set enabled to true.")], unknown="enabled"),
    Case("aws-autoscaling-elb-health-check", "aws:autoscaling/group:Group",
         {"targetGroupArns": [UNKNOWN], "healthCheckType": "ELB", "maxSize": 2, "minSize": 1},
         [({"healthCheckType": "EC2"}, "Set healthCheckType to ELB.")], unknown="healthCheckType"),
    Case("aws-lb-listener-https-only", "aws:lb/listener:Listener", {"protocol": "HTTPS", "port": 443},
         [({"protocol": "HTTP", "defaultActions": [{"type": "forward"}]}, "Use protocol HTTPS, or make every default action a redirect to HTTPS."),
          ({"protocol": DELETE}, "Set protocol to HTTPS (or TLS).")], unknown="protocol"),
    Case("aws-lb-listener-modern-tls", "aws:lb/listener:Listener",
         {"protocol": "HTTPS", "sslPolicy": "ELBSecurityPolicy-TLS13-1-2-2021-06",
          "certificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/abc"},
         [({"sslPolicy": "ELBSecurityPolicy-2016-08"}, "Set sslPolicy to a TLS 1.2+ policy such as ELBSecurityPolicy-TLS13-1-2-2021-06.")],
         unknown="sslPolicy"),
    Case("aws-lb-logging-and-protection", "aws:lb/loadBalancer:LoadBalancer",
         {"loadBalancerType": "application", "accessLogs": {"enabled": True, "bucket": UNKNOWN},
          "enableDeletionProtection": True, "dropInvalidHeaderFields": True},
         [({"accessLogs.enabled": False}, "Set accessLogs with enabled=true and the access-log bucket."),
          ({"enableDeletionProtection": False}, "Set enableDeletionProtection to true."),
          ({"dropInvalidHeaderFields": False}, "Set dropInvalidHeaderFields to true.")], unknown="accessLogs"),
    Case("aws-elb-classic-secure", "aws:elb/loadBalancer:LoadBalancer",
         {"listeners": [{"lbProtocol": "https", "lbPort": 443, "instancePort": 8443, "instanceProtocol": "https",
                         "sslCertificateId": "arn:aws:acm:us-east-1:123456789012:certificate/abc"}],
          "crossZoneLoadBalancing": True, "accessLogs": {"bucket": "logs", "enabled": True}},
         [({"listeners.0.lbProtocol": "http"}, "Use HTTPS or SSL for every listener's lbProtocol."),
          ({"crossZoneLoadBalancing": False}, "Set crossZoneLoadBalancing to true.")], unknown="listeners"),
    Case("aws-iam-no-users", "aws:iam/accessKey:AccessKey", None,
         [({}, "Remove this IAM user resource; people sign in through IAM Identity Center and workloads use roles.")]),
    Case("aws-iam-no-admin-or-full-service-access", "aws:iam/policy:Policy", {"policy": SCOPED},
         [({"policy": '{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}'}, 'Remove statements that allow Action "*" on Resource "*".'),
          ({"policy": '{"Statement":[{"Effect":"Allow","Action":["s3:*"],"Resource":"arn:aws:s3:::b"}]}'},
           "Replace full-service actions s3:* with the specific actions needed."),
          ({"policy": '{"Statement":[{"Effect":"Allow","NotAction":"iam:*","Resource":"*"}]}'},
           "Replace Allow with NotAction by an explicit list of allowed actions.")], unknown="policy"),
    Case("aws-iam-no-admin-or-full-service-access", "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
         {"role": UNKNOWN, "policyArn": "arn:aws:iam::aws:policy/service-role/AWS_ConfigRole"},
         [({"policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"},
           "Do not attach AdministratorAccess, PowerUserAccess or IAMFullAccess; grant the specific actions needed.")]),
    Case("aws-iam-no-broad-kms-decrypt", "aws:iam/policy:Policy",
         {"policy": '{"Statement":[{"Effect":"Allow","Action":"kms:Decrypt","Resource":"' + KEY_ARN + '"}]}'},
         [({"policy": '{"Statement":[{"Effect":"Allow","Action":"kms:Decrypt","Resource":"*"}]}'},
           'Scope kms:Decrypt/kms:ReEncrypt* to specific key ARNs, never Resource "*".'),
          ({"policy": '{"Statement":[{"Effect":"Allow","Action":["kms:decrypt*"],"Resource":"*"}]}'},
           'Scope kms:Decrypt/kms:ReEncrypt* to specific key ARNs, never Resource "*".')], unknown="policy"),
    # Every method and document kind: tests/test_privilege_escalation.py.
    Case("aws-iam-no-privilege-escalation", "aws:iam/policy:Policy", {"policy": SCOPED},
         [({"policy": '{"Statement":[{"Effect":"Allow","Action":["iam:PassRole","ec2:RunInstances"],"Resource":"*"}]}'},
           "Scope iam:PassRole, ec2:RunInstances to named resources: allowed together on every resource they let "
           "a principal escalate its privileges (CreateEC2WithExistingIP, https://pathfinding.cloud/paths/ec2-001).")],
         unknown="policy"),
    Case("aws-iam-no-inline-policies", "aws:iam/role:Role", {"assumeRolePolicy": ROLE_TRUST},
         [({"inlinePolicies": [{"name": "x", "policy": SCOPED}]}, "Move inlinePolicies into customer-managed policies attached to the role.")],
         unknown="inlinePolicies"),
    Case("aws-iam-role-trust-not-public", "aws:iam/role:Role", {"assumeRolePolicy": ROLE_TRUST},
         [({"assumeRolePolicy": '{"Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole"}]}'},
           'Remove trust statements that let Principal "*" assume the role.')], unknown="assumeRolePolicy"),
    Case("aws-iam-password-policy", "aws:iam/accountPasswordPolicy:AccountPasswordPolicy",
         {"minimumPasswordLength": 14, "passwordReusePrevention": 24, "maxPasswordAge": 90, "requireLowercaseCharacters": True,
          "requireUppercaseCharacters": True, "requireNumbers": True, "requireSymbols": True},
         [({"minimumPasswordLength": 8}, "Set minimumPasswordLength to at least 14."),
          ({"maxPasswordAge": 0}, "Set maxPasswordAge to 90 days or less."),
          ({"requireSymbols": False}, "Set requireSymbols to true.")], unknown="minimumPasswordLength"),
    Case("aws-cloudtrail-trail-secure", "aws:cloudtrail/trail:Trail",
         {"enableLogFileValidation": True, "kmsKeyId": UNKNOWN, "cloudWatchLogsGroupArn": UNKNOWN,
          "cloudWatchLogsRoleArn": UNKNOWN, "isMultiRegionTrail": True, "s3BucketName": UNKNOWN},
         [({"enableLogFileValidation": False}, "Set enableLogFileValidation to true."),
          ({"kmsKeyId": DELETE}, "Set kmsKeyId to the logs key."),
          ({"cloudWatchLogsGroupArn": DELETE}, "Set cloudWatchLogsGroupArn (with the :* suffix) and cloudWatchLogsRoleArn."),
          ({"enableLogging": False}, "Set enableLogging to true.")], unknown="enableLogFileValidation"),
    Case("aws-cloudwatch-log-group-encrypted", "aws:cloudwatch/logGroup:LogGroup", {"kmsKeyId": UNKNOWN, "retentionInDays": 2192},
         [({"kmsKeyId": DELETE}, "Set kmsKeyId to the logs key.")]),
    Case("aws-cloudwatch-log-group-six-year-retention", "aws:cloudwatch/logGroup:LogGroup", {"kmsKeyId": UNKNOWN, "retentionInDays": 2192},
         [({"retentionInDays": 365}, "Set retentionInDays to at least 2192 (six years).")], unknown="retentionInDays"),
    Case("aws-cloudwatch-alarm-has-action", "aws:cloudwatch/metricAlarm:MetricAlarm",
         {"alarmActions": [UNKNOWN], "insufficientDataActions": [UNKNOWN], "comparisonOperator": "GreaterThanThreshold"},
         [({"alarmActions": []}, "Set alarmActions to the security alert topic."),
          ({"insufficientDataActions": DELETE}, "Set insufficientDataActions to the security alert topic.")], unknown="alarmActions"),
    Case("aws-backup-vault-customer-key", "aws:backup/vault:Vault", {"kmsKeyArn": UNKNOWN, "name": "v"},
         [({"kmsKeyArn": DELETE}, "Set kmsKeyArn to the backup key.")]),
    Case("aws-backup-plan-retention", "aws:backup/plan:Plan",
         {"rules": [{"ruleName": "daily", "lifecycle": {"deleteAfter": 35}, "targetVaultName": UNKNOWN}]},
         [({"rules.0.lifecycle.deleteAfter": 7}, "Keep at least one rule's recovery points 35 days or more (lifecycle.deleteAfter).")],
         unknown="rules"),
    Case("aws-guardduty-detector-enabled", "aws:guardduty/detector:Detector", {"enable": True},
         [({"enable": False}, "Set enable to true.")], unknown="enable"),
    Case("aws-config-recorder-all-resources", "aws:cfg/recorder:Recorder",
         {"recordingGroup": {"allSupported": True, "includeGlobalResourceTypes": True}, "roleArn": UNKNOWN},
         [({"recordingGroup.includeGlobalResourceTypes": False},
           "Set recordingGroup.allSupported and recordingGroup.includeGlobalResourceTypes to true.")], unknown="recordingGroup"),
    Case("aws-config-recorder-on", "aws:cfg/recorderStatus:RecorderStatus", {"isEnabled": True, "name": UNKNOWN},
         [({"isEnabled": False}, "Set isEnabled to true.")], unknown="isEnabled"),
    Case("aws-secretsmanager-secret-customer-key", "aws:secretsmanager/secret:Secret", {"kmsKeyId": UNKNOWN},
         [({"kmsKeyId": DELETE}, "Set kmsKeyId to the secrets key.")]),
    Case("aws-dynamodb-table-customer-key", "aws:dynamodb/table:Table", {"serverSideEncryption": {"enabled": True, "kmsKeyArn": UNKNOWN}},
         [({"serverSideEncryption.kmsKeyArn": DELETE}, "Set serverSideEncryption with enabled=true and kmsKeyArn (customer-managed key).")],
         unknown="serverSideEncryption"),
    Case("aws-dynamodb-table-pitr", "aws:dynamodb/table:Table", {"pointInTimeRecovery": {"enabled": True}},
         [({"pointInTimeRecovery.enabled": False}, "Set pointInTimeRecovery.enabled to true.")], unknown="pointInTimeRecovery"),
    Case("aws-dynamodb-table-scales", "aws:dynamodb/table:Table", {"billingMode": "PAY_PER_REQUEST"},
         [({"billingMode": "PROVISIONED"}, "Use billingMode PAY_PER_REQUEST, or attach Application Auto Scaling to the table.")],
         unknown="billingMode"),
    Case("aws-efs-encrypted", "aws:efs/fileSystem:FileSystem", {"encrypted": True, "kmsKeyId": UNKNOWN},
         [({"encrypted": False}, "Set encrypted to true.")], unknown="encrypted"),
    Case("aws-elasticache-encrypted", "aws:elasticache/replicationGroup:ReplicationGroup",
         {"atRestEncryptionEnabled": True, "kmsKeyId": UNKNOWN, "transitEncryptionEnabled": True, "snapshotRetentionLimit": 7},
         [({"transitEncryptionEnabled": False}, "Set transitEncryptionEnabled to true.")], unknown="atRestEncryptionEnabled"),
    Case("aws-elasticache-redis-backups", "aws:elasticache/cluster:Cluster", {"engine": "redis", "snapshotRetentionLimit": 7},
         [({"snapshotRetentionLimit": 0}, "Set snapshotRetentionLimit to at least 7.")], unknown="snapshotRetentionLimit"),
    Case("aws-opensearch-domain-secure", "aws:opensearch/domain:Domain",
         {"encryptAtRest": {"enabled": True, "kmsKeyId": UNKNOWN}, "nodeToNodeEncryption": {"enabled": True},
          "domainEndpointOptions": {"enforceHttps": True, "tlsSecurityPolicy": "Policy-Min-TLS-1-2-2019-07"},
          "vpcOptions": {"subnetIds": [UNKNOWN]},
          "logPublishingOptions": [{"logType": "AUDIT_LOGS", "cloudwatchLogGroupArn": UNKNOWN}]},
         [({"nodeToNodeEncryption.enabled": False}, "Set nodeToNodeEncryption.enabled to true."),
          ({"domainEndpointOptions.tlsSecurityPolicy": "Policy-Min-TLS-1-0-2019-07"},
           "Set domainEndpointOptions.tlsSecurityPolicy to Policy-Min-TLS-1-2-2019-07 or newer."),
          ({"vpcOptions": DELETE}, "Set vpcOptions.subnetIds to private subnets.")], unknown="nodeToNodeEncryption"),
    Case("aws-redshift-cluster-secure", "aws:redshift/cluster:Cluster",
         {"encrypted": True, "kmsKeyId": UNKNOWN, "publiclyAccessible": False, "automatedSnapshotRetentionPeriod": 7,
          "clusterParameterGroupName": UNKNOWN},
         [({"publiclyAccessible": True}, "Set publiclyAccessible to false."),
          ({"automatedSnapshotRetentionPeriod": 0}, "Set automatedSnapshotRetentionPeriod to at least 1.")], unknown="encrypted"),
    Case("aws-redshift-require-tls", "aws:redshift/parameterGroup:ParameterGroup",
         {"family": "redshift-1.0", "parameters": [{"name": "require_ssl", "value": "true"}]},
         [({"parameters.0.value": "false"}, "Add parameter require_ssl with value true.")], unknown="parameters"),
    Case("aws-sns-topic-customer-key", "aws:sns/topic:Topic", {"kmsMasterKeyId": UNKNOWN},
         [({"kmsMasterKeyId": "alias/aws/sns"}, "Set kmsMasterKeyId to a customer-managed KMS key (not an AWS-managed alias)."),
          ({"kmsMasterKeyId": DELETE}, "Set kmsMasterKeyId to a customer-managed KMS key (not an AWS-managed alias).")]),
    Case("aws-sqs-queue-customer-key", "aws:sqs/queue:Queue", {"kmsMasterKeyId": KEY_ARN},
         [({"kmsMasterKeyId": "alias/aws/sqs"}, "Set kmsMasterKeyId to a customer-managed KMS key (not an AWS-managed alias).")]),
    Case("aws-kinesis-stream-encrypted", "aws:kinesis/stream:Stream", {"encryptionType": "KMS", "kmsKeyId": KEY_ARN},
         [({"encryptionType": "NONE"}, "Set encryptionType to KMS.")], unknown="encryptionType"),
    Case("aws-firehose-encrypted", "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream",
         {"serverSideEncryption": {"enabled": True, "keyType": "CUSTOMER_MANAGED_CMK", "keyArn": UNKNOWN}},
         [({"serverSideEncryption.keyType": "AWS_OWNED_CMK"}, "Set serverSideEncryption.keyType to CUSTOMER_MANAGED_CMK and keyArn."),
          ({"serverSideEncryption": DELETE}, "Set serverSideEncryption.enabled to true with keyType CUSTOMER_MANAGED_CMK.")],
         unknown="serverSideEncryption"),
    Case("aws-lambda-not-public", "aws:lambda/permission:Permission",
         {"principal": "events.amazonaws.com", "sourceArn": UNKNOWN, "action": "lambda:InvokeFunction"},
         [({"principal": "*"}, 'Grant invoke to a named principal, never "*".'),
          ({"sourceArn": DELETE}, "Set sourceArn (or sourceAccount) when a service principal may invoke the function.")],
         unknown="principal"),
    Case("aws-lambda-environment-encrypted", "aws:lambda/function:Function",
         {"environment": {"variables": {"MODE": "prod"}}, "kmsKeyArn": UNKNOWN},
         [({"kmsKeyArn": DELETE}, "Set kmsKeyArn to a customer-managed key to encrypt environment variables.")], unknown="environment"),
    Case("aws-apigateway-stage-logged-and-authenticated", "aws:apigateway/stage:Stage",
         {"accessLogSettings": {"destinationArn": UNKNOWN, "format": "$context.requestId"}, "clientCertificateId": UNKNOWN},
         [({"accessLogSettings": DELETE}, "Set accessLogSettings.destinationArn to an encrypted log group."),
          ({"clientCertificateId": DELETE}, "Set clientCertificateId so the backend can authenticate API Gateway.")]),
    Case("aws-apigateway-execution-logging", "aws:apigateway/methodSettings:MethodSettings",
         {"settings": {"loggingLevel": "INFO"}, "methodPath": "*/*"},
         [({"settings.loggingLevel": "OFF"}, "Set settings.loggingLevel to ERROR or INFO.")], unknown="settings"),
    Case("aws-sagemaker-notebook-secure", "aws:sagemaker/notebookInstance:NotebookInstance",
         {"kmsKeyId": UNKNOWN, "directInternetAccess": "Disabled", "rootAccess": "Disabled", "subnetId": UNKNOWN},
         [({"directInternetAccess": "Enabled"}, "Set directInternetAccess to Disabled and subnetId to a private subnet."),
          ({"rootAccess": DELETE}, "Set rootAccess to Disabled.")], unknown="directInternetAccess"),
    Case("aws-sagemaker-endpoint-encrypted", "aws:sagemaker/endpointConfiguration:EndpointConfiguration", {"kmsKeyArn": UNKNOWN},
         [({"kmsKeyArn": DELETE}, "Set kmsKeyArn to a customer-managed key.")]),
    Case("aws-emr-cluster-secure", "aws:emr/cluster:Cluster",
         {"kerberosAttributes": {"realm": "EC2.INTERNAL"}, "securityConfiguration": UNKNOWN, "ec2Attributes": {"subnetId": UNKNOWN}},
         [({"kerberosAttributes": DELETE}, "Set kerberosAttributes to authenticate cluster users with Kerberos.")]),
    Case("aws-emr-block-public-access", "aws:emr/blockPublicAccessConfiguration:BlockPublicAccessConfiguration",
         {"blockPublicSecurityGroupRules": True}, [({"blockPublicSecurityGroupRules": False}, "Set blockPublicSecurityGroupRules to true.")],
         unknown="blockPublicSecurityGroupRules"),
    Case("aws-dms-replication-instance-private", "aws:dms/replicationInstance:ReplicationInstance",
         {"publiclyAccessible": False, "kmsKeyArn": UNKNOWN},
         [({"publiclyAccessible": True}, "Set publiclyAccessible to false.")], unknown="publiclyAccessible"),
    Case("aws-dms-endpoint-tls", "aws:dms/endpoint:Endpoint", {"engineName": "postgres", "sslMode": "verify-full"},
         [({"sslMode": "none"}, "Set sslMode to verify-full (or require).")], unknown="sslMode"),
    Case("aws-codebuild-project-no-credentials", "aws:codebuild/project:Project",
         {"environment": {"environmentVariables": [{"name": "STAGE", "value": "ci"}]},
          "source": {"type": "GITHUB", "location": "https://github.com/org/repo.git"}, "encryptionKey": UNKNOWN},
         [({"environment.environmentVariables.0.name": "AWS_SECRET_ACCESS_KEY"},
           "Remove the plaintext AWS_SECRET_ACCESS_KEY; give the project a service role."),
          ({"source.location": "https://user:token@github.com/org/repo.git"},
           "Remove credentials from the source location URL; use a CodeConnections connection.")], unknown="environment"),
]

CASES += [
    Case("aws-ecs-read-only-root-filesystem", "aws:ecs/taskDefinition:TaskDefinition",
         {"family": "app", "containerDefinitions": '[{"name": "app", "readonlyRootFilesystem": true, "user": "1000"}]'},
         [({"containerDefinitions": '[{"name": "app"}]'}, "Set readonlyRootFilesystem to true for container app.")],
         unknown="containerDefinitions"),
    Case("aws-ecs-host-network-non-root", "aws:ecs/taskDefinition:TaskDefinition",
         {"networkMode": "host", "containerDefinitions": '[{"name": "app", "user": "1000"}]'},
         [({"containerDefinitions": '[{"name": "app"}]'},
           "Run container app as a non-root user without privileged mode, or leave host networking.")],
         unknown="networkMode"),
    Case("aws-ssm-document-not-public", "aws:ssm/document:Document",
         {"documentType": "Command", "permissions": {"type": "Share", "accountIds": "210987654321"}},
         [({"permissions.accountIds": "All"}, 'Share the document with named accounts, never "All".')], unknown="permissions"),
    Case("aws-elasticbeanstalk-managed-updates", "aws:elasticbeanstalk/environment:Environment",
         {"settings": [{"namespace": "aws:elasticbeanstalk:managedactions", "name": "ManagedActionsEnabled", "value": "true"}]},
         [({"settings.0.value": "false"}, "Add setting aws:elasticbeanstalk:managedactions ManagedActionsEnabled=true.")],
         unknown="settings"),
    # OpenSearch Serverless security and data access policies are JSON of their own (OpenSearch
    # Serverless "Encryption", "Network access for Amazon OpenSearch Serverless", "Data access control").
    Case("aws-opensearch-serverless-security-policy", "aws:opensearch/serverlessSecurityPolicy:ServerlessSecurityPolicy",
         {"type": "network", "policy": '[{"Rules":[{"ResourceType":"collection","Resource":["collection/records"]}],'
                                       '"AllowFromPublic":false,"SourceVPCEs":["vpce-0abc"]}]'},
         [({"policy": '[{"Rules":[{"ResourceType":"collection","Resource":["collection/records"]}],"AllowFromPublic":true}]'},
           'Set "AllowFromPublic": false and list "SourceVPCEs" (OpenSearch Serverless VPC endpoints) in every network '
           "policy entry."),
          ({"type": "encryption", "policy": '{"Rules":[{"ResourceType":"collection","Resource":["collection/records"]}],'
                                            '"AWSOwnedKey":true}'},
           'Set "AWSOwnedKey": false and "KmsARN" to a customer-managed key in the encryption policy.')],
         unknown="policy"),
    Case("aws-opensearch-serverless-access-policy-not-public", "aws:opensearch/serverlessAccessPolicy:ServerlessAccessPolicy",
         {"type": "data", "policy": '[{"Rules":[{"ResourceType":"index","Resource":["index/records/*"],'
                                    '"Permission":["aoss:ReadDocument"]}],"Principal":["arn:aws:iam::123456789012:role/app"]}]'},
         [({"policy": '[{"Rules":[{"ResourceType":"index","Resource":["index/records/*"],"Permission":["aoss:*"]}],'
                      '"Principal":["*"]}]'},
           "Name IAM roles or users in Principal; a wildcard grants every account's principals.")],
         unknown="policy"),
]

# Also compliant: AWS defaults and legitimate variants that must not be flagged.
ALSO_COMPLIANT = [
    ("aws-kms-key-deletion-window", "aws:kms/key:Key", {}),  # AWS defaults to 30 days
    ("aws-rds-parameter-group-requires-tls", "aws:rds/parameterGroup:ParameterGroup",
     {"family": "postgres16", "parameters": []}),  # PostgreSQL 15+ defaults rds.force_ssl to 1
    ("aws-backup-plan-retention", "aws:backup/plan:Plan",
     {"rules": [{"ruleName": "forever", "targetVaultName": "v"}]}),  # no lifecycle: kept forever
    ("aws-s3-bucket-policy-tls-only", "aws:s3/bucketPolicy:BucketPolicy",
     {"policy": TLS_POLICY.replace('"Principal":"*"', '"Principal":{"AWS":["*"]}')
      .replace('"aws:SecureTransport":"false"', '"aws:SecureTransport":["false"]')}),
    ("aws-s3-bucket-policy-not-public", "aws:s3/bucketPolicy:BucketPolicy",
     {"policy": PUBLIC_POLICY.replace('"Resource":"*"', '"Resource":"*","Condition":{"StringEquals":{"aws:SourceAccount":"123456789012"}}')}),
    ("aws-iam-no-inline-policies", "aws:iam/role:Role", {"assumeRolePolicy": ROLE_TRUST, "inlinePolicies": [{}]}),
    # an unknown policyArn is this stack's own customer-managed policy, judged on the policy itself
    ("aws-iam-no-admin-or-full-service-access", "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
     {"role": UNKNOWN, "policyArn": UNKNOWN}),
    ("aws-lb-logging-and-protection", "aws:lb/loadBalancer:LoadBalancer",
     {"loadBalancerType": "gateway", "enableDeletionProtection": True}),
    ("aws-emr-cluster-secure", "aws:emr/cluster:Cluster",
     {"kerberosAttributes": {"realm": "R"}, "securityConfiguration": "sc", "ec2Attributes": {"subnetIds": ["subnet-1"]}}),
]

# Unknown inside a list or map is still unknown: never judged, never compliant.
UNKNOWN_ELEMENTS = [
    ("hipaa-no-phi-in-synthetic-stack", "aws:s3/bucket:Bucket", {"tags": {"DataClassification": UNKNOWN}}),
    ("aws-ec2-sg-no-internet-admin-ports", "aws:ec2/securityGroup:SecurityGroup",
     {"ingress": [{"protocol": "tcp", "fromPort": 22, "toPort": 22, "cidrBlocks": [UNKNOWN]}]}),
    ("aws-rds-snapshot-not-public", "aws:rds/snapshot:Snapshot", {"sharedAccounts": [UNKNOWN]}),
]

# (policy, type, compliant-by-default props, config, expected messages): config changes verdicts.
CONFIG_OVERRIDES = [
    ("aws-ec2-sg-internet-ingress-authorized-ports", "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
     {"ipProtocol": "tcp", "fromPort": 8443, "toPort": 8443, "cidrIpv4": "0.0.0.0/0"}, {"allowedPublicPorts": [443, 8443]}, []),
    ("aws-ec2-sg-internet-ingress-authorized-ports", "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
     {"ipProtocol": "tcp", "fromPort": 443, "toPort": 443, "cidrIpv4": "0.0.0.0/0"}, {"allowedPublicPorts": [8443]},
     ["Restrict internet ingress to the authorized port(s) [8443]; port(s) 443 are open to the internet."]),
    ("aws-cloudwatch-log-group-six-year-retention", "aws:cloudwatch/logGroup:LogGroup", {"retentionInDays": 365},
     {"minimumRetentionDays": 365}, []),
    ("aws-rds-backup-retention", "aws:rds/instance:Instance", {"backupRetentionPeriod": 7},
     {"minimumBackupRetentionDays": 14}, ["Set backupRetentionPeriod to at least 14 days."]),
    ("hipaa-phi-store-protected", "aws:s3/bucket:Bucket", {"tags": TAGS}, {"holdsPhi": True},
     ["Set protect=True on this stateful PHI store (ResourceOptions(protect=True))."]),
    ("hipaa-no-phi-in-synthetic-stack", "aws:s3/bucket:Bucket", {"tags": TAGS}, {"holdsPhi": True}, []),
    ("hipaa-no-data-copied-into-synthetic-stack", "aws:rds/instance:Instance", {"snapshotIdentifier": "snap"},
     {"holdsPhi": True}, []),
    ("aws-cloudwatch-alarm-has-action", "aws:cloudwatch/metricAlarm:MetricAlarm", {"alarmActions": ["arn:aws:sns:x"]},
     {"requireInsufficientDataAction": False}, []),
    ("aws-kms-key-deletion-window", "aws:kms/key:Key", {"deletionWindowInDays": 14}, {"minimumDeletionWindowDays": 14}, []),
    # Another Region's recorder records the global IAM types (botocore config RecordingGroup).
    ("aws-config-recorder-all-resources", "aws:cfg/recorder:Recorder",
     {"recordingGroup": {"allSupported": True, "includeGlobalResourceTypes": False}},
     {"globalResourceTypesRecordedElsewhere": True}, []),
]

# Issue 12: input names differ by resource type (Neptune's key is kmsKeyArn, its log exports
# enableCloudwatchLogsExports); Aurora cluster instances, DocumentDB and Neptune clusters; the TLS
# parameter of every engine family, and Oracle's network encryption option.
NEPTUNE = {"storageEncrypted": True, "kmsKeyArn": KEY_ARN, "backupRetentionPeriod": 7, "deletionProtection": True,
           "enableCloudwatchLogsExports": ["audit", "slowquery"]}
DOCDB = {"storageEncrypted": True, "kmsKeyId": KEY_ARN, "backupRetentionPeriod": 7, "deletionProtection": True,
         "enabledCloudwatchLogsExports": ["audit", "profiler"], "manageMasterUserPassword": True}
AURORA_INSTANCE = {"clusterIdentifier": UNKNOWN, "engine": "aurora-postgresql", "instanceClass": "db.r6g.large",
                   "publiclyAccessible": False, "autoMinorVersionUpgrade": True, "performanceInsightsEnabled": True,
                   "performanceInsightsKmsKeyId": KEY_ARN}
ORACLE_NNE = {"engineName": "oracle-ee", "majorEngineVersion": "19",
              "options": [{"optionName": "NATIVE_NETWORK_ENCRYPTION",
                           "optionSettings": [{"name": "SQLNET.ENCRYPTION_SERVER", "value": "REQUIRED"}]}]}


def _tls_case(type_: str, family: str, name: str, value: str, bad: str, asked: str) -> Case:
    return Case("aws-rds-parameter-group-requires-tls", type_, {"family": family, "parameters": [{"name": name, "value": value}]},
                [({"parameters.0.value": bad}, f"Add parameter {name} with value {asked}.")], unknown="parameters")


CASES += [
    Case("aws-rds-storage-encrypted", "aws:neptune/cluster:Cluster", NEPTUNE,
         [({"kmsKeyArn": DELETE}, "Set kmsKeyArn to a customer-managed key."),
          ({"kmsKeyArn": DELETE, "kmsKeyId": KEY_ARN}, "Set kmsKeyArn to a customer-managed key."),  # RDS's name
          ({"kmsKeyArn": "alias/aws/rds"}, "Set kmsKeyArn to a customer-managed key."),
          ({"storageEncrypted": False}, "Set storageEncrypted to true.")], unknown="storageEncrypted"),
    Case("aws-rds-storage-encrypted", "aws:docdb/cluster:Cluster", DOCDB,
         [({"kmsKeyId": DELETE}, "Set kmsKeyId to a customer-managed key."),
          ({"storageEncrypted": DELETE}, "Set storageEncrypted to true.")], unknown="storageEncrypted"),
    Case("aws-rds-backup-retention", "aws:neptune/cluster:Cluster", NEPTUNE,
         [({"backupRetentionPeriod": DELETE}, "Set backupRetentionPeriod to at least 7 days.")],  # AWS default: 1
         unknown="backupRetentionPeriod"),
    Case("aws-rds-backup-retention", "aws:docdb/cluster:Cluster", DOCDB,
         [({"backupRetentionPeriod": 1}, "Set backupRetentionPeriod to at least 7 days.")], unknown="backupRetentionPeriod"),
    Case("aws-rds-deletion-protection", "aws:neptune/cluster:Cluster", NEPTUNE,
         [({"deletionProtection": DELETE}, "Set deletionProtection to true.")], unknown="deletionProtection"),
    Case("aws-rds-deletion-protection", "aws:docdb/cluster:Cluster", DOCDB,
         [({"deletionProtection": False}, "Set deletionProtection to true.")], unknown="deletionProtection"),
    Case("aws-rds-logs-exported", "aws:neptune/cluster:Cluster", NEPTUNE,
         [({"enableCloudwatchLogsExports": ["slowquery"]}, "Add audit to enableCloudwatchLogsExports."),
          ({"enableCloudwatchLogsExports": DELETE, "enabledCloudwatchLogsExports": ["audit"]},  # RDS's name
           "Set enableCloudwatchLogsExports to export the engine's logs to CloudWatch.")],
         unknown="enableCloudwatchLogsExports"),
    Case("aws-rds-logs-exported", "aws:docdb/cluster:Cluster", DOCDB,
         [({"enabledCloudwatchLogsExports": ["profiler"]}, "Add audit to enabledCloudwatchLogsExports."),
          ({"enabledCloudwatchLogsExports": DELETE}, "Set enabledCloudwatchLogsExports to export the engine's logs to CloudWatch.")],
         unknown="enabledCloudwatchLogsExports"),
    Case("aws-rds-managed-master-password", "aws:docdb/cluster:Cluster", DOCDB,
         [({"masterPassword": "hunter2hunter2"}, "Remove the password; set manageMasterUserPassword to true so RDS keeps it in Secrets Manager."),
          ({"masterPasswordWo": UNKNOWN}, "Remove the password; set manageMasterUserPassword to true so RDS keeps it in Secrets Manager.")]),
    Case("aws-rds-managed-master-password", "aws:rds/cluster:Cluster", {"engine": "aurora-postgresql", "manageMasterUserPassword": True},
         [({"masterPassword": "hunter2hunter2"}, "Remove the password; set manageMasterUserPassword to true so RDS keeps it in Secrets Manager.")]),
    Case("aws-rds-not-publicly-accessible", "aws:rds/clusterInstance:ClusterInstance", AURORA_INSTANCE,
         [({"publiclyAccessible": True}, "Set publiclyAccessible to false.")], unknown="publiclyAccessible"),
    Case("aws-rds-auto-minor-upgrade", "aws:rds/clusterInstance:ClusterInstance", AURORA_INSTANCE,
         [({"autoMinorVersionUpgrade": False}, "Set autoMinorVersionUpgrade to true.")], unknown="autoMinorVersionUpgrade"),
    Case("aws-rds-performance-insights-encrypted", "aws:rds/clusterInstance:ClusterInstance", AURORA_INSTANCE,
         [({"performanceInsightsKmsKeyId": DELETE}, "Set performanceInsightsKmsKeyId to a customer-managed key."),
          ({"performanceInsightsKmsKeyId": "alias/aws/rds"}, "Set performanceInsightsKmsKeyId to a customer-managed key.")],
         unknown="performanceInsightsEnabled"),
    Case("aws-rds-performance-insights-encrypted", "aws:docdb/clusterInstance:ClusterInstance",
         {"clusterIdentifier": UNKNOWN, "instanceClass": "db.r6g.large", "enablePerformanceInsights": True,
          "performanceInsightsKmsKeyId": KEY_ARN},
         [({"performanceInsightsKmsKeyId": DELETE}, "Set performanceInsightsKmsKeyId to a customer-managed key.")],
         unknown="enablePerformanceInsights"),
    _tls_case("aws:rds/clusterParameterGroup:ClusterParameterGroup", "aurora-postgresql16", "rds.force_ssl", "1", "0", "1"),
    _tls_case("aws:rds/parameterGroup:ParameterGroup", "sqlserver-se-15.0", "rds.force_ssl", "1", "0", "1"),
    _tls_case("aws:rds/clusterParameterGroup:ClusterParameterGroup", "aurora-mysql8.0", "require_secure_transport", "ON", "OFF", "1"),
    _tls_case("aws:rds/parameterGroup:ParameterGroup", "mariadb10.11", "require_secure_transport", "1", "0", "1"),
    _tls_case("aws:rds/parameterGroup:ParameterGroup", "db2-se-11.5", "db2comm", "SSL", "TCPIP,SSL", "SSL"),
    _tls_case("aws:docdb/clusterParameterGroup:ClusterParameterGroup", "docdb5.0", "tls", "tls1.2+", "disabled", "enabled"),
    _tls_case("aws:neptune/clusterParameterGroup:ClusterParameterGroup", "neptune1.3", "neptune_enforce_ssl", "1", "0", "1"),
    Case("aws-rds-parameter-group-requires-tls", "aws:rds/clusterParameterGroup:ClusterParameterGroup",
         {"family": "aurora-postgresql16", "parameters": [{"name": "rds.force_ssl", "value": "1"}]},
         [({"parameters": []}, "Add parameter rds.force_ssl with value 1."),  # Aurora PostgreSQL defaults to 0
          ({"family": "sqlserver-ee-16.0", "parameters": []}, "Add parameter rds.force_ssl with value 1."),
          ({"family": "db2-ae-11.5", "parameters": []}, "Add parameter db2comm with value SSL.")]),
    Case("aws-rds-oracle-network-encryption", "aws:rds/optionGroup:OptionGroup", ORACLE_NNE,
         [({"options.0.optionSettings.0.value": "REQUESTED"},
           "Add option NATIVE_NETWORK_ENCRYPTION with SQLNET.ENCRYPTION_SERVER set to REQUIRED."),
          ({"options.0.optionSettings": []},  # default REQUESTED
           "Add option NATIVE_NETWORK_ENCRYPTION with SQLNET.ENCRYPTION_SERVER set to REQUIRED."),
          ({"options": [{"optionName": "SSL", "port": 2484,
                         "optionSettings": [{"name": "SQLNET.SSL_VERSION", "value": "1.2"}]}]},  # clear-text port stays
           "Add option NATIVE_NETWORK_ENCRYPTION with SQLNET.ENCRYPTION_SERVER set to REQUIRED.")],
         unknown="options"),
]

ALSO_COMPLIANT += [
    # Defaults that require TLS: DocumentDB tls=enabled, Neptune neptune_enforce_ssl=1.
    ("aws-rds-parameter-group-requires-tls", "aws:docdb/clusterParameterGroup:ClusterParameterGroup",
     {"family": "docdb5.0", "parameters": []}),
    ("aws-rds-parameter-group-requires-tls", "aws:neptune/clusterParameterGroup:ClusterParameterGroup",
     {"family": "neptune1.3", "parameters": []}),
    # Oracle's TLS is the NATIVE_NETWORK_ENCRYPTION option, judged on the option group.
    ("aws-rds-parameter-group-requires-tls", "aws:rds/parameterGroup:ParameterGroup",
     {"family": "oracle-ee-19", "parameters": []}),
    ("aws-rds-oracle-network-encryption", "aws:rds/optionGroup:OptionGroup",
     {"engineName": "mysql", "majorEngineVersion": "8.0", "options": []}),
    ("aws-rds-oracle-network-encryption", "aws:rds/optionGroup:OptionGroup",
     {**ORACLE_NNE, "options": [{"optionName": "native_network_encryption",
                                 "optionSettings": [{"name": "sqlnet.encryption_server", "value": "Required"}]}]}),
    ("aws-rds-parameter-group-requires-tls", "aws:rds/parameterGroup:ParameterGroup",
     {"family": "mysql8.0", "parameters": [{"name": "require_secure_transport", "value": "on"}]}),
]

UNKNOWN_ELEMENTS += [
    ("aws-rds-oracle-network-encryption", "aws:rds/optionGroup:OptionGroup",
     {"engineName": "oracle-se2", "options": [UNKNOWN]}),
]

# Issue 12, gaps: Identity Center permission sets, launch configurations, a bucket's inline policy.
SSO_INSTANCE = "arn:aws:sso:::instance/ssoins-1234567890abcdef"
VIEW_ONLY = "arn:aws:iam::aws:policy/job-function/ViewOnlyAccess"
SSO_INLINE = {"instanceArn": SSO_INSTANCE, "permissionSetArn": UNKNOWN, "inlinePolicy": SCOPED}
SSO_MANAGED = {"instanceArn": SSO_INSTANCE, "permissionSetArn": UNKNOWN, "managedPolicyArn": VIEW_ONLY}
PERMISSION_SET = {"instanceArn": SSO_INSTANCE, "name": "hipaa-prod-read-only", "sessionDuration": "PT4H"}
LAUNCH_CONFIGURATION = {"imageId": "ami-12345678", "instanceType": "t3.micro",
                        "metadataOptions": {"httpTokens": "required"}, "associatePublicIpAddress": False,
                        "rootBlockDevice": {"encrypted": True},
                        "ebsBlockDevices": [{"deviceName": "/dev/sdf", "encrypted": True}]}
READ_ONLY_MESSAGE = ("Remove the AWS-managed policy ReadOnlyAccess from this permission set: it reads data as well "
                     "as configuration (S3 objects, DynamoDB items and log events, among others); attach "
                     "job-function/ViewOnlyAccess for metadata.")
SESSION_MESSAGE = "Set sessionDuration to PT4H or less (an ISO-8601 duration such as PT1H)."

CASES += [
    Case("aws-ssoadmin-inline-policy-no-admin-or-full-service-access",
         "aws:ssoadmin/permissionSetInlinePolicy:PermissionSetInlinePolicy", SSO_INLINE,
         [({"inlinePolicy": '{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}'},
           'Remove statements that allow Action "*" on Resource "*".'),
          ({"inlinePolicy": '{"Statement":[{"Effect":"Allow","Action":["s3:*"],"Resource":"arn:aws:s3:::b"}]}'},
           "Replace full-service actions s3:* with the specific actions needed."),
          ({"inlinePolicy": '{"Statement":[{"Effect":"Allow","NotAction":"iam:*","Resource":"*"}]}'},
           "Replace Allow with NotAction by an explicit list of allowed actions.")], unknown="inlinePolicy"),
    Case("aws-ssoadmin-inline-policy-no-broad-kms-decrypt",
         "aws:ssoadmin/permissionSetInlinePolicy:PermissionSetInlinePolicy",
         {**SSO_INLINE, "inlinePolicy": '{"Statement":[{"Effect":"Allow","Action":"kms:Decrypt","Resource":"' + KEY_ARN + '"}]}'},
         [({"inlinePolicy": '{"Statement":[{"Effect":"Allow","Action":"kms:*crypt*","Resource":"*"}]}'},
           'Scope kms:Decrypt/kms:ReEncrypt* to specific key ARNs, never Resource "*".')], unknown="inlinePolicy"),
    Case("aws-ssoadmin-managed-policy-not-forbidden", "aws:ssoadmin/managedPolicyAttachment:ManagedPolicyAttachment",
         SSO_MANAGED,
         [({"managedPolicyArn": "arn:aws:iam::aws:policy/AdministratorAccess"},
           "Remove the AWS-managed policy AdministratorAccess from this permission set: it grants admin access; "
           "grant the specific actions needed."),
          ({"managedPolicyArn": "arn:aws-us-gov:iam::aws:policy/PowerUserAccess"},
           "Remove the AWS-managed policy PowerUserAccess from this permission set: it grants admin access; "
           "grant the specific actions needed."),
          ({"managedPolicyArn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}, READ_ONLY_MESSAGE)],
         unknown="managedPolicyArn"),
    Case("aws-ssoadmin-managed-policy-not-forbidden",
         "aws:ssoadmin/managedPolicyAttachmentsExclusive:ManagedPolicyAttachmentsExclusive",
         {"instanceArn": SSO_INSTANCE, "permissionSetArn": UNKNOWN, "managedPolicyArns": [VIEW_ONLY]},
         [({"managedPolicyArns": [VIEW_ONLY, "arn:aws:iam::aws:policy/IAMFullAccess"]},
           "Remove the AWS-managed policy IAMFullAccess from this permission set: it grants admin access; "
           "grant the specific actions needed.")], unknown="managedPolicyArns"),
    Case("aws-ssoadmin-permissions-boundary-not-admin",
         "aws:ssoadmin/permissionsBoundaryAttachment:PermissionsBoundaryAttachment",
         {"instanceArn": SSO_INSTANCE, "permissionSetArn": UNKNOWN, "permissionsBoundary": {"managedPolicyArn": VIEW_ONLY}},
         [({"permissionsBoundary.managedPolicyArn": "arn:aws:iam::aws:policy/AdministratorAccess"},
           "Use a permissions boundary narrower than AdministratorAccess: an admin policy as boundary limits nothing.")],
         unknown="permissionsBoundary.managedPolicyArn"),
    Case("aws-ssoadmin-permission-set-session-duration", "aws:ssoadmin/permissionSet:PermissionSet", PERMISSION_SET,
         [({"sessionDuration": "PT8H"}, SESSION_MESSAGE), ({"sessionDuration": "PT4H30M"}, SESSION_MESSAGE),
          ({"sessionDuration": "PT300M"}, SESSION_MESSAGE), ({"sessionDuration": "four hours"}, SESSION_MESSAGE)],
         unknown="sessionDuration"),
    Case("aws-ec2-imdsv2-required", "aws:ec2/launchConfiguration:LaunchConfiguration", LAUNCH_CONFIGURATION,
         [({"metadataOptions.httpTokens": "optional"}, "Set metadataOptions.httpTokens to required (IMDSv2)."),
          ({"metadataOptions": DELETE}, "Set metadataOptions.httpTokens to required (IMDSv2).")], unknown="metadataOptions"),
    Case("aws-ec2-no-public-ip", "aws:ec2/launchConfiguration:LaunchConfiguration", LAUNCH_CONFIGURATION,
         [({"associatePublicIpAddress": True}, "Set associatePublicIpAddress to false.")], unknown="associatePublicIpAddress"),
    Case("aws-ec2-block-devices-encrypted", "aws:ec2/launchConfiguration:LaunchConfiguration", LAUNCH_CONFIGURATION,
         [({"rootBlockDevice.encrypted": False}, "Set rootBlockDevice.encrypted to true."),
          ({"rootBlockDevice": DELETE}, "Set rootBlockDevice.encrypted to true."),  # the AMI's mapping
          ({"ebsBlockDevices.0.encrypted": DELETE}, "Set ebsBlockDevices[].encrypted to true.")],
         unknown="rootBlockDevice"),
    Case("aws-s3-bucket-policy-tls-only", "aws:s3/bucketV2:BucketV2", {"bucket": "b", "policy": TLS_POLICY},
         [({"policy": SCOPED}, "Add a policy statement denying all principals when aws:SecureTransport is false.")],
         unknown="policy"),
    Case("aws-s3-bucket-policy-not-public", "aws:s3/bucket:Bucket", {"bucket": "b", "policy": TLS_POLICY},
         [({"policy": PUBLIC_POLICY}, 'Remove policy statements that allow Principal "*" without a condition.'),
          # pulumi-aws also takes the policy as an object (aws.iam.PolicyDocumentArgs)
          ({"policy": {"Version": "2012-10-17", "Statement": [
              {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "s3:GetObject", "Resource": "*"}]}},
           'Remove policy statements that allow Principal "*" without a condition.')], unknown="policy"),
]

ALSO_COMPLIANT += [
    # A customer-managed boundary is an aws.iam.Policy, judged by the iam policies.
    ("aws-ssoadmin-permissions-boundary-not-admin",
     "aws:ssoadmin/permissionsBoundaryAttachment:PermissionsBoundaryAttachment",
     {"instanceArn": SSO_INSTANCE, "permissionSetArn": UNKNOWN,
      "permissionsBoundary": {"customerManagedPolicyReference": {"name": UNKNOWN, "path": "/hipaa/"}}}),
    ("aws-ssoadmin-permission-set-session-duration", "aws:ssoadmin/permissionSet:PermissionSet",
     {"instanceArn": SSO_INSTANCE, "name": "x"}),  # AWS's default: PT1H
    ("aws-ssoadmin-permission-set-session-duration", "aws:ssoadmin/permissionSet:PermissionSet",
     {**PERMISSION_SET, "sessionDuration": "PT240M"}),
    ("aws-ssoadmin-managed-policy-not-forbidden", "aws:ssoadmin/managedPolicyAttachment:ManagedPolicyAttachment",
     {**SSO_MANAGED, "managedPolicyArn": "arn:aws:iam::aws:policy/job-function/ReadOnlyAccessForBilling"}),
    # noDevice suppresses the AMI's mapping: no volume to encrypt.
    ("aws-ec2-block-devices-encrypted", "aws:ec2/launchConfiguration:LaunchConfiguration",
     {**LAUNCH_CONFIGURATION, "ebsBlockDevices": [{"deviceName": "/dev/sdf", "noDevice": True}]}),
    # A bucket without an inline policy needs a BucketPolicy (a stack policy), not this one.
    ("aws-s3-bucket-policy-tls-only", "aws:s3/bucket:Bucket", {"bucket": "b"}),
]

CONFIG_OVERRIDES += [
    ("aws-ssoadmin-permission-set-session-duration", "aws:ssoadmin/permissionSet:PermissionSet",
     {**PERMISSION_SET, "sessionDuration": "PT8H"}, {"maximumSessionHours": 8}, []),
    ("aws-ssoadmin-permission-set-session-duration", "aws:ssoadmin/permissionSet:PermissionSet",
     {**PERMISSION_SET, "sessionDuration": "PT2H"}, {"maximumSessionHours": 1},
     ["Set sessionDuration to PT1H or less (an ISO-8601 duration such as PT1H)."]),
    ("aws-ssoadmin-managed-policy-not-forbidden", "aws:ssoadmin/managedPolicyAttachment:ManagedPolicyAttachment",
     {**SSO_MANAGED, "managedPolicyArn": "arn:aws:iam::aws:policy/ReadOnlyAccess"},
     {"forbiddenManagedPolicies": ["AdministratorAccess", "PowerUserAccess", "IAMFullAccess"]}, []),
    ("aws-ssoadmin-managed-policy-not-forbidden", "aws:ssoadmin/managedPolicyAttachment:ManagedPolicyAttachment",
     SSO_MANAGED, {"forbiddenManagedPolicies": ["job-function/ViewOnlyAccess"]},
     ["Remove the AWS-managed policy job-function/ViewOnlyAccess from this permission set: it is in this "
      "pack's forbiddenManagedPolicies; grant the specific actions needed."]),
]
