"""One HIPAA-ready environment: the components wired in dependency order."""

from __future__ import annotations

from typing import Optional

import pulumi
import pulumi_aws as aws

from .account_baseline import AccountBaseline, AccountBaselineArgs
from .audit_trail import AuditTrail, AuditTrailArgs
from .aws_context import AwsContext
from .backup import Backup, BackupArgs
from .key_ring import KeyRing, KeyRingArgs
from .network import Network, NetworkArgs
from .phi_bucket import PhiBucket, PhiBucketArgs
from .phi_database import PhiDatabase, PhiDatabaseArgs
from .security_alarms import SecurityAlarms, SecurityAlarmsArgs
from .settings import Settings
from .threat_detection import ThreatDetection, ThreatDetectionArgs
from .workload_role import WorkloadRole, WorkloadRoleArgs


class HipaaEnvironment(pulumi.ComponentResource):
    keys: KeyRing
    network: Network
    phi_bucket: PhiBucket
    database: PhiDatabase
    audit_trail: AuditTrail
    threat_detection: ThreatDetection
    alarms: SecurityAlarms
    workload_role: WorkloadRole
    backup: Backup

    def __init__(self, name: str, settings: Settings, ctx: AwsContext,
                 opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("hipaa:components:HipaaEnvironment", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        # Stateful PHI stores cannot be deleted by a stray `pulumi up` or `destroy` in a PHI stack.
        phi_store = pulumi.ResourceOptions(parent=self, protect=settings.holds_phi)
        zones = aws.get_availability_zones(state="available").names

        self.keys = KeyRing(f"{name}-keys", KeyRingArgs(stack=settings.stack, aws=ctx), opts=child)
        self.network = Network(f"{name}-network", NetworkArgs(
            stack=settings.stack, aws=ctx, vpc_cidr=settings.vpc_cidr,
            availability_zones=list(zones[: settings.availability_zone_count]),
            nat_gateway_per_az=settings.nat_gateway_per_az, app_port=settings.app_port,
            flow_log_retention_days=settings.audit_log_retention_days,
            logs_key_arn=self.keys.arn("logs"),
        ), opts=child)
        self.phi_bucket = PhiBucket(f"{name}-phi", PhiBucketArgs(
            stack=settings.stack, aws=ctx, storage_key_arn=self.keys.arn("storage"),
            glacier_transition_days=settings.storage.glacier_transition_days,
            noncurrent_version_expiration_days=settings.storage.noncurrent_version_expiration_days,
        ), opts=phi_store)
        self.database = PhiDatabase(f"{name}-db", PhiDatabaseArgs(
            stack=settings.stack, aws=ctx, settings=settings.database,
            data_subnet_ids=self.network.subnet_ids["data"],
            security_group_id=self.network.security_group_ids["db"],
            database_key_arn=self.keys.arn("database"), secrets_key_arn=self.keys.arn("secrets"),
            logs_key_arn=self.keys.arn("logs"), log_retention_days=settings.audit_log_retention_days,
        ), opts=phi_store)

        access_logs = self.phi_bucket.access_logs.bucket_name
        self.audit_trail = AuditTrail(f"{name}-audit", AuditTrailArgs(
            stack=settings.stack, aws=ctx, logs_key_arn=self.keys.arn("logs"),
            access_log_bucket=access_logs, retention_days=settings.audit_log_retention_days,
            phi_bucket_arns=[self.phi_bucket.arn],
        ), opts=phi_store)
        self.threat_detection = ThreatDetection(f"{name}-detection", ThreatDetectionArgs(
            stack=settings.stack, aws=ctx, logs_key_arn=self.keys.arn("logs"),
            access_log_bucket=access_logs, vpc_id=self.network.vpc_id,
            protect_evidence=settings.holds_phi,
        ), opts=child)
        self.alarms = SecurityAlarms(f"{name}-alarms", SecurityAlarmsArgs(
            stack=settings.stack, aws=ctx, alerting_key_arn=self.keys.arn("alerting"),
            alert_email=settings.alert_email, trail_log_group_name=self.audit_trail.log_group_name,
            phi_bucket_name=self.phi_bucket.bucket_name,
            phi_read_threshold=settings.phi_read_alarm_threshold,
        ), opts=child)
        AccountBaseline(f"{name}-account", AccountBaselineArgs(
            stack=settings.stack, aws=ctx, ebs_key_arn=self.keys.arn("backup")), opts=child)
        self.workload_role = WorkloadRole(f"{name}-workload", WorkloadRoleArgs(
            stack=settings.stack, aws=ctx, phi_bucket_arn=self.phi_bucket.arn,
            storage_key_arn=self.keys.arn("storage"), database_key_arn=self.keys.arn("database"),
            secrets_key_arn=self.keys.arn("secrets"),
            database_user_arn=self.database.iam_user_arn,
            database_secret_arn=self.database.secret_arn,
        ), opts=child)
        self.backup = Backup(f"{name}-backup", BackupArgs(
            stack=settings.stack, aws=ctx, backup_key_arn=self.keys.arn("backup"),
            resource_arns=[self.database.instance.arn, self.phi_bucket.arn],
            holds_phi=settings.holds_phi, copy_region=settings.backup_copy_region,
        ), opts=phi_store)
        self.register_outputs({})

    def operator_outputs(self) -> dict[str, pulumi.Input]:
        """What an operator needs after `pulumi up`."""
        return {
            "vpcId": self.network.vpc_id,
            "publicSubnetIds": self.network.subnet_ids["public"],
            "appSubnetIds": self.network.subnet_ids["app"],
            "dataSubnetIds": self.network.subnet_ids["data"],
            "databaseEndpoint": self.database.endpoint,
            "databaseSecretArn": self.database.secret_arn,
            "phiBucketName": self.phi_bucket.bucket_name,
            "accessLogBucketName": self.phi_bucket.access_logs.bucket_name,
            "trailArn": self.audit_trail.trail_arn,
            "alertTopicArn": self.alarms.topic_arn,
            "workloadRoleArn": self.workload_role.role_arn,
            "backupVaultName": self.backup.vault_name,
            "keyArns": {purpose: key.arn for purpose, key in self.keys.keys.items()},
        }
