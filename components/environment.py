"""One HIPAA-ready environment: the components wired in dependency order.

Two layers:
- the account layer (`AccountLayer`), created only where this stack owns the account's
  region-wide controls (`accountBaseline: owned`), every resource kept on delete;
- the environment layer, created by every stack, under the destroy contract: in a PHI stack
  everything that holds PHI or audit evidence is protected and COMPLIANCE-locked; in a
  synthetic stack `pulumi destroy` removes everything (README, "Tearing down").
"""

from __future__ import annotations

from typing import Optional

import pulumi
import pulumi_aws as aws

from .account_layer import AccountLayer, AccountLayerArgs
from .account_settings import AccountLayerSettings
from .app_alarms import AppAlarms, AppAlarmsArgs
from .app_service import AppService, AppServiceArgs
from .audit_trail import AuditTrail, AuditTrailArgs
from .aws_context import AwsContext
from .backup import Backup, BackupArgs
from .break_glass import BreakGlassAccess, BreakGlassAccessArgs
from .ingress import Ingress, IngressArgs
from .key_ring import (
    CACHE_KEY_PURPOSE, DELETION_WINDOW_DAYS, KEY_PURPOSES, NON_PHI_DELETION_WINDOW_DAYS,
    SESSIONS_KEY_PURPOSE, KeyRing, KeyRingArgs,
)
from .network import Network, NetworkArgs
from .operator_access import OperatorAccess, OperatorAccessArgs
from .phi_bucket import PhiBucket, PhiBucketArgs
from .phi_database import PhiDatabase, PhiDatabaseArgs
from .security_alarms import SecurityAlarms, SecurityAlarmsArgs
from .session_cache import SessionCache, SessionCacheArgs
from .settings import Settings
from .workforce_access import WorkforceAccess, WorkforceAccessArgs
from .workload_role import WorkloadRole, WorkloadRoleArgs


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
    account_layer: Optional[AccountLayer]
    """The account's region-wide controls, when this stack owns them."""
    alarms: SecurityAlarms
    workload_role: WorkloadRole
    break_glass: BreakGlassAccess
    backup: Backup
    ingress: Optional[Ingress]
    """The application tier, when `app` is set."""
    app_service: Optional[AppService]
    operator_access: Optional[OperatorAccess]
    cache: Optional[SessionCache]
    """The session cache, when `cache` is set."""
    workforce: Optional[WorkforceAccess]
    """Identity Center permission sets, when `identityCenter` is set."""

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

        self.audit_trail = AuditTrail(f"{name}-audit", AuditTrailArgs(
            stack=stack, aws=ctx, logs_key_arn=self.keys.arn("logs"),
            access_log_bucket=self.phi_bucket.access_logs.bucket_name, retention_days=log_retention,
            phi_bucket_arns=[self.phi_bucket.arn], holds_phi=phi, management_events=owned,
        ), opts=evidence)
        self.account_layer = AccountLayer(f"{name}-account", AccountLayerArgs(
            stack=stack, aws=ctx, key_administrators=administrators,
            authorized_vpc_id=self.network.vpc_id, log_retention_days=log_retention,
            adoption=settings.account_layer or AccountLayerSettings.model_validate({}),
        ), opts=evidence) if owned else None

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
        self.ingress, self.app_service, self.operator_access = None, None, None
        self.cache = SessionCache(f"{name}-cache", SessionCacheArgs(
            stack=stack, aws=ctx, settings=settings.cache, holds_phi=phi, vpc_id=self.network.vpc_id,
            data_subnet_ids=self.network.subnet_ids["data"],
            app_security_group_id=self.network.security_group_ids["app"],
            cache_key_arn=self.keys.arn("cache"), workload_role_name=self.workload_role.role.name,
            logs_key_arn=self.keys.arn("logs"), log_retention_days=log_retention,
        ), opts=child) if settings.cache else None
        if app:
            self._application_tier(name, settings, ctx)
        self.workforce = WorkforceAccess(f"{name}-workforce", WorkforceAccessArgs(
            stack=stack, aws=ctx, settings=settings.identity_center,
            phi_bucket_arn=ctx.bucket_arn(ctx.bucket_name(stack, "phi-documents")),
            # Identity Center sign-ins are management events: in the owner's trail only.
            alarm_log_group_name=self.audit_trail.log_group_name if owned else None,
            alert_topic_arn=self.alarms.topic_arn,
        ), opts=child) if settings.identity_center else None
        self.register_outputs({})

    def _application_tier(self, name: str, settings: Settings, ctx: AwsContext) -> None:
        """HTTPS ingress, the container service, operator access and their alarms."""
        assert settings.app is not None
        child = pulumi.ResourceOptions(parent=self)
        stack, log_retention = settings.stack, settings.audit_log_retention_days
        self.ingress = Ingress(f"{name}-ingress", IngressArgs(
            stack=stack, aws=ctx, settings=settings.app, holds_phi=settings.holds_phi,
            vpc_id=self.network.vpc_id, public_subnet_ids=self.network.subnet_ids["public"],
            security_group_id=self.network.security_group_ids["lb"], app_port=settings.app_port,
            logs_key_arn=self.keys.arn("logs"), log_retention_days=log_retention,
        ), opts=child)
        self.app_service = AppService(f"{name}-app", AppServiceArgs(
            stack=stack, aws=ctx, settings=settings.app, holds_phi=settings.holds_phi,
            app_port=settings.app_port, app_subnet_ids=self.network.subnet_ids["app"],
            app_security_group_id=self.network.security_group_ids["app"],
            target_group_arn=self.ingress.target_group.arn, listener=self.ingress.https_listener,
            workload_role=self.workload_role.role, storage_key_arn=self.keys.arn("storage"),
            logs_key_arn=self.keys.arn("logs"), sessions_key_arn=self.keys.arn("sessions"),
            log_retention_days=log_retention,
            environment={"DATABASE_NAME": PhiDatabase.DATABASE_NAME, "DATABASE_USER": self.database.app_user,
                         "DATABASE_PORT": "5432", "DATABASE_SSLMODE": "verify-full",
                         "PHI_BUCKET": ctx.bucket_name(stack, "phi-documents"), "AWS_REGION": ctx.region,
                         **({"CACHE_PORT": str(self.cache.port), "CACHE_USER": self.cache.user_id,
                             "CACHE_TLS": "true"} if self.cache else {})},
            parameters={"DATABASE_HOST": self.database.instance.address,
                        **({"CACHE_HOST": self.cache.endpoint} if self.cache else {})},
        ), opts=child)
        self.operator_access = OperatorAccess(f"{name}-operator", OperatorAccessArgs(
            stack=stack, aws=ctx, vpc_id=self.network.vpc_id, app_subnet_ids=self.network.subnet_ids["app"],
            endpoint_security_group_id=self.network.security_group_ids["endpoints"],
            app_security_group_id=self.network.security_group_ids["app"],
            exec_log_group_arn=self.app_service.exec_log_group_arn, logs_key_arn=self.keys.arn("logs"),
            log_retention_days=log_retention, holds_phi=settings.holds_phi,
        ), opts=child)
        AppAlarms(f"{name}-app-alarms", AppAlarmsArgs(
            stack=stack, region=ctx.region, topic_arn=self.alarms.topic_arn,
            load_balancer_arn_suffix=self.ingress.load_balancer.arn_suffix,
            target_group_arn_suffix=self.ingress.target_group.arn_suffix,
            web_acl_name=self.ingress.web_acl.name,
            database_log_group_name=self.database.postgresql_log_group_name,
        ), opts=child)

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
            "accountBaseline": "owned" if self.account_layer else "external",
            **({"applicationUrl": self.ingress.url, "loadBalancerDnsName": self.ingress.dns_name,
                "imageRepositoryUrl": self.app_service.repository_url,
                "ecsCluster": self.app_service.cluster_name, "ecsService": self.app_service.service_name,
                "databaseAccessTaskFamily": self.operator_access.task_family}
               if self.ingress and self.app_service and self.operator_access else {}),
        }
