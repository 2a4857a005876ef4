"""Other PHI-capable data stores: DynamoDB, EFS, ElastiCache, OpenSearch/Elasticsearch, Redshift."""

from __future__ import annotations

from typing import Iterable

from pulumi_policy import EnforcementLevel, Severity

from .framework import (
    ACCESS_CONTROL, AUDIT_CONTROLS, DATA_BACKUP, ENCRYPTION_AT_REST, INTEGRITY,
    TRANSMISSION_SECURITY, Metadata, Resource, Stack, resource_policy, stack_policy,
)

DYNAMODB = ("aws:dynamodb/table:Table",)
EFS = ("aws:efs/fileSystem:FileSystem",)
REPLICATION_GROUP = ("aws:elasticache/replicationGroup:ReplicationGroup",)
CACHE_CLUSTER = ("aws:elasticache/cluster:Cluster",)
SEARCH = ("aws:opensearch/domain:Domain", "aws:elasticsearch/domain:Domain")
REDSHIFT = ("aws:redshift/cluster:Cluster",)
REDSHIFT_PARAMETERS = ("aws:redshift/parameterGroup:ParameterGroup",)
REDSHIFT_LOGGING = ("aws:redshift/logging:Logging",)


def _meta(name, description, control, remediation, service, rules=(), **kw) -> Metadata:
    return Metadata(name, description, control, remediation, config_rules=tuple(rules),
                    service=service, **kw)


def _dynamodb_encryption(r: Resource) -> Iterable[str]:
    if r.props.bool("serverSideEncryption", "enabled") is not True or \
            not r.props.is_set("serverSideEncryption", "kmsKeyArn"):
        yield "Set serverSideEncryption with enabled=true and kmsKeyArn (customer-managed key)."


def _dynamodb_pitr(r: Resource) -> Iterable[str]:
    if r.props.bool("pointInTimeRecovery", "enabled") is not True:
        yield "Set pointInTimeRecovery.enabled to true."


def _dynamodb_capacity(r: Resource) -> Iterable[str]:
    if r.props.get("billingMode") != "PAY_PER_REQUEST":
        yield "Use billingMode PAY_PER_REQUEST, or attach Application Auto Scaling to the table."


def _efs(r: Resource) -> Iterable[str]:
    if r.props.bool("encrypted") is not True:
        yield "Set encrypted to true."
    if not r.props.is_set("kmsKeyId"):
        yield "Set kmsKeyId to a customer-managed key."


def _elasticache(r: Resource) -> Iterable[str]:
    if r.props.bool("atRestEncryptionEnabled") is not True:
        yield "Set atRestEncryptionEnabled to true."
    if not r.props.is_set("kmsKeyId"):
        yield "Set kmsKeyId to a customer-managed key."
    if r.props.bool("transitEncryptionEnabled") is not True:
        yield "Set transitEncryptionEnabled to true."


def _cache_backups(r: Resource) -> Iterable[str]:
    engine = r.props.get("engine")
    if r.type in CACHE_CLUSTER and engine not in ("redis", "valkey"):
        return
    minimum = r.config["minimumSnapshotRetentionDays"]
    days = r.props.number("snapshotRetentionLimit")
    if days is None or days < minimum:
        yield f"Set snapshotRetentionLimit to at least {minimum}."


def _search(r: Resource) -> Iterable[str]:
    if r.props.bool("encryptAtRest", "enabled") is not True or not r.props.is_set("encryptAtRest", "kmsKeyId"):
        yield "Set encryptAtRest with enabled=true and kmsKeyId."
    if r.props.bool("nodeToNodeEncryption", "enabled") is not True:
        yield "Set nodeToNodeEncryption.enabled to true."
    if r.props.bool("domainEndpointOptions", "enforceHttps") is not True:
        yield "Set domainEndpointOptions.enforceHttps to true."
    if not str(r.props.get("domainEndpointOptions", "tlsSecurityPolicy") or "").startswith(
            ("Policy-Min-TLS-1-2", "Policy-Min-TLS-1-3")):
        yield "Set domainEndpointOptions.tlsSecurityPolicy to Policy-Min-TLS-1-2-2019-07 or newer."
    if not r.props.list("vpcOptions", "subnetIds"):
        yield "Set vpcOptions.subnetIds to private subnets."
    if not any(o.get("logType") in ("AUDIT_LOGS", "ES_APPLICATION_LOGS") and o.bool("enabled") is not False
               for o in r.props.each("logPublishingOptions")):
        yield "Add logPublishingOptions for AUDIT_LOGS (or ES_APPLICATION_LOGS) to CloudWatch Logs."


def _redshift(r: Resource) -> Iterable[str]:
    if r.props.bool("encrypted") is not True or not r.props.is_set("kmsKeyId"):
        yield "Set encrypted=true and kmsKeyId to a customer-managed key."
    if r.props.bool("publiclyAccessible") is not False:
        yield "Set publiclyAccessible to false."
    retention = r.props.number("automatedSnapshotRetentionPeriod")
    if retention is not None and retention < 1:
        yield "Set automatedSnapshotRetentionPeriod to at least 1."
    if r.props.bool("allowVersionUpgrade") is False:
        yield "Set allowVersionUpgrade to true."
    if not r.props.is_set("clusterParameterGroupName"):
        yield "Set clusterParameterGroupName to a parameter group with require_ssl=true."


