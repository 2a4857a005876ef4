"""RDS, Aurora, DocumentDB and Neptune: encryption with customer keys, no public access, TLS, IAM
auth, logging, backups.

Input names differ by resource type (Neptune's key is kmsKeyArn and its log exports are
enableCloudwatchLogsExports; an RDS instance's password is password, a cluster's masterPassword):
each check reads the name its type has (tests/test_policy_property_names.py holds them to the
pulumi-aws SDK)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Optional

from pulumi_policy import Severity

from .framework import (
    ACCESS_CONTROL, AUDIT_CONTROLS, AUTHENTICATION, DATA_BACKUP, DISASTER_RECOVERY,
    ENCRYPTION_AT_REST, INTEGRITY, TRANSMISSION_SECURITY, Metadata, Resource, not_applicable, resource_policy,
)

INSTANCE = ("aws:rds/instance:Instance",)
CLUSTER = ("aws:rds/cluster:Cluster",)
CLUSTER_INSTANCE = ("aws:rds/clusterInstance:ClusterInstance",)
DOCDB_CLUSTER_INSTANCE = ("aws:docdb/clusterInstance:ClusterInstance",)
DOCDB_CLUSTER, NEPTUNE_CLUSTER = "aws:docdb/cluster:Cluster", "aws:neptune/cluster:Cluster"
DOCUMENT_GRAPH = (DOCDB_CLUSTER, NEPTUNE_CLUSTER)
DOCDB_PARAMETER_GROUP = "aws:docdb/clusterParameterGroup:ClusterParameterGroup"
NEPTUNE_PARAMETER_GROUP = "aws:neptune/clusterParameterGroup:ClusterParameterGroup"
PARAMETER_GROUPS = ("aws:rds/parameterGroup:ParameterGroup",
                    "aws:rds/clusterParameterGroup:ClusterParameterGroup",
                    DOCDB_PARAMETER_GROUP, NEPTUNE_PARAMETER_GROUP)
OPTION_GROUP = ("aws:rds/optionGroup:OptionGroup",)
SNAPSHOT_COPIES = ("aws:rds/snapshotCopy:SnapshotCopy", "aws:rds/clusterSnapshotCopy:ClusterSnapshotCopy")
SNAPSHOTS = ("aws:rds/snapshot:Snapshot", "aws:rds/clusterSnapshot:ClusterSnapshot") + SNAPSHOT_COPIES
MIN_BACKUP = {"minimumBackupRetentionDays": {
    "type": "integer", "minimum": 1, "maximum": 35, "default": 7,
    "description": "Shortest allowed automated backup retention in days."}}


def _meta(name, description, control, remediation, rules=(), **kw) -> Metadata:
    return Metadata(name, description, control, remediation, config_rules=tuple(rules),
                    service="rds", **kw)


# Inputs whose name depends on the resource type (the default is the RDS name).
KEY_INPUT = {NEPTUNE_CLUSTER: "kmsKeyArn"}
LOG_EXPORTS_INPUT = {NEPTUNE_CLUSTER: "enableCloudwatchLogsExports"}
PASSWORD_INPUTS = {INSTANCE[0]: ("password", "passwordWo")}
PERFORMANCE_INSIGHTS_INPUT = {DOCDB_CLUSTER_INSTANCE[0]: "enablePerformanceInsights"}
# The log a HIPAA audit trail needs, by resource type (RDS: by engine, below).
AUDIT_LOG = {DOCDB_CLUSTER: "audit", NEPTUNE_CLUSTER: "audit"}


def _encrypted(r: Resource) -> Iterable[str]:
    key = KEY_INPUT.get(r.type, "kmsKeyId")
    if r.props.bool("storageEncrypted") is not True:
        yield "Set storageEncrypted to true."
    if not r.props.customer_key(key):
        yield f"Set {key} to a customer-managed key."


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
        # RDS User Guide, "Multi-AZ deployments for Amazon RDS for Microsoft SQL Server": Multi-AZ (mirroring,
        # Always On or block-level replication) exists for the Standard, Enterprise, Web and Developer
        # editions; SQL Server Express has none, and its backups are its contingency (aws-rds-backup-retention).
        if _engine(r) == "sqlserver-ex":
            not_applicable("RDS for SQL Server Express Edition has no Multi-AZ deployment (RDS User Guide, Multi-AZ "
                           "deployments for Amazon RDS for Microsoft SQL Server); its automated backups are judged.")
        yield "Set multiAz to true."


def _deletion_protection(r: Resource) -> Iterable[str]:
    if r.props.bool("deletionProtection") is not True:
        yield "Set deletionProtection to true."


# What an engine cannot do. Each check reads the engine only once its control is missing, so a
# compliant resource is judged whatever its engine (tests/test_policy_variants.py builds every engine
# botocore's `rds` model lists).
RDS_CUSTOM = "custom-"
"""RDS Custom engines: custom-oracle-*, custom-sqlserver-* (botocore `rds` CreateDBInstanceMessage.Engine)."""
NO_IAM_AUTH = ("oracle-", "sqlserver-", "db2-")
"""AWS, "Supported Regions and DB engines for IAM database authentication in Amazon RDS": IAM database
authentication isn't available with RDS for Db2, RDS for Oracle or RDS for SQL Server."""


