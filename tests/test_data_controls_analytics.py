"""The control-family rules of the analytics, ML and operations services
(policy/hipaa_policies/data/controls/analytics.json), driven over the Analyzer protocol: SageMaker,
Bedrock, Glue, Athena, EMR, DMS, Kendra, Q Business, Comprehend, Location, DataZone, MWAA,
WorkSpaces, QuickSight, CloudTrail Lake, Config, KMS and Secrets Manager policies, and the rest.

For each type with rules: the compliant form of every variant the rules' switches distinguish
passes; each rule, read from the JSON, has a deployable defect that reports the rule's own fix
text; an unknown value at each rule's path leaves the policy "not judged". The compliant forms are
written by hand: they are the claim of what a correct resource looks like. Sources of the AWS facts
they pin:
- pulumi-aws docstrings: `amp.Workspace.kms_key_arn` ("If this argument is not provided, then the
  AWS owned encryption key will be used"); `sagemaker.Domain.app_network_access_type` ("The default
  value is PublicInternetOnly"); `mwaa.Environment.webserver_access_mode` ("PRIVATE_ONLY
  (default)"); `dms.InstanceProfile.publicly_accessible` ("Default is true");
  `emr.Cluster.termination_protection` ("default is false") and `keep_job_flow_alive_when_no_steps`
  ("default is on"); `cloudtrail.EventDataStore.termination_protection_enabled` ("Default: true");
  `bedrock` AgentcoreTokenVaultCmk key_type (CustomerManagedKey, ServiceManagedKey) and the managed
  knowledge base connector's deletion_protection_status (ENABLED, DISABLED).
- botocore models: `dms` CreateInstanceProfile (PubliclyAccessible default true, no KmsKeyArn -> an
  AWS owned key), ComputeConfig.KmsKeyId (default key), DmsSslModeValue (none, require, verify-ca,
  verify-full; "the default is none"); `glue` S3EncryptionMode, CloudWatchEncryptionMode,
  JobBookmarksEncryptionMode, CatalogEncryptionMode; `athena` EncryptionOption; `synthetics`
  EncryptionMode and CreateCanary KmsKeyArn ("If you don't specify a value, the service uses an
  AWS-managed key"); `dataexchange` ServerSideEncryptionTypes; `devops-guru`
  ServerSideEncryptionType; `observabilityadmin` SSEAlgorithm; `sagemaker` AppNetworkAccessType.
- botocore `sagemaker` ResourceConfig.VolumeKmsKeyId (also HyperParameterTuningResourceConfig,
  ProcessingClusterConfig): "You can't request a VolumeKmsKeyId when using an instance type with local
  storage", so volume keys are judged only when given.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.data_controls_harness import (
    ACCOUNT_POLICY, DELETE, POLICY, patched, policy_document, rule_tests, rules_of, set_path,
)
from tests.policy_cases import KEY_ARN

RULES = rules_of("analytics")
AWS_MANAGED = "alias/aws/kms"
ORG_POLICY = policy_document(
    "*", ["oam:CreateLink", "oam:UpdateLink"], {"StringEquals": {"aws:PrincipalOrgID": "o-abcdef1234"}}
)
S3_OUT = "s3://phi-ml-output/prefix/"
LABELING_ALGORITHM = (
    "arn:aws:sagemaker:us-east-1:027400017018:labeling-job-algorithm-specification/image-classification"
)
EMBEDDING_MODEL = "arn:aws:bedrock:us-east-1::foundation-model/amazon.titan-embed-text-v2:0"
CONNECTOR = "dataSourceConfiguration.managedKnowledgeBaseConnectorConfiguration"
LOG_GROUP = "arn:aws:logs:us-east-1:123456789012:log-group:/aws/vendedlogs/app:*"
TRAINING_DEFINITION = {
    "algorithmSpecification": {"trainingInputMode": "File", "trainingImage": "img"},
    "roleArn": "arn:aws:iam::123456789012:role/sm",
    "outputDataConfig": {"s3OutputPath": S3_OUT, "kmsKeyId": KEY_ARN},
    "resourceConfig": {
        "instanceType": "ml.m5.xlarge",
        "instanceCount": 1,
        "volumeSizeInGb": 50,
        "volumeKmsKeyId": KEY_ARN,
    },
}
NVME_DEFINITION = {
    **TRAINING_DEFINITION,
    "resourceConfig": {"instanceType": "ml.p4d.24xlarge", "instanceCount": 1, "volumeSizeInGb": 50},
}
MONITORING_OUTPUT = {
    "monitoringOutputs": {"s3Output": {"s3Uri": S3_OUT, "localPath": "/opt/ml/processing/output"}},
    "kmsKeyId": KEY_ARN,
}
MWAA_LOGS = {
    "webserverLogs": {"enabled": True, "logLevel": "INFO"},
    "taskLogs": {"enabled": True, "logLevel": "INFO"},
    "schedulerLogs": {"enabled": True, "logLevel": "INFO"},
}
DATA_PROVIDER_SETTINGS = {
    "docDbSettings": "docdb",
    "ibmDb2LuwSettings": "db2",
    "ibmDb2ZosSettings": "db2-zos",
    "mariaDbSettings": "mariadb",
    "microsoftSqlServerSettings": "sqlserver",
    "mongoDbSettings": "mongodb",
    "mysqlSettings": "mysql",
    "oracleSettings": "oracle",
    "postgresqlSettings": "postgres",
    "sybaseAseSettings": "sybase",
}


def _key(**extra: Any) -> dict:
    return {"kmsKeyArn": KEY_ARN, **extra}


# type -> [(variant, compliant props)]: every variant the rules' switches (their "when") distinguish.
COMPLIANT: dict[str, list[tuple[str, dict]]] = {
    # ---------------- SageMaker
    "aws:sagemaker/domain:Domain": [
        (
            "vpc-only",
            {
                "domainName": "d",
                "authMode": "IAM",
                "vpcId": "vpc-1",
                "subnetIds": ["subnet-1"],
                "appNetworkAccessType": "VpcOnly",
                "kmsKeyId": KEY_ARN,
                "defaultUserSettings": {
                    "executionRole": "arn:aws:iam::123456789012:role/sm",
                    "sharingSettings": {
                        "notebookOutputOption": "Allowed",
                        "s3OutputPath": S3_OUT,
                        "s3KmsKeyId": KEY_ARN,
                    },
                    "canvasAppSettings": {
                        "workspaceSettings": {"s3ArtifactPath": S3_OUT, "s3KmsKeyId": KEY_ARN}
                    },
                },
            },
        ),
        (
            "no-sharing",
            {
                "domainName": "d",
                "authMode": "SSO",
                "vpcId": "vpc-1",
                "subnetIds": ["subnet-1"],
                "appNetworkAccessType": "VpcOnly",
                "kmsKeyId": KEY_ARN,
                "retentionPolicy": {"homeEfsFileSystem": "Retain"},
                "defaultUserSettings": {"executionRole": "arn:aws:iam::123456789012:role/sm"},
            },
        ),
    ],
    "aws:sagemaker/userProfile:UserProfile": [
        (
            "shared-notebooks",
            {
                "domainId": "d-1",
                "userProfileName": "u",
                "userSettings": {
                    "executionRole": "arn:aws:iam::123456789012:role/sm",
                    "sharingSettings": {
                        "notebookOutputOption": "Allowed",
                        "s3OutputPath": S3_OUT,
                        "s3KmsKeyId": KEY_ARN,
                    },
                    "canvasAppSettings": {
                        "workspaceSettings": {"s3ArtifactPath": S3_OUT, "s3KmsKeyId": KEY_ARN}
                    },
                },
            },
        ),
        ("domain-defaults", {"domainId": "d-1", "userProfileName": "u"}),
    ],
    "aws:sagemaker/featureGroup:FeatureGroup": [
        (
            "online-and-offline",
            {
                "featureGroupName": "f",
                "recordIdentifierFeatureName": "id",
                "eventTimeFeatureName": "t",
                "roleArn": "arn:aws:iam::123456789012:role/sm",
                "featureDefinitions": [{"featureName": "id", "featureType": "String"}],
                "onlineStoreConfig": {"enableOnlineStore": True, "securityConfig": {"kmsKeyId": KEY_ARN}},
                "offlineStoreConfig": {"s3StorageConfig": {"s3Uri": S3_OUT, "kmsKeyId": KEY_ARN}},
            },
        ),
        (
            "offline-only",
            {
                "featureGroupName": "f",
                "recordIdentifierFeatureName": "id",
                "eventTimeFeatureName": "t",
                "roleArn": "arn:aws:iam::123456789012:role/sm",
                "featureDefinitions": [{"featureName": "id", "featureType": "String"}],
                "offlineStoreConfig": {"s3StorageConfig": {"s3Uri": S3_OUT, "kmsKeyId": KEY_ARN}},
            },
        ),
    ],
    "aws:sagemaker/trainingJob:TrainingJob": [
        (
            "ebs-volume",
            {
                "trainingJobName": "t",
                "roleArn": "arn:aws:iam::123456789012:role/sm",
                "algorithmSpecification": {"trainingImage": "img", "trainingInputMode": "File"},
                "outputDataConfig": {"s3OutputPath": S3_OUT, "kmsKeyId": KEY_ARN},
                "resourceConfig": {
                    "instanceType": "ml.m5.xlarge",
                    "instanceCount": 1,
                    "volumeSizeInGb": 50,
                    "volumeKmsKeyId": KEY_ARN,
                },
            },
        ),
        (
            "nvme-instance",
            {
                "trainingJobName": "t",
                "roleArn": "arn:aws:iam::123456789012:role/sm",
                "algorithmSpecification": {"trainingImage": "img", "trainingInputMode": "File"},
                "outputDataConfig": {"s3OutputPath": S3_OUT, "kmsKeyId": KEY_ARN},
                "resourceConfig": {
                    "instanceType": "ml.p4d.24xlarge",
                    "instanceCount": 1,
                    "volumeSizeInGb": 50,
                },
            },
        ),
    ],
    "aws:sagemaker/hyperParameterTuningJob:HyperParameterTuningJob": [
        (
            "one-definition",
            {
                "name": "h",
                "config": {"strategy": "Bayesian"},
                "trainingJobDefinition": {
                    **TRAINING_DEFINITION,
                    "hyperParameterTuningResourceConfig": {
                        "instanceType": "ml.m5.xlarge",
                        "volumeKmsKeyId": KEY_ARN,
                    },
                },
            },
        ),
        (
            "several-definitions",
            {
                "name": "h",
                "config": {"strategy": "Bayesian"},
                "trainingJobDefinitions": [TRAINING_DEFINITION, TRAINING_DEFINITION],
            },
        ),
        (
            "several-tuning-resources",
            {
                "name": "h",
                "config": {"strategy": "Bayesian"},
                "trainingJobDefinitions": [
                    {
                        **{k: v for k, v in TRAINING_DEFINITION.items() if k != "resourceConfig"},
                        "hyperParameterTuningResourceConfig": {
                            "instanceType": "ml.m5.xlarge",
                            "volumeKmsKeyId": KEY_ARN,
                        },
                    }
                ],
            },
        ),
        # Every definition on instances with local NVMe storage: no volume key can be given.
        (
            "several-nvme",
            {
                "name": "h",
                "config": {"strategy": "Bayesian"},
                "trainingJobDefinitions": [NVME_DEFINITION, NVME_DEFINITION],
            },
        ),
    ],
    "aws:sagemaker/labelingJob:LabelingJob": [
        (
            "active-learning",
            {
                "labelingJobName": "l",
                "labelAttributeName": "label",
                "roleArn": "arn:aws:iam::123456789012:role/sm",
                "outputConfig": {"s3OutputPath": S3_OUT, "kmsKeyId": KEY_ARN},
                "labelingJobAlgorithmsConfig": {
                    "labelingJobAlgorithmSpecificationArn": LABELING_ALGORITHM,
                    "labelingJobResourceConfig": {"volumeKmsKeyId": KEY_ARN},
                },
            },
        ),
        (
            "human-only",
            {
                "labelingJobName": "l",
                "labelAttributeName": "label",
                "roleArn": "arn:aws:iam::123456789012:role/sm",
                "outputConfig": {"s3OutputPath": S3_OUT, "kmsKeyId": KEY_ARN},
            },
        ),
    ],
    "aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition": [
        (
            "endpoint-input",
            {
                "roleArn": "arn:aws:iam::123456789012:role/sm",
                "dataQualityJobOutputConfig": MONITORING_OUTPUT,
                "jobResources": {
                    "clusterConfig": {
                        "instanceCount": 1,
                        "instanceType": "ml.m5.xlarge",
                        "volumeSizeInGb": 20,
                        "volumeKmsKeyId": KEY_ARN,
                    }
                },
            },
        ),
    ],
    "aws:sagemaker/monitoringSchedule:MonitoringSchedule": [
        (
            "inline-definition",
            {
                "name": "m",
                "monitoringScheduleConfig": {
                    "monitoringType": "DataQuality",
                    "monitoringJobDefinition": {
                        "roleArn": "arn:aws:iam::123456789012:role/sm",
                        "monitoringOutputConfig": MONITORING_OUTPUT,
                    },
                },
            },
        ),
        (
            "named-definition",
            {
                "name": "m",
                "monitoringScheduleConfig": {
                    "monitoringType": "DataQuality",
                    "monitoringJobDefinitionName": "dq",
                },
            },
        ),
    ],
    "aws:sagemaker/deviceFleet:DeviceFleet": [
        (
            "fleet",
            {
                "deviceFleetName": "f",
                "roleArn": "arn:aws:iam::123456789012:role/sm",
                "outputConfig": {"s3OutputLocation": S3_OUT, "kmsKeyId": KEY_ARN},
            },
        )
    ],
    "aws:sagemaker/flowDefinition:FlowDefinition": [
        (
            "human-review",
            {
                "flowDefinitionName": "f",
                "roleArn": "arn:aws:iam::123456789012:role/sm",
                "outputConfig": {"s3OutputPath": S3_OUT, "kmsKeyId": KEY_ARN},
            },
        )
    ],
    "aws:sagemaker/modelCard:ModelCard": [
        (
            "card",
            {
                "modelCardName": "c",
                "modelCardStatus": "Draft",
                "content": "{}",
                "securityConfig": {"kmsKeyId": KEY_ARN},
            },
        )
    ],
    "aws:sagemaker/modelPackageGroupPolicy:ModelPackageGroupPolicy": [
        ("account", {"modelPackageGroupName": "g", "resourcePolicy": ACCOUNT_POLICY})
    ],
    # ---------------- Bedrock
    **{
        t: [("customer-key", {p: KEY_ARN})]
        for t, p in [
            ("aws:bedrock/agentAgent:AgentAgent", "customerEncryptionKeyArn"),
            ("aws:bedrock/agentFlow:AgentFlow", "customerEncryptionKeyArn"),
            ("aws:bedrock/agentPrompt:AgentPrompt", "customerEncryptionKeyArn"),
            ("aws:bedrock/agentcoreEvaluator:AgentcoreEvaluator", "kmsKeyArn"),
            ("aws:bedrock/agentcoreGateway:AgentcoreGateway", "kmsKeyArn"),
            ("aws:bedrock/agentcoreMemory:AgentcoreMemory", "encryptionKeyArn"),
            ("aws:bedrock/agentcorePolicyEngine:AgentcorePolicyEngine", "encryptionKeyArn"),
            ("aws:bedrock/customModel:CustomModel", "customModelKmsKeyId"),
            ("aws:bedrock/evaluationJob:EvaluationJob", "customerEncryptionKeyId"),
            ("aws:bedrock/guardrail:Guardrail", "kmsKeyArn"),
            ("aws:rekognition/streamProcessor:StreamProcessor", "kmsKeyId"),
            ("aws:location/geofenceCollection:GeofenceCollection", "kmsKeyId"),
            ("aws:location/tracker:Tracker", "kmsKeyId"),
            ("aws:datazone/domain:Domain", "kmsKeyIdentifier"),
            ("aws:amp/workspace:Workspace", "kmsKeyArn"),
            ("aws:emr/studio:Studio", "encryptionKeyArn"),
            ("aws:emrcontainers/jobTemplate:JobTemplate", "kmsKeyArn"),
            ("aws:cloudtrail/eventDataStore:EventDataStore", "kmsKeyId"),
            ("aws:cfg/deliveryChannel:DeliveryChannel", "s3KmsKeyArn"),
            ("aws:guardduty/publishingDestination:PublishingDestination", "kmsKeyArn"),
            ("aws:securityhub/connectorV2:ConnectorV2", "kmsKeyArn"),
            ("aws:resiliencehub/v2Policy:V2Policy", "kmsKeyId"),
            ("aws:resiliencehub/v2Service:V2Service", "kmsKeyId"),
            ("aws:resiliencehub/v2System:V2System", "kmsKeyId"),
            ("aws:devopsagent/agentSpace:AgentSpace", "kmsKeyArn"),
            ("aws:auditmanager/accountRegistration:AccountRegistration", "kmsKey"),
            ("aws:dms/replicationConfig:ReplicationConfig", "computeConfig"),
        ]
        if p != "computeConfig"
    },
    "aws:bedrock/agentcoreHarness:AgentcoreHarness": [
        ("managed-memory", {"memory": {"managedMemoryConfiguration": {"encryptionKeyArn": KEY_ARN}}}),
        ("no-memory", {}),
    ],
    "aws:bedrock/agentDataSource:AgentDataSource": [
        (
            "s3",
            {
                "name": "d",
                "knowledgeBaseId": "KB1",
                "serverSideEncryptionConfiguration": {"kmsKeyArn": KEY_ARN},
                "dataSourceConfiguration": {
                    "type": "S3",
                    "s3Configuration": {"bucketArn": "arn:aws:s3:::phi-docs"},
                },
            },
        ),
        (
            "managed-connector",
            {
                "name": "d",
                "knowledgeBaseId": "KB1",
                "serverSideEncryptionConfiguration": {"kmsKeyArn": KEY_ARN},
                "dataSourceConfiguration": {
                    "type": "MANAGED",
                    "managedKnowledgeBaseConnectorConfiguration": {
                        "deletionProtectionConfiguration": {
                            "deletionProtectionStatus": "ENABLED",
                            "deletionProtectionThreshold": 10,
                        }
                    },
                },
            },
        ),
    ],
    "aws:bedrock/agentKnowledgeBase:AgentKnowledgeBase": [
        (
            "managed",
            {
                "name": "kb",
                "roleArn": "arn:aws:iam::123456789012:role/kb",
                "knowledgeBaseConfiguration": {
                    "type": "MANAGED",
                    "managedKnowledgeBaseConfiguration": {
                        "embeddingModelArn": EMBEDDING_MODEL,
                        "serverSideEncryptionConfiguration": {"kmsKeyArn": KEY_ARN},
                    },
                },
            },
        ),
        (
            "vector-store",
            {
                "name": "kb",
                "roleArn": "arn:aws:iam::123456789012:role/kb",
                "knowledgeBaseConfiguration": {
                    "type": "VECTOR",
                    "vectorKnowledgeBaseConfiguration": {"embeddingModelArn": EMBEDDING_MODEL},
                },
            },
        ),
    ],
    "aws:bedrock/agentcoreTokenVaultCmk:AgentcoreTokenVaultCmk": [
        ("customer-key", {"kmsConfiguration": {"keyType": "CustomerManagedKey", "kmsKeyArn": KEY_ARN}})
    ],
    "aws:bedrock/agentcoreResourcePolicy:AgentcoreResourcePolicy": [
        (
            "account",
            {
                "resourceArn": "arn:aws:bedrock-agentcore:us-east-1:123456789012:runtime/r",
                "policy": ACCOUNT_POLICY,
            },
        )
    ],
    "aws:bedrockmodel/invocationJob:InvocationJob": [
        (
            "batch",
            {
                "jobName": "j",
                "modelId": "m",
                "roleArn": "arn:aws:iam::123456789012:role/b",
                "inputDataConfig": {"s3InputDataConfig": {"s3Uri": "s3://in/"}},
                "outputDataConfig": {"s3OutputDataConfig": {"s3Uri": S3_OUT, "s3EncryptionKeyId": KEY_ARN}},
            },
        )
    ],
    "aws:bedrockmodel/invocationLoggingConfiguration:InvocationLoggingConfiguration": [
        (
            "cloudwatch",
            {
                "loggingConfig": {
                    "textDataDeliveryEnabled": True,
                    "cloudwatchConfig": {
                        "logGroupName": "/bedrock/invocations",
                        "roleArn": "arn:aws:iam::123456789012:role/b",
                    },
                }
            },
        ),
        (
            "s3",
            {
                "loggingConfig": {
                    "textDataDeliveryEnabled": True,
                    "s3Config": {"bucketName": "phi-bedrock-logs"},
                }
            },
        ),
    ],
    # ---------------- Glue
    "aws:glue/dataCatalogEncryptionSettings:DataCatalogEncryptionSettings": [
        (
            "sse-kms",
            {
                "dataCatalogEncryptionSettings": {
                    "encryptionAtRest": {"catalogEncryptionMode": "SSE-KMS", "sseAwsKmsKeyId": KEY_ARN},
                    "connectionPasswordEncryption": {
                        "returnConnectionPasswordEncrypted": True,
                        "awsKmsKeyId": KEY_ARN,
                    },
                }
            },
        ),
        (
            "sse-kms-with-service-role",
            {
                "dataCatalogEncryptionSettings": {
                    "encryptionAtRest": {
                        "catalogEncryptionMode": "SSE-KMS-WITH-SERVICE-ROLE",
                        "sseAwsKmsKeyId": KEY_ARN,
                        "catalogEncryptionServiceRole": "arn:aws:iam::123456789012:role/glue",
                    },
                    "connectionPasswordEncryption": {
                        "returnConnectionPasswordEncrypted": True,
                        "awsKmsKeyId": KEY_ARN,
                    },
                }
            },
        ),
    ],
    "aws:glue/securityConfiguration:SecurityConfiguration": [
        (
            "all-kms",
            {
                "name": "s",
                "encryptionConfiguration": {
                    "s3Encryption": {"s3EncryptionMode": "SSE-KMS", "kmsKeyArn": KEY_ARN},
                    "cloudwatchEncryption": {"cloudwatchEncryptionMode": "SSE-KMS", "kmsKeyArn": KEY_ARN},
                    "jobBookmarksEncryption": {"jobBookmarksEncryptionMode": "CSE-KMS", "kmsKeyArn": KEY_ARN},
                },
            },
        )
    ],
    "aws:glue/catalog:Catalog": [
        (
            "data-lake-access",
            {
                "name": "c",
                "catalogProperties": {
                    "dataLakeAccessProperties": {"dataLakeAccess": True, "kmsKey": KEY_ARN}
                },
            },
        ),
        ("federated", {"name": "c"}),
    ],
    "aws:glue/connection:Connection": [
        (
            "oauth",
            {
                "name": "c",
                "connectionType": "SALESFORCE",
                "authenticationConfiguration": {"authenticationType": "OAUTH2", "kmsKeyArn": KEY_ARN},
            },
        ),
        ("jdbc-secret", {"name": "c", "connectionType": "JDBC", "connectionProperties": {"SECRET_ID": "db"}}),
    ],
    "aws:glue/resourcePolicy:ResourcePolicy": [("account", {"policy": ACCOUNT_POLICY})],
    # ---------------- Athena
    "aws:athena/workgroup:Workgroup": [
        (
            "s3-results-sse-kms",
            {
                "name": "w",
                "configuration": {
                    "enforceWorkgroupConfiguration": True,
                    "resultConfiguration": {
                        "outputLocation": S3_OUT,
                        "encryptionConfiguration": {"encryptionOption": "SSE_KMS", "kmsKeyArn": KEY_ARN},
                    },
                },
            },
        ),
        (
            "s3-results-cse-kms",
            {
                "name": "w",
                "configuration": {
                    "resultConfiguration": {
                        "outputLocation": S3_OUT,
                        "encryptionConfiguration": {"encryptionOption": "CSE_KMS", "kmsKeyArn": KEY_ARN},
                    }
                },
            },
        ),
        (
            "managed-results",
            {
                "name": "w",
                "configuration": {
                    "managedQueryResultsConfiguration": {
                        "enabled": True,
                        "encryptionConfiguration": {"kmsKey": KEY_ARN},
                    }
                },
            },
        ),
        (
            "spark",
            {
                "name": "w",
                "configuration": {
                    "engineVersion": {"selectedEngineVersion": "PySpark engine version 3"},
                    "executionRole": "arn:aws:iam::123456789012:role/athena",
                    "customerContentEncryptionConfiguration": {"kmsKey": KEY_ARN},
                    "resultConfiguration": {
                        "outputLocation": S3_OUT,
                        "encryptionConfiguration": {"encryptionOption": "SSE_KMS", "kmsKeyArn": KEY_ARN},
                    },
                    "monitoringConfiguration": {
                        "managedLoggingConfiguration": {"enabled": True, "kmsKey": KEY_ARN},
                        "s3LoggingConfiguration": {"enabled": True, "kmsKey": KEY_ARN, "logLocation": S3_OUT},
                    },
                },
            },
        ),
    ],
    # ---------------- EMR
    "aws:emr/cluster:Cluster": [
        (
            "long-running",
            {
                "name": "c",
                "releaseLabel": "emr-7.5.0",
                "serviceRole": "EMR_DefaultRole",
                "terminationProtection": True,
            },
        ),
        (
            "transient",
            {
                "name": "c",
                "releaseLabel": "emr-7.5.0",
                "serviceRole": "EMR_DefaultRole",
                "keepJobFlowAliveWhenNoSteps": False,
            },
        ),
    ],
    "aws:emrserverless/application:Application": [
        (
            "all-destinations",
            {
                "name": "a",
                "releaseLabel": "emr-7.5.0",
                "type": "spark",
                "monitoringConfiguration": {
                    "cloudwatchLoggingConfiguration": {"enabled": True, "encryptionKeyArn": KEY_ARN},
                    "managedPersistenceMonitoringConfiguration": {
                        "enabled": True,
                        "encryptionKeyArn": KEY_ARN,
                    },
                    "s3MonitoringConfiguration": {"logUri": S3_OUT, "encryptionKeyArn": KEY_ARN},
                },
            },
        ),
        (
            "managed-persistence-off",
            {
                "name": "a",
                "releaseLabel": "emr-7.5.0",
                "type": "hive",
                "monitoringConfiguration": {"managedPersistenceMonitoringConfiguration": {"enabled": False}},
            },
        ),
    ],
    # ---------------- DMS
    "aws:dms/dataProvider:DataProvider": [
        (
            engine,
            {
                "name": "p",
                "engine": engine,
                "settings": {block: {"serverName": "db.internal", "port": 5432, "sslMode": "verify-full"}},
            },
        )
        for block, engine in DATA_PROVIDER_SETTINGS.items()
    ],
    "aws:dms/endpoint:Endpoint": [
        (
            "postgres",
            {
                "endpointId": "e",
                "endpointType": "source",
                "engineName": "postgres",
                "sslMode": "verify-full",
                "kmsKeyArn": KEY_ARN,
            },
        ),
        (
            "redshift",
            {
                "endpointId": "e",
                "endpointType": "target",
                "engineName": "redshift",
                "kmsKeyArn": KEY_ARN,
                "redshiftSettings": {"encryptionMode": "SSE_KMS", "serverSideEncryptionKmsKeyId": KEY_ARN},
            },
        ),
    ],
    "aws:dms/s3Endpoint:S3Endpoint": [
        (
            "target",
            {
                "endpointId": "e",
                "endpointType": "target",
                "bucketName": "phi-dms",
                "serviceAccessRoleArn": "arn:aws:iam::123456789012:role/dms",
                "encryptionMode": "SSE_KMS",
                "serverSideEncryptionKmsKeyId": KEY_ARN,
                "kmsKeyArn": KEY_ARN,
            },
        )
    ],
    "aws:dms/instanceProfile:InstanceProfile": [
        ("private", {"instanceProfileIdentifier": "p", "kmsKeyArn": KEY_ARN, "publiclyAccessible": False})
    ],
    "aws:dms/replicationConfig:ReplicationConfig": [
        (
            "serverless",
            {
                "replicationConfigIdentifier": "r",
                "replicationType": "full-load",
                "computeConfig": {"replicationSubnetGroupId": "g", "kmsKeyId": KEY_ARN},
            },
        )
    ],
    # ---------------- search, ML and AI services
    "aws:kendra/index:Index": [
        (
            "index",
            {
                "name": "i",
                "roleArn": "arn:aws:iam::123456789012:role/k",
                "serverSideEncryptionConfiguration": {"kmsKeyId": KEY_ARN},
            },
        )
    ],
    "aws:qbusiness/application:Application": [
        (
            "app",
            {
                "displayName": "a",
                "identityCenterInstanceArn": "arn:aws:sso:::instance/ssoins-1",
                "encryptionConfiguration": {"kmsKeyId": KEY_ARN},
            },
        )
    ],
    "aws:comprehend/documentClassifier:DocumentClassifier": [
        (
            "with-output",
            {
                "name": "c",
                "dataAccessRoleArn": "arn:aws:iam::123456789012:role/c",
                "languageCode": "en",
                "modelKmsKeyId": KEY_ARN,
                "volumeKmsKeyId": KEY_ARN,
                "outputDataConfig": {"s3Uri": S3_OUT, "kmsKeyId": KEY_ARN},
            },
        ),
        (
            "without-output",
            {
                "name": "c",
                "dataAccessRoleArn": "arn:aws:iam::123456789012:role/c",
                "languageCode": "en",
                "modelKmsKeyId": KEY_ARN,
                "volumeKmsKeyId": KEY_ARN,
            },
        ),
    ],
    "aws:comprehend/entityRecognizer:EntityRecognizer": [
        (
            "recognizer",
            {
                "name": "r",
                "dataAccessRoleArn": "arn:aws:iam::123456789012:role/c",
                "languageCode": "en",
                "modelKmsKeyId": KEY_ARN,
                "volumeKmsKeyId": KEY_ARN,
            },
        )
    ],
    "aws:amp/resourcePolicy:ResourcePolicy": [
        ("account", {"workspaceId": "ws-1", "policyDocument": ACCOUNT_POLICY})
    ],
    "aws:amp/queryLoggingConfiguration:QueryLoggingConfiguration": [
        (
            "cloudwatch",
            {
                "workspaceId": "ws-1",
                "destinations": [
                    {"cloudwatchLogs": {"logGroupArn": LOG_GROUP}, "filters": {"qspThreshold": 1000}}
                ],
            },
        )
    ],
    "aws:amp/scraperLoggingConfiguration:ScraperLoggingConfiguration": [
        (
            "cloudwatch",
            {"scraperId": "s-1", "loggingDestination": {"cloudwatchLogs": {"logGroupArn": LOG_GROUP}}},
        )
    ],
    "aws:mwaa/environment:Environment": [
        (
            "private",
            {
                "name": "e",
                "kmsKey": KEY_ARN,
                "webserverAccessMode": "PRIVATE_ONLY",
                "loggingConfiguration": MWAA_LOGS,
            },
        ),
        (
            "default-access",
            {"name": "e", "kmsKey": KEY_ARN, "loggingConfiguration": {"webserverLogs": {"enabled": True}}},
        ),
    ],
    "aws:workspaces/workspace:Workspace": [
        (
            "encrypted",
            {
                "directoryId": "d-1",
                "bundleId": "wsb-1",
                "userName": "jdoe",
                "rootVolumeEncryptionEnabled": True,
                "userVolumeEncryptionEnabled": True,
                "volumeEncryptionKey": KEY_ARN,
            },
        )
    ],
    "aws:workspacesweb/sessionLogger:SessionLogger": [
        (
            "s3",
            {
                "eventFilter": {"all": {}},
                "logConfiguration": {
                    "s3": {"bucket": "phi-session-logs", "logFileFormat": "Json", "folderStructure": "Flat"}
                },
            },
        )
    ],
    "aws:quicksight/dataSource:DataSource": [
        ("ssl-default", {"dataSourceId": "d", "name": "d", "type": "POSTGRESQL"}),
        (
            "ssl-explicit",
            {"dataSourceId": "d", "name": "d", "type": "POSTGRESQL", "sslProperties": {"disableSsl": False}},
        ),
    ],
    "aws:quicksight/accountSettings:AccountSettings": [
        ("default", {}),
        ("explicit", {"terminationProtectionEnabled": True}),
    ],
    "aws:dataexchange/eventAction:EventAction": [
        (
            "export-kms",
            {
                "event": {"revisionPublished": {"dataSetId": "ds"}},
                "action": {
                    "exportRevisionToS3": {
                        "revisionDestination": {"bucket": "phi-exports"},
                        "encryption": {"type": "aws:kms", "kmsKeyArn": KEY_ARN},
                    }
                },
            },
        )
    ],
    # ---------------- security, audit and operations services
    "aws:cloudtrail/eventDataStore:EventDataStore": [
        ("protected", {"name": "lake", "kmsKeyId": KEY_ARN}),
        ("explicit", {"name": "lake", "kmsKeyId": KEY_ARN, "terminationProtectionEnabled": True}),
    ],
    "aws:macie2/classificationExportConfiguration:ClassificationExportConfiguration": [
        ("s3", {"s3Destination": {"bucketName": "phi-findings", "kmsKeyArn": KEY_ARN}})
    ],
    "aws:ssm/resourceDataSync:ResourceDataSync": [
        (
            "s3",
            {
                "name": "s",
                "s3Destination": {"bucketName": "inventory", "region": "us-east-1", "kmsKeyArn": KEY_ARN},
            },
        )
    ],
    "aws:ssmincidents/replicationSet:ReplicationSet": [
        (
            "regions",
            {
                "regions": [
                    {"name": "us-east-1", "kmsKeyArn": KEY_ARN},
                    {"name": "us-west-2", "kmsKeyArn": KEY_ARN},
                ]
            },
        ),
        ("region", {"region": [{"name": "us-east-1", "kmsKeyArn": KEY_ARN}]}),
    ],
    "aws:synthetics/canary:Canary": [
        (
            "kms-artifacts",
            {
                "name": "c",
                "artifactS3Location": "s3://canary/",
                "executionRoleArn": "arn:aws:iam::123456789012:role/c",
                "handler": "index.handler",
                "runtimeVersion": "syn-nodejs-puppeteer-9.1",
                "kmsKeyArn": KEY_ARN,
                "artifactConfig": {"s3Encryption": {"encryptionMode": "SSE_KMS", "kmsKeyArn": KEY_ARN}},
            },
        )
    ],
    "aws:observabilityadmin/s3TableIntegration:S3TableIntegration": [
        (
            "kms",
            {
                "roleArn": "arn:aws:iam::123456789012:role/o",
                "encryption": {"sseAlgorithm": "aws:kms", "kmsKeyArn": KEY_ARN},
            },
        )
    ],
    "aws:devopsguru/serviceIntegration:ServiceIntegration": [
        (
            "customer-key",
            {
                "kmsServerSideEncryption": {
                    "type": "CUSTOMER_MANAGED_KEY",
                    "kmsKeyId": KEY_ARN,
                    "optInStatus": "ENABLED",
                }
            },
        )
    ],
    "aws:verifiedpermissions/policyStore:PolicyStore": [
        ("protected", {"validationSettings": {"mode": "STRICT"}, "deletionProtection": "ENABLED"})
    ],
    **{
        t: [("account", {"keyId": "k", "policy": ACCOUNT_POLICY})]
        for t in (
            "aws:kms/externalKey:ExternalKey",
            "aws:kms/replicaKey:ReplicaKey",
            "aws:kms/replicaExternalKey:ReplicaExternalKey",
            "aws:kms/keyPolicy:KeyPolicy",
        )
    },
    "aws:secretsmanager/secret:Secret": [
        (
            "with-policy",
            {"name": "s", "kmsKeyId": KEY_ARN, "policy": ACCOUNT_POLICY, "recoveryWindowInDays": 7},
        ),
        ("no-policy", {"name": "s", "kmsKeyId": KEY_ARN}),
    ],
    "aws:secretsmanager/secretPolicy:SecretPolicy": [
        (
            "blocked",
            {
                "secretArn": "arn:aws:secretsmanager:us-east-1:123456789012:secret:s",
                "policy": ACCOUNT_POLICY,
                "blockPublicPolicy": True,
            },
        )
    ],
    "aws:oam/sinkPolicy:SinkPolicy": [
        (
            "organization",
            {"sinkIdentifier": "arn:aws:oam:us-east-1:123456789012:sink/s", "policy": ORG_POLICY},
        )
    ],
    "aws:xray/resourcePolicy:ResourcePolicy": [
        ("account", {"policyName": "p", "policyDocument": ACCOUNT_POLICY})
    ],
}
COMPLIANT["aws:dms/replicationConfig:ReplicationConfig"] = COMPLIANT.pop(
    "aws:dms/replicationConfig:ReplicationConfig"
)

# (type, family, rule index) -> a deployable defect that breaks exactly that rule (DELETE removes), where the
# one derived from the rule (data_controls_harness.derived_defect) is not it: an absent input whose AWS
# default the rule judges, a value AWS takes that the rule refuses, a block the rule reads into.
HAND: dict[tuple[str, str, int], dict[str, Any]] = {
    ("aws:sagemaker/domain:Domain", "deletion", 0): {"retentionPolicy": {"homeEfsFileSystem": "Delete"}},
    ("aws:sagemaker/domain:Domain", "at-rest", 1): {"defaultUserSettings.sharingSettings.s3KmsKeyId": DELETE},
    ("aws:sagemaker/featureGroup:FeatureGroup", "at-rest", 0): {"onlineStoreConfig.securityConfig": DELETE},
    ("aws:bedrock/agentDataSource:AgentDataSource", "deletion", 0): {
        CONNECTOR + ".deletionProtectionConfiguration.deletionProtectionStatus": "DISABLED"
    },
    # Bedrock API DeletionProtectionConfiguration: at 100 a sync may delete every indexed document.
    ("aws:bedrock/agentDataSource:AgentDataSource", "deletion", 1): {
        CONNECTOR + ".deletionProtectionConfiguration.deletionProtectionThreshold": 100
    },
    ("aws:bedrock/agentcoreTokenVaultCmk:AgentcoreTokenVaultCmk", "at-rest", 0): {
        "kmsConfiguration": {"keyType": "ServiceManagedKey"}
    },
    ("aws:glue/dataCatalogEncryptionSettings:DataCatalogEncryptionSettings", "at-rest", 0): {
        "dataCatalogEncryptionSettings.encryptionAtRest": {"catalogEncryptionMode": "DISABLED"}
    },
    ("aws:glue/dataCatalogEncryptionSettings:DataCatalogEncryptionSettings", "at-rest", 2): {
        "dataCatalogEncryptionSettings.connectionPasswordEncryption": {
            "returnConnectionPasswordEncrypted": False
        }
    },
    ("aws:glue/securityConfiguration:SecurityConfiguration", "at-rest", 0): {
        "encryptionConfiguration.s3Encryption": {"s3EncryptionMode": "SSE-S3"}
    },
    ("aws:glue/securityConfiguration:SecurityConfiguration", "at-rest", 2): {
        "encryptionConfiguration.cloudwatchEncryption": {"cloudwatchEncryptionMode": "DISABLED"}
    },
    ("aws:glue/securityConfiguration:SecurityConfiguration", "at-rest", 4): {
        "encryptionConfiguration.jobBookmarksEncryption": {"jobBookmarksEncryptionMode": "DISABLED"}
    },
    ("aws:mwaa/environment:Environment", "network", 0): {"webserverAccessMode": "PUBLIC_ONLY"},
    ("aws:quicksight/dataSource:DataSource", "in-transit", 0): {"sslProperties": {"disableSsl": True}},
    ("aws:dataexchange/eventAction:EventAction", "at-rest", 0): {
        "action.exportRevisionToS3.encryption": {"type": "AES256"}
    },
    ("aws:observabilityadmin/s3TableIntegration:S3TableIntegration", "at-rest", 0): {
        "encryption": {"sseAlgorithm": "AES256"}
    },
    ("aws:devopsguru/serviceIntegration:ServiceIntegration", "at-rest", 0): {
        "kmsServerSideEncryption": {"optInStatus": "ENABLED"}
    },
}
for _block in DATA_PROVIDER_SETTINGS:
    _index = sorted(DATA_PROVIDER_SETTINGS).index(_block)
    HAND[("aws:dms/dataProvider:DataProvider", "in-transit", _index)] = {f"settings.{_block}.sslMode": "none"}

globals().update(rule_tests("analytics", COMPLIANT, hand_defects=HAND))


# ---------------------------------------------------------------- AWS defaults, pinned one by one


@pytest.mark.parametrize(
    "type_,props,family,fix_index",
    [
        # pulumi-aws amp.Workspace docstring: no kms_key_arn -> an AWS owned key.
        ("aws:amp/workspace:Workspace", {}, "at-rest", 0),
        # pulumi-aws sagemaker.Domain docstring: app_network_access_type defaults to PublicInternetOnly.
        ("aws:sagemaker/domain:Domain", {"domainName": "d", "kmsKeyId": KEY_ARN}, "network", 0),
        # botocore dms CreateInstanceProfile: PubliclyAccessible defaults to true.
        ("aws:dms/instanceProfile:InstanceProfile", {"kmsKeyArn": KEY_ARN}, "network", 0),
        # pulumi-aws emr.Cluster: a cluster is kept alive by default and termination protection is off.
        ("aws:emr/cluster:Cluster", {"name": "c", "releaseLabel": "emr-7.5.0"}, "deletion", 0),
        # AWS EMR Serverless: managed persistence is on by default, encrypted with an AWS owned key.
        (
            "aws:emrserverless/application:Application",
            {"name": "a", "releaseLabel": "emr-7.5.0", "type": "spark"},
            "at-rest",
            1,
        ),
        # pulumi-aws dms.S3Endpoint: encryption_mode defaults to SSE_S3.
        ("aws:dms/s3Endpoint:S3Endpoint", {"kmsKeyArn": KEY_ARN}, "at-rest", 0),
        # botocore synthetics: no artifact encryption mode -> SSE_S3.
        ("aws:synthetics/canary:Canary", {"kmsKeyArn": KEY_ARN}, "at-rest", 0),
        # WorkSpaces volumes are unencrypted unless asked for.
        ("aws:workspaces/workspace:Workspace", {"volumeEncryptionKey": KEY_ARN}, "at-rest", 0),
    ],
)
def test_the_aws_default_of_an_absent_input_is_judged(pack, type_, props, family, fix_index):
    verdict = pack.analyze(type_, props)
    assert RULES[type_][family][fix_index]["fix"] in verdict.messages(POLICY[family])


def test_a_volume_key_left_unset_passes_for_nvme_instances_but_an_aws_managed_alias_fails(pack):
    """botocore `sagemaker` ResourceConfig.VolumeKmsKeyId: instance types with local NVMe storage
    cannot take a volume key, so its absence is not judged; an AWS managed alias is refused."""
    job = dict(COMPLIANT["aws:sagemaker/trainingJob:TrainingJob"])["nvme-instance"]
    assert pack.analyze("aws:sagemaker/trainingJob:TrainingJob", job).messages(POLICY["at-rest"]) == []
    aliased = set_path(job, "resourceConfig.volumeKmsKeyId", "alias/aws/sagemaker")
    assert pack.analyze("aws:sagemaker/trainingJob:TrainingJob", aliased).messages(POLICY["at-rest"]) == [
        RULES["aws:sagemaker/trainingJob:TrainingJob"]["at-rest"][1]["fix"]
    ]


def test_a_later_tuning_definition_with_an_aws_managed_output_key_is_reported(pack):
    definitions = [
        TRAINING_DEFINITION,
        set_path(TRAINING_DEFINITION, "outputDataConfig.kmsKeyId", "alias/aws/s3"),
    ]
    verdict = pack.analyze(
        "aws:sagemaker/hyperParameterTuningJob:HyperParameterTuningJob",
        {"name": "h", "trainingJobDefinitions": definitions},
    )
    assert RULES["aws:sagemaker/hyperParameterTuningJob:HyperParameterTuningJob"]["at-rest"][3][
        "fix"
    ] in verdict.messages(POLICY["at-rest"])


# ---------------------------------------------------------------- hand-written policies of these services
# The hits of types a hand-written policy judges are answered by that policy; these pin the paths
# added to them for this group (sagemaker.py, secretsmanager.py, emr.py, dms.py).

ENDPOINT_CONFIG = {
    "kmsKeyArn": KEY_ARN,
    "productionVariants": [{"variantName": "a", "modelName": "m", "instanceType": "ml.m5.large"}],
}


@pytest.mark.parametrize(
    "patch,message",
    [
        (
            {"dataCaptureConfig": {"destinationS3Uri": S3_OUT, "initialSamplingPercentage": 100}},
            "Set dataCaptureConfig.kmsKeyId to a customer-managed key.",
        ),
        (
            {"asyncInferenceConfig": {"outputConfig": {"s3OutputPath": S3_OUT, "kmsKeyId": "alias/aws/s3"}}},
            "Set asyncInferenceConfig.outputConfig.kmsKeyId to a customer-managed key.",
        ),
        (
            {"productionVariants.[].coreDumpConfig": {"destinationS3Uri": S3_OUT}},
            "Set productionVariants[].coreDumpConfig.kmsKeyId to a customer-managed key.",
        ),
    ],
)
def test_endpoint_configuration_outputs_written_to_s3_need_a_customer_key(pack, patch, message):
    """botocore `sagemaker` DataCaptureConfig, AsyncInferenceOutputConfig and
    ProductionVariantCoreDumpConfig: each block writes to S3 with its own KmsKeyId."""
    policy = "aws-sagemaker-endpoint-encrypted"
    assert (
        pack.analyze("aws:sagemaker/endpointConfiguration:EndpointConfiguration", ENDPOINT_CONFIG).messages(
            policy
        )
        == []
    )
    verdict = pack.analyze(
        "aws:sagemaker/endpointConfiguration:EndpointConfiguration", patched(ENDPOINT_CONFIG, patch)
    )
    assert verdict.messages(policy) == [message]


def test_a_secret_replica_without_a_customer_key_is_reported(pack):
    """botocore `secretsmanager` ReplicaRegionType.KmsKeyId: a replica without one uses
    aws/secretsmanager."""
    secret = {"name": "s", "kmsKeyId": KEY_ARN, "replicas": [{"region": "us-west-2", "kmsKeyId": KEY_ARN}]}
    policy = "aws-secretsmanager-secret-customer-key"
    assert pack.analyze("aws:secretsmanager/secret:Secret", secret).messages(policy) == []
    unkeyed = {**secret, "replicas": [{"region": "us-west-2"}]}
    assert pack.analyze("aws:secretsmanager/secret:Secret", unkeyed).messages(policy) == [
        "Set replicas[].kmsKeyId to a customer-managed key in each replica Region."
    ]


@pytest.mark.parametrize(
    "release,key,reported",
    [
        ("emr-7.5.0", None, True),
        ("emr-7.5.0", KEY_ARN, False),
        ("emr-6.0.0", None, False),  # pulumi-aws emr.Cluster: no log key on 6.0.0
        ("emr-5.29.0", None, False),  # ... nor before 5.30.0
    ],
)
def test_emr_logs_in_s3_need_a_customer_key_where_the_release_takes_one(pack, release, key, reported):
    cluster = {
        "name": "c",
        "releaseLabel": release,
        "logUri": "s3://emr-logs/",
        "kerberosAttributes": {"realm": "EC2.INTERNAL", "kdcAdminPassword": "x"},
        "securityConfiguration": "sc",
        "ec2Attributes": {"subnetId": "subnet-1"},
        **({"logEncryptionKmsKeyId": key} if key else {}),
    }
    message = "Set logEncryptionKmsKeyId to a customer-managed key: cluster logs in logUri may hold data."
    assert (
        message in pack.analyze("aws:emr/cluster:Cluster", cluster).messages("aws-emr-cluster-secure")
    ) is reported


@pytest.mark.parametrize(
    "endpoint,messages",
    [
        ({"engineName": "kafka", "kafkaSettings": {"broker": "b:9094", "securityProtocol": "sasl-ssl"}}, []),
        (
            {"engineName": "kafka", "kafkaSettings": {"broker": "b:9092"}},
            ["Set kafkaSettings.securityProtocol to ssl-encryption, ssl-authentication or sasl-ssl."],
        ),
        ({"engineName": "redis", "redisSettings": {"serverName": "r", "port": 6379}}, []),
        (
            {
                "engineName": "redis",
                "redisSettings": {"serverName": "r", "port": 6379, "sslSecurityProtocol": "plaintext"},
            },
            ["Set redisSettings.sslSecurityProtocol to ssl-encryption."],
        ),
    ],
)
def test_kafka_and_redis_endpoints_are_judged_by_their_own_tls_switch(pack, endpoint, messages):
    """botocore `dms` KafkaSettings.SecurityProtocol (TLS only with ssl-encryption, ssl-authentication or
    sasl-ssl) and RedisSettings.SslSecurityProtocol ("The default is ssl-encryption"): no sslMode."""
    verdict = pack.analyze(
        "aws:dms/endpoint:Endpoint", {"endpointId": "e", "endpointType": "target", **endpoint}
    )
    assert verdict.messages("aws-dms-endpoint-tls") == messages
