"""The PHI document bucket and the access-log bucket that records every request to it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi_aws as aws

from .aws_context import AwsContext
from .secure_bucket import SecureBucket, SecureBucketArgs
from .settings import SIX_YEARS_DAYS

s3 = aws.s3


def access_log_delivery(ctx: AwsContext):
    """Bucket policy statements letting S3 log delivery write, for this account's buckets only."""
    def statements(arn: str) -> list[dict]:
        return [{
            "Sid": "S3ServerAccessLogDelivery",
            "Effect": "Allow",
            "Principal": {"Service": "logging.s3.amazonaws.com"},
            "Action": "s3:PutObject",
            "Resource": f"{arn}/*",
            "Condition": {"StringEquals": {"aws:SourceAccount": ctx.account_id}},
        }]
    return statements


@dataclass(frozen=True)
class PhiBucketArgs:
    stack: str
    aws: AwsContext
    storage_key_arn: pulumi.Input[str]
    glacier_transition_days: int
    noncurrent_version_expiration_days: int


class PhiBucket(pulumi.ComponentResource):
    bucket_name: pulumi.Output[str]
    """The PHI document bucket."""
    arn: pulumi.Output[str]
    """ARN of the PHI document bucket."""
    documents: SecureBucket
    """The PHI document bucket component."""
    access_logs: SecureBucket
    """The server access-log bucket (SSE-S3, as S3 log delivery requires); other buckets log here too."""

    def __init__(self, name: str, args: PhiBucketArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("hipaa:components:PhiBucket", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        transition = s3.BucketLifecycleConfigurationRuleTransitionArgs

        self.access_logs = SecureBucket(f"{name}-access-logs", SecureBucketArgs(
            aws=args.aws, stack=args.stack, purpose="access-logs",
            kms_key_arn=None,
            lifecycle_rules=[s3.BucketLifecycleConfigurationRuleArgs(
                id="retain-six-years", status="Enabled",
                filter=s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
                transitions=[transition(storage_class="GLACIER", days=90)],
                expiration=s3.BucketLifecycleConfigurationRuleExpirationArgs(days=SIX_YEARS_DAYS),
                noncurrent_version_expiration=s3.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(
                    noncurrent_days=30),
            )],
            extra_policy_statements=access_log_delivery(args.aws),
        ), opts=child)

        self.documents = SecureBucket(f"{name}-documents", SecureBucketArgs(
            aws=args.aws, stack=args.stack, purpose="phi-documents",
            kms_key_arn=args.storage_key_arn,
            access_log_bucket=self.access_logs.bucket_name,
            lifecycle_rules=[s3.BucketLifecycleConfigurationRuleArgs(
                id="archive-and-expire-old-versions", status="Enabled",
                filter=s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
                transitions=[transition(storage_class="GLACIER", days=args.glacier_transition_days)],
                noncurrent_version_expiration=s3.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(
                    noncurrent_days=args.noncurrent_version_expiration_days),
            )],
        ), opts=child)

        self.bucket_name, self.arn = self.documents.bucket_name, self.documents.arn
        self.register_outputs({
            "bucket_name": self.bucket_name,
            "access_log_bucket_name": self.access_logs.bucket_name,
        })
