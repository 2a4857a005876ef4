"""Every requirement can be met by every variant of the resource it applies to (issue 18, class 4).

A policy that demands IAM database authentication of an engine that has none, a log export an engine
does not offer, or a protocol a Gateway Load Balancer listener cannot have, fails compliant resources.
This file builds, from AWS's own data, the variants of each resource type a hand-written policy judges
(engines, engine modes, key specs, listener protocols by load-balancer type, log classes, stream
sources, operating systems...), gives each its compliant form, and sends it to the pack over the
Analyzer protocol:

- a variant that can do what the policy asks passes, and the same variant without the control is
  still flagged (the policy stays strict where AWS allows the control);
- a variant that cannot is "not applicable", with AWS's reason in the answer.

The axes come from botocore's service models (enums, and the documentation of plain-string members,
parsed here), so a new engine or protocol in botocore is a new case, and one this file cannot place
fails `test_every_axis_value_is_placed`. Facts botocore does not carry name their AWS page.
"""

from __future__ import annotations

import functools
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import botocore.session
import pytest
from pulumi.runtime.proto import analyzer_pb2
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE as UNKNOWN

from preflight.policy_pack_client import POLICY_DIR, to_struct
from tests.policy_cases import DELETE, KEY_ARN, RDS, patched

if str(POLICY_DIR) not in sys.path:
    sys.path.insert(0, str(POLICY_DIR))
from hipaa_policies import ALL_POLICIES, data_controls  # noqa: E402
from hipaa_policies.analyzer_service import TypedResourcePolicy  # noqa: E402

PASS, NOT_APPLICABLE = "pass", "not applicable"
MANAGED_PASSWORD = (
    "Remove the password; set manageMasterUserPassword to true so RDS keeps it in Secrets Manager."
)
CUSTOM_PASSWORD = (
    "Set passwordWo instead of password, which is stored in the state file: RDS Custom cannot keep the "
    "master password in Secrets Manager."
)
CERTIFICATE = "arn:aws:acm:us-east-1:123456789012:certificate/abc"


@dataclass(frozen=True)
class Variant:
    policy: str
    axis: str
    """The variant, e.g. engine=custom-oracle-ee."""
    type: str
    props: dict
    outcome: str = PASS
    reason: str = ""
    """For NOT_APPLICABLE: words AWS's reason must contain."""
    broken: tuple[tuple[dict, str], ...] = ()
    """(patch, message): the same variant without the control, still flagged with that message."""
    config: tuple[tuple[str, Any], ...] = ()
    """The policy's pack config for this variant (a reviewed declaration), as (key, value) pairs."""

    @property
    def id(self) -> str:
        return f"{self.policy}[{self.axis}]"


# ---------------------------------------------------------------- botocore's documentation as data


@functools.cache
def _model(service: str):
    return botocore.session.get_session().get_service_model(service)


def enum(service: str, shape: str) -> list[str]:
    return list(_model(service).shape_for(shape).enum)


def enum_of(service: str, shape: str, member: str) -> list[str]:
    """The enum of a structure's member (botocore models some enums inline on the member)."""
    return list(_model(service).shape_for(shape).members[member].enum)


def member_doc(service: str, shape: str, member: str) -> str:
    """A member's documentation as plain text (tags removed, white space collapsed)."""
    text = _model(service).shape_for(shape).members[member].documentation
    return " ".join(re.sub(r"<[^>]+>", " ", text).split())


def valid_values(service: str, shape: str, member: str) -> list[str]:
    """The engine names a member's documentation lists after "Valid Values:" (notes in brackets
    dropped), e.g. rds CreateDBInstanceMessage.Engine."""
    text = re.split(r"Valid [Vv]alues:", member_doc(service, shape, member), maxsplit=1)[1]
    text = re.sub(r"\([^)]*\)", " ", text).split(" - ", 1)[0]
    return [word for word in text.split() if re.fullmatch(r"[a-z][a-z0-9-]*[a-z0-9]", word)]


def log_types(service: str, shape: str) -> dict[str, list[str]]:
    """'Engine name - a | b | c' lists of EnableCloudwatchLogsExports, keyed by the engine's name."""
    text = member_doc(service, shape, "EnableCloudwatchLogsExports")
    pairs = re.findall(r"((?:RDS for|Aurora) [A-Za-z0-9 ]+?) - ((?:[a-z.-]+ \| )*[a-z.-]+)", text)
    return {name: [t.strip() for t in types.split("|")] for name, types in pairs}


# ---------------------------------------------------------------- RDS, Aurora, DocumentDB, Neptune

INSTANCE, CLUSTER = "aws:rds/instance:Instance", "aws:rds/cluster:Cluster"
CLUSTER_INSTANCE = "aws:rds/clusterInstance:ClusterInstance"
NEPTUNE_CLUSTER, DOCDB_CLUSTER = "aws:neptune/cluster:Cluster", "aws:docdb/cluster:Cluster"

# The engine names of the RDS documentation's "RDS for <name>" lists, by the botocore engine values
# they cover (botocore rds CreateDBInstanceMessage.Engine).
RDS_ENGINE_NAMES = {
    "RDS for Db2": "db2-",
    "RDS for MariaDB": "mariadb",
    "RDS for Microsoft SQL Server": "sqlserver-",
    "RDS for MySQL": "mysql",
    "RDS for Oracle": "oracle-",
    "RDS for PostgreSQL": "postgres",
}
CLUSTER_ENGINE_NAMES = {
    "Aurora MySQL": "aurora-mysql",
    "Aurora PostgreSQL": "aurora-postgresql",
    "RDS for MySQL": "mysql",
    "RDS for PostgreSQL": "postgres",
}
# AWS, "Supported Regions and DB engines for IAM database authentication in Amazon RDS"
# (docs.aws.amazon.com/AmazonRDS/latest/UserGuide/
#  Concepts.RDS_Fea_Regions_DB-eng.Feature.IamDatabaseAuthentication.html):
# "IAM database authentication isn't available with the following engines: RDS for Db2, RDS for Oracle,
# RDS for SQL Server". botocore's EnableIAMDatabaseAuthentication adds: doesn't apply to RDS Custom.
NO_IAM_AUTHENTICATION = {"RDS for Db2", "RDS for Oracle", "RDS for Microsoft SQL Server"}
# RDS User Guide, "Multi-AZ deployments for Amazon RDS for Microsoft SQL Server": Multi-AZ for the
# Standard and Enterprise editions (mirroring, Always On), Web (block-level replication) and Developer;
# none for Express.
NO_MULTI_AZ = {"sqlserver-ex"}
# Aurora User Guide, "Using Amazon Aurora Serverless v1": end of life on 2025-03-31, every v1 cluster
# migrated to Serverless v2 (engine mode provisioned); a new `serverless` cluster is not a variant.
RETIRED_ENGINE_MODES = {"serverless": "Aurora Serverless v1 reached end of life on 2025-03-31"}


def instance_engines() -> list[str]:
    """RDS instance engines; the aurora-* ones are Aurora cluster instances (aws.rds.ClusterInstance)."""
    return [
        e for e in valid_values("rds", "CreateDBInstanceMessage", "Engine") if not e.startswith("aurora-")
    ]


def engine_name(engine: str, names: dict[str, str]) -> str:
    (name,) = [
        n
        for n, prefix in names.items()
        if engine == prefix or (prefix.endswith("-") and engine.startswith(prefix))
    ]
    return name


def doesnt_apply_to_rds_custom(member: str) -> bool:
    text = member_doc("rds", "CreateDBInstanceMessage", member)
    return (
        bool(re.search(r"(doesn't apply to|does not apply to)[^.]*RDS Custom", text))
        or "following DB instances" in text
        and "RDS Custom" in text
    )


