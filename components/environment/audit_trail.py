"""The audit trail: multi-region CloudTrail, validated and encrypted, into WORM storage and CloudWatch."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi_aws as aws

from components.aws_context import AwsContext
from components.policy_documents import policy_json
from components.role_policy import attach_policy, iam_path
from components.secure_bucket import ObjectLock, SecureBucket, SecureBucketArgs, archive_rule

s3 = aws.s3


@dataclass(frozen=True)
class AuditTrailArgs:
    stack: str
    aws: AwsContext
    logs_key_arn: pulumi.Input[str]
    access_log_bucket: pulumi.Input[str]
    retention_days: int
    """Object Lock default retention and log group retention (six years or more)."""
    phi_bucket_arns: list[pulumi.Input[str]]
    """Buckets whose object reads and writes are recorded as data events."""
    holds_phi: bool
    """COMPLIANCE object lock on the trail bucket (evidence); otherwise GOVERNANCE and destroyable."""
    management_events: bool
    """Record the account's management events in every region (`accountBaseline: owned` only). A
    stack with `external` records its PHI data events only, since the owner's trail already records
    management events; one with `organization` too, since the organization trail records every member
    account's management events (CloudTrail User Guide, "Creating a trail for an organization"). A
    second copy of management events is billed."""
    known_phi_bucket_arns: tuple[str, ...] = ()
    """PHI buckets another layer creates later (the application's audit archive), named by their known
    ARN in a selector of their own, so the policy pack can judge the selector at preview."""


# CloudTrail guide, "Sending events to CloudWatch Logs": the trust policy of the delivery role
# has no conditions (the role policy supports neither aws:SourceArn nor aws:SourceAccount).
CLOUDTRAIL_TRUST = policy_json({
    "Effect": "Allow",
    "Principal": {"Service": "cloudtrail.amazonaws.com"},
    "Action": "sts:AssumeRole",
})


def trail_to_logs_policy(streams: str | list[str]) -> str:
    """The CloudTrail-to-CloudWatch-Logs role's policy (CloudTrail guide, "Role policy document for
    CloudTrail to use CloudWatch Logs"): create and write the trail's own streams, nothing else."""
    return policy_json({
        "Sid": "CreateTrailStreams", "Effect": "Allow",
        "Action": "logs:CreateLogStream", "Resource": streams,
    }, {
        "Sid": "PutTrailEvents", "Effect": "Allow",
        "Action": "logs:PutLogEvents", "Resource": streams,
    })


def trail_delivery(trail_arn: str, ctx: AwsContext, organization_id: str = ""):
    """Bucket policy statements letting only this trail write into the bucket: under
    `AWSLogs/<account>/`, and for an organization trail also under `AWSLogs/<organization id>/`,
    where it writes the member accounts' logs (CloudTrail guide, "Creating a trail for an
    organization with the AWS CLI")."""
    def write(sid: str, prefix: str, bucket_arn: str) -> dict:
        return {
            "Sid": sid,
            "Effect": "Allow",
            "Principal": {"Service": "cloudtrail.amazonaws.com"},
            "Action": "s3:PutObject",
            "Resource": f"{bucket_arn}/AWSLogs/{prefix}/*",
            "Condition": {"StringEquals": {"aws:SourceArn": trail_arn,
                                           "s3:x-amz-acl": "bucket-owner-full-control"}},
        }

    def statements(bucket_arn: str) -> list[dict]:
        only_this_trail = {"StringEquals": {"aws:SourceArn": trail_arn}}
        return [
            {
                "Sid": "CloudTrailAclCheck",
                "Effect": "Allow",
                "Principal": {"Service": "cloudtrail.amazonaws.com"},
                "Action": "s3:GetBucketAcl",
                "Resource": bucket_arn,
                "Condition": only_this_trail,
            },
            write("CloudTrailWrite", ctx.account_id, bucket_arn),
            *([write("CloudTrailOrganizationWrite", organization_id, bucket_arn)] if organization_id else []),
        ]
    return statements


class AuditTrail(pulumi.ComponentResource):
    trail_arn: str
    """ARN of the trail (its name is fixed, so the ARN is known before creation)."""
    log_group_name: pulumi.Output[str]
    """CloudWatch log group receiving the trail (metric filters and alarms read it)."""
    bucket: SecureBucket
    """The Object Lock (COMPLIANCE) bucket holding the trail's log files."""

    def __init__(self, name: str, args: AuditTrailArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("hipaa:components:AuditTrail", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        ctx = args.aws
        trail_name = f"hipaa-aws-{args.stack}"
        self.trail_arn = ctx.arn("cloudtrail", f"trail/{trail_name}")

        self.bucket = SecureBucket(f"{name}-logs", SecureBucketArgs(
            aws=ctx, stack=args.stack, purpose="audit-trail",
            kms_key_arn=args.logs_key_arn,
            access_log_bucket=args.access_log_bucket,
            # COMPLIANCE: nobody, root included, can delete a log file for six years (so the
            # bucket outlives the stack). GOVERNANCE in a synthetic stack, which destroy empties.
            object_lock=ObjectLock(mode="COMPLIANCE" if args.holds_phi else "GOVERNANCE",
                                   days=args.retention_days),
            force_destroy=not args.holds_phi,
            lifecycle_rules=[archive_rule(noncurrent_days=args.retention_days)],
            extra_policy_statements=trail_delivery(self.trail_arn, ctx),
        ), opts=child)

        log_group_name = f"/hipaa-aws/{args.stack}/cloudtrail"
        log_group_arn = ctx.arn("logs", f"log-group:{log_group_name}")  # known at preview
        log_group = aws.cloudwatch.LogGroup(
            f"{name}-trail", name=log_group_name,
            retention_in_days=args.retention_days, kms_key_id=args.logs_key_arn, opts=child,
        )
        self.log_group_name = log_group.name
        role = aws.iam.Role(
            f"{name}-trail-to-logs", description="CloudTrail delivery to CloudWatch Logs",
            path=iam_path(args.stack), assume_role_policy=CLOUDTRAIL_TRUST, opts=child,
        )
        # The streams CloudTrail creates, one per region: <account>_CloudTrail_<region>.
        streams = f"{log_group_arn}:log-stream:{ctx.account_id}_CloudTrail_*"
        role_policy = attach_policy(
            f"{name}-trail-to-logs", role, "CloudTrail writes to its own log group",
            trail_to_logs_policy(streams),
            pulumi.ResourceOptions(parent=self, depends_on=[log_group]), path=iam_path(args.stack),
        )

        selector = aws.cloudtrail.TrailAdvancedEventSelectorArgs
        field = aws.cloudtrail.TrailAdvancedEventSelectorFieldSelectorArgs
        phi_objects = pulumi.Output.all(*args.phi_bucket_arns).apply(
            lambda arns: [f"{arn}/" for arn in arns])
        phi_data_events = selector(name="PHI object reads and writes", field_selectors=[
            field(field="eventCategory", equals=["Data"]),
            field(field="resources.type", equals=["AWS::S3::Object"]),
            field(field="resources.ARN", starts_withs=phi_objects),
        ])
        later_buckets = [selector(name="Application audit archive reads and writes", field_selectors=[
            field(field="eventCategory", equals=["Data"]),
            field(field="resources.type", equals=["AWS::S3::Object"]),
            field(field="resources.ARN", starts_withs=[f"{arn}/" for arn in args.known_phi_bucket_arns]),
        ])] if args.known_phi_bucket_arns else []
        management = selector(name="All management events",
                              field_selectors=[field(field="eventCategory", equals=["Management"])])
        aws.cloudtrail.Trail(
            name,
            name=trail_name,
            is_multi_region_trail=args.management_events,
            include_global_service_events=args.management_events,
            enable_log_file_validation=True,
            enable_logging=True,
            kms_key_id=args.logs_key_arn,
            s3_bucket_name=self.bucket.bucket_name,
            cloud_watch_logs_group_arn=log_group.arn.apply(lambda arn: f"{arn}:*"),
            cloud_watch_logs_role_arn=role.arn,
            advanced_event_selectors=[management, phi_data_events, *later_buckets] if args.management_events
            else [phi_data_events, *later_buckets],
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.bucket.policy, role_policy]),
        )
        self.register_outputs({"trail_arn": self.trail_arn, "log_group_name": self.log_group_name})
