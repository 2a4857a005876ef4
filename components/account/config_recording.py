"""AWS Config for the account and region: a recorder of every resource type, an encrypted
delivery bucket, and the HIPAA Security conformance pack.

AWS Config allows one customer-managed recorder and one delivery channel per account and region
(PutConfigurationRecorder, PutDeliveryChannel: AWS Config API Reference): creating one of another
name fails (MaxNumberOfConfigurationRecordersExceededException), one of the same name updates the
existing one. Only the account layer's owner creates them, and keeps them (and their evidence) when
it is destroyed; an account that already records is adopted by name (`accountLayer` settings) and
`pulumi import`.

In an account of the AWS Organization (`accountBaseline: organization`) the recorder and channel are
still this layer's: AWS Config records per account and region, and the organization's conformance
pack deploys only where a recorder already runs (SDK docstring of `cfg.OrganizationConformancePack`:
every account it does not exclude "must have a Configuration Recorder with proper IAM permissions";
AWS Config Developer Guide, "Prerequisites for conformance packs": turn recording on first). There
the organization's pack evaluates the HIPAA rules, and this layer's pack holds only PER_ACCOUNT_RULES.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Optional

import pulumi
import pulumi_aws as aws

from components.aws_context import AwsContext
from components.conformance_pack import load_rules, template_body
from components.policy_documents import key_by_alias, policy_json, service_trust_policy
from components.role_policy import attach_policy, iam_path
from components.secure_bucket import SecureBucket, SecureBucketArgs, access_log_target, archive_rule

s3 = aws.s3

# Rules of the HIPAA pack whose parameters differ per account, so that an organization pack (one
# parameter set for every account) cannot carry them: internet-gateway-authorized-vpc-only takes the
# account's authorized VPC ids (AWS Config managed rule INTERNET_GATEWAY_AUTHORIZED_VPC_ONLY, parameter
# AuthorizedVpcIds). The organization's pack leaves them out; the account layer's pack keeps them.
PER_ACCOUNT_RULES = ("internet-gateway-authorized-vpc-only",)
# The account layer's pack, whichever rules it holds. One name for both: an owner stack that moves
# into the organization updates its pack in place (PutConformancePack with the same name updates it),
# instead of leaving the whole pack behind (kept on delete) beside the organization's.
PACK_NAME = "hipaa-security"


def config_delivery(ctx: AwsContext):
    """Bucket policy statements letting AWS Config deliver for this account only."""
    def statements(bucket_arn: str) -> list[dict]:
        this_account = {"StringEquals": {"aws:SourceAccount": ctx.account_id}}
        return [
            {"Sid": "ConfigAclCheck", "Effect": "Allow",
             "Principal": {"Service": "config.amazonaws.com"},
             "Action": ["s3:GetBucketAcl", "s3:ListBucket"], "Resource": bucket_arn,
             "Condition": this_account},
            {"Sid": "ConfigWrite", "Effect": "Allow",
             "Principal": {"Service": "config.amazonaws.com"},
             "Action": "s3:PutObject",
             "Resource": f"{bucket_arn}/AWSLogs/{ctx.account_id}/Config/*",
             "Condition": {"StringEquals": {"aws:SourceAccount": ctx.account_id,
                                            "s3:x-amz-acl": "bucket-owner-full-control"}}},
        ]
    return statements


@dataclass(frozen=True)
class ConfigRecordingArgs:
    stack: str
    """The owner stack (its deploy role manages the recorder's role)."""
    aws: AwsContext
    config_key_arn: pulumi.Input[str]
    """The account layer's key for Config delivery."""
    authorized_vpc_ids: Sequence[pulumi.Input[str]]
    """The VPCs of the account and region allowed an internet gateway (conformance rule
    `internet-gateway-authorized-vpc-only` judges every gateway of the account, not one stack's)."""
    bucket_scope: str
    """Middle part of the account layer's bucket names."""
    recorder_name: str
    delivery_channel_name: str
    conformance_rules: Literal["all", "per-account"] = "all"
    """The pack's rules: every rule of the HIPAA pack, or only PER_ACCOUNT_RULES where the
    organization's conformance pack evaluates the others."""


class ConfigRecording(pulumi.ComponentResource):
    bucket: SecureBucket
    """Where AWS Config delivers configuration history and snapshots (audit evidence)."""

    def __init__(self, name: str, args: ConfigRecordingArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("hipaa:components:ConfigRecording", name, None, opts)
        child = pulumi.ResourceOptions(parent=self, retain_on_delete=True)
        ctx = args.aws

        # The evidence outlives any one stack, so its access logs have their own bucket too
        # (S3 log delivery requires SSE-S3 on the target).
        access_logs = SecureBucket(f"{name}-access-logs", access_log_target(
            ctx, args.stack, name_scope=args.bucket_scope, retain_on_delete=True),
            opts=pulumi.ResourceOptions(parent=self))
        self.bucket = SecureBucket(f"{name}-delivery", SecureBucketArgs(
            aws=ctx, stack=args.stack, name_scope=args.bucket_scope, purpose="config-delivery",
            kms_key_arn=args.config_key_arn, access_log_bucket=access_logs.bucket_name,
            retain_on_delete=True,
            lifecycle_rules=[archive_rule(noncurrent_days=365)],
            extra_policy_statements=config_delivery(ctx),
        ), opts=pulumi.ResourceOptions(parent=self))

        role = aws.iam.Role(
            f"{name}-recorder", description="AWS Config recorder", path=iam_path(args.stack),
            assume_role_policy=service_trust_policy("config.amazonaws.com", ctx), opts=child)
        managed = aws.iam.RolePolicyAttachment(
            f"{name}-recorder", role=role.name,
            policy_arn=f"arn:{ctx.partition}:iam::aws:policy/service-role/AWS_ConfigRole", opts=child)
        # Built from names known before creation (bucket, key alias): judged at preview.
        bucket_arn = ctx.bucket_arn(ctx.bucket_name(args.bucket_scope, "config-delivery"))
        key, by_alias = key_by_alias(ctx, f"alias/hipaa-aws-{args.bucket_scope}-config")
        delivery = attach_policy(
            f"{name}-delivery", role, "AWS Config delivers to its encrypted bucket",
            policy_json(
                {"Effect": "Allow", "Action": "s3:PutObject",
                 "Resource": f"{bucket_arn}/AWSLogs/{ctx.account_id}/Config/*"},
                {"Effect": "Allow", "Action": "s3:GetBucketAcl", "Resource": bucket_arn},
                {"Effect": "Allow", "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
                 "Resource": key, "Condition": by_alias},
            ),
            child, path=iam_path(args.stack))
        recorder = aws.cfg.Recorder(
            name, name=args.recorder_name, role_arn=role.arn,
            recording_group=aws.cfg.RecorderRecordingGroupArgs(
                all_supported=True, include_global_resource_types=True),
            opts=child)
        channel = aws.cfg.DeliveryChannel(
            name, name=args.delivery_channel_name,
            s3_bucket_name=self.bucket.bucket_name, s3_kms_key_arn=args.config_key_arn,
            snapshot_delivery_properties=aws.cfg.DeliveryChannelSnapshotDeliveryPropertiesArgs(
                delivery_frequency="TwentyFour_Hours"),
            opts=pulumi.ResourceOptions(parent=self, retain_on_delete=True, depends_on=[
                recorder, self.bucket.policy, delivery]))
        # Recording starts here: only once the role holds all its permissions.
        status = aws.cfg.RecorderStatus(
            name, name=recorder.name, is_enabled=True,
            opts=pulumi.ResourceOptions(parent=self, retain_on_delete=True,
                                        depends_on=[channel, managed, delivery]))
        rules = None if args.conformance_rules == "all" else \
            [rule for rule in load_rules() if rule.name in PER_ACCOUNT_RULES]
        aws.cfg.ConformancePack(
            f"{name}-hipaa",
            name=PACK_NAME,
            # The rule's parameter is one comma-separated list of VPC ids (AWS Config managed rule
            # internet-gateway-authorized-vpc-only).
            template_body=pulumi.Output.all(*args.authorized_vpc_ids).apply(lambda vpc_ids: template_body(
                {"internet-gateway-authorized-vpc-only": {"AuthorizedVpcIds": ",".join(vpc_ids)}},
                rules=rules)),
            opts=pulumi.ResourceOptions(parent=self, retain_on_delete=True, depends_on=[status]))
        self.register_outputs({"bucket_name": self.bucket.bucket_name})
