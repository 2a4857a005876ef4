"""The control-family rules of the messaging, integration, container and CI services
(policy/hipaa_policies/data/controls/messaging.json), driven over the Analyzer protocol: SQS, SNS,
Kinesis, MSK, MQ, EventBridge, CloudWatch Logs policies, Step Functions, Pipes, Scheduler, AppFlow,
SES, Mail Manager, Chime, Connect, Customer Profiles, Lambda, ECR, ECS, EKS, CodeBuild,
CodePipeline, CodeCommit, AppSync, M2 and IoT.

For each type with rules: the compliant form of every variant the rules' switches distinguish
passes; each rule, read from the JSON, has a deployable defect derived from the rule (an AWS managed
key, a public document, the value the rule forbids) that reports the rule's own fix text; an
unknown value at a rule's path is not judged, except a key or a destination, which is another
resource's output (framework.Props.customer_key). The compliant forms are written by hand: they are
the claim of what a correct resource looks like. Sources of the AWS facts they pin:
- AWS "Get started with Amazon MSK encryption": no EncryptionAtRest -> the AWS managed key
  aws/kafka; InCluster defaults to true; ClientBroker is TLS, TLS_PLAINTEXT or PLAINTEXT (TLS by
  default); botocore `kafka` PublicAccess.Type (DISABLED by default, SERVICE_PROVIDED_EIPS).
- AWS CloudFormation "AWS::AmazonMQ::Broker EncryptionOptions": "Does not apply to RabbitMQ
  brokers"; UseAwsOwnedKey defaults to true; botocore `mq` EngineType (ACTIVEMQ, RABBITMQ); RabbitMQ
  has no audit log (pulumi-aws mq.Broker logs.audit docstring).
- AWS Step Functions API "EncryptionConfiguration": AWS_OWNED_KEY by default, or
  CUSTOMER_MANAGED_KMS_KEY; STANDARD and EXPRESS state machines both take it.
- AWS SES "DeliveryOptions": TlsPolicy Require | Optional ("Optional" delivers in plaintext when TLS
  fails); SESv2 REQUIRE | OPTIONAL; SES S3Action.kmsKeyArn: "If you do not specify an AWS KMS key,
  Amazon SES does not encrypt your emails".
- AWS IoT Core "Configuring TLS settings in domain configurations": new domain configurations default
  to IoTSecurityPolicy_TLS13_1_2_2022_10; the TLS12_1_0 policies allow TLS 1.0.
- EKS VpcConfigRequest.endpointPublicAccess: "The default value for this parameter is true".
- AWS ECR DeleteRepository and encryption: no encryptionConfiguration -> AES256.
- AWS Chime SDK "Creating an Amazon Chime SDK Voice Connector": encryption = TLS for SIP and SRTP.
- botocore `kafkaconnect` KafkaClusterEncryptionInTransitType (PLAINTEXT, TLS; PLAINTEXT by default).
"""

from __future__ import annotations

import pytest

from tests.data_controls_harness import ACCOUNT_POLICY as SCOPED_POLICY
from tests.data_controls_harness import POLICY, policy_document, rule_tests, rules_of
from tests.policy_cases import KEY_ARN

RULES = rules_of("messaging")
ROLE = "arn:aws:iam::123456789012:role/app"
SC_LOGS = {"logDriver": "awslogs", "options": {"awslogs-group": "/ecs/service-connect"}}
S3_SINK = {"type": "S3RecordingSink", "s3RecordingSinkConfiguration": {"destination": "arn:aws:s3:::calls"}}
PCA = "arn:aws:acm-pca:us-east-1:123456789012:certificate-authority/x"
LOG_GROUP_ARN = "arn:aws:logs:us-east-1:123456789012:log-group:/app:*"
SERVICE_POLICY = policy_document(
    "*", "sqs:SendMessage", {"ArnEquals": {"aws:SourceArn": "arn:aws:sns:us-east-1:123456789012:alerts"}}
)
MSK_LOGS = {"brokerLogs": {"cloudwatchLogs": {"enabled": True, "logGroup": "/msk/brokers"}}}
DELIVERY_LOGS = {"cloudwatchLogs": {"enabled": True, "logGroup": "/msk/workers"}}
SFN_KMS = {"type": "CUSTOMER_MANAGED_KMS_KEY", "kmsKeyId": KEY_ARN, "kmsDataKeyReusePeriodSeconds": 300}
ECR_KMS = [{"encryptionType": "KMS", "kmsKey": KEY_ARN}]
EXEC = {
    "kmsKeyId": KEY_ARN,
    "logging": "OVERRIDE",
    "logConfiguration": {"cloudWatchLogGroupName": "/ecs/exec", "cloudWatchEncryptionEnabled": True},
}


