"""The seven control-family policies on the databases group (RDS, DocumentDB, Neptune, DynamoDB, DAX,
ElastiCache, MemoryDB, Keyspaces, Timestream, QLDB, Redshift, OpenSearch), over the Analyzer protocol.

The rules are data (policy/hipaa_policies/data/controls/databases.json); these tests are parametrized
from that file, so a new rule is tested, while the compliant resources below are written by hand, one
per variant a rule's "when" switch distinguishes: they are the claim that every variant can comply.

AWS facts the compliant forms and the default cases rely on (source beside each):
- DAX encrypts at rest only when asked (serverSideEncryption.enabled "Defaults to false") and its
  endpoint is plain unless clusterEndpointEncryptionType is TLS ("Default value is NONE"): SDK
  docstrings of aws.dax.Cluster; AWS "DAX encryption in transit".
- MemoryDB: tlsEnabled "Defaults to true"; snapshotRetentionLimit "Defaults to 0" (no backups): SDK
  docstrings of aws.memorydb.Cluster.
- QLDB deletionProtection is true by default: SDK docstring of aws.qldb.Ledger.
- Neptune instances are private unless publiclyAccessible ("Default is false"): SDK docstring of
  aws.neptune.ClusterInstance.
- A Multi-AZ DB cluster (engine mysql or postgres) without publiclyAccessible is public when
  dbSubnetGroupName is unset or "default": SDK docstring of aws.rds.Cluster; Aurora clusters have no
  cluster-level switch.
- Keyspaces tables default to an AWS owned key (encryptionSpecification.type "The default value is
  AWS_OWNED_KMS_KEY"): SDK docstring of aws.keyspaces.Table.
- An RDS Proxy accepts plain connections unless requireTls: SDK docstring of aws.rds.Proxy.
- An Aurora/DocumentDB/Neptune global cluster created from sourceDbClusterIdentifier takes the source's
  encryption (StorageEncrypted "Can't be specified if SourceDBClusterIdentifier is specified"): boto3
  RDS create_global_cluster.
- ElastiCache serverless snapshots exist for Valkey, Redis OSS and serverless Memcached: botocore
  CreateServerlessCache.SnapshotRetentionLimit.
"""

from __future__ import annotations

import copy

import pytest

from tests.data_controls_harness import POLICY, policy_document, rule_tests, set_path
from tests.policy_cases import KEY_ARN as KEY

REPLICA_KEY = "arn:aws:kms:us-west-2:123456789012:key/5678abcd-12ab-34cd-56ef-1234567890ab"
SCOPED_POLICY = policy_document({"AWS": "arn:aws:iam::123456789012:role/app"}, "dynamodb:GetItem")
REDIS_LOGS = [
    {
        "destination": "/aws/elasticache/slow",
        "destinationType": "cloudwatch-logs",
        "logFormat": "json",
        "logType": "slow-log",
    }
]
SOURCE_CLUSTER = "arn:aws:rds:us-east-1:123456789012:cluster:source"
REDSHIFT_LOGS = ["connectionlog", "userlog", "useractivitylog"]
INFLUX = {
    "publiclyAccessible": False,
    "logDeliveryConfiguration": {"s3Configuration": {"bucketName": "logs", "enabled": True}},
}

