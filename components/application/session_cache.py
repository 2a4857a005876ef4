"""The optional session cache: ElastiCache (Valkey or Redis OSS) that never holds PHI.

A replication group in the data subnets, encrypted at rest with the stack's cache key and in
transit (TLS required), reachable only from the application's security group. Clients
authenticate with IAM (RBAC user with authentication mode `iam`): no password exists anywhere.
The application's role may `elasticache:Connect` to this cache as its own user, and nothing else.

AWS rules this follows (ElastiCache guide, "Role-Based Access Control" and "Authenticating with IAM"):
- IAM authentication needs Valkey 7.2+ or Redis OSS 7.0+ (CacheSettings checks) and in-transit
  encryption; an IAM user's user name must equal its user id.
- A Redis OSS user group must contain a user named `default`; the built-in one (user id `default`)
  may run every command, so this cache replaces it with a disabled one (`off -@all`).
- A Valkey user group may hold only users that authenticate (password or IAM), has no `default`
  user requirement, and turns the default user off when attached: it holds the application's user only.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi_aws as aws

from components.app_settings import CacheSettings
from components.aws_context import AwsContext
from components.environment.phi_database import final_snapshot_name
from components.policy_documents import policy_json
from components.role_policy import attach_policy, iam_path
from components.settings import CLOUDWATCH_RETENTION_DAYS

CACHE_PORT = 6379  # the Valkey / Redis OSS default
# PHI stack: a week of daily snapshots. A synthetic stack keeps the same week: the policy pack's
# aws-elasticache-redis-backups minimum is 7 days and automatic snapshots are deleted with the
# replication group (ElastiCache guide, "Deleting a backup"), so `pulumi destroy` leaves none.
SNAPSHOT_RETENTION_DAYS = 7
# UTC, daily snapshot then weekly maintenance: 60 minutes each (the minimum), not overlapping,
# and clear of the database's backup (03:00-04:00) and maintenance (sun 04:30-05:30) windows.
SNAPSHOT_WINDOW = "05:00-06:00"
MAINTENANCE_WINDOW = "sun:06:30-sun:07:30"
# The application may use every command except the @dangerous category (FLUSHALL, KEYS, CONFIG,
# DEBUG, ...), on every key: the cache holds nothing but its sessions.
APP_ACCESS_STRING = "on ~* +@all -@dangerous"
DISABLED_ACCESS_STRING = "off -@all"
TAGS = {"Purpose": "session-cache", "Contents": "sessions-never-phi"}
MAX_REPLICATION_GROUP_ID = 40
# ElastiCache identifiers: a letter first, then letters, digits and single hyphens, no hyphen at
# the end (CreateReplicationGroup ReplicationGroupId constraints); stored lower case, and IAM
# resource-level permissions match lower-case ARNs only, so they are built lower case.
IDENTIFIER = re.compile(r"[a-z][a-z0-9]*(-[a-z0-9]+)*")


@dataclass(frozen=True)
class SessionCacheArgs:
    stack: str
    aws: AwsContext
    settings: CacheSettings
    holds_phi: bool
    """A PHI stack's cache fails over across AZs, is protected and keeps a final snapshot."""
    vpc_id: pulumi.Input[str]
    data_subnet_ids: Sequence[pulumi.Input[str]]
    app_security_group_id: pulumi.Input[str]
    """The only security group whose members may connect (and which gets the egress rule)."""
    cache_key_arn: pulumi.Input[str]
    """KMS key purpose "cache" (kms:ViaService elasticache): storage and snapshots."""
    workload_role_name: pulumi.Input[str]
    """The application's role; it gets elasticache:Connect on this cache as its own user."""
    logs_key_arn: pulumi.Input[str]
    """KMS key of the stack's log groups (/hipaa-aws/<stack>/*): the slow and engine logs."""
    log_retention_days: int


@dataclass(frozen=True)
class CacheNames:
    """Every name of a stack's cache: unique per account and region across stacks."""

    replication_group_id: str
    user_group_id: str
    app_user_id: str
    default_user_id: str
    subnet_group_name: str
    log_group_prefix: str

    @staticmethod
    def of(stack: str) -> CacheNames:
        base = f"hipaa-aws-{stack}-sessions"
        return CacheNames(
            replication_group_id=base, user_group_id=f"{base}-users", app_user_id=f"{base}-app",
            default_user_id=f"{base}-default-off", subnet_group_name=base,
            log_group_prefix=f"/hipaa-aws/{stack}/elasticache/sessions",
        )


