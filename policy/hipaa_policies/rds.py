"""RDS and Aurora: encryption with customer keys, no public access, TLS, IAM auth, logging, backups."""

from __future__ import annotations

from collections.abc import Iterable

from pulumi_policy import Severity

from .framework import (
    ACCESS_CONTROL, AUDIT_CONTROLS, AUTHENTICATION, DATA_BACKUP, DISASTER_RECOVERY,
    ENCRYPTION_AT_REST, INTEGRITY, TRANSMISSION_SECURITY, Metadata, Resource, resource_policy,
)

INSTANCE = ("aws:rds/instance:Instance",)
CLUSTER = ("aws:rds/cluster:Cluster",)
CLUSTER_INSTANCE = ("aws:rds/clusterInstance:ClusterInstance",)
DOCUMENT_GRAPH = ("aws:docdb/cluster:Cluster", "aws:neptune/cluster:Cluster")
PARAMETER_GROUPS = ("aws:rds/parameterGroup:ParameterGroup",
                    "aws:rds/clusterParameterGroup:ClusterParameterGroup")
SNAPSHOT_COPIES = ("aws:rds/snapshotCopy:SnapshotCopy", "aws:rds/clusterSnapshotCopy:ClusterSnapshotCopy")
SNAPSHOTS = ("aws:rds/snapshot:Snapshot", "aws:rds/clusterSnapshot:ClusterSnapshot") + SNAPSHOT_COPIES
MIN_BACKUP = {"minimumBackupRetentionDays": {
    "type": "integer", "minimum": 1, "maximum": 35, "default": 7,
    "description": "Shortest allowed automated backup retention in days."}}


def _meta(name, description, control, remediation, rules=(), **kw) -> Metadata:
    return Metadata(name, description, control, remediation, config_rules=tuple(rules),
                    service="rds", **kw)


def _encrypted(r: Resource) -> Iterable[str]:
    if r.props.bool("storageEncrypted") is not True:
        yield "Set storageEncrypted to true."
    if not r.props.customer_key("kmsKeyId"):
        yield "Set kmsKeyId to a customer-managed key."


def _not_public(r: Resource) -> Iterable[str]:
    if r.props.bool("publiclyAccessible") is True:
        yield "Set publiclyAccessible to false."


def _backups(r: Resource) -> Iterable[str]:
    minimum = r.config["minimumBackupRetentionDays"]
    days = r.props.number("backupRetentionPeriod")
    if days is None or days < minimum:
        yield f"Set backupRetentionPeriod to at least {minimum} days."


def _multi_az(r: Resource) -> Iterable[str]:
    if r.props.bool("multiAz") is not True:
        yield "Set multiAz to true."


def _deletion_protection(r: Resource) -> Iterable[str]:
    if r.props.bool("deletionProtection") is not True:
        yield "Set deletionProtection to true."


def _iam_auth(r: Resource) -> Iterable[str]:
    if r.props.bool("iamDatabaseAuthenticationEnabled") is not True:
        yield "Set iamDatabaseAuthenticationEnabled to true."


def _logs(r: Resource) -> Iterable[str]:
    exports = r.props.list("enabledCloudwatchLogsExports")
    engine = (r.props.str("engine") or "")
    expected = "postgresql" if "postgres" in engine else None
    if not exports:
        yield "Set enabledCloudwatchLogsExports to export the engine's logs to CloudWatch."
    elif expected and expected not in exports:
        yield f"Add {expected} to enabledCloudwatchLogsExports."


def _monitoring(r: Resource) -> Iterable[str]:
    interval = r.props.number("monitoringInterval")
    if not interval:
        yield "Set monitoringInterval (1, 5, 10, 15, 30 or 60) and monitoringRoleArn."


def _minor_upgrades(r: Resource) -> Iterable[str]:
    if r.props.bool("autoMinorVersionUpgrade") is False:
        yield "Set autoMinorVersionUpgrade to true."


def _performance_insights(r: Resource) -> Iterable[str]:
    if r.props.bool("performanceInsightsEnabled") is True and not r.props.customer_key("performanceInsightsKmsKeyId"):
        yield "Set performanceInsightsKmsKeyId to a customer-managed key."


def _managed_password(r: Resource) -> Iterable[str]:
    if any(r.props.is_set(k) for k in ("password", "passwordWo", "masterPassword", "masterPasswordWo")):
        yield "Remove the password; set manageMasterUserPassword to true so RDS keeps it in Secrets Manager."


def _force_ssl(r: Resource) -> Iterable[str]:
    family = r.props.str("family") or ""
    values = {p.str("name"): str(p.get("value")) for p in r.props.each("parameters")}
    if "postgres" in family:
        major = "".join(c for c in family.split("postgres", 1)[1] if c.isdigit())
        # RDS for PostgreSQL 15 and later defaults rds.force_ssl to 1; older versions default to 0.
        default_on = major.isdigit() and int(major) >= 15
        if values.get("rds.force_ssl", "1" if default_on else "0") != "1":
            yield "Add parameter rds.force_ssl with value 1."
    elif family.startswith(("mysql", "mariadb", "aurora-mysql")):
        if values.get("require_secure_transport", "0").upper() not in ("1", "ON"):
            yield "Add parameter require_secure_transport with value 1."