COMPLIANT: dict[str, list[tuple[str, dict]]] = {
    "aws:dax/cluster:Cluster": [
        ("encrypted-tls", {"serverSideEncryption": {"enabled": True}, "clusterEndpointEncryptionType": "TLS"})
    ],
    "aws:docdb/elasticCluster:ElasticCluster": [
        ("customer-key", {"kmsKeyId": KEY, "backupRetentionPeriod": 7})
    ],
    **{
        f"aws:{module}/globalCluster:GlobalCluster": [
            ("new-encrypted", {"storageEncrypted": True, "deletionProtection": True}),
            (
                "from-encrypted-source",
                {"sourceDbClusterIdentifier": SOURCE_CLUSTER, "deletionProtection": True},
            ),
        ]
        for module in ("docdb", "neptune", "rds")
    },
    "aws:dynamodb/table:Table": [
        ("single-region", {"deletionProtectionEnabled": True}),
        (
            "global-table",
            {
                "deletionProtectionEnabled": True,
                "replicas": [
                    {
                        "regionName": "us-west-2",
                        "kmsKeyArn": REPLICA_KEY,
                        "pointInTimeRecovery": True,
                        "deletionProtectionEnabled": True,
                    }
                ],
            },
        ),
    ],
    "aws:dynamodb/tableReplica:TableReplica": [
        (
            "replica",
            {"kmsKeyArn": REPLICA_KEY, "pointInTimeRecovery": True, "deletionProtectionEnabled": True},
        )
    ],
    "aws:dynamodb/tableExport:TableExport": [
        ("kms", {"s3Bucket": "exports", "s3SseAlgorithm": "KMS", "s3SseKmsKeyId": KEY}),
        ("bucket-default-encryption", {"s3Bucket": "exports"}),
    ],
    "aws:dynamodb/resourcePolicy:ResourcePolicy": [("scoped", {"policy": SCOPED_POLICY})],
    "aws:elasticache/cluster:Cluster": [
        ("memcached", {"engine": "memcached", "transitEncryptionEnabled": True}),
        ("redis-member", {"engine": "redis", "replicationGroupId": "rg"}),
        ("valkey-member", {"engine": "valkey", "replicationGroupId": "rg"}),
        ("member-engine-from-group", {"replicationGroupId": "rg"}),
    ],
    "aws:elasticache/replicationGroup:ReplicationGroup": [
        ("redis", {"engine": "redis", "logDeliveryConfigurations": REDIS_LOGS}),
        ("valkey", {"engine": "valkey", "logDeliveryConfigurations": REDIS_LOGS}),
        ("engine-default", {"logDeliveryConfigurations": REDIS_LOGS}),
    ],
    "aws:elasticache/serverlessCache:ServerlessCache": [
        (engine, {"engine": engine, "kmsKeyId": KEY, "snapshotRetentionLimit": 7})
        for engine in ("valkey", "redis", "memcached")
    ],
    "aws:keyspaces/table:Table": [
        (
            "customer-key",
            {
                "encryptionSpecification": {"type": "CUSTOMER_MANAGED_KMS_KEY", "kmsKeyIdentifier": KEY},
                "pointInTimeRecovery": {"status": "ENABLED"},
            },
        )
    ],
    "aws:memorydb/cluster:Cluster": [
        ("tls-default", {"kmsKeyArn": KEY, "snapshotRetentionLimit": 7}),
        ("tls-explicit", {"kmsKeyArn": KEY, "snapshotRetentionLimit": 35, "tlsEnabled": True}),
    ],
    "aws:memorydb/multiRegionCluster:MultiRegionCluster": [
        ("tls-default", {}),
        ("tls-explicit", {"tlsEnabled": True}),
    ],
    "aws:memorydb/snapshot:Snapshot": [("customer-key", {"clusterName": "c", "kmsKeyArn": KEY})],
    "aws:neptune/clusterInstance:ClusterInstance": [
        ("private-default", {"clusterIdentifier": "c"}),
        ("private", {"publiclyAccessible": False}),
    ],
    "aws:neptunegraph/graph:Graph": [
        ("private-default", {"kmsKeyIdentifier": KEY, "deletionProtection": True}),
        ("private", {"kmsKeyIdentifier": KEY, "deletionProtection": True, "publicConnectivity": False}),
    ],
    **{
        type_: [("no-policy", {}), ("scoped-policy", {"accessPolicies": SCOPED_POLICY})]
        for type_ in ("aws:opensearch/domain:Domain", "aws:elasticsearch/domain:Domain")
    },
    **{
        type_: [("scoped-policy", {"accessPolicies": SCOPED_POLICY})]
        for type_ in (
            "aws:opensearch/domainPolicy:DomainPolicy",
            "aws:elasticsearch/domainPolicy:DomainPolicy",
        )
    },
    "aws:opensearch/serverlessCollection:ServerlessCollection": [
        ("encryption-policy", {"name": "c"}),
        (
            "direct-customer-key",
            {"name": "c", "encryptionConfigs": [{"awsOwnedKey": False, "kmsKeyArn": KEY}]},
        ),
    ],
    "aws:opensearch/application:Application": [("customer-key", {"kmsKeyArn": KEY})],
    "aws:opensearchingest/pipeline:Pipeline": [
        (
            "private",
            {
                "encryptionAtRestOptions": {"kmsKeyArn": KEY},
                "vpcOptions": {"subnetIds": ["subnet-1"], "securityGroupIds": ["sg-1"]},
                "logPublishingOptions": {
                    "isLoggingEnabled": True,
                    "cloudwatchLogDestination": {"logGroup": "/aws/vendedlogs/p"},
                },
            },
        )
    ],
    "aws:opensearchingest/resourcePolicy:ResourcePolicy": [("scoped", {"policy": SCOPED_POLICY})],
    "aws:qldb/ledger:Ledger": [
        ("protection-default", {"kmsKey": KEY, "permissionsMode": "STANDARD"}),
        ("protection-explicit", {"kmsKey": KEY, "permissionsMode": "STANDARD", "deletionProtection": True}),
    ],
    "aws:rds/cluster:Cluster": [
        ("aurora-mysql", {"engine": "aurora-mysql"}),
        ("aurora-postgresql", {"engine": "aurora-postgresql"}),
        ("multi-az-mysql", {"engine": "mysql", "publiclyAccessible": False}),
        ("multi-az-postgres", {"engine": "postgres", "publiclyAccessible": False}),
    ],
    "aws:rds/shardGroup:ShardGroup": [("private", {"dbClusterIdentifier": "c", "publiclyAccessible": False})],
    "aws:rds/proxy:Proxy": [
        (family, {"engineFamily": family, "requireTls": True})
        for family in ("MYSQL", "POSTGRESQL", "SQLSERVER")
    ],
    **{
        type_: [("customer-key", {"kmsKeyId": KEY})]
        for type_ in (
            "aws:rds/clusterActivityStream:ClusterActivityStream",
            "aws:rds/exportTask:ExportTask",
            "aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication",
            "aws:rds/integration:Integration",
            "aws:redshift/integration:Integration",
            "aws:redshift/snapshotCopyGrant:SnapshotCopyGrant",
            "aws:timestreamwrite/database:Database",
            "aws:timestreamquery/scheduledQuery:ScheduledQuery",
        )
    },
    "aws:redshift/logging:Logging": [
        ("s3-default", {"clusterIdentifier": "c", "bucketName": "logs"}),
        ("s3", {"clusterIdentifier": "c", "logDestinationType": "s3", "bucketName": "logs"}),
        (
            "cloudwatch",
            {"clusterIdentifier": "c", "logDestinationType": "cloudwatch", "logExports": REDSHIFT_LOGS},
        ),
    ],
    **{
        type_: [("scoped", {"policy": SCOPED_POLICY})]
        for type_ in (
            "aws:redshift/resourcePolicy:ResourcePolicy",
            "aws:redshiftserverless/resourcePolicy:ResourcePolicy",
        )
    },
    **{
        type_: [("kept-until-deleted", {}), ("thirty-days", {"manualSnapshotRetentionPeriod": 30})]
        for type_ in (
            "aws:redshift/clusterSnapshot:ClusterSnapshot",
            "aws:redshift/snapshotCopy:SnapshotCopy",
        )
    },
    "aws:redshiftserverless/namespace:Namespace": [
        (
            "managed-password",
            {
                "kmsKeyId": KEY,
                "manageAdminPassword": True,
                "adminPasswordSecretKmsKeyId": KEY,
                "logExports": REDSHIFT_LOGS,
            },
        ),
        ("no-managed-password", {"kmsKeyId": KEY, "logExports": REDSHIFT_LOGS}),
    ],
    "aws:redshiftserverless/workgroup:Workgroup": [
        ("private-default",
         {"configParameters": [{"parameterKey": "require_ssl", "parameterValue": "true"}]}),
        ("private", {"publiclyAccessible": False, "configParameters": [
            {"parameterKey": "max_query_execution_time", "parameterValue": "14400"},
            {"parameterKey": "require_ssl", "parameterValue": "true"}]}),
    ],
    # A copy without kmsKeyId keeps the source snapshot's key (RDS CopyDBSnapshot, KmsKeyId).
    "aws:rds/snapshotCopy:SnapshotCopy": [("source-key", {}), ("customer-key", {"kmsKeyId": KEY})],
    "aws:rds/clusterSnapshotCopy:ClusterSnapshotCopy": [
        ("source-key", {}), ("customer-key", {"kmsKeyId": KEY})
    ],
    "aws:timestreaminfluxdb/dbInstance:DbInstance": [("private-logged", INFLUX)],
    "aws:timestreaminfluxdb/dbCluster:DbCluster": [("private-logged", INFLUX)],
    "aws:timestreamwrite/table:Table": [
        ("no-rejected-data-location", {}),
        (
            "rejected-data-customer-key",
            {
                "magneticStoreWriteProperties": {
                    "enableMagneticStoreWrites": True,
                    "magneticStoreRejectedDataLocation": {
                        "s3Configuration": {
                            "bucketName": "rejected",
                            "encryptionOption": "SSE_KMS",
                            "kmsKeyId": KEY,
                        }
                    },
                }
            },
        ),
    ],
}