def _redshift_tls(r: Resource) -> Iterable[str]:
    values = {p.str("name"): str(p.get("value")).lower() for p in r.props.each("parameters")}
    if values.get("require_ssl") != "true":
        yield "Add parameter require_ssl with value true."


def _redshift_logging(stack: Stack) -> Iterable[tuple[str, str]]:
    for cluster in stack.of_type(*REDSHIFT):
        def check(cluster=cluster) -> Iterable[str]:
            if not stack.attached(cluster, REDSHIFT_LOGGING, "clusterIdentifier"):
                yield "Attach aws.redshift.Logging to this cluster."
        yield from stack.judge(cluster, check)


POLICIES = [
    resource_policy(_meta("aws-dynamodb-table-customer-key", "DynamoDB tables must be encrypted with a customer-managed key.",
                          ENCRYPTION_AT_REST, "Set serverSideEncryption.enabled and kmsKeyArn.", "dynamodb"),
                    DYNAMODB, _dynamodb_encryption),
    resource_policy(_meta("aws-dynamodb-table-pitr", "DynamoDB tables must have point-in-time recovery.",
                          DATA_BACKUP, "Set pointInTimeRecovery.enabled=true.", "dynamodb", ["dynamodb-pitr-enabled"]),
                    DYNAMODB, _dynamodb_pitr),
    resource_policy(_meta("aws-dynamodb-table-scales", "DynamoDB tables should be on-demand or auto-scaled so PHI writes are not throttled.",
                          INTEGRITY, "Use PAY_PER_REQUEST or Application Auto Scaling.", "dynamodb",
                          ["dynamodb-autoscaling-enabled"], severity=Severity.LOW,
                          enforcement=EnforcementLevel.ADVISORY), DYNAMODB, _dynamodb_capacity),
    resource_policy(_meta("aws-efs-encrypted", "EFS file systems must be encrypted with a customer-managed key.",
                          ENCRYPTION_AT_REST, "Set encrypted=true and kmsKeyId.", "efs", ["efs-encrypted-check"]),
                    EFS, _efs),
    resource_policy(_meta("aws-elasticache-encrypted", "ElastiCache replication groups must encrypt at rest (customer key) and in transit.",
                          ENCRYPTION_AT_REST, "Set atRestEncryptionEnabled, kmsKeyId and transitEncryptionEnabled.",
                          "elasticache"), REPLICATION_GROUP, _elasticache),
    resource_policy(_meta("aws-elasticache-redis-backups", "Redis/Valkey caches must keep automatic snapshots.",
                          DATA_BACKUP, "Set snapshotRetentionLimit.", "elasticache",
                          ["elasticache-redis-cluster-automatic-backup-check"],
                          config={"minimumSnapshotRetentionDays": {"type": "integer", "minimum": 1, "default": 7,
                                                                   "description": "Shortest snapshot retention."}}),
                    REPLICATION_GROUP + CACHE_CLUSTER, _cache_backups),
    resource_policy(_meta("aws-opensearch-domain-secure", "OpenSearch/Elasticsearch domains must be encrypted, TLS 1.2+, in a VPC and logging.",
                          ENCRYPTION_AT_REST, "Set encryptAtRest, nodeToNodeEncryption, domainEndpointOptions, vpcOptions and logPublishingOptions.",
                          "opensearch",
                          ["opensearch-encrypted-at-rest", "opensearch-https-required", "opensearch-in-vpc-only",
                           "opensearch-logs-to-cloudwatch", "opensearch-node-to-node-encryption-check",
                           "elasticsearch-encrypted-at-rest", "elasticsearch-in-vpc-only",
                           "elasticsearch-logs-to-cloudwatch", "elasticsearch-node-to-node-encryption-check"]),
                    SEARCH, _search),
    resource_policy(_meta("aws-redshift-cluster-secure", "Redshift clusters must be encrypted, private, backed up, patched and TLS-only.",
                          ENCRYPTION_AT_REST, "Set encrypted, kmsKeyId, publiclyAccessible=false, snapshots, allowVersionUpgrade and a require_ssl parameter group.",
                          "redshift",
                          ["redshift-cluster-configuration-check", "redshift-cluster-public-access-check",
                           "redshift-backup-enabled", "redshift-cluster-maintenancesettings-check"]),
                    REDSHIFT, _redshift),
    resource_policy(_meta("aws-redshift-require-tls", "Redshift parameter groups must set require_ssl=true.",
                          TRANSMISSION_SECURITY, "Add the parameter require_ssl=true.", "redshift",
                          ["redshift-require-tls-ssl"]), REDSHIFT_PARAMETERS, _redshift_tls),
    stack_policy(_meta("aws-redshift-cluster-logging", "Redshift clusters must have audit logging.",
                       AUDIT_CONTROLS, "Attach aws.redshift.Logging.", "redshift",
                       ["redshift-cluster-configuration-check"]), _redshift_logging),
]