def rds_instance_variants() -> list[Variant]:
    variants: list[Variant] = []
    logs = log_types("rds", "CreateDBInstanceMessage")
    custom_rules = {  # policy -> (input, botocore says it does not apply to RDS Custom)
        "aws-rds-iam-authentication": doesnt_apply_to_rds_custom("EnableIAMDatabaseAuthentication"),
        "aws-rds-logs-exported": doesnt_apply_to_rds_custom("EnableCloudwatchLogsExports"),
        "aws-rds-enhanced-monitoring": doesnt_apply_to_rds_custom("MonitoringInterval"),
        # "If you create an RDS Custom DB instance, you must set AutoMinorVersionUpgrade to false."
        "aws-rds-auto-minor-upgrade": "RDS Custom DB instance, you must set AutoMinorVersionUpgrade to false"
        in member_doc("rds", "CreateDBInstanceMessage", "AutoMinorVersionUpgrade"),
    }
    assert all(custom_rules.values()), custom_rules  # botocore still documents each exception
    for engine in instance_engines():
        axis = f"engine={engine}"
        custom = engine.startswith("custom-")
        props = {**RDS, "engine": engine}
        if custom:
            # RDS Custom: no IAM auth, log exports, Enhanced Monitoring or Performance Insights (botocore
            # docs above); minor upgrades off; no Secrets Manager master password (RDS User Guide,
            # "Password management with Amazon RDS and AWS Secrets Manager", limitations): write-only.
            for key in (
                "iamDatabaseAuthenticationEnabled",
                "enabledCloudwatchLogsExports",
                "monitoringInterval",
                "performanceInsightsEnabled",
                "performanceInsightsKmsKeyId",
                "manageMasterUserPassword",
            ):
                del props[key]
            props.update(autoMinorVersionUpgrade=False, passwordWo=UNKNOWN)
            iam = False
        else:
            name = engine_name(engine, RDS_ENGINE_NAMES)
            props["enabledCloudwatchLogsExports"] = logs[name]
            iam = name not in NO_IAM_AUTHENTICATION
            if not iam:
                del props["iamDatabaseAuthenticationEnabled"]
        custom_na = dict(outcome=NOT_APPLICABLE, reason="RDS Custom")
        variants += [
            Variant(
                "aws-rds-iam-authentication",
                axis,
                INSTANCE,
                props,
                **(
                    dict(
                        broken=(
                            (
                                ({"iamDatabaseAuthenticationEnabled": False}),
                                "Set iamDatabaseAuthenticationEnabled to true.",
                            ),
                        )
                    )
                    if iam
                    else custom_na
                    if custom
                    else dict(outcome=NOT_APPLICABLE, reason="isn't available")
                ),
            ),
            Variant(
                "aws-rds-logs-exported",
                axis,
                INSTANCE,
                props,
                **(
                    custom_na
                    if custom
                    else dict(
                        broken=(
                            (
                                {"enabledCloudwatchLogsExports": []},
                                "Set enabledCloudwatchLogsExports to export the engine's logs to CloudWatch.",
                            ),
                        )
                    )
                ),
            ),
            Variant(
                "aws-rds-enhanced-monitoring",
                axis,
                INSTANCE,
                props,
                **(
                    custom_na
                    if custom
                    else dict(
                        broken=(
                            (
                                {"monitoringInterval": 0},
                                "Set monitoringInterval (1, 5, 10, 15, 30 or 60) and monitoringRoleArn.",
                            ),
                        )
                    )
                ),
            ),
            Variant(
                "aws-rds-auto-minor-upgrade",
                axis,
                INSTANCE,
                props,
                **(
                    custom_na
                    if custom
                    else dict(
                        broken=(({"autoMinorVersionUpgrade": False}, "Set autoMinorVersionUpgrade to true."),)
                    )
                ),
            ),
            Variant(
                "aws-rds-managed-master-password",
                axis,
                INSTANCE,
                props,
                broken=(
                    (
                        {"password": "hunter2hunter2"},
                        CUSTOM_PASSWORD if custom else MANAGED_PASSWORD,
                    ),
                ),
            ),
            Variant(
                "aws-rds-storage-encrypted",
                axis,
                INSTANCE,
                props,
                broken=(({"storageEncrypted": False}, "Set storageEncrypted to true."),),
            ),
            Variant(
                "aws-rds-not-publicly-accessible",
                axis,
                INSTANCE,
                props,
                broken=(({"publiclyAccessible": True}, "Set publiclyAccessible to false."),),
            ),
            Variant(
                "aws-rds-backup-retention",
                axis,
                INSTANCE,
                props,
                broken=(({"backupRetentionPeriod": 1}, "Set backupRetentionPeriod to at least 7 days."),),
            ),
            Variant(
                "aws-rds-multi-az", axis, INSTANCE, {**props, "multiAz": False}, NOT_APPLICABLE, "Express"
            )
            if engine in NO_MULTI_AZ
            else Variant(
                "aws-rds-multi-az",
                axis,
                INSTANCE,
                props,
                broken=(({"multiAz": False}, "Set multiAz to true."),),
            ),
            Variant(
                "aws-rds-deletion-protection",
                axis,
                INSTANCE,
                props,
                broken=(({"deletionProtection": False}, "Set deletionProtection to true."),),
            ),
            Variant(
                "aws-rds-performance-insights-encrypted",
                axis,
                INSTANCE,
                props,
                broken=()
                if custom
                else (
                    (
                        {"performanceInsightsKmsKeyId": DELETE},
                        "Set performanceInsightsKmsKeyId to a customer-managed key.",
                    ),
                ),
            ),
        ]
    return variants


def cluster_variants() -> list[Variant]:
    """Aurora (each engine mode) and Multi-AZ DB clusters (mysql, postgres with dbClusterInstanceClass);
    neptune is aws.neptune.Cluster (botocore rds CreateDBClusterMessage.Engine, EngineMode,
    DBClusterInstanceClass, EnableCloudwatchLogsExports)."""
    variants: list[Variant] = []
    logs = log_types("rds", "CreateDBClusterMessage")
    modes = re.findall(r"either (\w+) or (\w+)", member_doc("rds", "CreateDBClusterMessage", "EngineMode"))[0]
    for engine in valid_values("rds", "CreateDBClusterMessage", "Engine"):
        if engine == "neptune":
            continue  # aws.neptune.Cluster: neptune_variants()
        base = {
            "engine": engine,
            "storageEncrypted": True,
            "kmsKeyId": KEY_ARN,
            "backupRetentionPeriod": 7,
            "deletionProtection": True,
            "iamDatabaseAuthenticationEnabled": True,
            "enabledCloudwatchLogsExports": logs[engine_name(engine, CLUSTER_ENGINE_NAMES)],
            "manageMasterUserPassword": True,
        }
        shapes = (
            [(f"engineMode={m}", {"engineMode": m}) for m in modes if m not in RETIRED_ENGINE_MODES]
            if engine.startswith("aurora-")
            else [
                (
                    "multi-az-cluster",
                    {
                        "dbClusterInstanceClass": "db.m6gd.large",
                        "performanceInsightsEnabled": True,
                        "performanceInsightsKmsKeyId": KEY_ARN,
                    },
                )
            ]
        )
        # ClusterScalabilityType (botocore rds): limitless is Aurora PostgreSQL Limitless Database, which
        # must export the PostgreSQL log and use Enhanced Monitoring and Performance Insights (Aurora User
        # Guide, "Aurora PostgreSQL Limitless Database requirements and considerations").
        shapes += [
            (f"clusterScalabilityType={kind}", {"clusterScalabilityType": kind, "engineMode": "provisioned"})
            for kind in enum_of("rds", "CreateDBClusterMessage", "ClusterScalabilityType")
            if kind != "standard" and engine == "aurora-postgresql"
        ]
        # MasterUserAuthenticationType (botocore rds): iam-db-auth has no master password at all.
        shapes += [
            (
                f"masterUserAuthenticationType={kind}",
                {"masterUserAuthenticationType": kind, "manageMasterUserPassword": DELETE},
            )
            for kind in enum_of("rds", "CreateDBClusterMessage", "MasterUserAuthenticationType")
            if kind != "password"
        ]
        for shape, extra in shapes:
            axis = f"engine={engine},{shape}"
            props = {k: v for k, v in {**base, **extra}.items() if v is not DELETE}
            iam_auth = (
                []
                if "limitless" in shape
                else [  # not confirmed for Limitless: left out, not assumed
                    Variant(
                        "aws-rds-iam-authentication",
                        axis,
                        CLUSTER,
                        props,
                        broken=(
                            (
                                {"iamDatabaseAuthenticationEnabled": False},
                                "Set iamDatabaseAuthenticationEnabled to true.",
                            ),
                        ),
                    )
                ]
            )
            variants += iam_auth + [
                Variant(
                    "aws-rds-logs-exported",
                    axis,
                    CLUSTER,
                    props,
                    broken=(
                        (
                            {"enabledCloudwatchLogsExports": DELETE},
                            "Set enabledCloudwatchLogsExports to export the engine's logs to CloudWatch.",
                        ),
                    ),
                ),
                Variant(
                    "aws-rds-storage-encrypted",
                    axis,
                    CLUSTER,
                    props,
                    broken=(({"kmsKeyId": DELETE}, "Set kmsKeyId to a customer-managed key."),),
                ),
                Variant("aws-rds-backup-retention", axis, CLUSTER, props),
                Variant("aws-rds-deletion-protection", axis, CLUSTER, props),
                Variant("aws-rds-performance-insights-encrypted", axis, CLUSTER, props),
                Variant(
                    "aws-rds-managed-master-password",
                    axis,
                    CLUSTER,
                    props,
                    broken=(
                        (
                            {"masterPassword": "hunter2hunter2"},
                            MANAGED_PASSWORD,
                        ),
                    ),
                ),
            ]
    for engine in valid_values("rds", "CreateDBInstanceMessage", "Engine"):
        if not engine.startswith("aurora-"):
            continue
        axis = f"engine={engine}"
        props = {
            "clusterIdentifier": UNKNOWN,
            "engine": engine,
            "instanceClass": "db.r6g.large",
            "publiclyAccessible": False,
            "autoMinorVersionUpgrade": True,
            "performanceInsightsEnabled": True,
            "performanceInsightsKmsKeyId": KEY_ARN,
        }
        variants += [
            Variant(p, axis, CLUSTER_INSTANCE, props)
            for p in (
                "aws-rds-not-publicly-accessible",
                "aws-rds-auto-minor-upgrade",
                "aws-rds-performance-insights-encrypted",
            )
        ]
    return variants