globals().update(rule_tests("databases", COMPLIANT))


# What AWS or the provider does when the input is absent: (type, compliant variant, path removed, the
# family's message expected or None). Sources: this module's docstring.
ABSENT = [
    ("aws:dax/cluster:Cluster", "encrypted-tls", ["clusterEndpointEncryptionType"], "in-transit"),
    ("aws:dax/cluster:Cluster", "encrypted-tls", ["serverSideEncryption"], "at-rest"),
    ("aws:memorydb/cluster:Cluster", "tls-explicit", ["tlsEnabled"], None),
    ("aws:memorydb/cluster:Cluster", "tls-default", ["snapshotRetentionLimit"], "backup"),
    ("aws:qldb/ledger:Ledger", "protection-explicit", ["deletionProtection"], None),
    ("aws:neptune/clusterInstance:ClusterInstance", "private", ["publiclyAccessible"], None),
    ("aws:rds/cluster:Cluster", "multi-az-mysql", ["publiclyAccessible"], "network"),
    ("aws:rds/shardGroup:ShardGroup", "private", ["publiclyAccessible"], "network"),
    ("aws:rds/proxy:Proxy", "POSTGRESQL", ["requireTls"], "in-transit"),
    ("aws:keyspaces/table:Table", "customer-key", ["encryptionSpecification"], "at-rest"),
    ("aws:docdb/elasticCluster:ElasticCluster", "customer-key", ["backupRetentionPeriod"], "backup"),
    ("aws:rds/globalCluster:GlobalCluster", "new-encrypted", ["storageEncrypted"], "at-rest"),
    ("aws:redshiftserverless/workgroup:Workgroup", "private", ["publiclyAccessible"], None),
    ("aws:dynamodb/tableReplica:TableReplica", "replica", ["kmsKeyArn"], "at-rest"),
]


