"""The PHI database: RDS PostgreSQL, encrypted, TLS-only, audited, in the data subnets."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Optional

import pulumi
import pulumi_aws as aws

from components.aws_context import AwsContext
from components.policy_documents import database_user, service_trust_policy
from components.role_policy import iam_path
from components.settings import DatabaseSettings

MASTER_USERNAME = "app_admin"
LOG_EXPORTS = ("postgresql", "upgrade")
MONITORING_INTERVAL_SECONDS = 60

# rds.force_ssl is dynamic; shared_preload_libraries is static and needs a reboot.
PARAMETERS = (
    ("rds.force_ssl", "1", "immediate"),
    ("ssl_min_protocol_version", "TLSv1.2", "immediate"),
    ("shared_preload_libraries", "pgaudit,pg_stat_statements", "pending-reboot"),
    ("pgaudit.log", "ddl,role,write", "immediate"),
    ("pgaudit.role", "rds_pgaudit", "immediate"),
    ("log_connections", "1", "immediate"),
    ("log_disconnections", "1", "immediate"),
)


@dataclass(frozen=True)
class PhiDatabaseArgs:
    stack: str
    aws: AwsContext
    settings: DatabaseSettings
    data_subnet_ids: Sequence[pulumi.Input[str]]
    security_group_id: pulumi.Input[str]
    database_key_arn: pulumi.Input[str]
    """Storage, snapshots, Performance Insights, and the PostgreSQL log groups."""
    secrets_key_arn: pulumi.Input[str]
    log_retention_days: int
    holds_phi: bool
    """A PHI database keeps a final snapshot and its automated backups when deleted."""


def final_snapshot_name(identifier: str, now: Optional[datetime] = None) -> str:
    """A final-snapshot name unique to the first creation: a fixed name fails the second
    delete-and-create cycle (DBSnapshotAlreadyExists). The instance ignores later changes to it, so
    the name chosen then is the one used at deletion (a replacement would reuse it, but a PHI
    instance is protected and deletion-protected, so it is never replaced by `pulumi up`)."""
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%d%H%M%S")
    return f"{identifier}-final-{stamp}"


def _master_secret_arn(secrets) -> str:
    """RDS reports the secret it manages (manage_master_user_password) once the instance exists."""
    if not secrets or not secrets[0].secret_arn:
        raise pulumi.RunError("RDS reported no managed master secret for the PHI database")
    return secrets[0].secret_arn


class PhiDatabase(pulumi.ComponentResource):
    instance: aws.rds.Instance
    """The database instance."""
    endpoint: pulumi.Output[str]
    """host:port clients connect to (TLS required)."""
    secret_arn: pulumi.Output[str]
    """Secrets Manager secret holding the master credentials (managed by RDS); break-glass only."""
    app_user: str
    """The application's IAM-authenticated database user (created once by hand, README)."""
    identifier: str
    """The instance identifier."""
    postgresql_log_group_name: pulumi.Output[str]
    """The log group RDS exports the PostgreSQL log to (pgAudit, connections, failed logins): an
    output of the group, so whatever reads it waits until the group exists."""

    DATABASE_NAME = "app"

    def __init__(self, name: str, args: PhiDatabaseArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("hipaa:components:PhiDatabase", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        db = args.settings
        self.identifier = f"hipaa-aws-{args.stack}"
        self.app_user = database_user(args.stack, "app")

        subnet_group = aws.rds.SubnetGroup(
            name, description="Data tier subnets (no internet route)",
            subnet_ids=args.data_subnet_ids, opts=child,
        )
        parameter_group = aws.rds.ParameterGroup(
            name, family=db.parameter_group_family,
            description="TLS-only PostgreSQL with pgAudit and connection logging",
            parameters=[aws.rds.ParameterGroupParameterArgs(name=n, value=v, apply_method=m)
                        for n, v, m in PARAMETERS],
            opts=child,
        )
        # Created here (not by RDS) so they are KMS-encrypted and kept six years. pgAudit puts
        # statement text, which can hold PHI, into the postgresql log: these groups are
        # encrypted with the database key and classified like the database itself. CloudWatch
        # Logs decrypts for anyone allowed logs:GetLogEvents, so readers are limited by IAM: no
        # workload role may read logs, and the workforce read-only set is denied log contents.
        log_groups = [
            aws.cloudwatch.LogGroup(
                f"{name}-{export}", name=f"/aws/rds/instance/{self.identifier}/{export}",
                retention_in_days=args.log_retention_days, kms_key_id=args.database_key_arn,
                tags={"Purpose": "database-audit-log", "Contents": "sql-statements-may-hold-phi"},
                opts=child,
            )
            for export in LOG_EXPORTS
        ]
        monitoring_role = aws.iam.Role(
            f"{name}-monitoring", description="RDS enhanced monitoring", path=iam_path(args.stack),
            assume_role_policy=service_trust_policy("monitoring.rds.amazonaws.com", args.aws),
            opts=child,
        )
        attachment = aws.iam.RolePolicyAttachment(
            f"{name}-monitoring", role=monitoring_role.name,
            policy_arn=f"arn:{args.aws.partition}:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole",
            opts=child,
        )

        restore = None
        if db.restore_from_instance:
            restore = aws.rds.InstanceRestoreToPointInTimeArgs(
                source_db_instance_identifier=db.restore_from_instance,
                use_latest_restorable_time=True)

        self.instance = aws.rds.Instance(
            name,
            identifier=self.identifier,
            engine="postgres",
            engine_version=db.engine_version,
            instance_class=db.instance_class,
            allocated_storage=db.allocated_storage_gb,
            max_allocated_storage=db.max_allocated_storage_gb,
            storage_type="gp3",
            storage_encrypted=True,
            kms_key_id=args.database_key_arn,
            db_name=None if (db.snapshot_identifier or restore) else self.DATABASE_NAME,
            username=None if (db.snapshot_identifier or restore) else MASTER_USERNAME,
            manage_master_user_password=True,
            master_user_secret_kms_key_id=args.secrets_key_arn,
            iam_database_authentication_enabled=True,
            db_subnet_group_name=subnet_group.name,
            vpc_security_group_ids=[args.security_group_id],
            publicly_accessible=False,
            parameter_group_name=parameter_group.name,
            ca_cert_identifier="rds-ca-rsa2048-g1",
            enabled_cloudwatch_logs_exports=list(LOG_EXPORTS),
            performance_insights_enabled=True,
            performance_insights_kms_key_id=args.database_key_arn,
            performance_insights_retention_period=7,
            monitoring_interval=MONITORING_INTERVAL_SECONDS,
            monitoring_role_arn=monitoring_role.arn,
            auto_minor_version_upgrade=True,
            allow_major_version_upgrade=False,
            multi_az=db.multi_az,
            deletion_protection=db.deletion_protection,
            backup_retention_period=db.backup_retention_days,
            backup_window="03:00-04:00",
            maintenance_window="sun:04:30-sun:05:30",
            copy_tags_to_snapshot=True,
            # PHI: a final snapshot and the automated backups outlive the instance. Synthetic:
            # `pulumi destroy` leaves nothing behind.
            delete_automated_backups=not args.holds_phi,
            skip_final_snapshot=not args.holds_phi,
            final_snapshot_identifier=final_snapshot_name(self.identifier) if args.holds_phi else None,
            snapshot_identifier=db.snapshot_identifier,
            restore_to_point_in_time=restore,
            # Replaced only by a change to an input CreateDBInstance alone takes (key, storage
            # encryption, database name, master user: no ModifyDBInstance member), under the same
            # identifier, which the log groups above and the alarms' filters name: the old
            # instance must go first (DBInstanceAlreadyExists otherwise). Synthetic data only; a
            # PHI stack's instance is protected, and Pulumi refuses to replace it at all.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[*log_groups, attachment],
                                        ignore_changes=["finalSnapshotIdentifier"],
                                        delete_before_replace=not args.holds_phi),
        )
        self.postgresql_log_group_name = log_groups[LOG_EXPORTS.index("postgresql")].name
        self.endpoint = self.instance.endpoint
        self.secret_arn = self.instance.master_user_secrets.apply(_master_secret_arn)
        self.register_outputs({"endpoint": self.endpoint, "secret_arn": self.secret_arn,
                               "postgresql_log_group_name": self.postgresql_log_group_name})