def _snapshot(r: Resource) -> Iterable[str]:
    if "all" in [str(a) for a in r.props.list("sharedAccounts")]:
        yield 'Remove "all" from sharedAccounts.'
    if r.type in SNAPSHOT_COPIES and not r.props.customer_key("kmsKeyId"):
        yield "Set kmsKeyId to a customer-managed key."


POLICIES = [
    resource_policy(_meta("aws-rds-storage-encrypted", "RDS and Aurora storage must be encrypted with a customer-managed key.",
                          ENCRYPTION_AT_REST, "Set storageEncrypted=true and kmsKeyId to the database key.",
                          ["rds-storage-encrypted"]), INSTANCE + CLUSTER + DOCUMENT_GRAPH, _encrypted),
    resource_policy(_meta("aws-rds-not-publicly-accessible", "RDS instances must not be publicly accessible.",
                          ACCESS_CONTROL, "Set publiclyAccessible=false and place the database in private subnets.",
                          ["rds-instance-public-access-check"]), INSTANCE + CLUSTER_INSTANCE, _not_public),
    resource_policy(_meta("aws-rds-backup-retention", "RDS and Aurora automated backups must be kept.",
                          DATA_BACKUP, "Set backupRetentionPeriod to 7-35 days.",
                          ["db-instance-backup-enabled"], config=MIN_BACKUP), INSTANCE + CLUSTER, _backups),
    resource_policy(_meta("aws-rds-multi-az", "RDS instances must be Multi-AZ.",
                          DISASTER_RECOVERY, "Set multiAz=true (a non-PHI stack may make this advisory in its pack config).",
                          ["rds-multi-az-support"]), INSTANCE, _multi_az),
    resource_policy(_meta("aws-rds-deletion-protection", "RDS instances and Aurora clusters must have deletion protection.",
                          DISASTER_RECOVERY, "Set deletionProtection=true.",
                          ["rds-cluster-deletion-protection-enabled"]), INSTANCE + CLUSTER, _deletion_protection),
    resource_policy(_meta("aws-rds-iam-authentication", "RDS and Aurora must accept IAM database authentication.",
                          AUTHENTICATION, "Set iamDatabaseAuthenticationEnabled=true."), INSTANCE + CLUSTER, _iam_auth),
    resource_policy(_meta("aws-rds-logs-exported", "RDS and Aurora must export engine logs to CloudWatch.",
                          AUDIT_CONTROLS, "Set enabledCloudwatchLogsExports (postgresql for PostgreSQL).",
                          ["rds-logging-enabled"]), INSTANCE + CLUSTER, _logs),
    resource_policy(_meta("aws-rds-enhanced-monitoring", "RDS instances must have enhanced monitoring.",
                          AUDIT_CONTROLS, "Set monitoringInterval and monitoringRoleArn.",
                          ["rds-enhanced-monitoring-enabled"], severity=Severity.MEDIUM), INSTANCE, _monitoring),
    resource_policy(_meta("aws-rds-auto-minor-upgrade", "RDS instances must take automatic minor version upgrades.",
                          INTEGRITY, "Leave autoMinorVersionUpgrade at true.",
                          ["rds-automatic-minor-version-upgrade-enabled"], severity=Severity.MEDIUM),
                    INSTANCE, _minor_upgrades),
    resource_policy(_meta("aws-rds-performance-insights-encrypted", "Performance Insights data must be encrypted with a customer-managed key.",
                          ENCRYPTION_AT_REST, "Set performanceInsightsKmsKeyId to the database key (it cannot change later)."),
                    INSTANCE + CLUSTER, _performance_insights),
    resource_policy(_meta("aws-rds-managed-master-password", "Database master passwords must be kept by RDS in Secrets Manager, never in code or config.",
                          AUTHENTICATION, "Remove password/masterPassword and set manageMasterUserPassword=true."),
                    INSTANCE + CLUSTER, _managed_password),
    resource_policy(_meta("aws-rds-parameter-group-requires-tls", "Database parameter groups must require TLS (rds.force_ssl / require_secure_transport).",
                          TRANSMISSION_SECURITY, "Set rds.force_ssl=1 (PostgreSQL) or require_secure_transport=1 (MySQL, MariaDB)."),
                    PARAMETER_GROUPS, _force_ssl),
    resource_policy(_meta("aws-rds-snapshot-not-public", "RDS snapshots must not be public, and copies must be encrypted with a customer key.",
                          ACCESS_CONTROL, 'Remove "all" from sharedAccounts; set kmsKeyId on copies.',
                          ["rds-snapshots-public-prohibited", "rds-snapshot-encrypted"]), SNAPSHOTS, _snapshot),
]