@pytest.mark.parametrize(
    "type_,variant,path,family", ABSENT, ids=[f"{a[0].split(':')[1]}-{'.'.join(a[2])}" for a in ABSENT]
)
def test_an_absent_input_is_judged_as_aws_default(pack, type_, variant, path, family):
    props = copy.deepcopy(dict(COMPLIANT[type_])[variant])
    del props[path[0]]
    verdict = pack.analyze(type_, props)
    failing = {f for f, policy in POLICY.items() if verdict.messages(policy)}
    assert failing == ({family} if family else set())


# Hand-written policies extended for this group's hits (dynamodb.py, elasticache.py).
DYNAMODB_TABLE = {
    "billingMode": "PAY_PER_REQUEST",
    "serverSideEncryption": {"enabled": True, "kmsKeyArn": KEY},
    "pointInTimeRecovery": {"enabled": True},
    "deletionProtectionEnabled": True,
    "replicas": [{"regionName": "us-west-2", "kmsKeyArn": REPLICA_KEY, "pointInTimeRecovery": True}],
}
REPLICATION_GROUP = {
    "engine": "redis",
    "atRestEncryptionEnabled": True,
    "kmsKeyId": KEY,
    "transitEncryptionEnabled": True,
    "transitEncryptionMode": "required",
    "snapshotRetentionLimit": 7,
    "logDeliveryConfigurations": REDIS_LOGS,
}
HAND_WRITTEN = [
    (
        "aws-dynamodb-table-customer-key",
        "aws:dynamodb/table:Table",
        DYNAMODB_TABLE,
        ["replicas", "[]", "kmsKeyArn"],
        None,
        "Set kmsKeyArn on every replicas entry to a customer-managed key in that replica's region.",
    ),
    (
        "aws-dynamodb-table-pitr",
        "aws:dynamodb/table:Table",
        DYNAMODB_TABLE,
        ["replicas", "[]", "pointInTimeRecovery"],
        False,
        "Set pointInTimeRecovery to true on every replicas entry.",
    ),
    (
        "aws-elasticache-encrypted",
        "aws:elasticache/replicationGroup:ReplicationGroup",
        REPLICATION_GROUP,
        ["transitEncryptionMode"],
        "preferred",
        "Set transitEncryptionMode to required (preferred also accepts unencrypted connections).",
    ),
]


@pytest.mark.parametrize(
    "policy,type_,props,path,bad,message", HAND_WRITTEN, ids=[h[0] for h in HAND_WRITTEN]
)
def test_hand_written_policies_judge_replicas_and_transit_mode(
    pack, policy, type_, props, path, bad, message
):
    assert pack.analyze(type_, props).messages(policy) == []
    assert message in pack.analyze(type_, set_path(props, path, bad)).messages(policy)
    # A replica without its own key uses alias/aws/dynamodb (SDK docstring of TableReplicaArgs.kms_key_arn);
    # a group without transitEncryptionMode uses required (only "preferred" accepts plain clients).
    default_fails = policy != "aws-elasticache-encrypted"
    assert (message in pack.analyze(type_, set_path(props, path, None)).messages(policy)) == default_fails
