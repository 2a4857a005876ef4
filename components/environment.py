"""One HIPAA-ready environment: the components wired in dependency order."""

from __future__ import annotations

from typing import Optional

import pulumi
import pulumi_aws as aws

from .aws_context import AwsContext
from .key_ring import KeyRing, KeyRingArgs
from .network import Network, NetworkArgs
from .phi_bucket import PhiBucket, PhiBucketArgs
from .phi_database import PhiDatabase, PhiDatabaseArgs
from .settings import Settings


class HipaaEnvironment(pulumi.ComponentResource):
    keys: KeyRing
    network: Network
    phi_bucket: PhiBucket
    database: PhiDatabase

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
            aws=ctx, storage_key_arn=self.keys.arn("storage"),
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
            "keyArns": {purpose: key.arn for purpose, key in self.keys.keys.items()},
        }