def log_types(engine: str, engine_version: str) -> tuple[str, ...]:
    """Logs the engine can deliver (ElastiCache guide, "Log delivery"): slow log from Valkey 7 and
    Redis OSS 6.0, engine log from Valkey 7 and Redis OSS 6.2."""
    version = tuple(int(part) for part in engine_version.split(".")[:2])
    if engine == "valkey":
        return ("slow-log", "engine-log") if version >= (7, 0) else ()
    return tuple(t for t, since in (("slow-log", (6, 0)), ("engine-log", (6, 2))) if version >= since)


def automatic_failover(args: SessionCacheArgs) -> bool:
    """Fail over to a replica in another AZ whenever there is one (always in a PHI stack)."""
    return args.settings.node_count >= 2


def validate(name: str, args: SessionCacheArgs) -> CacheNames:
    """The cache's names, or a RunError naming what is wrong, before anything is created."""
    names = CacheNames.of(args.stack)
    problems = []
    group_id = names.replication_group_id
    if len(group_id) > MAX_REPLICATION_GROUP_ID:
        problems.append(f"replication group id {group_id!r} is {len(group_id)} characters; ElastiCache "
                        f"allows {MAX_REPLICATION_GROUP_ID} (use a stack name of at most "
                        f"{MAX_REPLICATION_GROUP_ID - len(group_id) + len(args.stack)} characters)")
    for identifier in (group_id, names.user_group_id, names.app_user_id, names.default_user_id):
        if not IDENTIFIER.fullmatch(identifier):
            problems.append(f"{identifier!r} is not an ElastiCache identifier (lower-case letters, digits "
                            f"and single hyphens, starting with a letter): check the stack name")
    if args.holds_phi and args.settings.node_count < 2:
        problems.append(f"nodeCount is {args.settings.node_count}; a stack that holds PHI needs at least 2 "
                        f"(automatic failover to another AZ)")
    if automatic_failover(args) and len(args.data_subnet_ids) < 2:
        problems.append(f"Multi-AZ failover needs data subnets in at least 2 AZs; "
                        f"got {len(args.data_subnet_ids)}")
    if args.log_retention_days not in CLOUDWATCH_RETENTION_DAYS:
        problems.append(f"log_retention_days {args.log_retention_days} is not a CloudWatch Logs retention "
                        f"({', '.join(map(str, CLOUDWATCH_RETENTION_DAYS))})")
    if problems:
        raise pulumi.RunError(f"session cache {name} (stack {args.stack}): " + "; ".join(problems))
    return names


def connect_policy(ctx: AwsContext, names: CacheNames) -> str:
    """elasticache:Connect to this replication group as the application's user, nothing else.
    Built from known strings so the policy pack can judge it at preview."""
    return policy_json({
        "Sid": "SessionCacheIamAuth",
        "Effect": "Allow",
        "Action": "elasticache:Connect",
        "Resource": [ctx.arn("elasticache", f"replicationgroup:{names.replication_group_id}"),
                     ctx.arn("elasticache", f"user:{names.app_user_id}")],
    })


