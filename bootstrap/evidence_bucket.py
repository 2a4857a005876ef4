"""The account's evidence bucket: CI keeps every preflight report it makes (text, JSON, SARIF, Markdown)
here for six years, where nobody can delete or overwrite it, not GitHub's 90-day artifact retention.

- Object Lock with a default retention of six years (2,192 days: HIPAA 164.316(b)(2)(i) keeps
  documentation six years), COMPLIANCE when any stack pinned to the account may hold PHI (no user,
  root included, can shorten it or delete a version before it ends: S3 user guide, "Object Lock
  retention modes"), GOVERNANCE when every one is synthetic (a user granted
  s3:BypassGovernanceRetention can still remove a report, so a test account's mistakes are not kept
  for six years). A stack file without a classification counts as PHI: the stronger lock is the one
  that cannot be regretted in front of an auditor.
- SSE-KMS with its own key (auditors who read evidence need no key of the state), versioning, all
  public access blocks, TLS only, server access logging: the SecureBucket component.
- Each stack's deploy role may only PutObject under `<stack>/` (ci_roles.py, UploadStackEvidence).

Object Lock is set when the bucket is created (SecureBucket passes ObjectLockEnabledForBucket), and a
PutObject into a bucket with default retention must carry Content-MD5 or a checksum header (botocore
s3 model, PutObject ContentMD5): upload with `aws s3 cp ... --checksum-algorithm SHA256`
(`upload_command`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Optional

import pulumi

from components.aws_context import AwsContext
from components.secure_bucket import ObjectLock, SecureBucket, SecureBucketArgs

STACK = "state"
"""The bootstrap's name scope: its buckets are hipaa-aws-state-<purpose>-<account>."""
PURPOSE = "evidence"
EVIDENCE_KEY = "hipaa-aws-evidence"
RETENTION_DAYS = 2192
"""Six years including leap days (HIPAA 164.316(b)(2)(i)), as the access logs and audit logs keep."""
PHI_MODE, NO_PHI_MODE = "COMPLIANCE", "GOVERNANCE"
REPORTS_DIR = "reports"
"""Where `python -m preflight STACK --output-dir reports` writes a stack's four reports."""


def evidence_bucket_name(account_id: str) -> str:
    """The evidence bucket of `account_id` (known before it exists, so workflows can name it):
    hipaa-aws-state-evidence-<account id>, AwsContext.bucket_name's scheme."""
    return f"hipaa-aws-{STACK}-{PURPOSE}-{account_id}"


def evidence_prefix(stack: str, run_id: str = "${GITHUB_RUN_ID}",
                    attempt: str = "${GITHUB_RUN_ATTEMPT}") -> str:
    """Where one CI run's reports of `stack` go: `<stack>/<run id>-<attempt>/` (one folder per run, so
    a re-run adds reports and never collides with a locked version)."""
    return f"{stack}/{run_id}-{attempt}/"


def upload_command(stack: str, account_id: str) -> str:
    """The workflow step's command: every report of the stack's last preflight, into its prefix."""
    return (f"aws s3 cp {REPORTS_DIR}/ s3://{evidence_bucket_name(account_id)}/{evidence_prefix(stack)} "
            f"--recursive --exclude '*' --include '{stack}.*' --checksum-algorithm SHA256")


def lock_mode(classifications: Iterable[Optional[str]]) -> str:
    """COMPLIANCE unless every stack of the account is synthetic (and there is at least one)."""
    values = list(classifications)
    return NO_PHI_MODE if values and all(c == "synthetic" for c in values) else PHI_MODE


def evidence_bucket(ctx: AwsContext, kms_key_arn: pulumi.Input[str], access_log_bucket: pulumi.Input[str],
                    mode: str, opts: Optional[pulumi.ResourceOptions] = None) -> SecureBucket:
    """The bucket. Protected and kept on delete: a locked bucket cannot be emptied anyway, and evidence
    must outlive the stack that made it."""
    if mode not in (PHI_MODE, NO_PHI_MODE):
        raise ValueError(f"Object Lock mode {mode!r}: S3 knows {PHI_MODE} and {NO_PHI_MODE}")
    bucket = SecureBucket("evidence", SecureBucketArgs(
        aws=ctx, stack=STACK, purpose=PURPOSE, kms_key_arn=kms_key_arn, access_log_bucket=access_log_bucket,
        object_lock=ObjectLock(mode=mode, days=RETENTION_DAYS), retain_on_delete=True),
        opts=pulumi.ResourceOptions.merge(pulumi.ResourceOptions(protect=True), opts))
    name = ctx.bucket_name(STACK, PURPOSE)
    if name != evidence_bucket_name(ctx.account_id):
        raise ValueError(f"evidence bucket {name}: evidence_bucket_name() must name it for the workflows")
    return bucket