def docdb_instance_variants() -> list[Variant]:
    """A DocumentDB instance names its Performance Insights switch enablePerformanceInsights."""
    props = {
        "clusterIdentifier": UNKNOWN,
        "instanceClass": "db.r6g.large",
        "enablePerformanceInsights": True,
        "performanceInsightsKmsKeyId": KEY_ARN,
    }
    return [
        Variant(
            "aws-rds-performance-insights-encrypted",
            f"engine={engine}",
            "aws:docdb/clusterInstance:ClusterInstance",
            {**props, "engine": engine},
            broken=(
                (
                    {"performanceInsightsKmsKeyId": DELETE},
                    "Set performanceInsightsKmsKeyId to a customer-managed key.",
                ),
            ),
        )
        for engine in valid_values("docdb", "CreateDBClusterMessage", "Engine")
    ]


def document_graph_variants() -> list[Variant]:
    """DocumentDB (engine docdb) and Neptune (engine neptune) clusters, each with the log types its
    botocore model documents (docdb: audit, profiler; neptune: audit, slowquery)."""
    variants: list[Variant] = []
    docdb_logs = re.findall(
        r"enable (\w+) logs", member_doc("docdb", "CreateDBClusterMessage", "EnableCloudwatchLogsExports")
    )
    neptune_logs = re.findall(
        r"(\w+) \(to publish", member_doc("neptune", "CreateDBClusterMessage", "EnableCloudwatchLogsExports")
    )
    assert "audit" in docdb_logs and "audit" in neptune_logs, (docdb_logs, neptune_logs)
    for engine in valid_values("docdb", "CreateDBClusterMessage", "Engine"):
        props = {
            "engine": engine,
            "storageEncrypted": True,
            "kmsKeyId": KEY_ARN,
            "backupRetentionPeriod": 7,
            "deletionProtection": True,
            "enabledCloudwatchLogsExports": docdb_logs,
            "manageMasterUserPassword": True,
        }
        variants += [
            Variant(p, f"engine={engine}", DOCDB_CLUSTER, props)
            for p in (
                "aws-rds-storage-encrypted",
                "aws-rds-backup-retention",
                "aws-rds-deletion-protection",
                "aws-rds-logs-exported",
                "aws-rds-managed-master-password",
            )
        ]
    for engine in valid_values("neptune", "CreateDBClusterMessage", "Engine"):
        props = {
            "engine": engine,
            "storageEncrypted": True,
            "kmsKeyArn": KEY_ARN,
            "backupRetentionPeriod": 7,
            "deletionProtection": True,
            "enableCloudwatchLogsExports": neptune_logs,
        }
        variants += [
            Variant(p, f"engine={engine}", NEPTUNE_CLUSTER, props)
            for p in (
                "aws-rds-storage-encrypted",
                "aws-rds-backup-retention",
                "aws-rds-deletion-protection",
                "aws-rds-logs-exported",
            )
        ]
    return variants


# The parameter (or option) that makes each engine refuse plaintext connections, from the AWS pages the
# policy cites (rds.py _tls_parameter). Keyed by engine prefix: a botocore engine this table cannot
# place fails test_every_axis_value_is_placed until someone reads its TLS documentation.
TLS_SETTING = {
    "postgres": ("postgres16", "rds.force_ssl", "1"),
    "mysql": ("mysql8.0", "require_secure_transport", "1"),
    "mariadb": ("mariadb10.11", "require_secure_transport", "1"),
    "sqlserver-": ("sqlserver-ee-16.0", "rds.force_ssl", "1"),
    "db2-": ("db2-se-11.5", "db2comm", "SSL"),
    "aurora-postgresql": ("aurora-postgresql16", "rds.force_ssl", "1"),
    "aurora-mysql": ("aurora-mysql8.0", "require_secure_transport", "ON"),
    "oracle-": None,  # Oracle: NATIVE_NETWORK_ENCRYPTION option (aws-rds-oracle-network-encryption)
    "custom-": None,  # RDS Custom: the customer configures the engine on its own host
}


def tls_setting(engine: str):
    (prefix,) = [
        p
        for p in TLS_SETTING
        if engine == p
        or (p.endswith("-") and engine.startswith(p))
        or (engine.startswith(p) and p.startswith("aurora-"))
    ]
    return TLS_SETTING[prefix]


def parameter_group_variants() -> list[Variant]:
    variants = []
    engines = valid_values("rds", "CreateDBInstanceMessage", "Engine")
    for engine in engines:
        setting = tls_setting(engine)
        if setting is None:
            continue
        family, name, value = setting
        type_ = (
            "aws:rds/clusterParameterGroup:ClusterParameterGroup"
            if engine.startswith("aurora-")
            else "aws:rds/parameterGroup:ParameterGroup"
        )
        variants.append(
            Variant(
                "aws-rds-parameter-group-requires-tls",
                f"engine={engine}",
                type_,
                {"family": family, "parameters": [{"name": name, "value": value}]},
            )
        )
    # Oracle's TLS is an option (below) and RDS Custom's engine is configured on its own host: a
    # parameter group of theirs has nothing to set, and passes.
    for engine in engines:
        if tls_setting(engine) is None:
            family = f"{engine}-19"
            variants.append(
                Variant(
                    "aws-rds-parameter-group-requires-tls",
                    f"engine={engine}",
                    "aws:rds/parameterGroup:ParameterGroup",
                    {"family": family, "parameters": []},
                )
            )
    # RDS for Oracle encrypts connections with NATIVE_NETWORK_ENCRYPTION, SQLNET.ENCRYPTION_SERVER
    # REQUIRED (RDS User Guide, Oracle native network encryption), in every Oracle edition botocore lists.
    for engine in [e for e in engines if e.startswith("oracle-")]:
        props = {
            "engineName": engine,
            "majorEngineVersion": "19",
            "options": [
                {
                    "optionName": "NATIVE_NETWORK_ENCRYPTION",
                    "optionSettings": [{"name": "SQLNET.ENCRYPTION_SERVER", "value": "REQUIRED"}],
                }
            ],
        }
        variants.append(
            Variant(
                "aws-rds-oracle-network-encryption",
                f"engineName={engine}",
                "aws:rds/optionGroup:OptionGroup",
                props,
                broken=(
                    (
                        {"options.0.optionSettings.0.value": "REQUESTED"},
                        "Add option NATIVE_NETWORK_ENCRYPTION with SQLNET.ENCRYPTION_SERVER set to REQUIRED.",
                    ),
                ),
            )
        )
    # DocumentDB (tls, default enabled) and Neptune (neptune_enforce_ssl, default 1): the engines their
    # botocore models list, each with its cluster parameter group (rds.py _tls_parameter cites the pages).
    for service, type_, (family, name, value) in (
        ("docdb", "aws:docdb/clusterParameterGroup:ClusterParameterGroup", ("docdb5.0", "tls", "tls1.2+")),
        (
            "neptune",
            "aws:neptune/clusterParameterGroup:ClusterParameterGroup",
            ("neptune1.3", "neptune_enforce_ssl", "1"),
        ),
    ):
        for engine in valid_values(service, "CreateDBClusterMessage", "Engine"):
            props = {"family": family, "parameters": [{"name": name, "value": value}]}
            variants.append(Variant("aws-rds-parameter-group-requires-tls", f"engine={engine}", type_, props))
    return variants


# ---------------------------------------------------------------- Elastic Load Balancing v2

LISTENER = "aws:lb/listener:Listener"
TLS_LISTENER = {
    "port": 443,
    "sslPolicy": "ELBSecurityPolicy-TLS13-1-2-2021-06",
    "certificateArn": CERTIFICATE,
}


def listener_protocols() -> dict[str, list[str]]:
    """Listener protocols by load balancer type, from botocore elbv2 CreateListenerInput.Protocol ("For
    Application Load Balancers, the supported protocols are HTTP and HTTPS. ... You can't specify a
    protocol for a Gateway Load Balancer")."""
    text = member_doc("elbv2", "CreateListenerInput", "Protocol")
    found = {
        kind.lower(): re.findall(r"[A-Z][A-Z_]+", protocols)
        for kind, protocols in re.findall(
            r"For (Application|Network) Load Balancers, the supported protocols are ([A-Z_, and]+)\.", text
        )
    }
    if "can't specify a protocol for a Gateway Load Balancer" in text:
        found["gateway"] = []
    return found


