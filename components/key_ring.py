"""Customer-managed KMS keys, one per purpose, each usable only by the services that need it.

Each key policy has two parts:
- the named key administrators (roles, never the whole account) may manage the key. Whoever may
  put a key policy or create grants can give itself use of the key, so "administers but cannot
  use" is no boundary: the set of administrators is kept small, and SecurityAlarms alarms when
  anyone else changes a key policy or creates a grant;
- use is granted per purpose, exactly as each service's AWS guide documents it (tests name the
  guide for every statement).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from collections.abc import Callable, Sequence
from typing import Optional

import pulumi
import pulumi_aws as aws

from components.aws_context import AwsContext

ROTATION_PERIOD_DAYS = 365
# A PHI key gets the longest window to notice and cancel a scheduled deletion; a synthetic
# stack's keys the shortest AWS allows, so `pulumi destroy` frees them within a week.
DELETION_WINDOW_DAYS = 30
NON_PHI_DELETION_WINDOW_DAYS = 7

ADMIN_ACTIONS = [
    "kms:Create*", "kms:Describe*", "kms:Enable*", "kms:List*", "kms:Put*", "kms:Update*",
    "kms:Revoke*", "kms:Disable*", "kms:Get*", "kms:Delete*", "kms:TagResource",
    "kms:UntagResource", "kms:ScheduleKeyDeletion", "kms:CancelKeyDeletion",
    "kms:RotateKeyOnDemand",
]
USE_ACTIONS = [
    "kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey",
]
AUTO_SCALING_ROLE_NAME = "AWSServiceRoleForAutoScaling"
# Where Session Manager logs shell sessions for the whole account (the account layer's document).
SESSION_LOG_GROUP = "/hipaa-aws/account/session-manager"


@dataclass(frozen=True)
class KeyScope:
    """What a purpose's statements may name: the account, and the stack the key belongs to."""

    aws: AwsContext
    stack: str

    def trail_arn(self) -> str:
        return self.aws.arn("cloudtrail", f"trail/hipaa-aws-{self.stack}")

    def database_identifier(self) -> str:
        return f"hipaa-aws-{self.stack}"


def via_service(ctx: AwsContext, *services: str, sid: str = "UseThroughServices") -> dict:
    """Principals of this account may use the key, but only through the named services
    (each service's guide: kms:ViaService with the regional endpoint)."""
    return {
        "Sid": sid,
        "Effect": "Allow",
        "Principal": {"AWS": ctx.account_root_arn},
        "Action": USE_ACTIONS + ["kms:CreateGrant"],
        "Resource": "*",
        "Condition": {
            "StringEquals": {
                "kms:ViaService": [ctx.service_host(s) for s in services],
                "kms:CallerAccount": ctx.account_id,
            },
        },
    }


def log_groups_may_use(ctx: AwsContext, log_group_pattern: str | list[str], sid: str) -> dict:
    """CloudWatch Logs encrypts the log groups matching `log_group_pattern` (log-group names with
    wildcards; any of a list) with this key (CloudWatch Logs guide, "Encrypt log data using AWS KMS")."""
    patterns = [log_group_pattern] if isinstance(log_group_pattern, str) else log_group_pattern
    arns = [ctx.arn("logs", f"log-group:{p}") for p in patterns]
    return {
        "Sid": sid,
        "Effect": "Allow",
        "Principal": {"Service": ctx.service_host("logs")},
        "Action": ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*",
                   "kms:Describe*"],
        "Resource": "*",
        "Condition": {"ArnLike": {"kms:EncryptionContext:aws:logs:arn": arns[0] if len(arns) == 1 else arns}},
    }


def anomaly_detectors_may_use(ctx: AwsContext) -> list[dict]:
    """CloudWatch Logs encrypts the account's log anomaly detectors (their patterns and anomalies, which
    quote log events) with this key: the two statements of CloudWatch Logs guide, "Encrypt an anomaly
    detector and its results with AWS KMS" (encryption context aws:logs:arn and
    aws-crypto-ec:aws:logs:arn, the detector's ARN, whose id AWS generates)."""
    detectors = ctx.arn("logs", "anomaly-detector:*")
    return [{
        "Sid": sid,
        "Effect": "Allow",
        "Principal": {"Service": ctx.service_host("logs")},
        "Action": ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
        "Resource": "*",
        "Condition": {"ArnLike": {context: detectors}},
    } for sid, context in (("AnomalyDetectors", "kms:EncryptionContext:aws:logs:arn"),
                           ("AnomalyDetectorResults", "kms:EncryptionContext:aws-crypto-ec:aws:logs:arn"))]


