"""The organization trail: one multi-region CloudTrail for every account of the organization, created
in the management account, writing into WORM storage in the log-archive account.

Where things live, and why (CloudTrail user guide, "Creating a trail for an organization" and
"Prepare for creating a trail for your organization"):
- the trail is created by the management account. AWS also lets a CloudTrail delegated
  administrator create it (the management account still owns it, and its ARN carries the
  management account's id), but the pulumi-aws docstring of `is_organization_trail` still says "can
  only be created in the organization master account" (the upstream provider only learned to find
  a delegated administrator's trail by ARN in hashicorp/terraform-provider-aws PR 30758), and this
  project already runs in the management account, so this component takes its provider;
- its ARN, in every member account too, is `arn:<partition>:cloudtrail:<home region>:<management
  account>:trail/<name>`: known before creation, so every policy below names it exactly;
- the CloudWatch Logs group and the delivery role must be in the account that owns the trail ("You
  cannot use an IAM role or CloudWatch Logs log group owned by a different account");
- the bucket and its key are in the log-archive account, so nobody in the management account (or
  a member account) can delete or rewrite the evidence.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Optional

import pulumi
import pulumi_aws as aws

# AuditTrail lives in components/environment/ (moved there by the lead); the rest are shared modules.
from components.environment.audit_trail import CLOUDTRAIL_TRUST, trail_delivery, trail_to_logs_policy
from components.aws_context import AwsContext
from components.key_ring import KeyPurpose, KeyRing, KeyRingArgs, cloudtrail_statements, log_groups_may_use
from components.role_policy import attach_policy, iam_path
from components.secure_bucket import (
    ObjectLock, SecureBucket, SecureBucketArgs, access_log_target, archive_rule,
)

s3 = aws.s3

# HIPAA 164.316(b)(2)(i): keep documentation, audit logs included, six years.
SIX_YEARS_DAYS = 2192
# CloudWatch Logs guide, PutRetentionPolicy: the only values retentionInDays accepts.
CLOUDWATCH_RETENTION_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827,
    2192, 2557, 2922, 3288, 3653,
)
# botocore `organizations` model: shapes OrganizationId and AccountId.
ORGANIZATION_ID = r"o-[a-z0-9]{10,32}"
ACCOUNT_ID = r"\d{12}"
IAM_ROLE_ARN = r"arn:aws[a-z-]*:iam::(?P<account>\d{12}):role/[\w+=,.@/-]{1,512}"
# Bucket purpose: the pack's Object Lock rule (aws-s3-audit-bucket-object-lock) judges buckets
# tagged with this purpose, and exempts them from "current objects stay readable".
TRAIL_BUCKET_PURPOSE = "audit-trail"


@dataclass(frozen=True)
class OrganizationTrailArgs:
    stack: str
    """The organization project's stack: IAM path of the delivery role, bucket and alias names."""
    management_provider: pulumi.ProviderResource
    """Provider for the management account, in the home region (the trail, its log group, role, key)."""
    log_archive_provider: pulumi.ProviderResource
    """Provider for the log-archive account, in the home region (the bucket and its key)."""
    management_account_id: str
    log_archive_account_id: str
    organization_id: str
    """`o-...`: the member accounts' log files go under `AWSLogs/<organization id>/`."""
    home_region: str
    """The region the trail is created in (both providers' region)."""
    log_archive_key_administrators: Sequence[str]
    """Role ARNs in the log-archive account that administer the bucket's key. KMS refuses a key
    policy that locks out its creator: the role deploying into the log-archive account must be one."""
    management_key_administrators: Sequence[str]
    """Role ARNs in the management account that administer the log group's key (same rule)."""
    retention_days: int = SIX_YEARS_DAYS
    """Object Lock (COMPLIANCE) default retention and log group retention."""
    trail_name: str = "hipaa-aws-organization"
    partition: str = "aws"
    dns_suffix: str = "amazonaws.com"
    trusted_access: Sequence[pulumi.Resource] = field(default_factory=tuple)
    """What enables CloudTrail's trusted access in Organizations (the `aws.organizations.Organization`
    with `cloudtrail.amazonaws.com` among its service access principals): an organization trail
    cannot be created before it (CloudTrail guide, "Enabling CloudTrail as a trusted service")."""

    @property
    def management(self) -> AwsContext:
        return AwsContext(account_id=self.management_account_id, region=self.home_region,
                          partition=self.partition, dns_suffix=self.dns_suffix)

    @property
    def log_archive(self) -> AwsContext:
        return AwsContext(account_id=self.log_archive_account_id, region=self.home_region,
                          partition=self.partition, dns_suffix=self.dns_suffix)

    @property
    def trail_arn(self) -> str:
        """The trail's ARN, the same in every account of the organization."""
        return self.management.arn("cloudtrail", f"trail/{self.trail_name}")