def listener_variants() -> list[Variant]:
    variants = []
    by_type = listener_protocols()
    for kind in enum("elbv2", "LoadBalancerTypeEnum"):
        protocols = by_type[kind]
        if not protocols:  # gateway: no protocol, no port (botocore CreateListenerInput.Protocol, .Port)
            props = {
                "loadBalancerArn": UNKNOWN,
                "defaultActions": [{"type": "forward", "targetGroupArn": UNKNOWN}],
            }
            variants += [
                Variant(
                    "aws-lb-listener-https-only",
                    f"{kind}",
                    LISTENER,
                    props,
                    NOT_APPLICABLE,
                    "Gateway Load Balancer listener has no protocol",
                    broken=(({"port": 80}, "Set protocol to HTTPS (or TLS)."),),
                ),
                Variant("aws-lb-listener-modern-tls", f"{kind}", LISTENER, props),
            ]
            continue
        for protocol in protocols:
            axis = f"{kind},protocol={protocol}"
            if protocol == "HTTP":  # compliant form: every default action redirects to HTTPS
                props = {
                    "protocol": "HTTP",
                    "port": 80,
                    "defaultActions": [
                        {
                            "type": "redirect",
                            "redirect": {"protocol": "HTTPS", "port": "443", "statusCode": "HTTP_301"},
                        }
                    ],
                }
                variants += [
                    Variant(
                        "aws-lb-listener-https-only",
                        axis,
                        LISTENER,
                        props,
                        broken=(
                            (
                                {"defaultActions": [{"type": "forward"}]},
                                "Use protocol HTTPS, or make every default action a redirect to HTTPS.",
                            ),
                        ),
                    ),
                    Variant("aws-lb-listener-modern-tls", axis, LISTENER, props),
                ]
                continue
            if protocol in PASSTHROUGH_LISTENER:  # TLS end to end is a TCP listener; the LB cannot tell
                props = {"protocol": protocol, "port": 443}
                variants += [
                    Variant(
                        "aws-lb-listener-https-only",
                        axis,
                        LISTENER,
                        props,
                        NOT_APPLICABLE,
                        "passes traffic through",
                    ),
                    Variant("aws-lb-listener-modern-tls", axis, LISTENER, props),
                ]
                continue
            props = {
                "protocol": protocol,
                **(TLS_LISTENER if protocol in ("HTTPS", "TLS") else {"port": 443}),
            }
            variants += [
                Variant(
                    "aws-lb-listener-https-only",
                    axis,
                    LISTENER,
                    props,
                    broken=(({"protocol": DELETE}, "Set protocol to HTTPS (or TLS)."),),
                ),
                Variant(
                    "aws-lb-listener-modern-tls",
                    axis,
                    LISTENER,
                    props,
                    broken=(
                        (
                            {"sslPolicy": "ELBSecurityPolicy-2016-08"},
                            "Set sslPolicy to a TLS 1.2+ policy such as ELBSecurityPolicy-TLS13-1-2-2021-06.",
                        ),
                    )
                    if protocol in ("HTTPS", "TLS")
                    else (),
                ),
            ]
    for kind in enum("elbv2", "LoadBalancerTypeEnum"):
        props = {"loadBalancerType": kind, "enableDeletionProtection": True}
        if kind != "gateway":  # botocore LoadBalancerAttribute: access logs for ALB and NLB; headers ALB only
            props["accessLogs"] = {"enabled": True, "bucket": UNKNOWN}
        if kind == "application":
            props["dropInvalidHeaderFields"] = True
        variants.append(
            Variant(
                "aws-lb-logging-and-protection",
                f"loadBalancerType={kind}",
                "aws:lb/loadBalancer:LoadBalancer",
                props,
                broken=(({"enableDeletionProtection": False}, "Set enableDeletionProtection to true."),),
            )
        )
    return variants


# HTTPS and TLS terminate TLS at the load balancer; QUIC and TCP_QUIC pass QUIC v1 through, which always
# carries TLS 1.3 (RFC 9001; ELB "Listeners for your Network Load Balancers": QUIC v1 only).
ENCRYPTED_LISTENER = ("HTTPS", "TLS", "QUIC", "TCP_QUIC")
# TCP, UDP and TCP_UDP listeners pass the stream through unread ("If you must ensure that the targets
# decrypt TLS traffic instead of the load balancer, you can create a TCP listener on port 443": ELB
# "Listeners for your Network Load Balancers"): end-to-end TLS has no other form.
PASSTHROUGH_LISTENER = ("TCP", "UDP", "TCP_UDP")
TARGET_ONLY_PROTOCOLS = {"GENEVE": "the target-group protocol of a Gateway Load Balancer"}


# ---------------------------------------------------------------- KMS, CloudWatch Logs, Firehose, ECS, DMS


def kms_variants() -> list[Variant]:
    """Every KeySpec (botocore kms KeySpec), plus keys in a custom key store: "Automatic key rotation
    is supported only on symmetric encryption KMS keys. You cannot enable automatic rotation of
    asymmetric KMS keys, HMAC KMS keys, KMS keys with imported key material, or KMS keys in a custom
    key store" (botocore kms EnableKeyRotation)."""
    rotation_doc = " ".join(
        re.sub(r"<[^>]+>", " ", _model("kms").operation_model("EnableKeyRotation").documentation).split()
    )
    assert "supported only on symmetric encryption KMS keys" in rotation_doc
    variants = []
    for spec in enum("kms", "KeySpec"):
        props = {"customerMasterKeySpec": spec, "deletionWindowInDays": 30, "policy": '{"Statement":[]}'}
        if spec == "SYMMETRIC_DEFAULT":
            props.update(enableKeyRotation=True, rotationPeriodInDays=365)
            rotation = Variant(
                "aws-kms-key-rotation-enabled",
                f"keySpec={spec}",
                "aws:kms/key:Key",
                props,
                broken=(({"enableKeyRotation": False}, "Set enableKeyRotation to true."),),
            )
        else:
            rotation = Variant(
                "aws-kms-key-rotation-enabled",
                f"keySpec={spec}",
                "aws:kms/key:Key",
                props,
                NOT_APPLICABLE,
                "rotates only symmetric encryption keys",
            )
        variants += [
            rotation,
            Variant("aws-kms-key-deletion-window", f"keySpec={spec}", "aws:kms/key:Key", props),
            Variant("aws-kms-key-policy-not-public", f"keySpec={spec}", "aws:kms/key:Key", props),
        ]
    for store in ("customKeyStoreId", "xksKeyId"):
        variants.append(
            Variant(
                "aws-kms-key-rotation-enabled",
                f"{store}",
                "aws:kms/key:Key",
                {store: "cks-1234567890abcdef0"},
                NOT_APPLICABLE,
                "custom key store",
            )
        )
    return variants


def log_group_variants() -> list[Variant]:
    """Every log class (botocore logs LogGroupClass). The DELIVERY class keeps events "for only one day"
    (botocore logs CreateLogGroupRequest.logGroupClass): six-year retention is its destination's."""
    one_day = "kept in CloudWatch Logs for only one day" in member_doc(
        "logs", "CreateLogGroupRequest", "logGroupClass"
    )
    assert one_day
    variants = []
    for kind in enum("logs", "LogGroupClass"):
        props = {"logGroupClass": kind, "kmsKeyId": KEY_ARN, "retentionInDays": 2192}
        variants.append(
            Variant(
                "aws-cloudwatch-log-group-encrypted",
                f"logGroupClass={kind}",
                "aws:cloudwatch/logGroup:LogGroup",
                props,
                broken=(({"kmsKeyId": DELETE}, "Set kmsKeyId to the logs key."),),
            )
        )
        if kind == "DELIVERY":
            variants.append(
                Variant(
                    "aws-cloudwatch-log-group-six-year-retention",
                    f"logGroupClass={kind}",
                    "aws:cloudwatch/logGroup:LogGroup",
                    {**props, "retentionInDays": 1},
                    NOT_APPLICABLE,
                    "one day",
                )
            )
        else:
            variants.append(
                Variant(
                    "aws-cloudwatch-log-group-six-year-retention",
                    f"logGroupClass={kind}",
                    "aws:cloudwatch/logGroup:LogGroup",
                    props,
                    broken=(({"retentionInDays": 365}, "Set retentionInDays to at least 2192 (six years)."),),
                )
            )
    return variants


# Firehose stream types (botocore firehose DeliveryStreamType) and the pulumi-aws input of each source;
# DatabaseAsSource has no pulumi-aws input (the SDK's FirehoseDeliveryStream has none).
FIREHOSE_SOURCE_INPUT = {
    "DirectPut": None,
    "KinesisStreamAsSource": "kinesisSourceConfiguration",
    "MSKAsSource": "mskSourceConfiguration",
    "DatabaseAsSource": "(no pulumi-aws input)",
}


def firehose_variants() -> list[Variant]:
    only_direct_put = "only if it's a Firehose stream that uses DirectPut as its source" in " ".join(
        re.sub(
            r"<[^>]+>", " ", _model("firehose").operation_model("StartDeliveryStreamEncryption").documentation
        ).split()
    )
    assert only_direct_put
    variants = []
    for kind in enum("firehose", "DeliveryStreamType"):
        source = FIREHOSE_SOURCE_INPUT[kind]
        if source is None:
            variants.append(
                Variant(
                    "aws-firehose-encrypted",
                    f"source={kind}",
                    FIREHOSE,
                    {
                        "serverSideEncryption": {
                            "enabled": True,
                            "keyType": "CUSTOMER_MANAGED_CMK",
                            "keyArn": KEY_ARN,
                        }
                    },
                    broken=(
                        (
                            {"serverSideEncryption": DELETE},
                            "Set serverSideEncryption.enabled to true with keyType CUSTOMER_MANAGED_CMK.",
                        ),
                    ),
                )
            )
        elif not source.startswith("("):
            variants.append(
                Variant(
                    "aws-firehose-encrypted",
                    f"source={kind}",
                    FIREHOSE,
                    {source: {"roleArn": UNKNOWN}},
                    NOT_APPLICABLE,
                    "DirectPut",
                )
            )
    return variants


FIREHOSE = "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream"


