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

from components.aws_context import AwsContext

# EKS_RUNTIME_MONITORING is superseded by RUNTIME_MONITORING; never enable both.
GUARDDUTY_FEATURES = ("S3_DATA_EVENTS", "EBS_MALWARE_PROTECTION", "RDS_LOGIN_EVENTS",
                      "RUNTIME_MONITORING", "LAMBDA_NETWORK_LOGS")
RUNTIME_AGENTS = ("EC2_AGENT_MANAGEMENT", "ECS_FARGATE_AGENT_MANAGEMENT")

# With automated agent management for Fargate (RUNTIME_AGENTS), GuardDuty adds its agent as a
# sidecar to every task, pulled with the task's execution role from this repository in GuardDuty's
# own account for the region. Source: GuardDuty User Guide, "Amazon ECR repository hosting
# GuardDuty agent" > "ECR Repository for GuardDuty agent on AWS Fargate (Amazon ECS only)",
# https://docs.aws.amazon.com/guardduty/latest/ug/ecs-runtime-agent-ecr-image-uri.html
# (read 2026-12-06; 33 regions, commercial partition). A region missing here fails the program:
# add it from that page.
GUARDDUTY_FARGATE_AGENT_REPOSITORY = "aws-guardduty-agent-fargate"
GUARDDUTY_FARGATE_AGENT_ACCOUNTS = {
    "us-east-1": "593207742271", "us-east-2": "307168627858", "us-west-1": "684579721401",
    "us-west-2": "733349766148", "ca-central-1": "354763396469", "ca-west-1": "339712888787",
    "mx-central-1": "311141559934", "sa-east-1": "758426053663",
    "eu-west-1": "694911143906", "eu-west-2": "892757235363", "eu-west-3": "665651866788",
    "eu-central-1": "323658145986", "eu-central-2": "529164026651", "eu-north-1": "591436053604",
    "eu-south-1": "266869475730", "eu-south-2": "919611009337",
    "ap-south-1": "251508486986", "ap-south-2": "950823858135", "ap-east-1": "258348409381",
    "ap-east-2": "259886477082", "ap-northeast-1": "533107202818", "ap-northeast-2": "914738172881",
    "ap-northeast-3": "273192626886", "ap-southeast-1": "174946120834",
    "ap-southeast-2": "005257825471", "ap-southeast-3": "510637619217",
    "ap-southeast-4": "251357961535", "ap-southeast-5": "156041399949",
    "ap-southeast-7": "054037130133", "me-south-1": "536382113932", "me-central-1": "000014521398",
    "il-central-1": "870907303882", "af-south-1": "197869348890",
}
# The tag that excludes an ECS cluster from GuardDuty's automated Fargate agent (key and value
# case-sensitive, on the cluster): no agent in its tasks, so no GuardDuty-created VPC endpoint and
# security group that `pulumi destroy` cannot delete (ECS Developer Guide, "Remove Runtime
# Monitoring from an Amazon ECS cluster"; GuardDuty User Guide, "Using Infrastructure as Code (IaC)
# with GuardDuty automated security agents").
GUARDDUTY_EXCLUSION_TAG = ("GuardDutyManaged", "false")


def guardduty_agent_repository_arn(ctx: AwsContext) -> str:
    """The ECR repository GuardDuty's Fargate agent is pulled from in the stack's region."""
    account = GUARDDUTY_FARGATE_AGENT_ACCOUNTS.get(ctx.region)
    if ctx.partition != "aws" or account is None:
        raise pulumi.RunError(
            f"GuardDuty's Fargate agent repository is not known for region {ctx.region} "
            f"(partition {ctx.partition}): add the region's account from the GuardDuty User Guide page "
            "'ECR Repository for GuardDuty agent on AWS Fargate (Amazon ECS only)' to "
            "GUARDDUTY_FARGATE_AGENT_ACCOUNTS in components/account/threat_detection.py")
    return f"arn:{ctx.partition}:ecr:{ctx.region}:{account}:repository/{GUARDDUTY_FARGATE_AGENT_REPOSITORY}"


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