def validate(args: OrganizationTrailArgs) -> None:
    """Refuse arguments AWS would refuse (or that would break the evidence), all problems at once."""
    problems = []
    for label, value in (("management_account_id", args.management_account_id),
                         ("log_archive_account_id", args.log_archive_account_id)):
        if not re.fullmatch(ACCOUNT_ID, value):
            problems.append(f"{label} {value!r} is not a 12-digit AWS account id")
    if args.management_account_id == args.log_archive_account_id:
        problems.append("log_archive_account_id must not be the management account: the evidence "
                        "is kept out of reach of the account that writes it")
    if not re.fullmatch(ORGANIZATION_ID, args.organization_id):
        problems.append(f"organization_id {args.organization_id!r} is not an organization id "
                        f"(o- then 10 to 32 lowercase letters or digits)")
    allowed = [d for d in CLOUDWATCH_RETENTION_DAYS if d >= SIX_YEARS_DAYS]
    if args.retention_days not in allowed:
        problems.append(f"retention_days {args.retention_days} must be a CloudWatch Logs retention of "
                        f"at least six years (HIPAA 164.316(b)(2)(i)): one of {', '.join(map(str, allowed))}")
    # CloudTrail guide, "Trail naming requirements": letters, digits, . _ -, 3 to 128 characters,
    # starting with a letter or digit, ending with a letter or digit.
    if not re.fullmatch(r"[A-Za-z0-9](?:[A-Za-z0-9._-]{1,126})[A-Za-z0-9]", args.trail_name):
        problems.append(f"trail_name {args.trail_name!r} does not meet CloudTrail's naming requirements")
    for label, roles, account in (
        ("log_archive_key_administrators", args.log_archive_key_administrators, args.log_archive_account_id),
        ("management_key_administrators", args.management_key_administrators, args.management_account_id),
    ):
        if not roles:
            problems.append(f"{label} must name at least one role (never the whole account)")
        for arn in roles:
            match = re.fullmatch(IAM_ROLE_ARN, arn)
            if not match:
                problems.append(f"{label}: {arn!r} is not an IAM role ARN")
            elif match["account"] != account:
                problems.append(f"{label}: {arn!r} is a role of account {match['account']}, not of "
                                f"the key's account {account}")
    for scope, purpose in ((args.stack, TRAIL_BUCKET_PURPOSE), (f"{args.stack}-trail", "access-logs")):
        try:
            args.log_archive.bucket_name(scope, purpose)
        except ValueError as error:
            problems.append(str(error))
    if problems:
        raise pulumi.RunError("organization trail: " + "; ".join(problems))


def organization_trail_delivery(args: OrganizationTrailArgs):
    """Bucket policy statements letting only the organization trail write (CloudTrail guide, "Create
    or update an Amazon S3 bucket to use to store the log files for an organization trail"): the
    environment trail's builder, given the management account and the organization id (for the
    member accounts' prefix `AWSLogs/<organization id>/`)."""
    return trail_delivery(args.trail_arn, args.management, organization_id=args.organization_id)


def trail_key_statements(args: OrganizationTrailArgs) -> list[dict]:
    """The log-archive key's use: CloudTrail encrypts for the organization trail only, the
    log-archive account reads through S3 (CloudTrail guide, "Configure AWS KMS key policies for
    CloudTrail").

    The CloudTrail statements are key_ring's, for this trail, whose ARN carries the management
    account's id in every member account ("Creating a trail for an organization")."""
    archive = args.log_archive
    return [
        *cloudtrail_statements(args.trail_arn, args.partition, args.management_account_id),
        {
            # Auditors and investigators in the log-archive account read the log files through S3
            # (an IAM policy there must still allow it); nobody elsewhere can decrypt them.
            "Sid": "LogArchiveReadsThroughS3",
            "Effect": "Allow",
            "Principal": {"AWS": archive.account_root_arn},
            "Action": ["kms:Decrypt", "kms:DescribeKey"],
            "Resource": "*",
            "Condition": {"StringEquals": {"kms:ViaService": archive.service_host("s3"),
                                           "kms:CallerAccount": archive.account_id}},
        },
    ]


def log_group_name(args: OrganizationTrailArgs) -> str:
    return f"/hipaa-aws/{args.stack}/organization-trail"