def _database_statements(scope: KeyScope) -> list[dict]:
    ctx = scope.aws
    return [
        via_service(ctx, "rds"),
        # pgAudit writes statement text (which can hold PHI) to the PostgreSQL log group, so it
        # is encrypted with the database key, not the shared logs key.
        log_groups_may_use(ctx, f"/aws/rds/instance/{scope.database_identifier()}/*",
                           "DatabaseLogGroups"),
    ]


def cloudtrail_statements(trail_arn: str, partition: str, trail_owner_account: str) -> list[dict]:
    """What CloudTrail needs on the key that encrypts a trail's log files (CloudTrail guide,
    "Configure AWS KMS key policies for CloudTrail"), for exactly that trail. The encryption context
    is the trail's ARN, in the account that owns the trail: the stack's own trail, or an organization
    trail owned by the management account whatever account holds the key."""
    trail_context = f"arn:{partition}:cloudtrail:*:{trail_owner_account}:trail/*"
    this_trail = {"aws:SourceArn": trail_arn}
    return [
        {
            "Sid": "CloudTrailEncryptLogs",
            "Effect": "Allow",
            "Principal": {"Service": "cloudtrail.amazonaws.com"},
            "Action": "kms:GenerateDataKey*",
            "Resource": "*",
            "Condition": {
                "StringEquals": this_trail,
                "StringLike": {"kms:EncryptionContext:aws:cloudtrail:arn": trail_context},
            },
        },
        {
            "Sid": "CloudTrailDescribeKey",
            "Effect": "Allow",
            "Principal": {"Service": "cloudtrail.amazonaws.com"},
            "Action": "kms:DescribeKey",
            "Resource": "*",
            "Condition": {"StringEquals": this_trail},
        },
        {
            # With an S3 Bucket Key on the trail bucket, kms:Decrypt is required to create or
            # update a trail with SSE-KMS; the guide's statement has no condition.
            "Sid": "CloudTrailDecryptForBucketKey",
            "Effect": "Allow",
            "Principal": {"Service": "cloudtrail.amazonaws.com"},
            "Action": "kms:Decrypt",
            "Resource": "*",
        },
    ]


def _logs_statements(scope: KeyScope) -> list[dict]:
    ctx = scope.aws
    trail_context = f"arn:{ctx.partition}:cloudtrail:*:{ctx.account_id}:trail/*"
    return [
        # The trail bucket's objects (SSE-KMS with an S3 Bucket Key) are read through S3.
        via_service(ctx, "s3"),
        # WAF delivers only to groups named aws-waf-logs-* (WAF guide).
        log_groups_may_use(ctx, [f"/hipaa-aws/{scope.stack}/*", f"aws-waf-logs-hipaa-aws-{scope.stack}"],
                           "StackLogGroups"),
        *anomaly_detectors_may_use(ctx),
        *cloudtrail_statements(scope.trail_arn(), ctx.partition, ctx.account_id),
        {
            "Sid": "AccountReadsTrailLogs",
            "Effect": "Allow",
            "Principal": {"AWS": ctx.account_root_arn},
            "Action": ["kms:Decrypt", "kms:ReEncryptFrom"],
            "Resource": "*",
            "Condition": {
                "StringEquals": {"kms:CallerAccount": ctx.account_id},
                "StringLike": {"kms:EncryptionContext:aws:cloudtrail:arn": trail_context},
            },
        },
    ]


def _alerting_statements(scope: KeyScope) -> list[dict]:
    ctx = scope.aws
    return [
        via_service(ctx, "sns"),
        {
            # CloudWatch alarms publish to the encrypted topic; they satisfy source conditions.
            "Sid": "CloudWatchAlarmsPublish",
            "Effect": "Allow",
            "Principal": {"Service": "cloudwatch.amazonaws.com"},
            "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:SourceAccount": ctx.account_id}},
        },
        {
            # EventBridge cannot satisfy aws:SourceAccount / aws:SourceArn in a key policy (SNS
            # guide): with them, finding deliveries fail silently. The topic policy scopes
            # EventBridge to this stack's rules instead.
            "Sid": "EventBridgeRulesPublish",
            "Effect": "Allow",
            "Principal": {"Service": "events.amazonaws.com"},
            "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
            "Resource": "*",
        },
    ]