def _engine(r: Resource) -> str:
    return (r.props.str("engine") or "").lower()


def _unless_rds_custom(r: Resource, setting: str, why: str = "doesn't apply to RDS Custom") -> None:
    """Not applicable to an RDS Custom instance, whose host the customer runs (botocore `rds`
    CreateDBInstanceMessage documents which settings do not apply to it)."""
    if r.type in INSTANCE and _engine(r).startswith(RDS_CUSTOM):
        not_applicable(f"{setting} {why} (botocore rds CreateDBInstance; RDS User Guide, RDS Custom).")


def _iam_auth(r: Resource) -> Iterable[str]:
    if r.props.bool("iamDatabaseAuthenticationEnabled") is True:
        return
    _unless_rds_custom(r, "IAM database authentication")
    if r.type in INSTANCE and _engine(r).startswith(NO_IAM_AUTH):
        not_applicable("IAM database authentication isn't available with RDS for Db2, Oracle or SQL Server "
                       "(AWS: Supported Regions and DB engines for IAM database authentication in Amazon RDS); "
                       "authenticate with the engine's Kerberos (AWS Directory Service) integration instead.")
    yield "Set iamDatabaseAuthenticationEnabled to true."


def _logs(r: Resource) -> Iterable[str]:
    key = LOG_EXPORTS_INPUT.get(r.type, "enabledCloudwatchLogsExports")
    exports = r.props.list(key)
    if not exports:
        _unless_rds_custom(r, "enabledCloudwatchLogsExports")
    expected = AUDIT_LOG.get(r.type)
    if r.type not in AUDIT_LOG:
        expected = "postgresql" if "postgres" in (r.props.str("engine") or "") else None
    if not exports:
        yield f"Set {key} to export the engine's logs to CloudWatch."
    elif expected and expected not in exports:
        yield f"Add {expected} to {key}."


def _monitoring(r: Resource) -> Iterable[str]:
    interval = r.props.number("monitoringInterval")
    if not interval:
        _unless_rds_custom(r, "Enhanced Monitoring (monitoringInterval)")
        yield "Set monitoringInterval (1, 5, 10, 15, 30 or 60) and monitoringRoleArn."


def _minor_upgrades(r: Resource) -> Iterable[str]:
    if r.props.bool("autoMinorVersionUpgrade") is False:
        _unless_rds_custom(r, "autoMinorVersionUpgrade", "must be false on RDS Custom, whose engine the customer patches")
        yield "Set autoMinorVersionUpgrade to true."


def _performance_insights(r: Resource) -> Iterable[str]:
    enabled = PERFORMANCE_INSIGHTS_INPUT.get(r.type, "performanceInsightsEnabled")
    if r.props.bool(enabled) is True and not r.props.customer_key("performanceInsightsKmsKeyId"):
        yield "Set performanceInsightsKmsKeyId to a customer-managed key."


def _managed_password(r: Resource) -> Iterable[str]:
    inputs = PASSWORD_INPUTS.get(r.type, ("masterPassword", "masterPasswordWo"))
    if not any(r.props.is_set(k) for k in inputs):
        return
    if r.type in INSTANCE and _engine(r).startswith(RDS_CUSTOM):
        # RDS cannot keep an RDS Custom master password in Secrets Manager (RDS User Guide, "Password
        # management with Amazon RDS and AWS Secrets Manager", limitations): the instance needs one. The
        # SDK docstrings: password "will be stored in the state file"; passwordWo is write-only.
        if r.props.is_set("password"):
            yield "Set passwordWo instead of password, which is stored in the state file: RDS Custom cannot keep the master password in Secrets Manager."
        return
    yield "Remove the password; set manageMasterUserPassword to true so RDS keeps it in Secrets Manager."


@dataclass(frozen=True)
class TlsParameter:
    """The parameter that makes an engine refuse connections without TLS."""

    name: str
    accepted: tuple[str, ...]
    """Values (upper-cased) that require TLS."""
    default: str
    """The value AWS uses when the group does not set the parameter."""
    value: str
    """The value the message asks for."""