def ecs_variants() -> list[Variant]:
    """Every operating system family and network mode (botocore ecs OSFamily, NetworkMode).
    readonlyRootFilesystem and user: "This parameter is not supported for Windows containers"
    (botocore ecs ContainerDefinition); Windows takes the default or awsvpc network mode only
    (RegisterTaskDefinitionRequest.networkMode)."""
    assert "not supported for Windows containers" in member_doc(
        "ecs", "ContainerDefinition", "readonlyRootFilesystem"
    )
    variants = []
    for family in enum("ecs", "OSFamily"):
        windows = family.startswith("WINDOWS")
        container = (
            '[{"name": "app"}]'
            if windows
            else '[{"name": "app", "readonlyRootFilesystem": true, "user": "1000"}]'
        )
        props = {
            "family": "app",
            "runtimePlatform": {"operatingSystemFamily": family},
            "containerDefinitions": container,
        }
        variants.append(
            Variant(
                "aws-ecs-read-only-root-filesystem",
                f"operatingSystemFamily={family}",
                TASK_DEFINITION,
                props,
                **(
                    dict(outcome=NOT_APPLICABLE, reason="Windows")
                    if windows
                    else dict(
                        broken=(
                            (
                                {"containerDefinitions": '[{"name": "app"}]'},
                                "Set readonlyRootFilesystem to true for container app.",
                            ),
                        )
                    )
                ),
            )
        )
    for launch in enum("ecs", "Compatibility"):  # requiresCompatibilities: every launch type runs Linux
        props = {
            "family": "app",
            "requiresCompatibilities": [launch],
            "containerDefinitions": '[{"name": "app", "readonlyRootFilesystem": true, "user": "1000"}]',
        }
        variants.append(
            Variant(
                "aws-ecs-read-only-root-filesystem",
                f"requiresCompatibilities={launch}",
                TASK_DEFINITION,
                props,
                broken=(
                    (
                        {"containerDefinitions": '[{"name": "app"}]'},
                        "Set readonlyRootFilesystem to true for container app.",
                    ),
                ),
            )
        )
    for mode in enum("ecs", "NetworkMode"):
        props = {
            "family": "app",
            "networkMode": mode,
            "containerDefinitions": '[{"name": "app", "readonlyRootFilesystem": true, "user": "1000"}]',
        }
        variants.append(
            Variant(
                "aws-ecs-host-network-non-root",
                f"networkMode={mode}",
                TASK_DEFINITION,
                props,
                broken=(
                    (
                        {"containerDefinitions": '[{"name": "app"}]'},
                        "Run container app as a non-root user without privileged mode, or leave "
                        "host networking.",
                    ),
                )
                if mode == "host"
                else (),
            )
        )
    return variants


TASK_DEFINITION = "aws:ecs/taskDefinition:TaskDefinition"
# DMS endpoints whose connection is not a database session (rds-like sslMode): the pack's reason names
# the AWS service API or HTTPS endpoint DMS uses; kafka and redis take TLS in their settings block.
DMS_WITHOUT_SSL_MODE = {
    "s3",
    "kinesis",
    "dynamodb",
    "dms-transfer",
    "neptune",
    "redshift",
    "redshift-serverless",
}
# Engines whose TLS is a setting of their own block (botocore dms KafkaSettings.SecurityProtocol,
# RedisSettings.SslSecurityProtocol, ElasticsearchSettings.EndpointUri: "DMS uses HTTPS if a transport
# protocol (http/https) is not specified").
DMS_SETTINGS_TLS = {
    "kafka": (
        {"kafkaSettings": {"securityProtocol": "ssl-encryption"}},
        (
            {"kafkaSettings.securityProtocol": "plaintext"},
            "Set kafkaSettings.securityProtocol to ssl-encryption, ssl-authentication or sasl-ssl.",
        ),
    ),
    "redis": (
        {"redisSettings": {"sslSecurityProtocol": "ssl-encryption"}},
        (
            {"redisSettings.sslSecurityProtocol": "plaintext"},
            "Set redisSettings.sslSecurityProtocol to ssl-encryption.",
        ),
    ),
    **{
        engine: (
            {"elasticsearchSettings": {"endpointUri": "https://search-phi.us-east-1.es.amazonaws.com"}},
            (
                {"elasticsearchSettings.endpointUri": "http://search-phi.us-east-1.es.amazonaws.com"},
                "Set elasticsearchSettings.endpointUri to an https:// endpoint (or leave out the scheme: DMS "
                "then uses HTTPS).",
            ),
        )
        for engine in ("opensearch", "elasticsearch")
    },
}


def dms_engine_names() -> list[str]:
    """botocore dms CreateEndpointMessage.EngineName: "Valid values ... include "mysql", ..."."""
    text = member_doc("dms", "CreateEndpointMessage", "EngineName").split("include", 1)[1]
    return re.findall(r'"?([a-z][a-z0-9-]+)"?\s*[,.]', text)


def dms_variants() -> list[Variant]:
    variants = []
    modes = [m for m in enum("dms", "DmsSslModeValue") if m != "none"]
    for engine in dms_engine_names():
        axis = f"engineName={engine}"
        if engine in DMS_SETTINGS_TLS:
            settings, broken = DMS_SETTINGS_TLS[engine]
            variants.append(
                Variant(
                    "aws-dms-endpoint-tls",
                    axis,
                    DMS_ENDPOINT,
                    {"engineName": engine, **settings},
                    broken=(broken,),
                )
            )
        elif engine in DMS_WITHOUT_SSL_MODE:
            variants.append(
                Variant(
                    "aws-dms-endpoint-tls",
                    axis,
                    DMS_ENDPOINT,
                    {"engineName": engine},
                    NOT_APPLICABLE,
                    "no sslMode",
                )
            )
        else:
            for mode in modes:
                variants.append(
                    Variant(
                        "aws-dms-endpoint-tls",
                        f"{axis},sslMode={mode}",
                        DMS_ENDPOINT,
                        {"engineName": engine, "sslMode": mode},
                        broken=(({"sslMode": "none"}, "Set sslMode to verify-full (or require)."),),
                    )
                )
    return variants


DMS_ENDPOINT = "aws:dms/endpoint:Endpoint"


# ---------------------------------------------------------------- caches, search, storage, serverless


def elasticache_variants() -> list[Variant]:
    """Replication-group engines (botocore elasticache CreateReplicationGroupMessage.Engine: "valkey or
    redis") and cache-cluster engines (CreateCacheClusterMessage.Engine: memcached | redis; valkey per
    the replication group's list). Snapshots exist for redis and valkey only (SnapshotRetentionLimit:
    "only valid if the Engine parameter is redis")."""
    group_engines = re.findall(
        r"\b(valkey|redis|memcached)\b", member_doc("elasticache", "CreateReplicationGroupMessage", "Engine")
    )
    cluster_engines = sorted(
        set(
            re.findall(
                r"\b(valkey|redis|memcached)\b",
                member_doc("elasticache", "CreateCacheClusterMessage", "Engine"),
            )
        )
        | set(group_engines)
    )
    variants = []
    for engine in group_engines:
        props = {
            "engine": engine,
            "atRestEncryptionEnabled": True,
            "kmsKeyId": KEY_ARN,
            "transitEncryptionEnabled": True,
            "snapshotRetentionLimit": 7,
        }
        variants += [
            Variant(
                "aws-elasticache-encrypted",
                f"engine={engine}",
                REPLICATION_GROUP,
                props,
                broken=(({"transitEncryptionEnabled": False}, "Set transitEncryptionEnabled to true."),),
            ),
            Variant(
                "aws-elasticache-redis-backups",
                f"engine={engine}",
                REPLICATION_GROUP,
                props,
                broken=(({"snapshotRetentionLimit": 0}, "Set snapshotRetentionLimit to at least 7."),),
            ),
        ]
    for engine in cluster_engines:
        snapshots = engine != "memcached"
        props = {"engine": engine, **({"snapshotRetentionLimit": 7} if snapshots else {})}
        variants.append(
            Variant(
                "aws-elasticache-redis-backups",
                f"cluster,engine={engine}",
                "aws:elasticache/cluster:Cluster",
                props,
                broken=(({"snapshotRetentionLimit": 0}, "Set snapshotRetentionLimit to at least 7."),)
                if snapshots
                else (),
            )
        )
    # A member of a replication group takes the group's snapshots
    # (CreateCacheClusterMessage.ReplicationGroupId).
    variants.append(
        Variant(
            "aws-elasticache-redis-backups",
            "cluster,replicationGroupId",
            "aws:elasticache/cluster:Cluster",
            {"replicationGroupId": UNKNOWN},
        )
    )
    return variants


REPLICATION_GROUP = "aws:elasticache/replicationGroup:ReplicationGroup"


def search_variants() -> list[Variant]:
    """Both domain types, each TLS security policy its model lists (botocore opensearch and es
    TLSSecurityPolicy) and each log type that records access (LogType AUDIT_LOGS, ES_APPLICATION_LOGS)."""
    variants = []
    for type_, service in (
        ("aws:opensearch/domain:Domain", "opensearch"),
        ("aws:elasticsearch/domain:Domain", "es"),
    ):
        logs = [t for t in enum(service, "LogType") if t in ("AUDIT_LOGS", "ES_APPLICATION_LOGS")]
        assert len(logs) == 2
        for policy in enum(service, "TLSSecurityPolicy"):
            modern = not policy.startswith("Policy-Min-TLS-1-0")
            for log in logs:
                props = {
                    "encryptAtRest": {"enabled": True, "kmsKeyId": KEY_ARN},
                    "nodeToNodeEncryption": {"enabled": True},
                    "domainEndpointOptions": {"enforceHttps": True, "tlsSecurityPolicy": policy},
                    "vpcOptions": {"subnetIds": [UNKNOWN]},
                    "logPublishingOptions": [{"logType": log, "cloudwatchLogGroupArn": UNKNOWN}],
                }
                if modern:
                    variants.append(
                        Variant(
                            "aws-opensearch-domain-secure",
                            f"{service},{policy},{log}",
                            type_,
                            props,
                            broken=(
                                (
                                    {"nodeToNodeEncryption.enabled": False},
                                    "Set nodeToNodeEncryption.enabled to true.",
                                ),
                            ),
                        )
                    )
    return variants


