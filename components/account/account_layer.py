"""The account layer: the region-wide controls one stack per account and region owns.

Some of these are create-once (the GuardDuty detector, Security Hub, the ACCOUNT Access
Analyzer; the AWS Config recorder and delivery channel, one of each per account and region: a
second one of another name fails, one of the same name is updated) and the rest are
last-writer-wins (password policy, S3 account public access block, EBS default encryption and key:
a second stack silently overwrites the first). Destroying the stack that
created one would switch it off for the whole account. So exactly one stack per account and
region says `accountBaseline: owned` and creates them all here, every resource kept on delete
(`retain_on_delete`) and, in a PHI stack, protected; every other stack says `external`.

In an account of the AWS Organization built by organization/ (`accountBaseline: organization`), the
organization's delegated administrator (the audit account) runs GuardDuty and Security Hub for every
member (auto-enabled), the organization IAM Access Analyzer covers the account, and the organization
conformance pack evaluates the HIPAA rules. The stack in that account still owns the rest, which the
organization does not create (ORGANIZATION_SCOPE): EBS encryption by default with its key and the
Auto Scaling service-linked role that key's policy names, the S3 account public access block, the
Session Manager preferences, the password policy, and the AWS Config recorder and delivery channel,
which AWS requires in every member before an organization conformance pack deploys there.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from collections.abc import Sequence
from typing import Literal, Optional

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
class AccountLayerScope:
    """Which of the account's controls the layer creates; the others are the organization's."""

    threat_detection: bool
    """GuardDuty with its features and Security Hub with its standards (ThreatDetection)."""
    account_analyzer: bool
    """The ACCOUNT IAM Access Analyzer."""
    conformance_rules: Literal["all", "per-account"]
    """The layer's conformance pack: the whole HIPAA pack, or the rules an organization pack cannot
    carry (config_recording.PER_ACCOUNT_RULES)."""
    password_policy: bool = True
    """The IAM password policy. Kept in an organization account too: the organization's SCP denies
    creating IAM users and login profiles, not the users an account had before it joined (nor
    iam:ChangePassword for them), and the organization's HIPAA pack runs iam-password-policy in every
    member, which AWS marks NON_COMPLIANT "when the default IAM password policy is used" (AWS Config
    Developer Guide, iam-password-policy)."""


# A single-account team's owner stack: everything.
OWNED_SCOPE = AccountLayerScope(threat_detection=True, account_analyzer=True, conformance_rules="all")
# A member account of the organization: GuardDuty and Security Hub are enabled by the delegated
# administrator (auto-enable), Access Analyzer is the organization's analyzer, and the HIPAA rules
# come from the organization's conformance pack.
ORGANIZATION_SCOPE = AccountLayerScope(threat_detection=False, account_analyzer=False,
                                       conformance_rules="per-account")
SCOPES = {"owned": OWNED_SCOPE, "organization": ORGANIZATION_SCOPE}
"""The layer's scope for each `accountBaseline` that creates it."""


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
    scope: AccountLayerScope = OWNED_SCOPE
    """What the layer creates: everything (`owned`), or what the organization does not."""


class AccountLayer(pulumi.ComponentResource):
    keys: KeyRing
    """The account's EBS default key and AWS Config delivery key."""
    threat_detection: Optional[ThreatDetection]
    """GuardDuty and Security Hub (None where the organization enables them)."""
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
            aws=ctx, ebs_key_arn=self.keys.arn("ebs-default"), account_analyzer=args.scope.account_analyzer,
            password_policy=args.scope.password_policy), opts=pulumi.ResourceOptions(parent=self))
        self.threat_detection = ThreatDetection(
            f"{name}-detection", ThreatDetectionArgs(aws=ctx), opts=pulumi.ResourceOptions(parent=self),
        ) if args.scope.threat_detection else None
        self.config = ConfigRecording(f"{name}-config", ConfigRecordingArgs(
            stack=args.stack, aws=ctx, config_key_arn=self.keys.arn("config"),
            authorized_vpc_ids=[args.authorized_vpc_id, *args.adoption.authorized_vpc_ids],
            recorder_name=args.adoption.recorder_name(args.stack),
            delivery_channel_name=args.adoption.delivery_channel_name(args.stack), bucket_scope=scope,
            conformance_rules=args.scope.conformance_rules),
            opts=pulumi.ResourceOptions(parent=self))
        SessionManager(f"{name}-sessions", SessionManagerArgs(
            session_key_arn=self.keys.arn("session-manager"), log_retention_days=args.log_retention_days),
            opts=pulumi.ResourceOptions(parent=self))
        self.register_outputs({})
