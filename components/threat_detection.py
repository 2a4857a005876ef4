"""Threat detection for the account and region: GuardDuty with its protection features, Security
Hub with its standards.

Both are create-once per account and region (a second detector or hub fails), and deleting them
switches detection off for the whole account and deletes GuardDuty's findings: only the account
layer's owner creates them, and keeps them when it is destroyed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi_aws as aws

from .aws_context import AwsContext

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


@dataclass(frozen=True)
class ThreatDetectionArgs:
    aws: AwsContext


class ThreatDetection(pulumi.ComponentResource):
    detector_id: pulumi.Output[str]
    """GuardDuty detector."""
    standards_arns: dict[str, str]
    """Security Hub standards subscribed to, by short name."""

    def __init__(self, name: str, args: ThreatDetectionArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("hipaa:components:ThreatDetection", name, None, opts)
        child = pulumi.ResourceOptions(parent=self, retain_on_delete=True)
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
                opts=pulumi.ResourceOptions(parent=self, depends_on=[hub], retain_on_delete=True))
        self.register_outputs({"detector_id": self.detector_id})