def _backup_statements(scope: KeyScope) -> list[dict]:
    # AWS Backup encrypts recovery points through backup; a cross-region copy of an RDS snapshot
    # is re-encrypted by RDS in the destination region (Backup guide, "Encryption for backups").
    return [via_service(scope.aws, "backup", "rds")]


def _ebs_default_statements(scope: KeyScope) -> list[dict]:
    ctx = scope.aws
    auto_scaling = ctx.arn("iam", f"role/aws-service-role/autoscaling.amazonaws.com/{AUTO_SCALING_ROLE_NAME}",
                           region=False)
    return [
        via_service(ctx, "ec2"),
        # EC2 Auto Scaling guide, "Required AWS KMS key policy for use with encrypted volumes":
        # without these, Auto Scaling groups, ECS on EC2 and EKS node groups cannot launch.
        {
            "Sid": "AutoScalingUsesKey",
            "Effect": "Allow",
            "Principal": {"AWS": auto_scaling},
            "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*",
                       "kms:DescribeKey"],
            "Resource": "*",
        },
        {
            "Sid": "AutoScalingGrantsForVolumes",
            "Effect": "Allow",
            "Principal": {"AWS": auto_scaling},
            "Action": "kms:CreateGrant",
            "Resource": "*",
            "Condition": {"Bool": {"kms:GrantIsForAWSResource": True}},
        },
    ]


def _direct_use(ctx: AwsContext, sid: str) -> dict:
    """Principals of this account that an IAM policy allows may call KMS directly: Session Manager
    and ECS Exec encrypt the session between the client and the agent with data keys the user
    (GenerateDataKey) and the agent's role (Decrypt) ask KMS for themselves (Session Manager guide,
    "Turn on KMS key encryption of session data")."""
    return {
        "Sid": sid,
        "Effect": "Allow",
        "Principal": {"AWS": ctx.account_root_arn},
        "Action": ["kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"],
        "Resource": "*",
        "Condition": {"StringEquals": {"kms:CallerAccount": ctx.account_id}},
    }


def _stack_sessions_statements(scope: KeyScope) -> list[dict]:
    return [_direct_use(scope.aws, "SessionEncryption")]


def _account_sessions_statements(scope: KeyScope) -> list[dict]:
    return [_direct_use(scope.aws, "SessionEncryption"),
            log_groups_may_use(scope.aws, SESSION_LOG_GROUP, "SessionLogGroup")]


def _config_statements(scope: KeyScope) -> list[dict]:
    ctx = scope.aws
    return [
        via_service(ctx, "s3"),
        # AWS Config guide, "Permissions for the KMS key used by the delivery channel".
        {
            "Sid": "ConfigDeliversEncryptedSnapshots",
            "Effect": "Allow",
            "Principal": {"Service": "config.amazonaws.com"},
            "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:SourceAccount": ctx.account_id}},
        },
    ]


@dataclass(frozen=True)
class KeyPurpose:
    name: str
    description: str
    statements: Callable[[KeyScope], list[dict]]


def _only_through(*services: str) -> Callable[[KeyScope], list[dict]]:
    return lambda scope: [via_service(scope.aws, *services)]


# The environment's keys (one set per stack).
KEY_PURPOSES: tuple[KeyPurpose, ...] = (
    KeyPurpose("database", "RDS storage, snapshots, Performance Insights and PostgreSQL logs",
               _database_statements),
    # ECR stores image layers in S3 and encrypts them through grants it creates (ECR guide,
    # "Encryption at rest").
    # Firehose encrypts the application audit stream with it: it creates a grant on the key with the
    # caller's credentials (botocore `firehose` CreateDeliveryStream, StartDeliveryStreamEncryption).
    KeyPurpose("storage", "S3 objects holding PHI, ECR images and the audit delivery stream",
               _only_through("s3", "ecr", "firehose")),
    KeyPurpose("logs", "CloudWatch Logs and CloudTrail", _logs_statements),
    KeyPurpose("secrets", "Secrets Manager secrets (database credentials)", _only_through("secretsmanager")),
    KeyPurpose("backup", "AWS Backup vaults", _backup_statements),
    KeyPurpose("alerting", "the SNS security alert topic", _alerting_statements),
)
# Keys only the application tier needs (environment.py adds them when `app` / `cache` is set).
SESSIONS_KEY_PURPOSE = KeyPurpose("sessions", "ECS Exec sessions (operator access)",
                                  _stack_sessions_statements)