class SessionCache(pulumi.ComponentResource):
    endpoint: pulumi.Output[str]
    """Primary endpoint address (TLS on `port`; user `user_id` with an IAM auth token)."""
    port: int
    """The port clients connect to."""
    user_id: str
    """The application's ElastiCache user (user name = user id, IAM authentication)."""
    replication_group_id: str
    """The replication group (the IAM auth token's target)."""

    def __init__(self, name: str, args: SessionCacheArgs, opts: Optional[pulumi.ResourceOptions] = None):
        names = validate(name, args)
        super().__init__("hipaa:components:SessionCache", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        # Inherits the parent's protection in a synthetic stack (none): destroy removes everything.
        kept = pulumi.ResourceOptions(parent=self, protect=True if args.holds_phi else None)
        cache = args.settings
        self.port, self.user_id = CACHE_PORT, names.app_user_id
        self.replication_group_id = names.replication_group_id

        security_group = self._network(name, args, child)
        subnet_group = aws.elasticache.SubnetGroup(
            name, name=names.subnet_group_name, description="Data tier subnets (no internet route)",
            subnet_ids=list(args.data_subnet_ids), opts=child)
        user_group = self._users(name, args, names, child)
        log_groups = {
            log_type: aws.cloudwatch.LogGroup(
                f"{name}-{log_type}", name=f"{names.log_group_prefix}/{log_type}",
                retention_in_days=args.log_retention_days, kms_key_id=args.logs_key_arn,
                tags={"Purpose": "session-cache-log", "Contents": "commands-without-arguments"},
                opts=kept)
            for log_type in log_types(cache.engine, cache.engine_version)
        }
        failover = automatic_failover(args)
        final_snapshot = final_snapshot_name(names.replication_group_id) if args.holds_phi else None
        group = aws.elasticache.ReplicationGroup(
            name,
            replication_group_id=names.replication_group_id,
            description="Session cache: never holds PHI. TLS only, IAM authentication, customer key",
            engine=cache.engine,
            engine_version=cache.engine_version,
            node_type=cache.node_type,
            num_cache_clusters=cache.node_count,
            automatic_failover_enabled=failover,
            multi_az_enabled=failover,
            port=CACHE_PORT,
            subnet_group_name=subnet_group.name,
            security_group_ids=[security_group.id],
            at_rest_encryption_enabled=True,
            kms_key_id=args.cache_key_arn,
            transit_encryption_enabled=True,
            transit_encryption_mode="required",
            user_group_ids=[user_group.user_group_id],
            auto_minor_version_upgrade=True,
            apply_immediately=False,
            maintenance_window=MAINTENANCE_WINDOW,
            snapshot_window=SNAPSHOT_WINDOW,
            snapshot_retention_limit=SNAPSHOT_RETENTION_DAYS,
            # PHI stack: a final snapshot named for this creation (a fixed name fails the second
            # delete). Synthetic: none, and the automatic snapshots go with the group.
            final_snapshot_identifier=final_snapshot,
            log_delivery_configurations=[
                aws.elasticache.ReplicationGroupLogDeliveryConfigurationArgs(
                    destination=log_group.name, destination_type="cloudwatch-logs",
                    log_format="json", log_type=log_type)
                for log_type, log_group in log_groups.items()
            ],
            tags=TAGS,
            # The name chosen at creation is the one used at deletion.
            # The key, at-rest encryption, port and subnet group are create-only (no
            # ModifyReplicationGroup member) and the connect policy below names the group by its
            # id: a replacement keeps the id, so the old group goes first
            # (ReplicationGroupAlreadyExists otherwise). It holds sessions only, and a PHI stack's
            # group keeps its final snapshot (and is protected: Pulumi refuses to replace it).
            opts=pulumi.ResourceOptions(parent=self, protect=kept.protect,
                                        depends_on=list(log_groups.values()),
                                        ignore_changes=["finalSnapshotIdentifier"],
                                        delete_before_replace=True),
        )
        attach_policy(f"{name}-connect", args.workload_role_name,
                      "Connect to the session cache as the application's IAM-authenticated user",
                      connect_policy(args.aws, names), child, path=iam_path(args.stack))
        self.endpoint = group.primary_endpoint_address
        self.register_outputs({"endpoint": self.endpoint, "port": self.port, "user_id": self.user_id})

    def _network(self, name: str, args: SessionCacheArgs,
                 child: pulumi.ResourceOptions) -> aws.ec2.SecurityGroup:
        """The cache's own group: in from the application on the port, no egress at all (the
        provider removes AWS's default allow-all egress rule); the application's way out to it."""
        group = aws.ec2.SecurityGroup(
            name, vpc_id=args.vpc_id, revoke_rules_on_delete=True,
            description="Session cache: TLS from the application tier only, no egress",
            tags={"Name": f"hipaa-aws-{args.stack}-sessions"}, opts=child)
        aws.vpc.SecurityGroupIngressRule(
            f"{name}-from-app", security_group_id=group.id, ip_protocol="tcp",
            from_port=CACHE_PORT, to_port=CACHE_PORT,
            referenced_security_group_id=args.app_security_group_id,
            description="Session cache from the application", opts=child)
        aws.vpc.SecurityGroupEgressRule(
            f"{name}-app-to-cache", security_group_id=args.app_security_group_id, ip_protocol="tcp",
            from_port=CACHE_PORT, to_port=CACHE_PORT, referenced_security_group_id=group.id,
            description="Session cache (TLS)", opts=child)
        return group

    def _users(self, name: str, args: SessionCacheArgs, names: CacheNames,
               child: pulumi.ResourceOptions) -> aws.elasticache.UserGroup:
        engine = args.settings.engine
        app = aws.elasticache.User(
            f"{name}-app", user_id=names.app_user_id, user_name=names.app_user_id, engine=engine,
            authentication_mode=aws.elasticache.UserAuthenticationModeArgs(type="iam"),
            access_string=APP_ACCESS_STRING, opts=child)
        members = [app]
        if engine == "redis":
            members.insert(0, aws.elasticache.User(
                f"{name}-default", user_id=names.default_user_id, user_name="default", engine=engine,
                authentication_mode=aws.elasticache.UserAuthenticationModeArgs(type="no-password-required"),
                access_string=DISABLED_ACCESS_STRING, opts=child))
        return aws.elasticache.UserGroup(
            name, user_group_id=names.user_group_id, engine=engine,
            user_ids=[user.user_id for user in members], opts=child)
