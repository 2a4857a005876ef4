"""The PHI document bucket and the access-log bucket that records every request to it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi_aws as aws

from components.aws_context import AwsContext
from components.secure_bucket import SecureBucket, SecureBucketArgs, access_log_target

s3 = aws.s3


@dataclass(frozen=True)
class PhiBucketArgs:
    stack: str
    aws: AwsContext
    storage_key_arn: pulumi.Input[str]
    archive_transition_days: int
    noncurrent_version_expiration_days: int
    holds_phi: bool
    """A synthetic stack's buckets can be emptied by `pulumi destroy` (force_destroy)."""


# Current PHI documents must stay readable at once and be backed up: S3 Glacier Instant Retrieval
# is read in milliseconds and AWS Backup for S3 covers it; Glacier Flexible Retrieval and Deep
# Archive need a restore first (InvalidObjectState) and AWS Backup does not back them up.
PHI_ARCHIVE_STORAGE_CLASS = "GLACIER_IR"


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

        self.access_logs = SecureBucket(f"{name}-access-logs", access_log_target(
            args.aws, args.stack, force_destroy=not args.holds_phi), opts=child)

        self.documents = SecureBucket(f"{name}-documents", SecureBucketArgs(
            aws=args.aws, stack=args.stack, purpose="phi-documents",
            kms_key_arn=args.storage_key_arn, force_destroy=not args.holds_phi,
            access_log_bucket=self.access_logs.bucket_name,
            lifecycle_rules=[s3.BucketLifecycleConfigurationRuleArgs(
                id="archive-and-expire-old-versions", status="Enabled",
                filter=s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
                transitions=[transition(storage_class=PHI_ARCHIVE_STORAGE_CLASS,
                                        days=args.archive_transition_days)],
                noncurrent_version_expiration=s3.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(
                    noncurrent_days=args.noncurrent_version_expiration_days),
            )],
        ), opts=child)

        self.bucket_name, self.arn = self.documents.bucket_name, self.documents.arn
        self.register_outputs({
            "bucket_name": self.bucket_name,
            "access_log_bucket_name": self.access_logs.bucket_name,
        })
