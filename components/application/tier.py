"""The application tier of one environment: HTTPS ingress, the container service, operator access,
their alarms, the session cache and the workforce permission sets, each when its settings are set.

It sits on top of the environment layer (network, keys, database, workload role, alert topic) and is
composed by `__main__.py`; its components are children of the environment, so their URNs are the
ones they had when the environment component created them.
"""

from __future__ import annotations

from typing import Optional

import pulumi

from components.application.app_alarms import AppAlarms, AppAlarmsArgs
from components.application.app_service import AppService, AppServiceArgs
from components.application.audit_alarms import AuditAlarms, AuditAlarmsArgs
from components.application.audit_log import AppAuditTrail, AppAuditTrailArgs, audit_log_group_name
from components.application.ingress import Ingress, IngressArgs
from components.application.operator_access import OperatorAccess, OperatorAccessArgs
from components.application.session_cache import SessionCache, SessionCacheArgs
from components.application.workforce_access import WorkforceAccess, WorkforceAccessArgs
from components.aws_context import AwsContext
from components.environment.environment import HipaaEnvironment
from components.environment.phi_database import PhiDatabase
from components.log_data_protection import LogDataProtection, LogDataProtectionArgs
from components.settings import Settings


class ApplicationTier:
    """Not a component of its own: the environment stays its parent (stable URNs)."""

    ingress: Optional[Ingress]
    """The application, when `app` is set."""
    app_service: Optional[AppService]
    operator_access: Optional[OperatorAccess]
    audit: Optional[AppAuditTrail]
    """The application's audit log and its write-once archive, when `app` is set."""
    cache: Optional[SessionCache]
    """The session cache, when `cache` is set."""
    workforce: Optional[WorkforceAccess]
    """Identity Center permission sets, when `identityCenter` is set."""

    def __init__(self, name: str, environment: HipaaEnvironment, settings: Settings, ctx: AwsContext):
        env, stack, log_retention = environment, settings.stack, settings.audit_log_retention_days
        child = pulumi.ResourceOptions(parent=env)
        self.ingress, self.app_service, self.operator_access = None, None, None
        self.audit = None
        self.cache = SessionCache(f"{name}-cache", SessionCacheArgs(
            stack=stack, aws=ctx, settings=settings.cache, holds_phi=settings.holds_phi,
            vpc_id=env.network.vpc_id, data_subnet_ids=env.network.subnet_ids["data"],
            app_security_group_id=env.network.security_group_ids["app"],
            cache_key_arn=env.keys.arn("cache"), workload_role_name=env.workload_role.role.name,
            logs_key_arn=env.keys.arn("logs"), log_retention_days=log_retention,
        ), opts=child) if settings.cache else None
        if settings.app:
            self._service(name, env, settings, ctx)
        # PHI that slips into operational logs is masked there (never in the audit log group itself).
        operational = {"postgresql": env.database.postgresql_log_group_name}
        if self.ingress and self.app_service and self.operator_access:
            operational.update(self.app_service.log_group_names)
            operational["waf"] = self.ingress.waf_log_group_name
            operational["db-access"] = self.operator_access.log_group_name
        LogDataProtection(f"{name}-log-masking", LogDataProtectionArgs(
            stack=stack, log_group_names=operational, logs_key_arn=env.keys.arn("logs"),
            log_retention_days=log_retention, holds_phi=settings.holds_phi,
        ), opts=child)
        owned = settings.account_baseline == "owned"
        self.workforce = WorkforceAccess(f"{name}-workforce", WorkforceAccessArgs(
            stack=stack, aws=ctx, settings=settings.identity_center,
            phi_bucket_arn=ctx.bucket_arn(ctx.bucket_name(stack, "phi-documents")),
            # Identity Center sign-ins are management events: in the owner's trail only.
            alarm_log_group_name=env.audit_trail.log_group_name if owned else None,
            alert_topic_arn=env.alarms.topic_arn,
        ), opts=child) if settings.identity_center else None

    def _service(self, name: str, env: HipaaEnvironment, settings: Settings, ctx: AwsContext) -> None:
        """HTTPS ingress, the container service, operator access and their alarms."""
        assert settings.app is not None
        child = pulumi.ResourceOptions(parent=env)
        stack, log_retention = settings.stack, settings.audit_log_retention_days
        self.ingress = Ingress(f"{name}-ingress", IngressArgs(
            stack=stack, aws=ctx, settings=settings.app, holds_phi=settings.holds_phi,
            vpc_id=env.network.vpc_id, public_subnet_ids=env.network.subnet_ids["public"],
            security_group_id=env.network.security_group_ids["lb"], app_port=settings.app_port,
            logs_key_arn=env.keys.arn("logs"), log_retention_days=log_retention,
        ), opts=child)
        # The application's own audit events (who read which patient's record), write-once.
        self.audit = AppAuditTrail(f"{name}-app-audit", AppAuditTrailArgs(
            stack=stack, aws=ctx, holds_phi=settings.holds_phi, logs_key_arn=env.keys.arn("logs"),
            storage_key_arn=env.keys.arn("storage"), access_log_bucket=env.phi_bucket.access_logs.bucket_name,
            retention_days=log_retention, workload_role=env.workload_role.role,
            trail_log_group_name=env.audit_trail.log_group_name, alert_topic_arn=env.alarms.topic_arn,
            read_alarm_threshold=settings.phi_read_alarm_threshold,
            backup_plan_id=env.backup.plan_id, backup_role_arn=env.backup.role_arn, backup=env.backup,
        ), opts=child)
        self.app_service = AppService(f"{name}-app", AppServiceArgs(
            stack=stack, aws=ctx, settings=settings.app, holds_phi=settings.holds_phi,
            app_port=settings.app_port, app_subnet_ids=env.network.subnet_ids["app"],
            app_security_group_id=env.network.security_group_ids["app"],
            target_group_arn=self.ingress.target_group.arn, listener=self.ingress.https_listener,
            workload_role=env.workload_role.role, storage_key_arn=env.keys.arn("storage"),
            logs_key_arn=env.keys.arn("logs"), sessions_key_arn=env.keys.arn("sessions"),
            log_retention_days=log_retention,
            environment={"DATABASE_NAME": PhiDatabase.DATABASE_NAME, "DATABASE_USER": env.database.app_user,
                         "DATABASE_PORT": "5432", "DATABASE_SSLMODE": "verify-full",
                         "PHI_BUCKET": ctx.bucket_name(stack, "phi-documents"), "AWS_REGION": ctx.region,
                         "AUDIT_LOG_GROUP": audit_log_group_name(stack),
                         **({"CACHE_PORT": str(self.cache.port), "CACHE_USER": self.cache.user_id,
                             "CACHE_TLS": "true"} if self.cache else {})},
            parameters={"DATABASE_HOST": env.database.instance.address,
                        **({"CACHE_HOST": self.cache.endpoint} if self.cache else {})},
        ), opts=child)
        self.operator_access = OperatorAccess(f"{name}-operator", OperatorAccessArgs(
            stack=stack, aws=ctx, vpc_id=env.network.vpc_id, app_subnet_ids=env.network.subnet_ids["app"],
            endpoint_security_group_id=env.network.security_group_ids["endpoints"],
            app_security_group_id=env.network.security_group_ids["app"],
            exec_log_group_arn=self.app_service.exec_log_group_arn, logs_key_arn=env.keys.arn("logs"),
            log_retention_days=log_retention, holds_phi=settings.holds_phi,
        ), opts=child)
        AppAlarms(f"{name}-app-alarms", AppAlarmsArgs(
            stack=stack, region=ctx.region, topic_arn=env.alarms.topic_arn,
            load_balancer_arn_suffix=self.ingress.load_balancer.arn_suffix,
            target_group_arn_suffix=self.ingress.target_group.arn_suffix,
            web_acl_name=self.ingress.web_acl.name,
            database_log_group_name=env.database.postgresql_log_group_name,
        ), opts=child)
        assert self.audit is not None
        audit_group = self.audit.log_group_name
        AuditAlarms(f"{name}-audit-alarms", AuditAlarmsArgs(
            stack=stack, aws=ctx, settings=settings.audit, topic_arn=env.alarms.topic_arn,
            log_group_name=audit_group,
            log_group_arn=audit_group.apply(lambda group: ctx.arn("logs", f"log-group:{group}")),
            logs_key_arn=env.keys.arn("logs"),
        ), opts=child)

    def operator_outputs(self) -> dict[str, pulumi.Input]:
        """What an operator needs after `pulumi up`, when the application is deployed."""
        if not (self.ingress and self.app_service and self.operator_access):
            return {}
        return {"applicationUrl": self.ingress.url, "loadBalancerDnsName": self.ingress.dns_name,
                "imageRepositoryUrl": self.app_service.repository_url,
                "ecsCluster": self.app_service.cluster_name, "ecsService": self.app_service.service_name,
                "databaseAccessTaskFamily": self.operator_access.task_family}
