"""`hipaa-aws:index:SecureBucket`: one S3 bucket with every control of this project's buckets
(components/secure_bucket.py) for another team's program: SSE-KMS with a bucket key, versioning,
public access blocked, owner-enforced objects, TLS-only policy, server access logging, aborted
uploads cleaned up, optional Object Lock.

Secure by default, as the project's own component: no input turns a control off. A bucket without
a KMS key must be an access-log target (purpose `access-logs`, SSE-S3, which S3 server access logging
requires, six years of retention); any other bucket needs a key and an access-log bucket.
"""

from enum import StrEnum
from typing import NotRequired, Optional, TypedDict

import pulumi

from components import secure_bucket
from components.aws_context import lookup_aws_context
from components.package import PACKAGE_NAME
from components.tagging import tagging_transform


class ObjectLockMode(StrEnum):
    """S3 Object Lock retention mode."""

    GOVERNANCE = "GOVERNANCE"
    """Users with s3:BypassGovernanceRetention can remove a locked version."""
    COMPLIANCE = "COMPLIANCE"
    """Nobody, root included, can remove a locked version before its retention ends."""


class ObjectLock(TypedDict):
    """Default retention of every new object version (WORM); set only when the bucket is created."""

    mode: ObjectLockMode
    """Retention mode."""
    days: int
    """Retention in days."""


class SecureBucketArgs(TypedDict):
    """The bucket's purpose, key and logging."""

    purpose: str
    """Purpose tag and name part, hipaa-aws-<nameScope>-<purpose>-<account>; access-logs: the log target."""
    kms_key_arn: NotRequired[pulumi.Input[str]]
    """Customer managed KMS key for SSE-KMS; required unless purpose is access-logs."""
    access_log_bucket: NotRequired[pulumi.Input[str]]
    """Bucket receiving this bucket's server access logs; required unless purpose is access-logs."""
    object_lock: NotRequired[ObjectLock]
    """Object Lock default retention (create-only: changing it replaces the bucket)."""
    force_destroy: NotRequired[bool]
    """Let `pulumi destroy` empty the bucket first (never with COMPLIANCE Object Lock; default false)."""
    name_scope: NotRequired[str]
    """Middle part of the bucket name (default: the consuming stack's name)."""
    tags: NotRequired[dict[str, str]]
    """Tags added to the bucket and each of its settings resources that takes tags."""


class SecureBucket(pulumi.ComponentResource):
    """An S3 bucket with every control on: SSE-KMS, versioning, no public access, TLS only, access logs."""

    bucket_name: pulumi.Output[str]
    """The bucket's name."""
    arn: pulumi.Output[str]
    """The bucket's ARN."""

    def __init__(self, name: str, args: SecureBucketArgs, opts: Optional[pulumi.ResourceOptions] = None):
        ctx = lookup_aws_context()
        stack = pulumi.get_stack()
        scope = args.get("name_scope")
        force_destroy = bool(args.get("force_destroy", False))
        kms_key_arn = args.get("kms_key_arn")
        if args["purpose"] == "access-logs" and kms_key_arn is None:
            extra = [input_name for key, input_name in (("object_lock", "objectLock"),
                                                         ("access_log_bucket", "accessLogBucket"))
                     if args.get(key) is not None]
            if extra:
                raise pulumi.RunError(f"bucket {name}: an access-log target (purpose access-logs, SSE-S3) "
                                      f"takes no {' or '.join(extra)}: it has the project's fixed six-year "
                                      f"retention")
            inner = secure_bucket.access_log_target(ctx, stack, name_scope=scope, force_destroy=force_destroy)
        else:
            lock = args.get("object_lock")
            inner = secure_bucket.SecureBucketArgs(
                aws=ctx, stack=stack, name_scope=scope, purpose=args["purpose"], kms_key_arn=kms_key_arn,
                access_log_bucket=args.get("access_log_bucket"), force_destroy=force_destroy,
                object_lock=secure_bucket.ObjectLock(mode=ObjectLockMode(lock["mode"]).value,
                                                     days=int(lock["days"])) if lock else None,
            )
        super().__init__(f"{PACKAGE_NAME}:index:SecureBucket", name, None, opts)
        tags = args.get("tags")
        bucket = secure_bucket.SecureBucket(name, inner, opts=pulumi.ResourceOptions(
            parent=self, transforms=[tagging_transform(tags)] if tags else None))
        self.bucket_name, self.arn = bucket.bucket_name, bucket.arn
        self.register_outputs({"bucketName": self.bucket_name, "arn": self.arn})
