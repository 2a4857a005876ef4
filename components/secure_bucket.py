"""An S3 bucket with every control on, built from the pulumi-aws 7 split S3 resources."""

from __future__ import annotations

from dataclasses import dataclass, field
from collections.abc import Callable, Sequence
from typing import Optional

import pulumi
import pulumi_aws as aws

from components.aws_context import AwsContext
from components.policy_documents import deny_insecure_transport, policy_json

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
    force_destroy: bool = False
    """Let `pulumi destroy` empty the bucket first (never in a PHI stack; GOVERNANCE-locked
    versions are removed with BypassGovernanceRetention, COMPLIANCE-locked ones never)."""
    retain_on_delete: bool = False
    """Keep the bucket in AWS when the stack is destroyed (account-layer evidence)."""
    name_scope: Optional[str] = None
    """Middle part of the bucket name, `hipaa-aws-<name_scope>-<purpose>-<account>` (default: the stack)."""


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
        if args.force_destroy and args.object_lock and args.object_lock.mode == "COMPLIANCE":
            raise pulumi.RunError(
                f"bucket {name}: force_destroy cannot empty a COMPLIANCE-locked bucket; nobody, root "
                f"included, can delete its versions before retention ends")
        super().__init__("hipaa:components:SecureBucket", name, None, opts)
        retain = args.retain_on_delete or None
        child = pulumi.ResourceOptions(parent=self, retain_on_delete=retain)

        bucket_name = args.aws.bucket_name(args.name_scope or args.stack, args.purpose)
        arn = args.aws.bucket_arn(bucket_name)
        # Object Lock is create-only (CreateBucket ObjectLockEnabledForBucket) and the name is in
        # policies and the pack's patterns, so a replacement keeps it: the old bucket must go
        # first. Created first, the new bucket fails (BucketAlreadyOwnedByYou), or in us-east-1
        # "succeeds" as the old one (S3 answers 200 there) and the old one's delete then takes it.
        # Only a bucket `pulumi destroy` may empty is deleted first; any other is refused
        # (BucketNotEmpty), and a PHI stack's buckets are protected: Pulumi refuses to replace them.
        bucket = s3.Bucket(
            name, bucket=bucket_name, object_lock_enabled=True if args.object_lock else None,
            force_destroy=args.force_destroy or None,
            tags={"Purpose": args.purpose},
            opts=pulumi.ResourceOptions(parent=self, retain_on_delete=retain,
                                        delete_before_replace=args.force_destroy or None),
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
                opts=pulumi.ResourceOptions(parent=self, depends_on=[versioning], retain_on_delete=retain),
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
            opts=pulumi.ResourceOptions(parent=self, depends_on=[versioning], retain_on_delete=retain),
        )
        self.policy = s3.BucketPolicy(
            name, bucket=bucket.id,
            # Built from the known name (not the ARN output) so it can be judged at preview.
            policy=policy_json(*deny_insecure_transport(arn), *args.extra_policy_statements(arn)),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[public_access_block],
                                        retain_on_delete=retain),
        )
        self.register_outputs({"bucket_name": self.bucket_name, "arn": self.arn})


# Server access logs are audit records: kept six years (HIPAA 164.316(b)(2)(i)), archived after
# 90 days (read rarely, restored when an investigation needs them).
ACCESS_LOG_RETENTION_DAYS = 2192
ACCESS_LOG_ARCHIVE_DAYS = 90


def archive_rule(noncurrent_days: int, glacier_after_days: int = 90,
                 storage_class: str = "GLACIER") -> s3.BucketLifecycleConfigurationRuleArgs:
    """Evidence and log buckets: objects move to S3 Glacier Flexible Retrieval after
    `glacier_after_days` (rarely read, restored before a read; `GLACIER_IR` for a bucket whose
    objects must stay readable without a restore, as PHI must) and old versions expire after
    `noncurrent_days`."""
    return s3.BucketLifecycleConfigurationRuleArgs(
        id="archive", status="Enabled",
        filter=s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
        transitions=[s3.BucketLifecycleConfigurationRuleTransitionArgs(
            storage_class=storage_class, days=glacier_after_days)],
        noncurrent_version_expiration=s3.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(
            noncurrent_days=noncurrent_days),
    )


def access_log_delivery(ctx: AwsContext) -> Callable[[str], list[dict]]:
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


def access_log_target(ctx: AwsContext, stack: str, *, name_scope: Optional[str] = None,
                      force_destroy: bool = False, retain_on_delete: bool = False,
                      delivery: Optional[Callable[[str], list[dict]]] = None) -> SecureBucketArgs:
    """An access-log target: SSE-S3 (S3 and load balancer log delivery require it, so it carries the
    one purpose the pack exempts from SSE-KMS), logs kept six years. `delivery` builds the policy
    statements of the service that writes there (default: S3 server access logging)."""
    return SecureBucketArgs(
        aws=ctx, stack=stack, name_scope=name_scope, purpose="access-logs", kms_key_arn=None,
        force_destroy=force_destroy, retain_on_delete=retain_on_delete,
        lifecycle_rules=[s3.BucketLifecycleConfigurationRuleArgs(
            id="retain-six-years", status="Enabled",
            filter=s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
            transitions=[s3.BucketLifecycleConfigurationRuleTransitionArgs(
                storage_class="GLACIER", days=ACCESS_LOG_ARCHIVE_DAYS)],
            expiration=s3.BucketLifecycleConfigurationRuleExpirationArgs(days=ACCESS_LOG_RETENTION_DAYS),
            noncurrent_version_expiration=s3.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(
                noncurrent_days=30),
        )],
        extra_policy_statements=delivery or access_log_delivery(ctx),
    )