def _tls_parameter(type_: str, family: str) -> Optional[TlsParameter]:
    """How a parameter group of `family` requires TLS; None for a family whose TLS is not a
    parameter (Oracle: the NATIVE_NETWORK_ENCRYPTION option, judged on its option group).

    Sources (AWS documentation): PostgreSQL.Concepts.General.SSL, ssl-certificate-rotation-aurora-postgresql
    and ssl-certificate-rotation-sqlserver (rds.force_ssl, default 0), mysql-ssl-connections.require-ssl,
    Db2.Concepts.SSL (DB2COMM), documentdb security.encryption.ssl (tls), neptune security-ssl
    (neptune_enforce_ssl), Appendix.Oracle.Options.SSL and Oracle.Options.NNE.Options."""
    family = family.lower()
    if type_ == DOCDB_PARAMETER_GROUP:
        # DocumentDB: tls "enabled" (the default), "tls1.2+", "tls1.3+" or "fips-140-3" require TLS.
        return TlsParameter("tls", ("ENABLED", "TLS1.2+", "TLS1.3+", "FIPS-140-3"), "enabled", "enabled")
    if type_ == NEPTUNE_PARAMETER_GROUP:
        # Neptune: a new cluster parameter group enforces SSL (neptune_enforce_ssl 1) by default.
        return TlsParameter("neptune_enforce_ssl", ("1",), "1", "1")
    if family.startswith("postgres"):
        # RDS for PostgreSQL 15 and later defaults rds.force_ssl to 1; older versions default to 0.
        major = "".join(c for c in family[len("postgres"):] if c.isdigit())
        default = "1" if major.isdigit() and int(major) >= 15 else "0"
        return TlsParameter("rds.force_ssl", ("1",), default, "1")
    if family.startswith(("aurora-postgresql", "sqlserver-")):
        # Aurora PostgreSQL and RDS for SQL Server default rds.force_ssl to 0.
        return TlsParameter("rds.force_ssl", ("1",), "0", "1")
    if family.startswith(("mysql", "mariadb", "aurora-mysql")):
        return TlsParameter("require_secure_transport", ("1", "ON"), "0", "1")
    if family.startswith("db2-"):
        # Db2 listens for TLS on ssl_svcename; DB2COMM "SSL" (not "TCPIP,SSL") closes the plain port.
        return TlsParameter("db2comm", ("SSL",), "TCPIP", "SSL")
    return None


def _force_ssl(r: Resource) -> Iterable[str]:
    family = r.props.str("family") or ""
    values = {str(p.str("name") or "").lower(): str(p.get("value")) for p in r.props.each("parameters")}
    required = _tls_parameter(r.type, family)
    if required and values.get(required.name, required.default).strip().upper() not in required.accepted:
        yield f"Add parameter {required.name} with value {required.value}."


def _oracle_network_encryption(r: Resource) -> Iterable[str]:
    """RDS for Oracle encrypts every connection only with NATIVE_NETWORK_ENCRYPTION and
    SQLNET.ENCRYPTION_SERVER REQUIRED (default REQUESTED); its SSL option opens a second port and
    keeps the clear-text one."""
    if not (r.props.str("engineName") or "").lower().startswith("oracle"):
        return
    for option in r.props.each("options"):
        if str(option.get("optionName")).upper() != "NATIVE_NETWORK_ENCRYPTION":
            continue
        settings = {str(s.get("name")).upper(): str(s.get("value")).upper() for s in option.each("optionSettings")}
        if settings.get("SQLNET.ENCRYPTION_SERVER", "REQUESTED") == "REQUIRED":
            return
    yield "Add option NATIVE_NETWORK_ENCRYPTION with SQLNET.ENCRYPTION_SERVER set to REQUIRED."


def _snapshot(r: Resource) -> Iterable[str]:
    if "all" in [str(a) for a in r.props.list("sharedAccounts")]:
        yield 'Remove "all" from sharedAccounts.'
    if r.type in SNAPSHOT_COPIES and not r.props.customer_key("kmsKeyId"):
        yield "Set kmsKeyId to a customer-managed key."