# type -> [(variant, compliant props)]: every variant the rules' switches (their "when") distinguish.
COMPLIANT: dict[str, list[tuple[str, dict]]] = {
    # A PHI stack's log groups keep audit evidence: deletion protection (rule phiOnly; the module's
    # fixture below configures a PHI stack).
    "aws:cloudwatch/logGroup:LogGroup": [("protected", {"deletionProtectionEnabled": True})],
    # ---------------- resource-based policies: scoped to an account, or "*" narrowed by a source ARN
    **{
        t: [("account", {path: SCOPED_POLICY}), ("service-with-source-arn", {path: SERVICE_POLICY})]
        for t, path in [
            ("aws:sqs/queuePolicy:QueuePolicy", "policy"),
            ("aws:sns/topicPolicy:TopicPolicy", "policy"),
            ("aws:kinesis/resourcePolicy:ResourcePolicy", "policy"),
            ("aws:msk/clusterPolicy:ClusterPolicy", "policy"),
            ("aws:ecr/repositoryPolicy:RepositoryPolicy", "policy"),
            ("aws:ecr/registryPolicy:RegistryPolicy", "policy"),
            ("aws:cloudwatch/eventBusPolicy:EventBusPolicy", "policy"),
            ("aws:cloudwatch/logResourcePolicy:LogResourcePolicy", "policyDocument"),
            ("aws:cloudwatch/logDestinationPolicy:LogDestinationPolicy", "accessPolicy"),
            ("aws:codebuild/resourcePolicy:ResourcePolicy", "policy"),
            ("aws:lambda/resourcePolicy:ResourcePolicy", "policy"),
            ("aws:schemas/registryPolicy:RegistryPolicy", "policy"),
            ("aws:ses/identityPolicy:IdentityPolicy", "policy"),
            ("aws:sesv2/emailIdentityPolicy:EmailIdentityPolicy", "policy"),
            ("aws:pinpoint/smsvoicev2ResourcePolicy:Smsvoicev2ResourcePolicy", "policy"),
        ]
    },
    # a queue or topic without an inline policy grants nothing (the policy resource carries it)
    "aws:sqs/queue:Queue": [
        ("inline-policy", {"kmsMasterKeyId": KEY_ARN, "policy": SERVICE_POLICY}),
        ("no-inline-policy", {"kmsMasterKeyId": KEY_ARN}),
    ],
    "aws:sns/topic:Topic": [
        ("inline-policy", {"kmsMasterKeyId": KEY_ARN, "policy": SCOPED_POLICY}),
        ("no-inline-policy", {"kmsMasterKeyId": KEY_ARN}),
    ],
    # botocore sns Subscribe Protocol: every protocol but plaintext http is allowed
    "aws:sns/topicSubscription:TopicSubscription": [
        (p, {"topic": "arn:aws:sns:us-east-1:123456789012:t", "protocol": p, "endpoint": "x"})
        for p in ("https", "sqs", "lambda", "firehose", "application", "email", "email-json", "sms")
    ],
    # ---------------- streams and brokers
    "aws:kinesis/videoStream:VideoStream": [("customer-key", {"name": "v", "kmsKeyId": KEY_ARN})],
    "aws:msk/cluster:Cluster": [
        (
            "defaults-tls",
            {
                "clusterName": "c",
                "kafkaVersion": "3.6.0",
                "numberOfBrokerNodes": 3,
                "encryptionInfo": {"encryptionAtRestKmsKeyArn": KEY_ARN},
                "loggingInfo": MSK_LOGS,
            },
        ),
        (
            "explicit-private",
            {
                "clusterName": "c",
                "kafkaVersion": "3.6.0",
                "numberOfBrokerNodes": 3,
                "brokerNodeGroupInfo": {
                    "instanceType": "kafka.m5.large",
                    "clientSubnets": ["s-1"],
                    "connectivityInfo": {"publicAccess": {"type": "DISABLED"}},
                },
                "encryptionInfo": {
                    "encryptionAtRestKmsKeyArn": KEY_ARN,
                    "encryptionInTransit": {"clientBroker": "TLS", "inCluster": True},
                },
                "loggingInfo": {"brokerLogs": {"s3": {"enabled": True, "bucket": "msk-logs"}}},
            },
        ),
    ],
    "aws:msk/channel:Channel": [
        (
            "customer-key",
            {
                "channelName": "c",
                "clusterArn": "arn:aws:kafka:us-east-1:1:cluster/c",
                "encryptionConfiguration": {"kmsKeyArn": KEY_ARN},
                "loggingInfo": {"firehose": {"enabled": True, "deliveryStream": "d"}},
            },
        )
    ],
    "aws:msk/replicator:Replicator": [
        ("logged", {"replicatorName": "r", "logDelivery": {"replicatorLogDelivery": DELIVERY_LOGS}})
    ],
    "aws:mskconnect/connector:Connector": [
        (
            "tls",
            {
                "name": "c",
                "kafkaClusterEncryptionInTransit": {"encryptionType": "TLS"},
                "logDelivery": {"workerLogDelivery": DELIVERY_LOGS},
            },
        )
    ],
    "aws:mq/broker:Broker": [
        (
            "activemq",
            {
                "brokerName": "b",
                "engineType": "ActiveMQ",
                "hostInstanceType": "mq.m5.large",
                "encryptionOptions": {"useAwsOwnedKey": False, "kmsKeyId": KEY_ARN},
                "publiclyAccessible": False,
                "logs": {"general": True, "audit": True},
            },
        ),
        # RabbitMQ: encryptionOptions and the audit log do not apply
        # (AWS CloudFormation AWS::AmazonMQ::Broker EncryptionOptions).
        (
            "rabbitmq",
            {
                "brokerName": "b",
                "engineType": "RabbitMQ",
                "hostInstanceType": "mq.m5.large",
                "logs": {"general": True},
            },
        ),
    ],
    # ---------------- registries and repositories
    "aws:ecr/repository:Repository": [
        ("kms", {"name": "r", "encryptionConfigurations": ECR_KMS}),
        (
            "kms-dsse",
            {"name": "r", "encryptionConfigurations": [{"encryptionType": "KMS_DSSE", "kmsKey": KEY_ARN}]},
        ),
    ],
    "aws:ecr/repositoryCreationTemplate:RepositoryCreationTemplate": [
        (
            "kms",
            {
                "prefix": "app",
                "appliedFors": ["PULL_THROUGH_CACHE"],
                "encryptionConfigurations": ECR_KMS,
                "repositoryPolicy": SCOPED_POLICY,
            },
        )
    ],
    "aws:codecommit/repository:Repository": [("customer-key", {"repositoryName": "r", "kmsKeyId": KEY_ARN})],
    # ---------------- EventBridge, CloudWatch
    "aws:cloudwatch/eventBus:EventBus": [
        (
            "logged",
            {
                "name": "b",
                "kmsKeyIdentifier": KEY_ARN,
                "logConfig": {"level": "INFO", "includeDetail": "FULL"},
            },
        )
    ],
    "aws:cloudwatch/eventArchive:EventArchive": [
        (
            "customer-key",
            {
                "name": "a",
                "eventSourceArn": "arn:aws:events:us-east-1:1:event-bus/b",
                "kmsKeyIdentifier": KEY_ARN,
            },
        )
    ],
    "aws:cloudwatch/eventConnection:EventConnection": [
        ("customer-key", {"name": "c", "authorizationType": "API_KEY", "kmsKeyIdentifier": KEY_ARN})
    ],
    "aws:cloudwatch/logAnomalyDetector:LogAnomalyDetector": [
        ("customer-key", {"logGroupArnLists": [LOG_GROUP_ARN], "kmsKeyId": KEY_ARN})
    ],
    # ---------------- workflows and integration
    "aws:sfn/activity:Activity": [("customer-key", {"name": "a", "encryptionConfiguration": SFN_KMS})],
    "aws:sfn/stateMachine:StateMachine": [
        (
            kind,
            {
                "name": "s",
                "type": kind,
                "roleArn": ROLE,
                "definition": "{}",
                "encryptionConfiguration": SFN_KMS,
                "loggingConfiguration": {
                    "level": level,
                    "logDestination": LOG_GROUP_ARN,
                    "includeExecutionData": False,
                },
            },
        )
        for kind, level in (("STANDARD", "ALL"), ("EXPRESS", "ERROR"))
    ],
    "aws:pipes/pipe:Pipe": [
        (
            "cloudwatch-logs",
            {
                "roleArn": ROLE,
                "source": "s",
                "target": "t",
                "kmsKeyIdentifier": KEY_ARN,
                "logConfiguration": {
                    "level": "ERROR",
                    "cloudwatchLogsLogDestination": {"logGroupArn": LOG_GROUP_ARN},
                },
            },
        ),
        (
            "s3-logs",
            {
                "roleArn": ROLE,
                "source": "s",
                "target": "t",
                "kmsKeyIdentifier": KEY_ARN,
                "logConfiguration": {
                    "level": "INFO",
                    "s3LogDestination": {"bucketName": "pipe-logs", "bucketOwner": "123456789012"},
                },
            },
        ),
    ],
    "aws:scheduler/schedule:Schedule": [
        (
            "customer-key",
            {
                "scheduleExpression": "rate(1 hour)",
                "kmsKeyArn": KEY_ARN,
                "flexibleTimeWindow": {"mode": "OFF"},
                "target": {"arn": "arn:aws:sqs:us-east-1:1:q", "roleArn": ROLE},
            },
        )
    ],
    "aws:appflow/connectorProfile:ConnectorProfile": [
        (
            "customer-key",
            {"name": "p", "connectorType": "Salesforce", "connectionMode": "Private", "kmsArn": KEY_ARN},
        )
    ],
    "aws:appflow/flow:Flow": [("customer-key", {"name": "f", "kmsArn": KEY_ARN})],
    "aws:appsync/apiCache:ApiCache": [
        (
            "encrypted",
            {
                "apiId": "a",
                "type": "SMALL",
                "ttl": 60,
                "apiCachingBehavior": "FULL_REQUEST_CACHING",
                "atRestEncryptionEnabled": True,
                "transitEncryptionEnabled": True,
            },
        )
    ],
    "aws:appsync/graphQLApi:GraphQLApi": [
        (
            level,
            {
                "name": "g",
                "authenticationType": "AWS_IAM",
                "logConfig": {"fieldLogLevel": level, "cloudwatchLogsRoleArn": ROLE},
            },
        )
        for level in ("ERROR", "ALL")
    ],
    "aws:appsync/api:Api": [
        (
            "event-api",
            {"name": "e", "eventConfig": {"logConfig": {"logLevel": "ERROR", "cloudwatchLogsRoleArn": ROLE}}},
        )
    ],
    "aws:m2/application:Application": [
        ("customer-key", {"name": "a", "engineType": "bluage", "kmsKeyId": KEY_ARN})
    ],
    "aws:m2/environment:Environment": [
        (
            engine,
            {
                "name": "e",
                "engineType": engine,
                "instanceType": "M2.m5.large",
                "kmsKeyId": KEY_ARN,
                "publiclyAccessible": False,
            },
        )
        for engine in ("bluage", "microfocus")
    ],
    # ---------------- email, voice, contact centre
    "aws:ses/configurationSet:ConfigurationSet": [
        ("tls-required", {"name": "c", "deliveryOptions": {"tlsPolicy": "Require"}})
    ],
    "aws:sesv2/configurationSet:ConfigurationSet": [
        ("tls-required", {"configurationSetName": "c", "deliveryOptions": {"tlsPolicy": "REQUIRE"}})
    ],
    "aws:ses/receiptRule:ReceiptRule": [
        (
            "to-s3",
            {
                "name": "r",
                "ruleSetName": "rs",
                "tlsPolicy": "Require",
                "s3Actions": [{"bucketName": "mail", "position": 1, "kmsKeyArn": KEY_ARN}],
            },
        ),
        (
            "to-lambda",
            {
                "name": "r",
                "ruleSetName": "rs",
                "tlsPolicy": "Require",
                "lambdaActions": [{"functionArn": "arn:aws:lambda:us-east-1:1:function:f", "position": 1}],
            },
        ),
    ],
    "aws:mailmanager/archive:Archive": [("customer-key", {"name": "a", "kmsKeyArn": KEY_ARN})],
    "aws:mailmanager/ingressPoint:IngressPoint": [
        (p, {"name": "i", "type": "OPEN", "ruleSetId": "r", "trafficPolicyId": "t", "tlsPolicy": p})
        for p in ("REQUIRED", "FIPS")
    ],
    "aws:chime/sdkvoiceVoiceProfileDomain:SdkvoiceVoiceProfileDomain": [
        ("customer-key", {"name": "d", "serverSideEncryptionConfiguration": {"kmsKeyArn": KEY_ARN}})
    ],
    "aws:chime/voiceConnector:VoiceConnector": [("encrypted", {"name": "v", "requireEncryption": True})],
    "aws:connect/instanceStorageConfig:InstanceStorageConfig": [
        (
            "s3",
            {
                "instanceId": "i",
                "resourceType": "CALL_RECORDINGS",
                "storageConfig": {
                    "storageType": "S3",
                    "s3Config": {
                        "bucketName": "calls",
                        "bucketPrefix": "p",
                        "encryptionConfig": {"encryptionType": "KMS", "keyId": KEY_ARN},
                    },
                },
            },
        ),
        (
            "kinesis-video-stream",
            {
                "instanceId": "i",
                "resourceType": "MEDIA_STREAMS",
                "storageConfig": {
                    "storageType": "KINESIS_VIDEO_STREAM",
                    "kinesisVideoStreamConfig": {
                        "prefix": "p",
                        "retentionPeriodHours": 24,
                        "encryptionConfig": {"encryptionType": "KMS", "keyId": KEY_ARN},
                    },
                },
            },
        ),
        (
            "kinesis-stream",
            {
                "instanceId": "i",
                "resourceType": "CONTACT_TRACE_RECORDS",
                "storageConfig": {
                    "storageType": "KINESIS_STREAM",
                    "kinesisStreamConfig": {"streamArn": "arn:aws:kinesis:us-east-1:1:stream/s"},
                },
            },
        ),
        (
            "firehose",
            {
                "instanceId": "i",
                "resourceType": "AGENT_EVENTS",
                "storageConfig": {
                    "storageType": "KINESIS_FIREHOSE",
                    "kinesisFirehoseConfig": {"firehoseArn": "arn:aws:firehose:us-east-1:1:deliverystream/d"},
                },
            },
        ),
    ],
    # botocore chime-sdk-media-pipelines: elements are typed (MediaInsightsPipelineConfigurationElementType);
    # only post-call analytics writes output to S3 under a key of the customer's choice.
    "aws:chimesdkmediapipelines/mediaInsightsPipelineConfiguration:MediaInsightsPipelineConfiguration": [
        (
            "post-call-analytics",
            {
                "name": "m",
                "resourceAccessRoleArn": ROLE,
                "elements": [
                    {
                        "type": "AmazonTranscribeCallAnalyticsProcessor",
                        "amazonTranscribeCallAnalyticsProcessorConfiguration": {
                            "languageCode": "en-US",
                            "postCallAnalyticsSettings": {
                                "outputLocation": "s3://calls/out",
                                "dataAccessRoleArn": ROLE,
                                "outputEncryptionKmsKeyId": KEY_ARN,
                            },
                        },
                    },
                    S3_SINK,
                ],
            },
        ),
        (
            "real-time-only",
            {
                "name": "m",
                "resourceAccessRoleArn": ROLE,
                "elements": [
                    {
                        "type": "AmazonTranscribeCallAnalyticsProcessor",
                        "amazonTranscribeCallAnalyticsProcessorConfiguration": {"languageCode": "en-US"},
                    },
                    S3_SINK,
                ],
            },
        ),
        (
            "voice-analytics",
            {
                "name": "m",
                "resourceAccessRoleArn": ROLE,
                "elements": [
                    {
                        "type": "VoiceAnalyticsProcessor",
                        "voiceAnalyticsProcessorConfiguration": {
                            "speakerSearchStatus": "Enabled",
                            "voiceToneAnalysisStatus": "Enabled",
                        },
                    },
                    S3_SINK,
                ],
            },
        ),
    ],
    "aws:customerprofiles/domain:Domain": [
        ("customer-key", {"domainName": "d", "defaultExpirationDays": 365, "defaultEncryptionKey": KEY_ARN})
    ],
    # ---------------- compute and CI
    "aws:lambda/capacityProvider:CapacityProvider": [("customer-key", {"name": "c", "kmsKeyArn": KEY_ARN})],
    "aws:ecs/cluster:Cluster": [
        ("exec-override", {"name": "c", "configuration": {"executeCommandConfiguration": EXEC}}),
        (
            "exec-default-logging",
            {"name": "c", "configuration": {"executeCommandConfiguration": {"kmsKeyId": KEY_ARN}}},
        ),
        ("no-exec-configuration", {"name": "c"}),
    ],
    "aws:ecs/service:Service": [
        (
            "private-subnets",
            {
                "name": "s",
                "cluster": "c",
                "taskDefinition": "td",
                "launchType": "FARGATE",
                "networkConfiguration": {"subnets": ["subnet-1"], "assignPublicIp": False},
            },
        ),
        ("defaults", {"name": "s", "cluster": "c", "taskDefinition": "td", "launchType": "EC2"}),
        (
            "ebs-and-service-connect",
            {
                "name": "s",
                "cluster": "c",
                "taskDefinition": "td",
                "launchType": "FARGATE",
                "volumeConfiguration": {
                    "name": "data",
                    "managedEbsVolume": {"roleArn": ROLE, "encrypted": True, "kmsKeyId": KEY_ARN},
                },
                "serviceConnectConfiguration": {
                    "logConfiguration": SC_LOGS,
                    "enabled": True,
                    "namespace": "ns",
                    "services": [
                        {
                            "portName": "api",
                            "tls": {
                                "issuerCertAuthority": {"awsPcaAuthorityArn": PCA},
                                "kmsKey": KEY_ARN,
                                "roleArn": ROLE,
                            },
                        }
                    ],
                },
            },
        ),
        (
            "service-connect-client-only",
            {
                "name": "s",
                "cluster": "c",
                "taskDefinition": "td",
                "serviceConnectConfiguration": {
                    "enabled": True,
                    "namespace": "ns",
                    "logConfiguration": SC_LOGS,
                },
            },
        ),
    ],
    "aws:ecs/taskDefinition:TaskDefinition": [
        (
            "efs-tls",
            {
                "family": "f",
                "containerDefinitions": "[]",
                "volumes": [
                    {
                        "name": "efs",
                        "efsVolumeConfiguration": {"fileSystemId": "fs-1", "transitEncryption": "ENABLED"},
                    }
                ],
            },
        ),
        ("bind-mounts-only", {"family": "f", "containerDefinitions": "[]", "volumes": [{"name": "tmp"}]}),
        ("no-volumes", {"family": "f", "containerDefinitions": "[]"}),
    ],
    "aws:ecs/daemonTaskDefinition:DaemonTaskDefinition": [
        (
            "awslogs",
            {
                "family": "d",
                "containerDefinitions": [
                    {"name": "agent", "image": "i", "logConfiguration": {"logDriver": "awslogs"}}
                ],
            },
        )
    ],
    "aws:eks/cluster:Cluster": [
        (
            "private",
            {
                "name": "k",
                "roleArn": ROLE,
                "vpcConfig": {
                    "subnetIds": ["s-1"],
                    "endpointPrivateAccess": True,
                    "endpointPublicAccess": False,
                },
                "enabledClusterLogTypes": ["api", "audit", "authenticator"],
                "encryptionConfig": {"resources": ["secrets"], "provider": {"keyArn": KEY_ARN}},
            },
        ),
    ],
    "aws:iot/domainConfiguration:DomainConfiguration": [
        ("default-policy", {"name": "d"}),
        *[
            (p, {"name": "d", "tlsConfig": {"securityPolicy": p}})
            for p in (
                "IoTSecurityPolicy_TLS13_1_3_2022_10",
                "IoTSecurityPolicy_TLS13_1_2_2022_10",
                "IoTSecurityPolicy_TLS12_1_2_2022_10",
            )
        ],
    ],
    "aws:codebuild/project:Project": [
        (
            "defaults",
            {"name": "p", "serviceRole": ROLE, "encryptionKey": KEY_ARN, "source": {"type": "CODEPIPELINE"}},
        ),
        (
            "s3-logs-only",
            {
                "name": "p",
                "serviceRole": ROLE,
                "encryptionKey": KEY_ARN,
                "source": {"type": "GITHUB", "location": "https://github.com/o/r", "insecureSsl": False},
                "secondarySources": [
                    {"type": "S3", "sourceIdentifier": "s", "location": "b/k", "insecureSsl": False}
                ],
                "logsConfig": {
                    "cloudwatchLogs": {"status": "DISABLED"},
                    "s3Logs": {"status": "ENABLED", "location": "b/logs"},
                },
            },
        ),
    ],
    "aws:codebuild/reportGroup:ReportGroup": [
        (
            "s3-export",
            {
                "name": "r",
                "type": "TEST",
                "exportConfig": {
                    "type": "S3",
                    "s3Destination": {
                        "bucket": "reports",
                        "encryptionKey": KEY_ARN,
                        "encryptionDisabled": False,
                    },
                },
            },
        ),
        ("no-export", {"name": "r", "type": "TEST", "exportConfig": {"type": "NO_EXPORT"}}),
    ],
    "aws:codepipeline/pipeline:Pipeline": [
        (
            "kms",
            {
                "name": "p",
                "roleArn": ROLE,
                "artifactStores": [
                    {"location": "artifacts", "type": "S3", "encryptionKey": {"id": KEY_ARN, "type": "KMS"}}
                ],
            },
        )
    ],
}

