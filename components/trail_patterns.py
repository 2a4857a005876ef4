"""CloudWatch Logs filter patterns over CloudTrail events (the account owner's trail log group).

Syntax: CloudWatch Logs guide, "Filter pattern syntax for metric filters": JSON property
selectors, `*` wildcards at the start or end of a value (also with `!=`), `NOT EXISTS`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Optional

# PutMetricFilter's filterPattern is at most 1,024 characters (botocore's CloudWatch Logs model).
METRIC_FILTER_PATTERN_LIMIT = 1024
# Shape of the CI deploy roles' ARNs (bootstrap/ci_roles.py), for sizing the pattern before the
# account is known.
CI_ROLES_EXAMPLE = "arn:aws:iam::123456789012:role/hipaa-aws/ci/*"


def key_administration_pattern(administrators: Sequence[str],
                               ci_roles: Optional[str] = CI_ROLES_EXAMPLE) -> str:
    """Key policy changes, and grants made directly (not by an AWS service on a caller's behalf),
    by anyone but the named key administrators or a CI deploy role (None: no CI roles there)."""
    expected = [*administrators, *([ci_roles] if ci_roles else [])]
    not_expected = " && ".join(f'($.userIdentity.sessionContext.sessionIssuer.arn != "{arn}")'
                               for arn in expected)
    return ('{ ($.eventSource = "kms.amazonaws.com") && (($.eventName = "PutKeyPolicy") || '
            '(($.eventName = "CreateGrant") && ($.userIdentity.invokedBy NOT EXISTS))) && '
            f"{not_expected} }}")


def break_glass_pattern(stack_roles: str) -> str:
    """Any assumption of a stack's database break-glass role (`stack_roles`: the ARN prefix of the
    stacks' roles, ending in `*`)."""
    return ('{ ($.eventSource = "sts.amazonaws.com") && ($.eventName = "AssumeRole") && '
            f'($.requestParameters.roleArn = "{stack_roles}") && '
            '($.requestParameters.roleArn = "*-db-break-glass") }')


def port_forwarding_pattern() -> str:
    """Every Session Manager port-forwarding session in the account (the path to the database)."""
    return ('{ ($.eventSource = "ssm.amazonaws.com") && ($.eventName = "StartSession") && '
            '($.requestParameters.documentName = "AWS-StartPortForwardingSession*") }')


def in_account(pattern: str, account_id: str) -> str:
    """`pattern`, only for events recorded in `account_id` (CloudTrail record contents:
    `recipientAccountId`, the account that received the event). An organization trail's log group
    holds every member account's events; `{ A }` becomes `{ ($.recipientAccountId = "...") && (A) }`."""
    inner = pattern.strip()
    if not (inner.startswith("{") and inner.endswith("}")):
        raise ValueError(f"not a JSON filter pattern: {pattern!r}")
    return f'{{ ($.recipientAccountId = "{account_id}") && ({inner[1:-1].strip()}) }}'


def object_reads_per_principal_rule(trail_log_group_name: str, bucket_name: str) -> str:
    """A Contributor Insights rule (CloudWatch guide, "Contributor Insights rule syntax") counting,
    per principal, the S3 GetObject data events of one bucket in the trail's log group: the PHI-read
    alarms watch its MaxContributorValue."""
    return json.dumps({
        "Schema": {"Name": "CloudWatchLogRule", "Version": 1},
        "LogGroupNames": [trail_log_group_name],
        "LogFormat": "JSON",
        "Contribution": {
            "Keys": ["$.userIdentity.arn"],
            "Filters": [
                {"Match": "$.eventSource", "In": ["s3.amazonaws.com"]},
                {"Match": "$.eventName", "In": ["GetObject"]},
                {"Match": "$.requestParameters.bucketName", "In": [bucket_name]},
            ],
        },
        "AggregateOn": "Count",
    })
