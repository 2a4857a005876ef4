"""IAM Identity Center permission sets: the pack sends people to Identity Center, so it judges what
they get there.

- Inline policies of a permission set get the judgements iam.py applies to IAM policy documents
  (no admin or full-service access, no decrypting with every KMS key).
- AWS-managed policies attached to a permission set: none of `forbiddenManagedPolicies` (the admin
  policies and ReadOnlyAccess, which reads data, not only configuration).
- A permissions boundary must bound something: never an admin policy.
- Sessions end after `maximumSessionHours` (four by default).

A customer-managed policy attachment (`CustomerManagedPolicyAttachment`) only names an IAM policy
by name and path: there is nothing in the reference itself to judge. The IAM policy it names is an
`aws.iam.Policy`, judged by iam.py when this stack creates it (as components/application/workforce_access.py
does); a policy of another stack is judged there.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Optional

from pulumi_policy import Severity

from . import iam
from .framework import ACCESS_CONTROL, INFORMATION_ACCESS, Control, Metadata, Resource, resource_policy

PERMISSION_SET = ("aws:ssoadmin/permissionSet:PermissionSet",)
INLINE_POLICY = ("aws:ssoadmin/permissionSetInlinePolicy:PermissionSetInlinePolicy",)
MANAGED_ATTACHMENT = ("aws:ssoadmin/managedPolicyAttachment:ManagedPolicyAttachment",)
MANAGED_ATTACHMENTS_EXCLUSIVE = ("aws:ssoadmin/managedPolicyAttachmentsExclusive:ManagedPolicyAttachmentsExclusive",)
BOUNDARY = ("aws:ssoadmin/permissionsBoundaryAttachment:PermissionsBoundaryAttachment",)

# The session length bounds how long a signed-in person keeps access without signing in again.
AUTOMATIC_LOGOFF = Control("164.312(a)(2)(iii)", "Automatic logoff")

READ_ONLY_REASON = ("it reads data as well as configuration (S3 objects, DynamoDB items and log events, "
                    "among others); attach job-function/ViewOnlyAccess for metadata")
REASONS = {**{name: "it grants admin access; grant the specific actions needed" for name in iam.ADMIN_POLICIES},
           "ReadOnlyAccess": READ_ONLY_REASON}
OTHER_REASON = "it is in this pack's forbiddenManagedPolicies; grant the specific actions needed"
# ISO-8601 duration as Identity Center takes it (PT1H to PT12H): PT4H, PT1H30M, PT90M.
DURATION = re.compile(r"P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?", re.IGNORECASE)
DEFAULT_SESSION = "PT1H"


def _meta(name, description, control, remediation, **kw) -> Metadata:
    return Metadata(name, description, control, remediation, service="ssoadmin", **kw)


def _managed_name(arn: object) -> Optional[str]:
    """The path and name of an AWS-managed policy ARN (`job-function/ViewOnlyAccess`)."""
    if not isinstance(arn, str) or ":policy/" not in arn:
        return None
    return arn.split(":policy/", 1)[1]


def hours(duration: str) -> Optional[float]:
    """The length of an ISO-8601 duration in hours; None when it is not one."""
    match = DURATION.fullmatch(duration.strip())
    if not match or not any(match.groups()):
        return None
    days, hrs, minutes, seconds = (float(g) if g else 0.0 for g in match.groups())
    return days * 24 + hrs + minutes / 60 + seconds / 3600


def _inline_no_admin(r: Resource) -> Iterable[str]:
    yield from iam.full_access_findings(r.props.document("inlinePolicy"))


def _inline_no_broad_kms(r: Resource) -> Iterable[str]:
    yield from iam.broad_kms_findings(r.props.document("inlinePolicy"))


def _managed_not_forbidden(r: Resource) -> Iterable[str]:
    forbidden = [p for p in r.config["forbiddenManagedPolicies"] if isinstance(p, str)]
    arns = r.props.list("managedPolicyArns") if r.type in MANAGED_ATTACHMENTS_EXCLUSIVE \
        else [r.props.get("managedPolicyArn")]
    for arn in arns:
        name = _managed_name(arn)
        if name in forbidden:
            yield f"Remove the AWS-managed policy {name} from this permission set: {REASONS.get(name, OTHER_REASON)}."


def _boundary_not_admin(r: Resource) -> Iterable[str]:
    arn = r.props.get("permissionsBoundary", "managedPolicyArn")
    if iam.is_admin_policy_arn(arn):
        yield (f"Use a permissions boundary narrower than {_managed_name(arn)}: an admin policy as "
               "boundary limits nothing.")


def _session_duration(r: Resource) -> Iterable[str]:
    maximum = r.config["maximumSessionHours"]
    value = r.props.get("sessionDuration")
    if value is None or (isinstance(value, str) and not value.strip()):
        value = DEFAULT_SESSION  # AWS's default
    length = hours(value) if isinstance(value, str) else None
    if length is None or length > maximum:
        yield f"Set sessionDuration to PT{maximum}H or less (an ISO-8601 duration such as PT1H)."


POLICIES = [
    resource_policy(_meta(
        "aws-ssoadmin-inline-policy-no-admin-or-full-service-access",
        "Permission set inline policies must not grant admin or full-service access.",
        INFORMATION_ACCESS, "List the specific actions and resources needed (or attach a customer-managed policy)."),
        INLINE_POLICY, _inline_no_admin),
    resource_policy(_meta(
        "aws-ssoadmin-inline-policy-no-broad-kms-decrypt",
        "Permission set inline policies must not allow decrypting with every KMS key.",
        ACCESS_CONTROL, "Name the key ARNs in Resource."),
        INLINE_POLICY, _inline_no_broad_kms),
    resource_policy(_meta(
        "aws-ssoadmin-managed-policy-not-forbidden",
        "Permission sets must not get admin AWS-managed policies or ReadOnlyAccess (configurable).",
        INFORMATION_ACCESS,
        "Attach job-function/ViewOnlyAccess or customer-managed policies with the specific actions needed.",
        config={"forbiddenManagedPolicies": {
            "type": "array", "items": {"type": "string"},
            "default": [*iam.ADMIN_POLICIES, "ReadOnlyAccess"],
            "description": "AWS-managed policies (path and name after policy/, e.g. ReadOnlyAccess) no "
                           "permission set may get. ReadOnlyAccess is in by default: it reads data "
                           "(S3 objects, DynamoDB items, log events), not only configuration."}}),
        MANAGED_ATTACHMENT + MANAGED_ATTACHMENTS_EXCLUSIVE, _managed_not_forbidden),
    resource_policy(_meta(
        "aws-ssoadmin-permissions-boundary-not-admin",
        "A permission set's permissions boundary must not be an admin policy.",
        INFORMATION_ACCESS, "Use a customer-managed boundary policy that bounds what the set may do."),
        BOUNDARY, _boundary_not_admin),
    resource_policy(_meta(
        "aws-ssoadmin-permission-set-session-duration",
        "Identity Center sessions must end after a few hours (four by default).",
        AUTOMATIC_LOGOFF, "Set sessionDuration to PT4H or less (PT1H for break-glass).",
        severity=Severity.MEDIUM,
        config={"maximumSessionHours": {
            "type": "integer", "minimum": 1, "maximum": 12, "default": 4,
            "description": "Longest session a permission set may allow, in hours (unset means AWS's PT1H)."}}),
        PERMISSION_SET, _session_duration),
]