CACHE_KEY_PURPOSE = KeyPurpose("cache", "the ElastiCache session cache", _only_through("elasticache"))
# The account layer's keys (one set per account and region, kept when the owner is destroyed).
ACCOUNT_KEY_PURPOSES: tuple[KeyPurpose, ...] = (
    KeyPurpose("ebs-default", "EBS encryption by default", _ebs_default_statements),
    KeyPurpose("config", "AWS Config delivery", _config_statements),
    KeyPurpose("session-manager", "Session Manager sessions and their log group",
               _account_sessions_statements),
)


def purpose(name: str) -> KeyPurpose:
    return next(p for p in KEY_PURPOSES + (SESSIONS_KEY_PURPOSE, CACHE_KEY_PURPOSE) if p.name == name)


def key_policy(scope: KeyScope, key_purpose: KeyPurpose, administrators: Sequence[str]) -> dict:
    """The key policy for `key_purpose`: the named roles administer, the purpose's services use."""
    if not administrators:
        raise ValueError("a key policy needs at least one named administrator role")
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "KeyAdministrators",
                "Effect": "Allow",
                "Principal": {"AWS": list(administrators)},
                "Action": ADMIN_ACTIONS,
                "Resource": "*",
            },
            *key_purpose.statements(scope),
        ],
    }


@dataclass(frozen=True)
class KeyRingArgs:
    stack: str
    aws: AwsContext
    administrators: Sequence[str]
    """Role ARNs that administer the keys (the CI deploy role, a break-glass role)."""
    purposes: tuple[KeyPurpose, ...] = KEY_PURPOSES
    alias_scope: Optional[str] = None
    """Middle of each alias, `alias/hipaa-aws-<alias_scope>-<purpose>` (default: the stack)."""
    deletion_window_days: int = DELETION_WINDOW_DAYS
    retain_on_delete: bool = False
    """Keep the keys when the stack is destroyed (the account layer's keys)."""
    depends_on: Sequence[pulumi.Resource] = field(default_factory=tuple)
    """Resources a key policy names, which must exist first (a service-linked role)."""


class KeyRing(pulumi.ComponentResource):
    """Per-purpose customer-managed keys: rotated yearly, aliased, named administrators."""

    keys: dict[str, aws.kms.Key]
    """The key for each purpose."""

    def __init__(self, name: str, args: KeyRingArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("hipaa:components:KeyRing", name, None, opts)
        child = pulumi.ResourceOptions(parent=self, retain_on_delete=args.retain_on_delete or None,
                                       depends_on=list(args.depends_on) or None)
        scope = KeyScope(args.aws, args.stack)
        self.keys = {}
        for key_purpose in args.purposes:
            key = aws.kms.Key(
                f"{name}-{key_purpose.name}",
                description=f"hipaa-aws {args.alias_scope or args.stack}: {key_purpose.description}",
                key_usage="ENCRYPT_DECRYPT",
                customer_master_key_spec="SYMMETRIC_DEFAULT",
                enable_key_rotation=True,
                rotation_period_in_days=ROTATION_PERIOD_DAYS,
                deletion_window_in_days=args.deletion_window_days,
                policy=json.dumps(key_policy(scope, key_purpose, args.administrators)),
                opts=child,
            )
            aws.kms.Alias(
                f"{name}-{key_purpose.name}",
                name=f"alias/hipaa-aws-{args.alias_scope or args.stack}-{key_purpose.name}",
                target_key_id=key.key_id,
                opts=child,
            )
            self.keys[key_purpose.name] = key
        self.register_outputs({f"{p}_key_arn": k.arn for p, k in self.keys.items()})

    def arn(self, key_purpose: str) -> pulumi.Output[str]:
        """ARN of the key for `key_purpose`."""
        return self.keys[key_purpose].arn
