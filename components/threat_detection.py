"""Detection: GuardDuty with its protection features, Security Hub standards, AWS Config with
the HIPAA Security conformance pack."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi_aws as aws

from .aws_context import AwsContext
from .conformance_pack import template_body
from .policy_documents import policy_json, service_trust_policy
from .role_policy import attach_policy
from .secure_bucket import SecureBucket, SecureBucketArgs

# EKS_RUNTIME_MONITORING is superseded by RUNTIME_MONITORING; never enable both.
GUARDDUTY_FEATURES = ("S3_DATA_EVENTS", "EBS_MALWARE_PROTECTION", "RDS_LOGIN_EVENTS",
                      "RUNTIME_MONITORING", "LAMBDA_NETWORK_LOGS")
RUNTIME_AGENTS = ("EC2_AGENT_MANAGEMENT", "ECS_FARGATE_AGENT_MANAGEMENT")

# There is no Security Hub HIPAA standard; HIPAA coverage comes from the conformance pack.
SECURITY_HUB_STANDARDS = {
    "aws-foundational-security-best-practices": "standards/aws-foundational-security-best-practices/v/1.0.0",
    "cis-aws-foundations-benchmark-3": "standards/cis-aws-foundations-benchmark/v/3.0.0",
    "nist-800-53-rev5": "standards/nist-800-53/v/5.0.0",
}


def security_hub_standard_arns(ctx: AwsContext) -> dict[str, str]:
    return {key: f"arn:{ctx.partition}:securityhub:{ctx.region}::{path}"
            for key, path in SECURITY_HUB_STANDARDS.items()}


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
class ThreatDetectionArgs:
    stack: str
    aws: AwsContext
    logs_key_arn: pulumi.Input[str]
    access_log_bucket: pulumi.Input[str]
    vpc_id: pulumi.Input[str]
    """The one VPC allowed an internet gateway (conformance rule parameter)."""
    protect_evidence: bool = False
    """Protect the configuration history bucket (audit evidence) from deletion."""


class ThreatDetection(pulumi.ComponentResource):
    detector_id: pulumi.Output[str]
    """GuardDuty detector."""
    standards_arns: dict[str, str]
    """Security Hub standards subscribed to, by short name."""
    config_bucket: SecureBucket
    """Where AWS Config delivers configuration history and snapshots."""

    def __init__(self, name: str, args: ThreatDetectionArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("hipaa:components:ThreatDetection", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        ctx = args.aws

        detector = aws.guardduty.Detector(
            name, enable=True, finding_publishing_frequency="FIFTEEN_MINUTES", opts=child)
        self.detector_id = detector.id
        for feature in GUARDDUTY_FEATURES:
            extra = None
            if feature == "RUNTIME_MONITORING":
                extra = [aws.guardduty.DetectorFeatureAdditionalConfigurationArgs(
                    name=agent, status="ENABLED") for agent in RUNTIME_AGENTS]
            aws.guardduty.DetectorFeature(
                f"{name}-{feature.lower().replace('_', '-')}", detector_id=detector.id,
                name=feature, status="ENABLED", additional_configurations=extra, opts=child)

        hub = aws.securityhub.Account(
            name, enable_default_standards=False, auto_enable_controls=True,
            control_finding_generator="SECURITY_CONTROL", opts=child)
        self.standards_arns = security_hub_standard_arns(ctx)
        for key, arn in self.standards_arns.items():
            aws.securityhub.StandardsSubscription(
                f"{name}-{key}", standards_arn=arn,
                opts=pulumi.ResourceOptions(parent=self, depends_on=[hub]))

        self.config_bucket = SecureBucket(f"{name}-config", SecureBucketArgs(
            aws=ctx, stack=args.stack, purpose="config-delivery", kms_key_arn=args.logs_key_arn,
            access_log_bucket=args.access_log_bucket,
            lifecycle_rules=[aws.s3.BucketLifecycleConfigurationRuleArgs(
                id="archive", status="Enabled",
                filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
                transitions=[aws.s3.BucketLifecycleConfigurationRuleTransitionArgs(
                    storage_class="GLACIER", days=90)],
                noncurrent_version_expiration=aws.s3.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(
                    noncurrent_days=365),
            )],
            extra_policy_statements=config_delivery(ctx),
        ), opts=pulumi.ResourceOptions(parent=self, protect=args.protect_evidence))

        role = aws.iam.Role(
            f"{name}-config", description="AWS Config recorder",
            assume_role_policy=service_trust_policy("config.amazonaws.com", ctx), opts=child)
        aws.iam.RolePolicyAttachment(
            f"{name}-config", role=role.name,
            policy_arn=f"arn:{ctx.partition}:iam::aws:policy/service-role/AWS_ConfigRole", opts=child)
        delivery_policy = attach_policy(
            f"{name}-config-delivery", role, "AWS Config delivers to its encrypted bucket",
            pulumi.Output.all(self.config_bucket.arn, args.logs_key_arn).apply(
                lambda v: policy_json(
                    {"Effect": "Allow", "Action": "s3:PutObject",
                     "Resource": f"{v[0]}/AWSLogs/{ctx.account_id}/Config/*"},
                    {"Effect": "Allow", "Action": "s3:GetBucketAcl", "Resource": v[0]},
                    {"Effect": "Allow", "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
                     "Resource": v[1]},
                )),
            child)
        recorder = aws.cfg.Recorder(
            name, name=f"hipaa-aws-{args.stack}", role_arn=role.arn,
            recording_group=aws.cfg.RecorderRecordingGroupArgs(
                all_supported=True, include_global_resource_types=True),
            opts=child)
        channel = aws.cfg.DeliveryChannel(
            name, name=f"hipaa-aws-{args.stack}",
            s3_bucket_name=self.config_bucket.bucket_name, s3_kms_key_arn=args.logs_key_arn,
            snapshot_delivery_properties=aws.cfg.DeliveryChannelSnapshotDeliveryPropertiesArgs(
                delivery_frequency="TwentyFour_Hours"),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[recorder, self.config_bucket.policy,
                                                                 delivery_policy]))
        status = aws.cfg.RecorderStatus(
            name, name=recorder.name, is_enabled=True,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[channel]))
        aws.cfg.ConformancePack(
            f"{name}-hipaa",
            name=f"hipaa-security-{args.stack}",
            template_body=pulumi.Output.from_input(args.vpc_id).apply(lambda vpc_id: template_body(
                {"internet-gateway-authorized-vpc-only": {"AuthorizedVpcIds": vpc_id}})),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[status]))

        self.register_outputs({"detector_id": self.detector_id})