def s3_encryption_variants() -> list[Variant]:
    """The algorithms that take a KMS key (botocore s3 ServerSideEncryptionByDefault.KMSMasterKeyID:
    "allowed if and only if SSEAlgorithm is set to aws:kms or aws:kms:dsse")."""
    text = member_doc("s3", "ServerSideEncryptionByDefault", "KMSMasterKeyID").split("Directory buckets", 1)[
        0
    ]
    algorithms = [
        a for a in enum("s3", "ServerSideEncryption") if re.search(rf"\b{re.escape(a)}\b(?!:)", text)
    ]
    assert algorithms == ["aws:kms", "aws:kms:dsse"], algorithms
    return [
        Variant(
            "aws-s3-sse-customer-managed-key",
            f"sseAlgorithm={a}{',V2' if type_.endswith('V2') else ''}",
            type_,
            {
                "bucket": UNKNOWN,
                "rules": [
                    {"applyServerSideEncryptionByDefault": {"sseAlgorithm": a, "kmsMasterKeyId": KEY_ARN}}
                ],
            },
            broken=(
                (
                    {"rules.0.applyServerSideEncryptionByDefault.kmsMasterKeyId": DELETE},
                    "Set rules[].applyServerSideEncryptionByDefault.kmsMasterKeyId to a "
                    "customer-managed KMS key.",
                ),
            ),
        )
        for a in algorithms
        # the deprecated V2 token takes the same inputs (pulumi-aws s3 module)
        for type_ in (
            "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
            "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
        )
    ]


def serverless_variants() -> list[Variant]:
    """Lambda package types (botocore lambda PackageType), API Gateway stage kinds (REST, and apigatewayv2
    ProtocolType HTTP and WEBSOCKET), Kinesis stream modes (kinesis StreamMode), DynamoDB billing modes
    and table classes (dynamodb BillingMode, TableClass)."""
    variants = []
    for package in enum("lambda", "PackageType"):
        variants.append(
            Variant(
                "aws-lambda-environment-encrypted",
                f"packageType={package}",
                "aws:lambda/function:Function",
                {
                    "packageType": package,
                    "environment": {"variables": {"MODE": "prod"}},
                    "kmsKeyArn": KEY_ARN,
                },
                broken=(
                    (
                        {"kmsKeyArn": DELETE},
                        "Set kmsKeyArn to a customer-managed key to encrypt environment variables.",
                    ),
                ),
            )
        )
    logged = {"accessLogSettings": {"destinationArn": UNKNOWN, "format": "$context.requestId"}}
    variants.append(
        Variant(
            "aws-apigateway-stage-logged-and-authenticated",
            "REST",
            "aws:apigateway/stage:Stage",
            {**logged, "clientCertificateId": UNKNOWN},
            broken=(
                (
                    {"clientCertificateId": DELETE},
                    "Set clientCertificateId so the backend can authenticate API Gateway.",
                ),
            ),
        )
    )
    for protocol in enum("apigatewayv2", "ProtocolType"):  # a v2 stage has no client certificate to present
        variants.append(
            Variant(
                "aws-apigateway-stage-logged-and-authenticated",
                f"apigatewayv2,{protocol}",
                "aws:apigatewayv2/stage:Stage",
                {**logged, "apiId": UNKNOWN},
                broken=(
                    (
                        {"accessLogSettings": DELETE},
                        "Set accessLogSettings.destinationArn to an encrypted log group.",
                    ),
                ),
            )
        )
    for mode in enum("kinesis", "StreamMode"):
        variants.append(
            Variant(
                "aws-kinesis-stream-encrypted",
                f"streamMode={mode}",
                "aws:kinesis/stream:Stream",
                {"streamModeDetails": {"streamMode": mode}, "encryptionType": "KMS", "kmsKeyId": KEY_ARN},
                broken=(({"encryptionType": "NONE"}, "Set encryptionType to KMS."),),
            )
        )
    for billing in enum("dynamodb", "BillingMode"):
        for table_class in enum("dynamodb", "TableClass"):
            props = {
                "billingMode": billing,
                "tableClass": table_class,
                "serverSideEncryption": {"enabled": True, "kmsKeyArn": KEY_ARN},
                "pointInTimeRecovery": {"enabled": True},
            }
            axis = f"billingMode={billing},tableClass={table_class}"
            variants += [
                Variant("aws-dynamodb-table-customer-key", axis, "aws:dynamodb/table:Table", props),
                Variant(
                    "aws-dynamodb-table-pitr",
                    axis,
                    "aws:dynamodb/table:Table",
                    props,
                    broken=(
                        ({"pointInTimeRecovery.enabled": False}, "Set pointInTimeRecovery.enabled to true."),
                    ),
                ),
            ]
    return variants


def sagemaker_endpoint_variants() -> list[Variant]:
    """Instance-based and serverless production variants (botocore sagemaker ProductionVariant
    InstanceType, ServerlessConfig): both take the configuration's KmsKeyId (SageMaker Developer Guide,
    "Create an endpoint configuration" for serverless endpoints: KmsKeyId optional)."""
    members = _model("sagemaker").shape_for("ProductionVariant").members
    assert "ServerlessConfig" in members and "InstanceType" in members
    shapes = {
        "instance": {"instanceType": "ml.m5.large", "initialInstanceCount": 1},
        "serverless": {"serverlessConfig": {"memorySizeInMb": 2048, "maxConcurrency": 5}},
    }
    return [
        Variant(
            "aws-sagemaker-endpoint-encrypted",
            f"productionVariant={kind}",
            "aws:sagemaker/endpointConfiguration:EndpointConfiguration",
            {"kmsKeyArn": KEY_ARN, "productionVariants": [{"modelName": "m", "variantName": "v", **shape}]},
            broken=(({"kmsKeyArn": DELETE}, "Set kmsKeyArn to a customer-managed key."),),
        )
        for kind, shape in shapes.items()
    ]


def ec2_variants() -> list[Variant]:
    """The three ways to launch an instance (instance, launch template, launch configuration): each
    takes IMDSv2, no public IP and encrypted volumes in its own shape."""
    shapes = {
        "aws:ec2/instance:Instance": {
            "metadataOptions": {"httpTokens": "required"},
            "associatePublicIpAddress": False,
            "rootBlockDevice": {"encrypted": True},
            "subnetId": "subnet-1",
            "iamInstanceProfile": "app",
        },
        "aws:ec2/launchTemplate:LaunchTemplate": {
            "metadataOptions": {"httpTokens": "required"},
            "networkInterfaces": [{"associatePublicIpAddress": False}],
            "blockDeviceMappings": [{"deviceName": "/dev/xvda", "ebs": {"encrypted": True}}],
        },
        "aws:ec2/launchConfiguration:LaunchConfiguration": {
            "imageId": "ami-1",
            "instanceType": "t3.micro",
            "metadataOptions": {"httpTokens": "required"},
            "associatePublicIpAddress": False,
            "rootBlockDevice": {"encrypted": True},
        },
    }
    tokens = [t for t in enum("ec2", "HttpTokensState") if t != "optional"]
    assert tokens == ["required"]
    return [
        Variant(
            policy,
            type_.split(":")[1],
            type_,
            props,
            broken=(
                (
                    {"metadataOptions.httpTokens": "optional"},
                    "Set metadataOptions.httpTokens to required (IMDSv2).",
                ),
            )
            if policy == "aws-ec2-imdsv2-required"
            else (),
        )
        for type_, props in shapes.items()
        for policy in ("aws-ec2-imdsv2-required", "aws-ec2-no-public-ip", "aws-ec2-block-devices-encrypted")
    ]


def config_recorder_variants() -> list[Variant]:
    """The Region that records the global IAM resource types, and the others: "These global IAM resource
    types can only be recorded by Config in Regions where Config was available before February 2022"
    (botocore config RecordingGroup.includeGlobalResourceTypes); one Region records them."""
    assert "before February 2022" in member_doc("config", "RecordingGroup", "includeGlobalResourceTypes")
    recorder = "aws:cfg/recorder:Recorder"
    message = "Set recordingGroup.allSupported and recordingGroup.includeGlobalResourceTypes to true."
    home = {"roleArn": UNKNOWN, "recordingGroup": {"allSupported": True, "includeGlobalResourceTypes": True}}
    other = {
        "roleArn": UNKNOWN,
        "recordingGroup": {"allSupported": True, "includeGlobalResourceTypes": False},
    }
    return [
        Variant(
            "aws-config-recorder-all-resources",
            "global-types-region",
            recorder,
            home,
            broken=(({"recordingGroup.includeGlobalResourceTypes": False}, message),),
        ),
        Variant(
            "aws-config-recorder-all-resources",
            "other-region",
            recorder,
            other,
            config=(("globalResourceTypesRecordedElsewhere", True),),
            broken=(({"recordingGroup.allSupported": False}, message),),
        ),
    ]