POLICIES = [
    resource_policy(_meta("aws-rds-storage-encrypted", "RDS, Aurora, DocumentDB and Neptune storage must be encrypted with a customer-managed key.",
                          ENCRYPTION_AT_REST, "Set storageEncrypted=true and kmsKeyId (kmsKeyArn on Neptune) to the database key.",
                          ["rds-storage-encrypted"]), INSTANCE + CLUSTER + DOCUMENT_GRAPH, _encrypted),
    resource_policy(_meta("aws-rds-not-publicly-accessible", "RDS instances must not be publicly accessible.",
                          ACCESS_CONTROL, "Set publiclyAccessible=false and place the database in private subnets.",
                          ["rds-instance-public-access-check"]), INSTANCE + CLUSTER_INSTANCE, _not_public),
    resource_policy(_meta("aws-rds-backup-retention", "RDS, Aurora, DocumentDB and Neptune automated backups must be kept.",
                          DATA_BACKUP, "Set backupRetentionPeriod to 7-35 days.",
                          ["db-instance-backup-enabled"], config=MIN_BACKUP), INSTANCE + CLUSTER + DOCUMENT_GRAPH, _backups),
    resource_policy(_meta("aws-rds-multi-az", "RDS instances must be Multi-AZ.",
                          DISASTER_RECOVERY, "Set multiAz=true (a non-PHI stack may make this advisory in its pack config).",
                          ["rds-multi-az-support"]), INSTANCE, _multi_az),
    resource_policy(_meta("aws-rds-deletion-protection", "RDS instances and Aurora, DocumentDB and Neptune clusters must have deletion protection.",
                          DISASTER_RECOVERY, "Set deletionProtection=true.",
                          ["rds-cluster-deletion-protection-enabled"]), INSTANCE + CLUSTER + DOCUMENT_GRAPH, _deletion_protection),
    resource_policy(_meta("aws-rds-iam-authentication", "RDS and Aurora must accept IAM database authentication.",
                          AUTHENTICATION, "Set iamDatabaseAuthenticationEnabled=true."), INSTANCE + CLUSTER, _iam_auth),
    resource_policy(_meta("aws-rds-logs-exported", "RDS, Aurora, DocumentDB and Neptune must export engine logs to CloudWatch.",
                          AUDIT_CONTROLS, "Set enabledCloudwatchLogsExports (postgresql for PostgreSQL, audit for DocumentDB), "
                          "or enableCloudwatchLogsExports with audit on Neptune.",
                          ["rds-logging-enabled"]), INSTANCE + CLUSTER + DOCUMENT_GRAPH, _logs),
    resource_policy(_meta("aws-rds-enhanced-monitoring", "RDS instances must have enhanced monitoring.",
                          AUDIT_CONTROLS, "Set monitoringInterval and monitoringRoleArn.",
                          ["rds-enhanced-monitoring-enabled"], severity=Severity.MEDIUM), INSTANCE, _monitoring),
    resource_policy(_meta("aws-rds-auto-minor-upgrade", "RDS and Aurora instances must take automatic minor version upgrades.",
                          INTEGRITY, "Leave autoMinorVersionUpgrade at true.",
                          ["rds-automatic-minor-version-upgrade-enabled"], severity=Severity.MEDIUM),
                    INSTANCE + CLUSTER_INSTANCE, _minor_upgrades),
    resource_policy(_meta("aws-rds-performance-insights-encrypted", "Performance Insights data must be encrypted with a customer-managed key.",
                          ENCRYPTION_AT_REST, "Set performanceInsightsKmsKeyId to the database key (it cannot change later)."),
                    INSTANCE + CLUSTER + CLUSTER_INSTANCE + DOCDB_CLUSTER_INSTANCE, _performance_insights),
    resource_policy(_meta("aws-rds-managed-master-password", "Database master passwords must be kept by RDS in Secrets Manager, never in code or config.",
                          AUTHENTICATION, "Remove password/masterPassword and set manageMasterUserPassword=true."),
                    INSTANCE + CLUSTER + (DOCDB_CLUSTER,), _managed_password),
    resource_policy(_meta("aws-rds-parameter-group-requires-tls", "Database parameter groups must require TLS for every engine family.",
                          TRANSMISSION_SECURITY, "Set rds.force_ssl=1 (PostgreSQL, Aurora PostgreSQL, SQL Server), require_secure_transport=1 "
                          "(MySQL, MariaDB, Aurora MySQL), db2comm=SSL (Db2), tls=enabled or tls1.2+ (DocumentDB), "
                          "neptune_enforce_ssl=1 (Neptune)."),
                    PARAMETER_GROUPS, _force_ssl),
    resource_policy(_meta("aws-rds-oracle-network-encryption", "RDS for Oracle option groups must require native network encryption.",
                          TRANSMISSION_SECURITY, "Add the NATIVE_NETWORK_ENCRYPTION option with SQLNET.ENCRYPTION_SERVER=REQUIRED "
                          "(the SSL option keeps the clear-text port open)."),
                    OPTION_GROUP, _oracle_network_encryption),
    resource_policy(_meta("aws-rds-snapshot-not-public", "RDS snapshots must not be public, and copies must be encrypted with a customer key.",
                          ACCESS_CONTROL, 'Remove "all" from sharedAccounts; set kmsKeyId on copies.',
                          ["rds-snapshots-public-prohibited", "rds-snapshot-encrypted"]), SNAPSHOTS, _snapshot),
]
