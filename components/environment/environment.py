"""The environment layer of one stack: keys, network, PHI storage, database, audit trail, alarms,
workload and break-glass identities, backups, wired in dependency order.

Every stack creates it, under the destroy contract: in a PHI stack everything that holds PHI or
audit evidence is protected and COMPLIANCE-locked; in a synthetic stack `pulumi destroy` removes
everything (README, "Tearing down"). The account layer (components/account/) and the application
tier (components/application/) are composed beside it in `__main__.py`, as its children, so their
URNs are what they were when this component built them.
"""

from __future__ import annotations

from typing import Optional

import pulumi
import pulumi_aws as aws

from components.app_audit_archive import archive_bucket_arn
from components.aws_context import AwsContext
from components.environment.audit_trail import AuditTrail, AuditTrailArgs
from components.environment.backup import Backup, BackupArgs
from components.environment.break_glass import BreakGlassAccess, BreakGlassAccessArgs
from components.environment.containment.containment import Containment, ContainmentArgs
from components.environment.network import Network, NetworkArgs
from components.environment.phi_bucket import PhiBucket, PhiBucketArgs
from components.environment.phi_database import PhiDatabase, PhiDatabaseArgs
from components.environment.security_alarms import SecurityAlarms, SecurityAlarmsArgs
from components.environment.workload_role import WorkloadRole, WorkloadRoleArgs
from components.key_ring import (
    CACHE_KEY_PURPOSE, DELETION_WINDOW_DAYS, KEY_PURPOSES, NON_PHI_DELETION_WINDOW_DAYS,
    SESSIONS_KEY_PURPOSE, KeyRing, KeyRingArgs,
)
from components.settings import Settings


def default_key_administrators(stack: str, ctx: AwsContext) -> tuple[str, ...]:
    """The stack's CI deploy role, created by bootstrap/ (bootstrap/ci_roles.py)."""
    return (ctx.arn("iam", f"role/hipaa-aws/ci/hipaa-aws-{stack}-deploy", region=False),)


def availability_zones(count: int) -> list[str]:
    """The first `count` Availability Zones of the region: never a Local Zone, which the data
    source also returns once opted in (and which lacks RDS Multi-AZ and NAT gateways)."""
    zones = aws.get_availability_zones(
        state="available",
        filters=[aws.GetAvailabilityZonesFilterArgs(name="opt-in-status", values=["opt-in-not-required"])],
    ).names
    if len(zones) < count:
        raise pulumi.RunError(f"availabilityZoneCount is {count} but the region has only {len(zones)} "
                              f"Availability Zones: {', '.join(zones)}")
    return list(zones[:count])


