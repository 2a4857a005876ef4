"""Benchmark program: N tenants' worth of the project's own components in one stack.

A tenant is a KeyRing, a Network, a PhiBucket and a PhiDatabase (about 100 resources), built from
the prod stack's settings. The tenant count comes from BENCH_TENANTS.
"""

import os

from components.aws_context import lookup_aws_context
from components.key_ring import KeyRing, KeyRingArgs
from components.environment.network import Network, NetworkArgs
from components.environment.phi_bucket import PhiBucket, PhiBucketArgs
from components.environment.phi_database import PhiDatabase, PhiDatabaseArgs
from components.settings import load_settings
from components.stack_transforms import register_stack_transforms

settings = load_settings()
register_stack_transforms(settings)  # as __main__.py: tags, and PHI log groups' protection
ctx = lookup_aws_context()
for tenant in range(int(os.environ["BENCH_TENANTS"])):
    name = f"t{tenant}"
    keys = KeyRing(f"{name}-keys", KeyRingArgs(
        stack=settings.stack, aws=ctx,
        administrators=[ctx.arn("iam", f"role/hipaa-aws/ci/hipaa-aws-{settings.stack}-deploy", region=False)]))
    network = Network(f"{name}-network", NetworkArgs(
        stack=settings.stack, aws=ctx, vpc_cidr=settings.vpc_cidr,
        availability_zones=["us-east-1a", "us-east-1b", "us-east-1c"], nat_gateway_per_az=True,
        app_port=settings.app_port, flow_log_retention_days=2192, logs_key_arn=keys.arn("logs")))
    bucket = PhiBucket(f"{name}-phi", PhiBucketArgs(
        stack=settings.stack, aws=ctx, storage_key_arn=keys.arn("storage"), holds_phi=True,
        archive_transition_days=90, noncurrent_version_expiration_days=2192))
    PhiDatabase(f"{name}-db", PhiDatabaseArgs(
        stack=settings.stack, aws=ctx, settings=settings.database,
        data_subnet_ids=network.subnet_ids["data"], security_group_id=network.security_group_ids["db"],
        database_key_arn=keys.arn("database"), secrets_key_arn=keys.arn("secrets"),
        log_retention_days=2192, holds_phi=True))