def storage_and_messaging_variants() -> list[Variant]:
    """EBS volume types (botocore ec2 VolumeType), EFS performance and throughput modes (botocore efs
    PerformanceMode, ThroughputMode) in Regional and One Zone file systems, and standard and FIFO
    topics and queues: each takes a customer key in the same input."""
    variants = []
    for kind in enum("ec2", "VolumeType"):
        props = {"type": kind, "size": 125, "encrypted": True, "kmsKeyId": KEY_ARN}
        variants.append(
            Variant(
                "aws-ebs-volume-encrypted",
                f"type={kind}",
                "aws:ebs/volume:Volume",
                props,
                broken=(({"encrypted": False}, "Set encrypted to true."),),
            )
        )
    variants.append(
        Variant(
            "aws-ebs-volume-encrypted",
            "snapshotCopy",
            "aws:ebs/snapshotCopy:SnapshotCopy",
            {
                "sourceSnapshotId": "snap-1",
                "sourceRegion": "us-east-1",
                "encrypted": True,
                "kmsKeyId": KEY_ARN,
            },
        )
    )
    for performance in enum("efs", "PerformanceMode"):
        for throughput in enum("efs", "ThroughputMode"):
            for zone in ({}, {"availabilityZoneName": "us-east-1a"}):
                props = {
                    "performanceMode": performance,
                    "throughputMode": throughput,
                    "encrypted": True,
                    "kmsKeyId": KEY_ARN,
                    **zone,
                }
                axis = f"{performance},{throughput},{'one-zone' if zone else 'regional'}"
                variants.append(
                    Variant(
                        "aws-efs-encrypted",
                        axis,
                        "aws:efs/fileSystem:FileSystem",
                        props,
                        broken=(({"encrypted": False}, "Set encrypted to true."),),
                    )
                )
    message = "Set kmsMasterKeyId to a customer-managed KMS key (not an AWS-managed alias)."
    for fifo in (False, True):
        variants += [
            Variant(
                "aws-sns-topic-customer-key",
                f"fifoTopic={fifo}",
                "aws:sns/topic:Topic",
                {"fifoTopic": fifo, "kmsMasterKeyId": KEY_ARN},
                broken=(({"kmsMasterKeyId": "alias/aws/sns"}, message),),
            ),
            Variant(
                "aws-sqs-queue-customer-key",
                f"fifoQueue={fifo}",
                "aws:sqs/queue:Queue",
                {"fifoQueue": fifo, "kmsMasterKeyId": KEY_ARN},
                broken=(({"kmsMasterKeyId": "alias/aws/sqs"}, message),),
            ),
        ]
    return variants


# pulumi-aws keeps the aws:alb tokens as aliases of aws:lb (same inputs); the pack judges both.
ALB_ALIASES = {
    "aws:lb/listener:Listener": "aws:alb/listener:Listener",
    "aws:lb/loadBalancer:LoadBalancer": "aws:alb/loadBalancer:LoadBalancer",
}


def load_balancer_variants() -> list[Variant]:
    variants = listener_variants()
    return variants + [
        Variant(
            v.policy,
            v.axis + ",alb-token",
            ALB_ALIASES[v.type],
            v.props,
            v.outcome,
            v.reason,
            v.broken,
            v.config,
        )
        for v in variants
    ]


AXES: dict[str, Callable[[], list[Variant]]] = {
    "EBS, EFS, SNS and SQS kinds": storage_and_messaging_variants,
    "DocumentDB instances": docdb_instance_variants,
    "AWS Config recorder Regions": config_recorder_variants,
    "RDS instance engines": rds_instance_variants,
    "Aurora and Multi-AZ DB cluster engines and modes": cluster_variants,
    "DocumentDB and Neptune engines": document_graph_variants,
    "parameter-group engine families": parameter_group_variants,
    "listener protocols by load balancer type": load_balancer_variants,
    "KMS key specs and key stores": kms_variants,
    "log group classes": log_group_variants,
    "Firehose sources": firehose_variants,
    "ECS operating systems and network modes": ecs_variants,
    "DMS endpoint engines and SSL modes": dms_variants,
    "ElastiCache engines": elasticache_variants,
    "search domain types, TLS policies and log types": search_variants,
    "S3 KMS algorithms": s3_encryption_variants,
    "serverless and NoSQL modes": serverless_variants,
    "EC2 launch shapes": ec2_variants,
    "SageMaker production variants": sagemaker_endpoint_variants,
}

# Hand-written resource policies with no variant axis: the requirement reads a property every resource
# of the type has in the same form, whatever its engine or mode. The reason says why.
NO_AXES = {
    "hipaa-no-phi-in-synthetic-stack": "reads the DataClassification tag, which every taggable type has",
    "hipaa-data-classification-tagged": "reads the DataClassification tag, which every listed data store has",
    "hipaa-no-data-copied-into-synthetic-stack": "reads restore and import inputs",
    "hipaa-no-phi-access-from-synthetic-stack": "reads policy documents, which have one grammar",
    "hipaa-phi-store-protected": "reads the protect resource option, which every resource has",
    "hipaa-baa-eligible-services": "reads the type token against AWS's eligible-services list",
    "aws-s3-bucket-acl-prohibited": "general purpose buckets only (directory buckets are another type)",
    "aws-s3-bucket-ownership-enforced": "one setting with one compliant value (BucketOwnerEnforced)",
    "aws-s3-public-access-block-complete": "four booleans every bucket has",
    "aws-s3-account-public-access-block": "four booleans every account has",
    "aws-s3-bucket-policy-tls-only": "reads policy documents, which have one grammar",
    "aws-s3-bucket-policy-not-public": "reads policy documents, which have one grammar",
    "aws-s3-versioning-enabled": "every general purpose bucket can be versioned",
    "aws-rds-snapshot-not-public": "sharedAccounts and kmsKeyId mean the same for every engine's snapshot",
    "aws-ec2-subnet-no-public-ip-on-launch": "one boolean every subnet has",
    "aws-ec2-default-security-group-closed": "rule lists every security group has",
    "aws-ec2-sg-no-internet-admin-ports": "rule shapes: policy_cases, test_policy_gaps",
    "aws-ec2-sg-internet-ingress-authorized-ports": "rule shapes are covered per type in policy_cases",
    "aws-ec2-instance-profile-attached": "every instance takes an instance profile",
    "aws-ec2-instance-in-vpc": "every current instance type launches into a subnet",
    "aws-ebs-snapshot-not-public": "one account attribute",
    "aws-ebs-encryption-by-default": "one regional boolean",
    "aws-autoscaling-elb-health-check": "applies only when the group has load balancers or target groups",
    "aws-elb-classic-secure": "one type; HTTPS and SSL listeners on every one",
    "aws-iam-no-users": "refuses the type itself",
    "aws-iam-no-admin-or-full-service-access": "reads policy documents, which have one grammar",
    "aws-iam-no-broad-kms-decrypt": "reads policy documents, which have one grammar",
    "aws-iam-no-privilege-escalation": "every document kind: tests/test_privilege_escalation.py",
    "aws-iam-no-inline-policies": "every role, user and group can use managed policies",
    "aws-iam-role-trust-not-public": "reads trust policies, which have one grammar",
    "aws-iam-password-policy": "one account setting",
    "aws-cloudtrail-trail-secure": "every trail (single-, multi-region, organization) takes these inputs",
    "aws-cloudwatch-alarm-has-action": "every metric alarm takes alarm actions",
    "aws-backup-vault-customer-key": "every vault takes a customer key (air-gapped: another type)",
    "aws-backup-plan-retention": "lifecycle rules have one shape",
    "aws-guardduty-detector-enabled": "one boolean",
    "aws-config-recorder-on": "one boolean",
    "aws-secretsmanager-secret-customer-key": "every secret takes kmsKeyId",
    "aws-dynamodb-table-scales": "advisory capacity policy; billing modes are its own subject",
    "aws-redshift-cluster-secure": "every node type supports encryption with a customer key",
    "aws-redshift-require-tls": "one parameter family for every provisioned cluster",
    "aws-lambda-not-public": "principals and function URL auth types: policy_cases",
    "aws-apigateway-execution-logging": "REST method settings only",
    "aws-sagemaker-notebook-secure": "every notebook platform takes these inputs",
    "aws-emr-cluster-secure": "release labels: the log-key releases are tested in test_policy_gaps",
    "aws-emr-block-public-access": "one account setting",
    "aws-dms-replication-instance-private": "every replication instance class is private and takes a key",
    "aws-codebuild-project-no-credentials": "environment variables and source URLs have one shape",
    "aws-ssm-document-not-public": "sharing permissions have one shape",
    "aws-elasticbeanstalk-managed-updates": "every platform supports managed platform updates",
    "aws-ssoadmin-inline-policy-no-admin-or-full-service-access": "reads policy documents, one grammar",
    "aws-ssoadmin-inline-policy-no-broad-kms-decrypt": "reads policy documents, which have one grammar",
    "aws-ssoadmin-managed-policy-not-forbidden": "reads managed policy ARNs",
    "aws-ssoadmin-permissions-boundary-not-admin": "reads managed policy ARNs",
    "aws-ssoadmin-permission-set-session-duration": "one ISO-8601 duration",
    "aws-opensearch-serverless-access-policy-not-public": "reads its own policy JSON, one grammar",
    "aws-opensearch-serverless-security-policy": "reads its own policy JSON, one grammar",
}
# The data-driven family policies (data_controls.py) judge hundreds of types from rule files; each
# type's variants have hand-written compliant forms there (tests/test_data_controls_*.py,
# test_compliant_form_of_every_variant_passes).
DATA_DRIVEN = {policy.name for policy in data_controls.POLICIES}
DATA_DRIVEN_REASON = "data-driven rules: compliant form of every variant in tests/test_data_controls_*.py"