class HipaaEnvironment(pulumi.ComponentResource):
    keys: KeyRing
    network: Network
    phi_bucket: PhiBucket
    database: PhiDatabase
    audit_trail: AuditTrail
    alarms: SecurityAlarms
    workload_role: WorkloadRole
    break_glass: BreakGlassAccess
    backup: Backup
    containment: Optional[Containment]
    """Containment runbooks and their roles (with an application: the Fargate service's runbook)."""
    key_administrators: tuple[str, ...]
    """Who administers the stack's keys (and the account layer's, when this stack owns it)."""

    def __init__(self, name: str, settings: Settings, ctx: AwsContext,
                 opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("hipaa:components:HipaaEnvironment", name, None, opts)
        phi = settings.holds_phi
        stack = settings.stack
        owned = settings.account_baseline == "owned"
        child = pulumi.ResourceOptions(parent=self)
        # What holds PHI or audit evidence cannot be deleted by a stray `up` or `destroy` in a PHI
        # stack (children inherit protect); in a synthetic stack nothing is protected.
        evidence = pulumi.ResourceOptions(parent=self, protect=phi)
        administrators = settings.key_administrators or default_key_administrators(stack, ctx)
        self.key_administrators = tuple(administrators)
        log_retention = settings.audit_log_retention_days

        app = settings.app
        purposes = (KEY_PURPOSES + ((SESSIONS_KEY_PURPOSE,) if app else ())
                    + ((CACHE_KEY_PURPOSE,) if settings.cache else ()))
        self.keys = KeyRing(f"{name}-keys", KeyRingArgs(
            stack=stack, aws=ctx, administrators=administrators, purposes=purposes,
            deletion_window_days=DELETION_WINDOW_DAYS if phi else NON_PHI_DELETION_WINDOW_DAYS,
        ), opts=evidence)
        self.network = Network(f"{name}-network", NetworkArgs(
            stack=stack, aws=ctx, vpc_cidr=settings.vpc_cidr,
            availability_zones=availability_zones(settings.availability_zone_count),
            nat_gateway_per_az=settings.nat_gateway_per_az, app_port=settings.app_port,
            flow_log_retention_days=log_retention, logs_key_arn=self.keys.arn("logs"),
            protect_flow_logs=phi, client_cidrs=app.allowed_client_cidrs if app else ("0.0.0.0/0",),
            redirect_http=app is not None,
        ), opts=child)
        self.phi_bucket = PhiBucket(f"{name}-phi", PhiBucketArgs(
            stack=stack, aws=ctx, storage_key_arn=self.keys.arn("storage"), holds_phi=phi,
            archive_transition_days=settings.storage.archive_transition_days,
            noncurrent_version_expiration_days=settings.storage.noncurrent_version_expiration_days,
        ), opts=evidence)
        self.database = PhiDatabase(f"{name}-db", PhiDatabaseArgs(
            stack=stack, aws=ctx, settings=settings.database, holds_phi=phi,
            data_subnet_ids=self.network.subnet_ids["data"],
            security_group_id=self.network.security_group_ids["db"],
            database_key_arn=self.keys.arn("database"), secrets_key_arn=self.keys.arn("secrets"),
            log_retention_days=log_retention,
        ), opts=evidence)

        # The application's audit archive (AppAuditTrail) holds patient ids: the trail records its object
        # reads and writes. Its name is known before the application tier creates it.
        audit_archive = (archive_bucket_arn(ctx, stack),) if app else ()
        self.audit_trail = AuditTrail(f"{name}-audit", AuditTrailArgs(
            stack=stack, aws=ctx, logs_key_arn=self.keys.arn("logs"),
            access_log_bucket=self.phi_bucket.access_logs.bucket_name, retention_days=log_retention,
            phi_bucket_arns=[self.phi_bucket.arn], known_phi_bucket_arns=audit_archive, holds_phi=phi,
            management_events=owned,
        ), opts=evidence)
        self.break_glass = BreakGlassAccess(f"{name}-break-glass", BreakGlassAccessArgs(
            stack=stack, aws=ctx), opts=child)
        self.alarms = SecurityAlarms(f"{name}-alarms", SecurityAlarmsArgs(
            stack=stack, aws=ctx, alerting_key_arn=self.keys.arn("alerting"),
            alert_email=settings.alert_email, trail_log_group_name=self.audit_trail.log_group_name,
            phi_bucket_name=self.phi_bucket.bucket_name,
            phi_read_threshold=settings.phi_read_alarm_threshold,
            account_wide=owned, key_administrators=list(administrators),
        ), opts=child)
        self.workload_role = WorkloadRole(f"{name}-workload", WorkloadRoleArgs(
            stack=stack, aws=ctx, phi_bucket_arn=ctx.bucket_arn(ctx.bucket_name(stack, "phi-documents")),
            database_user=self.database.app_user,
        ), opts=child)
        self.backup = Backup(f"{name}-backup", BackupArgs(
            stack=stack, aws=ctx, backup_key_arn=self.keys.arn("backup"),
            resource_arns=[self.database.instance.arn, self.phi_bucket.arn],
            holds_phi=phi, copy_region=settings.backup_copy_region,
            key_administrators=administrators,
            key_deletion_window_days=DELETION_WINDOW_DAYS if phi else NON_PHI_DELETION_WINDOW_DAYS,
        ), opts=evidence)
        self.containment = Containment(f"{name}-containment", ContainmentArgs(
            stack=stack, aws=ctx, vpc_id=self.network.vpc_id,
            service_security_group_id=self.network.security_group_ids["app"],
            task_role_name=f"hipaa-aws-{stack}-workload", restore_desired_count=app.desired_count,
            storage_key_arn=self.keys.arn("storage"),
            access_log_bucket=self.phi_bucket.access_logs.bucket_name,
            phi_bucket_arns=[ctx.bucket_arn(ctx.bucket_name(stack, "phi-documents"))], holds_phi=phi,
        ), opts=child) if app else None
        self.register_outputs({})

    def operator_outputs(self) -> dict[str, pulumi.Input]:
        """What an operator needs after `pulumi up`."""
        return {
            "vpcId": self.network.vpc_id,
            "publicSubnetIds": self.network.subnet_ids["public"],
            "appSubnetIds": self.network.subnet_ids["app"],
            "dataSubnetIds": self.network.subnet_ids["data"],
            "databaseEndpoint": self.database.endpoint,
            "databaseIamUser": self.database.app_user,
            "databaseSecretArn": self.database.secret_arn,
            "databaseBreakGlassRoleArn": self.break_glass.role_arn,
            "phiBucketName": self.phi_bucket.bucket_name,
            "accessLogBucketName": self.phi_bucket.access_logs.bucket_name,
            "trailArn": self.audit_trail.trail_arn,
            "alertTopicArn": self.alarms.topic_arn,
            "workloadRoleArn": self.workload_role.role_arn,
            "backupVaultName": self.backup.vault_name,
            "keyArns": {purpose: key.arn for purpose, key in self.keys.keys.items()},
            **({"containment": {
                "fargateRunbook": self.containment.fargate_document_name,
                "automationRoleArns": self.containment.role_arns,
                "backupBucketName": self.containment.backup_bucket_name,
                "isolationSecurityGroupId": self.containment.isolation_security_group_id,
            }} if self.containment else {}),
        }
