"""The name of the application's audit archive bucket, shared by two layers: the application tier
creates it (components/application/audit_log.py), the environment's trail records its object reads and
writes by that name before it exists."""

from __future__ import annotations

from components.aws_context import AwsContext

BUCKET_PURPOSE = "app-audit"


def archive_bucket_arn(ctx: AwsContext, stack: str) -> str:
    """The archive bucket's ARN, known before the bucket exists."""
    return ctx.bucket_arn(ctx.bucket_name(stack, BUCKET_PURPOSE))
