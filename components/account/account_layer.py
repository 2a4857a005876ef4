"""The account layer: the region-wide controls one stack per account and region owns.

Some of these are create-once (the GuardDuty detector, Security Hub, the ACCOUNT Access
Analyzer; the AWS Config recorder and delivery channel, one of each per account and region: a
second one of another name fails, one of the same name is updated) and the rest are
last-writer-wins (password policy, S3 account public access block, EBS default encryption and key:
a second stack silently overwrites the first). Destroying the stack that
created one would switch it off for the whole account. So exactly one stack per account and
region says `accountBaseline: owned` and creates them all here, every resource kept on delete
(`retain_on_delete`) and, in a PHI stack, protected; every other stack says `external`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from collections.abc import Sequence
from typing import Optional

import pulumi
import pulumi_aws as aws

from components.account.account_guardrails import AccountGuardrails, AccountGuardrailsArgs
from components.account_settings import AccountLayerSettings
from components.aws_context import AwsContext
from components.account.config_recording import ConfigRecording, ConfigRecordingArgs
from components.key_ring import ACCOUNT_KEY_PURPOSES, KeyRing, KeyRingArgs
from components.account.session_manager import SessionManager, SessionManagerArgs
from components.account.threat_detection import ThreatDetection, ThreatDetectionArgs


@dataclass(frozen=True)
class AccountLayerArgs:
    stack: str
    """The owner stack."""
    aws: AwsContext
    key_administrators: Sequence[str]
    authorized_vpc_id: pulumi.Input[str]
    """The owner's VPC: the conformance pack allows it an internet gateway."""
    log_retention_days: int
    adoption: AccountLayerSettings = field(default_factory=lambda: AccountLayerSettings.model_validate({}))
    """What the account already has: its Config recorder and channel, other stacks' VPCs."""


class AccountLayer(pulumi.ComponentResource):
    keys: KeyRing
    """The account's EBS default key and AWS Config delivery key."""
    threat_detection: ThreatDetection
    config: ConfigRecording

    def __init__(self, name: str, args: AccountLayerArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("hipaa:components:AccountLayer", name, None, opts)
        ctx = args.aws
        scope = f"account-{ctx.region}"

        # One per account. A key policy naming a role that does not exist is rejected, so the
        # EBS default key waits for it. (Where the account already has it, import it:
        # `pulumi import aws:iam/serviceLinkedRole:ServiceLinkedRole ...`, see README.)
        auto_scaling = aws.iam.ServiceLinkedRole(
            f"{name}-autoscaling", aws_service_name="autoscaling.amazonaws.com",
            opts=pulumi.ResourceOptions(parent=self, retain_on_delete=True))
        self.keys = KeyRing(f"{name}-keys", KeyRingArgs(
            stack=args.stack, aws=ctx, administrators=args.key_administrators,
            purposes=ACCOUNT_KEY_PURPOSES, alias_scope=scope, retain_on_delete=True,
            depends_on=[auto_scaling]), opts=pulumi.ResourceOptions(parent=self))
        AccountGuardrails(f"{name}-guardrails", AccountGuardrailsArgs(
            aws=ctx, ebs_key_arn=self.keys.arn("ebs-default")), opts=pulumi.ResourceOptions(parent=self))
        self.threat_detection = ThreatDetection(f"{name}-detection", ThreatDetectionArgs(aws=ctx),
                                                opts=pulumi.ResourceOptions(parent=self))
        self.config = ConfigRecording(f"{name}-config", ConfigRecordingArgs(
            stack=args.stack, aws=ctx, config_key_arn=self.keys.arn("config"),
            authorized_vpc_ids=[args.authorized_vpc_id, *args.adoption.authorized_vpc_ids],
            recorder_name=args.adoption.recorder_name(args.stack),
            delivery_channel_name=args.adoption.delivery_channel_name(args.stack), bucket_scope=scope),
            opts=pulumi.ResourceOptions(parent=self))
        SessionManager(f"{name}-sessions", SessionManagerArgs(
            session_key_arn=self.keys.arn("session-manager"), log_retention_days=args.log_retention_days),
            opts=pulumi.ResourceOptions(parent=self))
        self.register_outputs({})
