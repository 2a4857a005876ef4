"""IAM: no users or long-lived keys, no admin or full-service grants, no broad KMS decrypt,
a strong password policy, no public trust."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from fnmatch import fnmatchcase

from . import documents as doc
from .framework import (
    ACCESS_CONTROL, AUTHENTICATION, INFORMATION_ACCESS, PASSWORD_MANAGEMENT, Metadata, Resource,
    resource_policy,
)

USERS = ("aws:iam/user:User", "aws:iam/accessKey:AccessKey", "aws:iam/userLoginProfile:UserLoginProfile",
         "aws:iam/userPolicy:UserPolicy", "aws:iam/userPolicyAttachment:UserPolicyAttachment",
         "aws:iam/userGroupMembership:UserGroupMembership")
POLICY_DOCUMENTS = {"aws:iam/policy:Policy": "policy", "aws:iam/rolePolicy:RolePolicy": "policy",
                    "aws:iam/groupPolicy:GroupPolicy": "policy", "aws:iam/userPolicy:UserPolicy": "policy"}
INLINE = ("aws:iam/rolePolicy:RolePolicy", "aws:iam/groupPolicy:GroupPolicy", "aws:iam/userPolicy:UserPolicy")
ROLE = ("aws:iam/role:Role",)
PASSWORD_POLICY = ("aws:iam/accountPasswordPolicy:AccountPasswordPolicy",)
BLOCKED_KMS = ("kms:Decrypt", "kms:ReEncryptFrom", "kms:ReEncryptTo")
SHARED_ATTACHMENT = ("aws:iam/policyAttachment:PolicyAttachment",)
GROUP_ATTACHMENTS = ("aws:iam/groupPolicyAttachment:GroupPolicyAttachment", "aws:iam/groupPolicy:GroupPolicy",
                     "aws:iam/groupMembership:GroupMembership")
ATTACHMENTS = ("aws:iam/rolePolicyAttachment:RolePolicyAttachment",
               "aws:iam/policyAttachment:PolicyAttachment",
               "aws:iam/groupPolicyAttachment:GroupPolicyAttachment")


ADMIN_POLICIES = ("AdministratorAccess", "PowerUserAccess", "IAMFullAccess")
"""AWS-managed policies that grant admin (or admin-equivalent: IAMFullAccess can grant itself anything)."""
ADMIN_POLICY_ARNS = tuple(f":policy/{name}" for name in ADMIN_POLICIES)
ADMIN_ATTACHMENT_MESSAGE = ("Do not attach AdministratorAccess, PowerUserAccess or IAMFullAccess; "
                            "grant the specific actions needed.")


def is_admin_policy_arn(arn: object) -> bool:
    """True for the ARN of an AWS-managed admin policy (in any partition)."""
    return isinstance(arn, str) and arn.endswith(ADMIN_POLICY_ARNS)


def full_access_findings(document: Mapping | None) -> Iterable[str]:
    """What in an IAM policy document grants admin or full-service access (one message each)."""
    for statement in doc.allows(document):
        if "*" in doc.actions(statement) and "*" in doc.resources(statement):
            yield 'Remove statements that allow Action "*" on Resource "*".'
        # A bare "*" on a narrowed resource is still every action of every service there.
        full = sorted(a for a in doc.actions(statement)
                      if a.endswith(":*") or (a == "*" and "*" not in doc.resources(statement)))
        if full:
            yield f"Replace full-service actions {', '.join(full)} with the specific actions needed."
        if statement.get("NotAction") is not None:
            yield "Replace Allow with NotAction by an explicit list of allowed actions."


def broad_kms_findings(document: Mapping | None) -> Iterable[str]:
    """Allow statements of an IAM policy document that decrypt with every KMS key."""
    for statement in doc.allows(document):
        if "*" in doc.resources(statement) and any(
                _covers(pattern, blocked) for pattern in doc.actions(statement) for blocked in BLOCKED_KMS):
            yield "Scope kms:Decrypt/kms:ReEncrypt* to specific key ARNs, never Resource \"*\"."


def _documents(r: Resource):
    if r.type in ROLE:
        return [p.document("policy") for p in r.props.each("inlinePolicies")]
    if r.type in ATTACHMENTS:
        return []
    return [r.props.document(POLICY_DOCUMENTS[r.type])]


def _covers(pattern: str, action: str) -> bool:
    """IAM action patterns are case-insensitive and may use wildcards."""
    return fnmatchcase(action.lower(), pattern.lower())


def _no_users(r: Resource) -> Iterable[str]:
    if r.type in SHARED_ATTACHMENT:
        # aws.iam.PolicyAttachment attaches to roles, users and groups at once (and takes the policy
        # away from any other entity of the account); users and groups hold people's permissions.
        if r.props.size("users") or r.props.size("groups"):
            yield "Attach policies to roles only: remove users and groups from this PolicyAttachment."
        return
    if r.type in GROUP_ATTACHMENTS:
        yield "Grant people permissions through IAM Identity Center permission sets, not IAM groups."
        return
    yield "Remove this IAM user resource; people sign in through IAM Identity Center and workloads use roles."


def _no_admin(r: Resource) -> Iterable[str]:
    if r.type in ATTACHMENTS:
        # An unknown ARN is another resource's output: a customer-managed policy, judged itself.
        # The AWS-managed admin policies are always literal ARNs.
        arns = [] if r.props.is_unknown("policyArn") else [r.props.get("policyArn")]
    else:
        arns = r.props.list("managedPolicyArns") if r.type in ROLE else []
    if any(is_admin_policy_arn(a) for a in arns):
        yield ADMIN_ATTACHMENT_MESSAGE
    for document in _documents(r):
        yield from full_access_findings(document)


def _no_broad_kms(r: Resource) -> Iterable[str]:
    for document in _documents(r):
        yield from broad_kms_findings(document)


def _no_inline(r: Resource) -> Iterable[str]:
    if r.type in ROLE:
        # An empty inlinePolicies entry is how pulumi-aws removes inline policies.
        if any(p.is_set("policy") for p in r.props.each("inlinePolicies")):
            yield "Move inlinePolicies into customer-managed policies attached to the role."
    else:
        yield "Use a customer-managed aws.iam.Policy attached to the role instead of an inline policy."


def _trust(r: Resource) -> Iterable[str]:
    if doc.public_statements(r.props.document("assumeRolePolicy")):
        yield 'Remove trust statements that let Principal "*" assume the role.'


def _password_policy(r: Resource) -> Iterable[str]:
    c = r.config
    if (r.props.number("minimumPasswordLength") or 0) < c["minimumLength"]:
        yield f"Set minimumPasswordLength to at least {c['minimumLength']}."
    if (r.props.number("passwordReusePrevention") or 0) < c["reusePrevention"]:
        yield f"Set passwordReusePrevention to at least {c['reusePrevention']}."
    age = r.props.number("maxPasswordAge")
    if age is None or age == 0 or age > c["maximumAgeDays"]:
        yield f"Set maxPasswordAge to {c['maximumAgeDays']} days or less."
    for key in ("requireLowercaseCharacters", "requireUppercaseCharacters", "requireNumbers", "requireSymbols"):
        if r.props.bool(key) is not True:
            yield f"Set {key} to true."


POLICIES = [
    resource_policy(Metadata("aws-iam-no-users", "No IAM users, access keys or login profiles: people use IAM Identity Center, workloads use roles.",
                             AUTHENTICATION, "Remove IAM users and keys; use Identity Center and roles with OIDC.",
                             config_rules=("iam-user-no-policies-check", "iam-user-mfa-enabled",
                                           "mfa-enabled-for-iam-console-access", "iam-user-unused-credentials-check",
                                           "access-keys-rotated"), service="iam"),
                    USERS + SHARED_ATTACHMENT + GROUP_ATTACHMENTS, _no_users),
    resource_policy(Metadata("aws-iam-no-admin-or-full-service-access", "IAM policies must not grant admin or full-service access.",
                             INFORMATION_ACCESS, "List the specific actions and resources needed.",
                             config_rules=("iam-policy-no-statements-with-admin-access",
                                           "iam-policy-no-statements-with-full-access"), service="iam"),
                    tuple(POLICY_DOCUMENTS) + ROLE + ATTACHMENTS, _no_admin),
    resource_policy(Metadata("aws-iam-no-broad-kms-decrypt", "IAM policies must not allow decrypting with every KMS key.",
                             ACCESS_CONTROL, "Name the key ARNs in Resource.",
                             config_rules=("iam-customer-policy-blocked-kms-actions",
                                           "iam-inline-policy-blocked-kms-actions"), service="iam"),
                    tuple(POLICY_DOCUMENTS) + ROLE, _no_broad_kms),
    resource_policy(Metadata("aws-iam-no-inline-policies", "Permissions must come from managed policies, not inline ones.",
                             INFORMATION_ACCESS, "Create aws.iam.Policy and attach it with RolePolicyAttachment.",
                             config_rules=("iam-no-inline-policy-check",), service="iam"), INLINE + ROLE, _no_inline),
    resource_policy(Metadata("aws-iam-role-trust-not-public", "Role trust policies must not let everyone assume the role.",
                             ACCESS_CONTROL, "Name the trusted service or account, with conditions.", service="iam"),
                    ROLE, _trust),
    resource_policy(Metadata("aws-iam-password-policy", "The account password policy must meet the HIPAA pack's baseline.",
                             PASSWORD_MANAGEMENT, "14+ characters, 24 remembered, 90-day maximum age, all character classes.",
                             config_rules=("iam-password-policy",), service="iam",
                             config={"minimumLength": {"type": "integer", "minimum": 8, "default": 14, "description": "Minimum length."},
                                     "reusePrevention": {"type": "integer", "minimum": 1, "maximum": 24, "default": 24, "description": "Passwords remembered."},
                                     "maximumAgeDays": {"type": "integer", "minimum": 1, "maximum": 1095, "default": 90, "description": "Maximum age."}}),
                    PASSWORD_POLICY, _password_policy),
]
