"""An S3 bucket with every control on, built from the pulumi-aws 7 split S3 resources."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Optional, Sequence

import pulumi
import pulumi_aws as aws

from .aws_context import AwsContext
from .policy_documents import deny_insecure_transport, policy_json

s3 = aws.s3


@dataclass(frozen=True)
class ObjectLock:
    """Default retention applied to every new object version (WORM)."""

    mode: str  # COMPLIANCE: nobody, root included, can shorten or remove it
    days: int


@dataclass(frozen=True)
class SecureBucketArgs:
    aws: AwsContext
    stack: str
    purpose: str
    """Purpose tag; `access-logs` marks the one bucket allowed SSE-S3 (S3 requires it)."""
    kms_key_arn: Optional[pulumi.Input[str]]
    """SSE-KMS key; None means SSE-S3, which only a server-access-log target may use."""
    access_log_bucket: Optional[pulumi.Input[str]] = None
    """Bucket receiving this bucket's server access logs (None only for the log target)."""
    lifecycle_rules: Sequence[s3.BucketLifecycleConfigurationRuleArgs] = ()
    extra_policy_statements: Callable[[str], list[dict]] = field(default=lambda arn: [])
    """Statements added to the TLS-only policy, given the bucket ARN."""
    object_lock: Optional[ObjectLock] = None


class SecureBucket(pulumi.ComponentResource):
    bucket_name: pulumi.Output[str]
    """The bucket's name."""
    arn: pulumi.Output[str]
    """The bucket's ARN."""
    bucket: s3.Bucket
    """The bucket resource (for backup selections and dependencies)."""
    policy: s3.BucketPolicy
    """The bucket policy (writers depend on it)."""

    def __init__(self, name: str, args: SecureBucketArgs, opts: Optional[pulumi.ResourceOptions] = None):
        if args.kms_key_arn is None and args.purpose != "access-logs":
            raise pulumi.RunError(
                f"bucket {name}: SSE-KMS is required; only the access-log target may use SSE-S3"
            )
        if args.access_log_bucket is None and args.purpose != "access-logs":
            raise pulumi.RunError(f"bucket {name}: server access logging is required")
        super().__init__("hipaa:components:SecureBucket", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        bucket_name = args.aws.bucket_name(args.stack, args.purpose)
        arn = args.aws.bucket_arn(bucket_name)
        bucket = s3.Bucket(
            name, bucket=bucket_name, object_lock_enabled=True if args.object_lock else None,
            tags={"Purpose": args.purpose}, opts=child,
        )
        self.bucket, self.bucket_name, self.arn = bucket, bucket.bucket, bucket.arn

        s3.BucketOwnershipControls(
            name, bucket=bucket.id,
            rule=s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"),
            opts=child,
        )
        public_access_block = s3.BucketPublicAccessBlock(
            name, bucket=bucket.id, block_public_acls=True, block_public_policy=True,
            ignore_public_acls=True, restrict_public_buckets=True, opts=child,
        )
        if args.kms_key_arn is not None:
            default = s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                sse_algorithm="aws:kms", kms_master_key_id=args.kms_key_arn)
        else:
            default = s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                sse_algorithm="AES256")
        s3.BucketServerSideEncryptionConfiguration(
            name, bucket=bucket.id,
            rules=[s3.BucketServerSideEncryptionConfigurationRuleArgs(
                apply_server_side_encryption_by_default=default,
                bucket_key_enabled=args.kms_key_arn is not None,
            )],
            opts=child,
        )
        versioning = s3.BucketVersioning(
            name, bucket=bucket.id,
            versioning_configuration=s3.BucketVersioningVersioningConfigurationArgs(status="Enabled"),
            opts=child,
        )
        if args.object_lock:
            s3.BucketObjectLockConfiguration(
                name, bucket=bucket.id,
                rule=s3.BucketObjectLockConfigurationRuleArgs(
                    default_retention=s3.BucketObjectLockConfigurationRuleDefaultRetentionArgs(
                        mode=args.object_lock.mode, days=args.object_lock.days)),
                opts=pulumi.ResourceOptions(parent=self, depends_on=[versioning]),
            )
        if args.access_log_bucket is not None:
            s3.BucketLogging(
                name, bucket=bucket.id, target_bucket=args.access_log_bucket,
                target_prefix=f"{name}/", opts=child,
            )
        s3.BucketLifecycleConfiguration(
            name, bucket=bucket.id,
            rules=[
                *args.lifecycle_rules,
                s3.BucketLifecycleConfigurationRuleArgs(
                    id="abort-incomplete-uploads", status="Enabled",
                    filter=s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
                    abort_incomplete_multipart_upload=s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
                        days_after_initiation=7),
                ),
            ],
            opts=pulumi.ResourceOptions(parent=self, depends_on=[versioning]),
        )
        self.policy = s3.BucketPolicy(
            name, bucket=bucket.id,
            # Built from the known name (not the ARN output) so it can be judged at preview.
            policy=policy_json(*deny_insecure_transport(arn), *args.extra_policy_statements(arn)),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[public_access_block]),
        )
        self.register_outputs({"bucket_name": self.bucket_name, "arn": self.arn})