class OrganizationTrail(pulumi.ComponentResource):
    trail_arn: str
    """ARN of the organization trail (its name is fixed, so the ARN is known before creation)."""
    bucket: SecureBucket
    """The log-archive bucket holding every account's log files (COMPLIANCE Object Lock)."""
    bucket_name: pulumi.Output[str]
    """Name of the log-archive bucket."""
    key_arn: pulumi.Output[str]
    """The log-archive key encrypting the log files."""
    log_group_name: pulumi.Output[str]
    """CloudWatch log group in the management account receiving the trail (alarms read it)."""
    trail: aws.cloudtrail.Trail
    """The trail resource."""

    def __init__(self, name: str, args: OrganizationTrailArgs,
                 opts: Optional[pulumi.ResourceOptions] = None):
        validate(args)
        super().__init__("hipaa:components:OrganizationTrail", name, None, opts)
        management, archive = args.management, args.log_archive
        self.trail_arn = args.trail_arn
        # Evidence: protected (Pulumi refuses to delete or replace it) and kept in AWS if the
        # protection is ever lifted and the stack destroyed.
        in_archive = pulumi.ResourceOptions(parent=self, provider=args.log_archive_provider,
                                            protect=True)
        in_management = pulumi.ResourceOptions(parent=self, provider=args.management_provider)

        archive_keys = KeyRing(f"{name}-archive-keys", KeyRingArgs(
            stack=args.stack, aws=archive, administrators=list(args.log_archive_key_administrators),
            purposes=(KeyPurpose("org-trail", "the organization trail's log files",
                                 lambda _scope: trail_key_statements(args)),),
            retain_on_delete=True,
        ), opts=in_archive)
        trail_key = archive_keys.keys["org-trail"]
        self.key_arn = trail_key.arn

        access_logs = SecureBucket(
            f"{name}-access-logs",
            access_log_target(archive, args.stack, name_scope=f"{args.stack}-trail", retain_on_delete=True),
            opts=in_archive)
        self.bucket = SecureBucket(f"{name}-logs", SecureBucketArgs(
            aws=archive, stack=args.stack, purpose=TRAIL_BUCKET_PURPOSE,
            kms_key_arn=trail_key.arn,
            access_log_bucket=access_logs.bucket_name,
            # COMPLIANCE: nobody, root of the log-archive account included, can delete or shorten
            # a log file's retention for six years (so the bucket outlives any stack).
            object_lock=ObjectLock(mode="COMPLIANCE", days=args.retention_days),
            retain_on_delete=True,
            lifecycle_rules=[archive_rule(noncurrent_days=args.retention_days)],
            extra_policy_statements=organization_trail_delivery(args),
        ), opts=in_archive)
        self.bucket_name = self.bucket.bucket_name

        # CloudWatch Logs delivery, in the management account (the trail's owner).
        group_name = log_group_name(args)
        group_arn = management.arn("logs", f"log-group:{group_name}")  # known at preview
        log_keys = KeyRing(f"{name}-log-keys", KeyRingArgs(
            stack=args.stack, aws=management,
            administrators=list(args.management_key_administrators),
            purposes=(KeyPurpose("org-trail-logs", "the organization trail's CloudWatch log group",
                                 lambda _scope: [log_groups_may_use(management, group_name,
                                                                    "OrganizationTrailLogGroup")]),),
            retain_on_delete=True,
        ), opts=pulumi.ResourceOptions(parent=self, provider=args.management_provider, protect=True))
        log_group = aws.cloudwatch.LogGroup(
            f"{name}-trail", name=group_name, retention_in_days=args.retention_days,
            kms_key_id=log_keys.arn("org-trail-logs"),
            opts=pulumi.ResourceOptions(parent=self, provider=args.management_provider, protect=True,
                                        retain_on_delete=True),
        )
        self.log_group_name = log_group.name
        path = iam_path(args.stack)
        role = aws.iam.Role(
            f"{name}-trail-to-logs", description="Organization trail delivery to CloudWatch Logs",
            path=path, assume_role_policy=CLOUDTRAIL_TRUST, opts=in_management,
        )
        # CloudTrail guide, "Role policy document for CloudTrail to use CloudWatch Logs": the
        # management account's own streams are <account>_CloudTrail_<region>, the member accounts'
        # streams start with the organization id.
        streams = [f"{group_arn}:log-stream:{args.management_account_id}_CloudTrail_*",
                   f"{group_arn}:log-stream:{args.organization_id}_*"]
        role_policy = attach_policy(
            f"{name}-trail-to-logs", role, "The organization trail writes to its own log group",
            trail_to_logs_policy(streams),
            pulumi.ResourceOptions(parent=self, provider=args.management_provider, depends_on=[log_group]),
            path=path,
        )

        selector = aws.cloudtrail.TrailAdvancedEventSelectorArgs
        field_ = aws.cloudtrail.TrailAdvancedEventSelectorFieldSelectorArgs
        self.trail = aws.cloudtrail.Trail(
            name,
            name=args.trail_name,
            is_organization_trail=True,
            is_multi_region_trail=True,
            include_global_service_events=True,
            enable_log_file_validation=True,
            enable_logging=True,
            kms_key_id=trail_key.arn,
            s3_bucket_name=self.bucket.bucket_name,
            cloud_watch_logs_group_arn=log_group.arn.apply(lambda arn: f"{arn}:*"),
            cloud_watch_logs_role_arn=role.arn,
            advanced_event_selectors=[selector(
                name="All management events",
                field_selectors=[field_(field="eventCategory", equals=["Management"])])],
            # CreateTrail checks the bucket policy, the key policy (part of the key) and the role;
            # an organization trail also needs CloudTrail's trusted access in Organizations.
            opts=pulumi.ResourceOptions(
                parent=self, provider=args.management_provider,
                depends_on=[self.bucket.policy, trail_key, role_policy, *args.trusted_access]),
        )
        self.register_outputs({"trail_arn": self.trail_arn, "bucket_name": self.bucket_name,
                               "key_arn": self.key_arn, "log_group_name": self.log_group_name})
