"""IAM and resource policy documents shared by several components."""

from __future__ import annotations

import json
from typing import Optional

import pulumi

from .aws_context import AwsContext


def service_trust_policy(
    service: str, ctx: AwsContext, source_arn: Optional[str] = None
) -> str:
    """A role trust policy for one AWS service, scoped to this account (confused deputy)."""
    condition: dict = {"StringEquals": {"aws:SourceAccount": ctx.account_id}}
    if source_arn:
        condition["ArnLike"] = {"aws:SourceArn": source_arn}
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Service": service},
            "Action": "sts:AssumeRole",
            "Condition": condition,
        }],
    })


def deny_insecure_transport(bucket_arn: str) -> list[dict]:
    """Statements refusing any request without TLS, or with TLS older than 1.2."""
    resources = [bucket_arn, f"{bucket_arn}/*"]
    return [
        {
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": resources,
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        },
        {
            "Sid": "DenyOutdatedTls",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": resources,
            "Condition": {"NumericLessThan": {"s3:TlsVersion": "1.2"}},
        },
    ]


def policy_json(*statements: dict) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def output_policy(build, *args: pulumi.Input) -> pulumi.Output[str]:
    """A policy document built from resolved outputs: `build(*values) -> list of statements`."""
    return pulumi.Output.all(*args).apply(lambda values: policy_json(*build(*values)))
