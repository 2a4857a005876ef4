"""One customer-managed KMS key per purpose, each usable only by the services that need it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Callable, Optional

import pulumi
import pulumi_aws as aws

from .aws_context import AwsContext

ROTATION_PERIOD_DAYS = 365
DELETION_WINDOW_DAYS = 30

# Administration only: the account root can manage the key (through IAM policies) but the
# key policy does not let it encrypt or decrypt; use is granted per purpose below.
ADMIN_ACTIONS = [
    "kms:Create*", "kms:Describe*", "kms:Enable*", "kms:List*", "kms:Put*", "kms:Update*",
    "kms:Revoke*", "kms:Disable*", "kms:Get*", "kms:Delete*", "kms:TagResource",
    "kms:UntagResource", "kms:ScheduleKeyDeletion", "kms:CancelKeyDeletion",
    "kms:RotateKeyOnDemand",
]
USE_ACTIONS = [
    "kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey",
]


def _via_service(ctx: AwsContext, *services: str) -> dict:
    """Principals of this account may use the key, but only through the named services."""
    return {
        "Sid": "UseThroughServices",
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


def _logs_statements(ctx: AwsContext) -> list[dict]:
    return [
        _via_service(ctx, "s3"),
        {
            "Sid": "CloudWatchLogsEncryptLogGroups",
            "Effect": "Allow",
            "Principal": {"Service": ctx.service_host("logs")},
            "Action": USE_ACTIONS,
            "Resource": "*",
            "Condition": {"ArnLike": {
                "kms:EncryptionContext:aws:logs:arn": ctx.arn("logs", "log-group:*"),
            }},
        },
        {
            "Sid": "CloudTrailEncryptLogs",
            "Effect": "Allow",
            "Principal": {"Service": "cloudtrail.amazonaws.com"},
            "Action": "kms:GenerateDataKey*",
            "Resource": "*",
            "Condition": {
                "StringLike": {"kms:EncryptionContext:aws:cloudtrail:arn":
                               f"arn:{ctx.partition}:cloudtrail:*:{ctx.account_id}:trail/*"},
                "StringEquals": {"aws:SourceAccount": ctx.account_id},
            },
        },
        {
            "Sid": "CloudTrailDescribeKey",
            "Effect": "Allow",
            "Principal": {"Service": "cloudtrail.amazonaws.com"},
            "Action": "kms:DescribeKey",
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:SourceAccount": ctx.account_id}},
        },
        {
            "Sid": "AccountReadsTrailLogs",
            "Effect": "Allow",
            "Principal": {"AWS": ctx.account_root_arn},
            "Action": ["kms:Decrypt", "kms:ReEncryptFrom"],
            "Resource": "*",
            "Condition": {
                "StringEquals": {"kms:CallerAccount": ctx.account_id},
                "StringLike": {"kms:EncryptionContext:aws:cloudtrail:arn":
                               f"arn:{ctx.partition}:cloudtrail:*:{ctx.account_id}:trail/*"},
            },
        },
        {
            "Sid": "ConfigDeliversEncryptedSnapshots",
            "Effect": "Allow",
            "Principal": {"Service": "config.amazonaws.com"},
            "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:SourceAccount": ctx.account_id}},
        },
    ]


def _alerting_statements(ctx: AwsContext) -> list[dict]:
    return [
        _via_service(ctx, "sns"),
        {
            # Alarms and EventBridge rules publish to the encrypted alert topic.
            "Sid": "AlarmAndEventServicesPublish",
            "Effect": "Allow",
            "Principal": {"Service": ["cloudwatch.amazonaws.com", "events.amazonaws.com"]},
            "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:SourceAccount": ctx.account_id}},
        },
    ]


@dataclass(frozen=True)
class KeyPurpose:
    name: str
    description: str
    statements: Callable[[AwsContext], list[dict]]


KEY_PURPOSES: tuple[KeyPurpose, ...] = (
    KeyPurpose("database", "RDS storage, snapshots and Performance Insights",
               lambda ctx: [_via_service(ctx, "rds")]),
    KeyPurpose("storage", "S3 objects holding PHI",
               lambda ctx: [_via_service(ctx, "s3")]),
    KeyPurpose("logs", "CloudWatch Logs, CloudTrail and AWS Config delivery", _logs_statements),
    KeyPurpose("secrets", "Secrets Manager secrets (database credentials)",
               lambda ctx: [_via_service(ctx, "secretsmanager")]),
    KeyPurpose("backup", "AWS Backup vaults and EBS default encryption",
               lambda ctx: [_via_service(ctx, "backup", "ec2")]),
    KeyPurpose("alerting", "the SNS security alert topic", _alerting_statements),
)


def key_policy(ctx: AwsContext, purpose: KeyPurpose) -> dict:
    """The key policy for `purpose`: root administers, only the purpose's services use."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AccountAdministersKey",
                "Effect": "Allow",
                "Principal": {"AWS": ctx.account_root_arn},
                "Action": ADMIN_ACTIONS,
                "Resource": "*",
            },
            *purpose.statements(ctx),
        ],
    }


@dataclass(frozen=True)
class KeyRingArgs:
    stack: str
    aws: AwsContext


class KeyRing(pulumi.ComponentResource):
    """Per-purpose customer-managed keys: rotated yearly, 30-day deletion window, aliased."""

    keys: dict[str, aws.kms.Key]
    """The key for each purpose in KEY_PURPOSES."""

    def __init__(self, name: str, args: KeyRingArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("hipaa:components:KeyRing", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.keys = {}
        for purpose in KEY_PURPOSES:
            key = aws.kms.Key(
                f"{name}-{purpose.name}",
                description=f"hipaa-aws {args.stack}: {purpose.description}",
                key_usage="ENCRYPT_DECRYPT",
                customer_master_key_spec="SYMMETRIC_DEFAULT",
                enable_key_rotation=True,
                rotation_period_in_days=ROTATION_PERIOD_DAYS,
                deletion_window_in_days=DELETION_WINDOW_DAYS,
                policy=json.dumps(key_policy(args.aws, purpose)),
                opts=child,
            )
            aws.kms.Alias(
                f"{name}-{purpose.name}",
                name=f"alias/hipaa-aws-{args.stack}-{purpose.name}",
                target_key_id=key.key_id,
                opts=child,
            )
            self.keys[purpose.name] = key
        self.register_outputs({f"{p}_key_arn": k.arn for p, k in self.keys.items()})

    def arn(self, purpose: str) -> pulumi.Output[str]:
        """ARN of the key for `purpose`."""
        return self.keys[purpose].arn