globals().update(rule_tests("messaging", COMPLIANT))


@pytest.fixture(autouse=True)
def _phi_stack(pack):
    """Every test here judges a PHI stack, where the phiOnly rules apply too."""
    pack.configure({policy: {"holdsPhi": True} for policy in POLICY.values()})
    yield
    pack.configure({})


def test_phi_only_rules_do_not_apply_to_a_synthetic_stack(pack):
    pack.configure({})
    verdict = pack.analyze("aws:cloudwatch/logGroup:LogGroup", {"deletionProtectionEnabled": False})
    assert verdict.messages(POLICY["deletion"]) == []


# ---------------------------------------------------------------- AWS defaults, pinned one by one


@pytest.mark.parametrize(
    "type_,props,family,index",
    [
        # AWS "Get started with Amazon MSK encryption": no EncryptionAtRest -> the AWS managed key aws/kafka.
        ("aws:msk/cluster:Cluster", {"clusterName": "c", "loggingInfo": MSK_LOGS}, "at-rest", 0),
        # AWS::AmazonMQ::Broker EncryptionOptions: UseAwsOwnedKey is true when not given (ActiveMQ).
        (
            "aws:mq/broker:Broker",
            {"engineType": "ACTIVEMQ", "logs": {"general": True, "audit": True}},
            "at-rest",
            0,
        ),
        # Step Functions EncryptionConfiguration: AWS_OWNED_KEY unless a customer key is configured.
        (
            "aws:sfn/stateMachine:StateMachine",
            {"name": "s", "loggingConfiguration": {"level": "ALL", "logDestination": LOG_GROUP_ARN}},
            "at-rest",
            0,
        ),
        # Step Functions logging is OFF unless configured.
        (
            "aws:sfn/stateMachine:StateMachine",
            {"name": "s", "encryptionConfiguration": SFN_KMS},
            "logging",
            0,
        ),
        # SES DeliveryOptions: TlsPolicy Optional unless Require is set (pulumi-aws: "Defaults to Optional").
        ("aws:ses/configurationSet:ConfigurationSet", {"name": "c"}, "in-transit", 0),
        # EKS VpcConfigRequest.endpointPublicAccess: "The default value for this parameter is true".
        (
            "aws:eks/cluster:Cluster",
            {"name": "k", "encryptionConfig": {"resources": ["secrets"], "provider": {"keyArn": KEY_ARN}}},
            "network",
            0,
        ),
        # ECR: no encryptionConfigurations -> AES256.
        ("aws:ecr/repository:Repository", {"name": "r"}, "at-rest", 0),
        # botocore kafkaconnect: no kafkaClusterEncryptionInTransit -> PLAINTEXT.
        (
            "aws:mskconnect/connector:Connector",
            {"name": "c", "logDelivery": {"workerLogDelivery": DELIVERY_LOGS}},
            "in-transit",
            0,
        ),
        # AppSync ApiCache: encryption at rest and in transit are off unless enabled.
        ("aws:appsync/apiCache:ApiCache", {"apiId": "a", "transitEncryptionEnabled": True}, "at-rest", 0),
        # EKS: no enabledClusterLogTypes -> no control plane logs.
        (
            "aws:eks/cluster:Cluster",
            {"name": "k", "vpcConfig": {"endpointPublicAccess": False}},
            "logging",
            0,
        ),
        # Amazon ECS task definitions: EFS transitEncryption defaults to DISABLED.
        (
            "aws:ecs/taskDefinition:TaskDefinition",
            {"family": "f", "volumes": [{"name": "efs", "efsVolumeConfiguration": {"fileSystemId": "fs-1"}}]},
            "in-transit",
            0,
        ),
    ],
)
def test_the_aws_default_of_an_absent_input_is_judged(pack, type_, props, family, index):
    assert RULES[type_][family][index]["fix"] in pack.analyze(type_, props).messages(POLICY[family])


def test_an_iot_policy_allowing_tls_1_0_is_reported(pack):
    # AWS IoT Core "Configuring TLS settings in domain configurations": the TLS12_1_0 policies accept TLS 1.0.
    verdict = pack.analyze(
        "aws:iot/domainConfiguration:DomainConfiguration",
        {"name": "d", "tlsConfig": {"securityPolicy": "IoTSecurityPolicy_TLS12_1_0_2016_01"}},
    )
    assert RULES["aws:iot/domainConfiguration:DomainConfiguration"]["in-transit"][0][
        "fix"
    ] in verdict.messages(POLICY["in-transit"])


def test_an_efs_volume_without_tls_is_reported_beside_a_bind_mount(pack):
    verdict = pack.analyze(
        "aws:ecs/taskDefinition:TaskDefinition",
        {
            "family": "f",
            "volumes": [
                {
                    "name": "efs",
                    "efsVolumeConfiguration": {"fileSystemId": "fs-1", "transitEncryption": "DISABLED"},
                }
            ],
        },
    )
    assert RULES["aws:ecs/taskDefinition:TaskDefinition"]["in-transit"][0]["fix"] in verdict.messages(
        POLICY["in-transit"]
    )