@functools.cache
def all_variants() -> list[Variant]:
    return [v for build in AXES.values() for v in build()]


def _resource_policies() -> dict[str, set[str]]:
    """Every hand-written resource policy of the pack and the types it judges."""
    found: dict[str, set[str]] = {}
    for policy in ALL_POLICIES:
        if isinstance(policy, TypedResourcePolicy) and policy.name not in DATA_DRIVEN:
            found.setdefault(policy.name, set()).update(policy.resource_types or ())
    return found


# ---------------------------------------------------------------- the pack over the Analyzer protocol


def analyze(pack, type_: str, props: dict) -> tuple[dict[str, list[str]], dict[str, str], list[str]]:
    """(violations by policy, not-applicable reasons by policy, policies not judged)."""
    response = pack.stub.Analyze(
        analyzer_pb2.AnalyzeRequest(
            type=type_,
            properties=to_struct(props),
            urn=f"urn:pulumi:stack::project::{type_}::subject",
            name="subject",
            options=analyzer_pb2.AnalyzerResourceOptions(),
        )
    )
    verdict = pack._verdict(response)
    violations: dict[str, list[str]] = {}
    for diagnostic in verdict.violations:
        violations.setdefault(diagnostic.policy, []).append(diagnostic.violation)
    reasons = {n.policy_name: n.reason for n in response.not_applicable}
    return violations, reasons, [d.policy for d in verdict.not_judged]


@pytest.fixture(scope="module")
def default_pack(pack):
    pack.configure({})
    return pack


@pytest.fixture
def configured(default_pack):
    """The pack with a variant's policy config, reset afterwards."""

    def configure(variant: Variant):
        default_pack.configure({variant.policy: dict(variant.config)} if variant.config else {})
        return default_pack

    yield configure
    default_pack.configure({})


@pytest.mark.parametrize("variant", all_variants(), ids=lambda v: v.id)
def test_each_variant_is_compliant_or_not_applicable(configured, variant):
    violations, reasons, unjudged = analyze(configured(variant), variant.type, variant.props)
    assert violations.get(variant.policy, []) == [], variant.props
    assert variant.policy not in unjudged
    if variant.outcome == PASS:
        assert variant.policy not in reasons, reasons.get(variant.policy)
    else:
        assert variant.reason in reasons.get(variant.policy, ""), reasons.get(variant.policy)


@pytest.mark.parametrize("variant", [v for v in all_variants() if v.broken], ids=lambda v: v.id)
def test_each_variant_without_the_control_is_still_flagged(configured, variant):
    pack = configured(variant)
    for patch, message in variant.broken:
        violations, _, _ = analyze(pack, variant.type, patched(variant.props, patch))
        assert message in violations.get(variant.policy, []), (patch, violations.get(variant.policy))


def test_every_hand_written_resource_policy_has_axes_or_a_reason():
    """Every policy of ALL_POLICIES with resource types: varied here, exempt here with its reason, or
    one of the data-driven family policies (DATA_DRIVEN_REASON)."""
    typed = {p.name for p in ALL_POLICIES if isinstance(p, TypedResourcePolicy) and p.resource_types}
    assert typed - set(_resource_policies()) == DATA_DRIVEN, DATA_DRIVEN_REASON
    policies = _resource_policies()
    with_axes = {v.policy for v in all_variants()}
    assert not with_axes & set(NO_AXES), "a policy is either varied or exempt, not both"
    missing = set(policies) - with_axes - set(NO_AXES)
    assert not missing, (
        f"declare variant axes (AXES) or the reason there are none (NO_AXES): {sorted(missing)}"
    )
    assert not set(NO_AXES) - set(policies), "NO_AXES names a policy the pack does not have"
    assert all(reason.strip() for reason in NO_AXES.values())


def test_each_varied_type_is_a_type_its_policy_judges():
    policies = _resource_policies()
    for variant in all_variants():
        assert variant.type in policies[variant.policy], variant.id


def test_every_type_of_a_varied_policy_has_a_variant():
    """A varied policy is varied on each type it judges, not on one of them."""
    policies = _resource_policies()
    varied: dict[str, set[str]] = {}
    for variant in all_variants():
        varied.setdefault(variant.policy, set()).add(variant.type)
    missing = {
        policy: sorted(policies[policy] - types)
        for policy, types in varied.items()
        if types != policies[policy]
    }
    assert not missing


def test_every_axis_value_is_placed():
    """A value botocore adds (an engine, a protocol) must be placed by this file, never skipped."""
    for engine in valid_values("rds", "CreateDBInstanceMessage", "Engine"):
        if not engine.startswith(("custom-", "aurora-")):
            engine_name(engine, RDS_ENGINE_NAMES)  # exactly one documentation name
        tls_setting(engine)  # exactly one TLS mechanism
    for engine in valid_values("rds", "CreateDBClusterMessage", "Engine"):
        if engine != "neptune":
            engine_name(engine, CLUSTER_ENGINE_NAMES)
    assert set(RDS_ENGINE_NAMES) <= set(log_types("rds", "CreateDBInstanceMessage"))
    assert set(CLUSTER_ENGINE_NAMES) <= set(log_types("rds", "CreateDBClusterMessage"))
    placed = {p for protocols in listener_protocols().values() for p in protocols} | set(
        TARGET_ONLY_PROTOCOLS
    )
    assert placed == set(enum("elbv2", "ProtocolEnum"))
    listener = {p for protocols in listener_protocols().values() for p in protocols}
    assert listener <= set(ENCRYPTED_LISTENER + PASSTHROUGH_LISTENER + ("HTTP",)), listener
    assert set(listener_protocols()) == set(enum("elbv2", "LoadBalancerTypeEnum"))
    assert set(FIREHOSE_SOURCE_INPUT) == set(enum("firehose", "DeliveryStreamType"))
    engines = dms_engine_names()
    assert {"mysql", "postgres", "s3", "kafka", "redis", "dms-transfer"} <= set(engines), engines
    assert DMS_WITHOUT_SSL_MODE <= set(engines) and set(DMS_SETTINGS_TLS) <= set(engines)
    assert NO_MULTI_AZ <= set(instance_engines())
    assert set(RETIRED_ENGINE_MODES) <= set(
        re.findall(r"either (\w+) or (\w+)", member_doc("rds", "CreateDBClusterMessage", "EngineMode"))[0]
    )


# Policy -> the CreateDBInstance member it requires. botocore rds documents each of these as "doesn't
# apply to Amazon Aurora" (the DB cluster manages it), so the policy must not judge an Aurora
# instance (aws.rds.ClusterInstance; pulumi-aws rds.Instance has no cluster identifier input).
CLUSTER_MANAGED = {
    "aws-rds-iam-authentication": "EnableIAMDatabaseAuthentication",
    "aws-rds-logs-exported": "EnableCloudwatchLogsExports",
    "aws-rds-backup-retention": "BackupRetentionPeriod",
    "aws-rds-deletion-protection": "DeletionProtection",
    "aws-rds-storage-encrypted": "StorageEncrypted",
    "aws-rds-multi-az": "MultiAZ",
    "aws-rds-managed-master-password": "MasterUserPassword",
}


def test_settings_the_aurora_cluster_manages_are_not_demanded_of_its_instances():
    policies = _resource_policies()
    for policy, member in CLUSTER_MANAGED.items():
        text = member_doc("rds", "CreateDBInstanceMessage", member)
        assert re.search(r"(doesn't apply to|isn't)[^.]*Aurora|managed by the DB cluster", text), member
        assert CLUSTER_INSTANCE not in policies[policy], policy
        # judged on the cluster instead; Multi-AZ is what an Aurora or Multi-AZ DB cluster is (its
        # storage and instances span Availability Zones), so there is no cluster setting to demand
        assert (CLUSTER in policies[policy]) is (policy != "aws-rds-multi-az"), policy


def test_the_variant_matrix_is_large():
    """Guards the parsers: a botocore change that empties an axis would otherwise pass silently."""
    variants = all_variants()
    by_axis = {name: len(build()) for name, build in AXES.items()}
    assert all(count for count in by_axis.values()), by_axis
    assert len({v.policy for v in variants}) >= 35
    assert len(variants) >= 300, len(variants)
    assert len({v.axis for v in variants if v.type == INSTANCE}) == len(instance_engines())


def test_a_variant_reason_names_aws_source(default_pack):
    """The "not applicable" answers an auditor reads name where AWS says so."""
    for variant in [v for v in all_variants() if v.outcome == NOT_APPLICABLE]:
        _, reasons, _ = analyze(default_pack, variant.type, variant.props)
        reason = reasons[variant.policy]
        assert re.search(r"botocore|AWS|User Guide|RFC", reason), (variant.id, reason)
