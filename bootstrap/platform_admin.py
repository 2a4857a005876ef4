"""The account's platform administrator role, `hipaa-aws-platform-admin`: the people's way to
administer the account, and the role each stack's first `pulumi up` runs as.

Every stack file names `arn:aws:iam::<account>:role/hipaa-aws-platform-admin` among its
`keyAdministrators` (tearing down, recovery), and KMS refuses a key policy that would lock out its
creator, so a stack's first `up`, before its CI deploy role has ever run, is this role's. It holds
AdministratorAccess: it is the account's administrator, a deliberate exception to the pack's "no admin
grants" rule (the pack config of the bootstrap stacks, policy/config/state.json, says so).

Who may assume it, nobody else:
- people signed in through IAM Identity Center with the organization's administrator permission set in
  the management account (`platformAdminPermissionSet`): the trust names that account, which delegates
  to its IAM, and admits only the permission set's Identity Center roles by `aws:PrincipalArn`
  (Identity Center names them `AWSReservedSSO_<permission set>_<suffix>` under
  `/aws-reserved/sso.amazonaws.com/[<region>/]`: IAM Identity Center user guide, "Referencing
  permission sets in resource policies, Amazon EKS, and AWS KMS"). Identity Center requires their MFA
  at sign-in, but its sessions carry no MFA context into AssumeRole, so no MFA condition here (it would
  lock them out; see components/environment/break_glass.py);
- the IAM roles or users in `platformAdminPrincipals`, only with MFA (`aws:MultiFactorAuthPresent`:
  IAM user guide, "Configuring MFA-protected API access"). IAM refuses a trust policy naming a role or
  user that does not exist ("Invalid principal in policy").
Sessions last an hour, and the IAM-policy-change and root-use alarms of the account still apply.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi_aws as aws

from components.aws_context import AwsContext

ROLE_NAME = "hipaa-aws-platform-admin"
ROLE_PATH = "/"
ADMINISTRATOR_ACCESS = "AdministratorAccess"
SESSION_SECONDS = 3600
IDENTITY_CENTER_PATH = "aws-reserved/sso.amazonaws.com"


def role_arn(aws_ctx: AwsContext) -> str:
    """The ARN the stack files name (`arn:aws:iam::<account>:role/hipaa-aws-platform-admin`)."""
    return f"arn:{aws_ctx.partition}:iam::{aws_ctx.account_id}:role{ROLE_PATH}{ROLE_NAME}"


@dataclass(frozen=True)
class PermissionSet:
    """An Identity Center permission set provisioned in an account (the organization's management
    account, where its administrators sign in)."""

    account_id: str
    name: str


def platform_admin_trust(aws_ctx: AwsContext, principals: Sequence[str],
                         permission_set: Optional[PermissionSet]) -> dict:
    """Only the permission set's Identity Center roles, and the named principals with MFA."""
    statements = []
    if permission_set is not None:
        account = f"arn:{aws_ctx.partition}:iam::{permission_set.account_id}"
        provisioned = f"{account}:role/{IDENTITY_CENTER_PATH}"
        # The suffix is 16 characters: `_*` would also admit a set named `<name>_<anything>`
        # (set names may contain `_`).
        role = f"AWSReservedSSO_{permission_set.name}_{'?' * 16}"
        statements.append({
            "Sid": "IdentityCenterAdministrators", "Effect": "Allow",
            "Principal": {"AWS": f"{account}:root"}, "Action": "sts:AssumeRole",
            "Condition": {"ArnLike": {"aws:PrincipalArn": [f"{provisioned}/{role}",
                                                           f"{provisioned}/*/{role}"]}},
        })
    if principals:
        statements.append({
            "Sid": "NamedPrincipalsWithMfa", "Effect": "Allow", "Principal": {"AWS": list(principals)},
            "Action": "sts:AssumeRole", "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}},
        })
    if not statements:
        raise ValueError("the platform administrator role needs a permission set or named principals")
    return {"Version": "2012-10-17", "Statement": statements}


@dataclass(frozen=True)
class PlatformAdminArgs:
    aws: AwsContext
    principals: Sequence[str] = ()
    """IAM role or user ARNs that may assume the role with MFA."""
    permission_set: Optional[PermissionSet] = None
    """The organization's administrator permission set whose Identity Center roles may assume it."""


class PlatformAdmin(pulumi.ComponentResource):
    role_arn: pulumi.Output[str]
    """The platform administrator role."""

    def __init__(self, name: str, args: PlatformAdminArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("hipaa:bootstrap:PlatformAdmin", name, None, opts)
        trust = platform_admin_trust(args.aws, args.principals, args.permission_set)
        role = aws.iam.Role(
            name, name=ROLE_NAME, path=ROLE_PATH, max_session_duration=SESSION_SECONDS,
            description="Platform administrators: every stack's first pulumi up, tearing down, recovery",
            assume_role_policy=json.dumps(trust), opts=pulumi.ResourceOptions(parent=self))
        aws.iam.RolePolicyAttachment(
            f"{name}-administrator", role=role.name,
            policy_arn=f"arn:{args.aws.partition}:iam::aws:policy/{ADMINISTRATOR_ACCESS}",
            opts=pulumi.ResourceOptions(parent=self))
        self.role_arn = role.arn
        self.register_outputs({"role_arn": self.role_arn})
