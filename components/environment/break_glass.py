"""Break-glass access to the database's master credentials.

The RDS-managed master secret is the `rds_superuser` credential. The application never reads
it: it connects with IAM database authentication as its own database role (WorkloadRole). Only
this role may read the secret. People reach it one way: signed in with the Identity Center
break-glass permission set (WorkforceAccess), whose only grant on it is `sts:AssumeRole` on this
role's ARN, they assume it; its trust admits only that set's Identity Center role. Sessions last an
hour at most, and every assumption raises an alarm (SecurityAlarms), so the alarm watches the only
path to the secret.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi_aws as aws

from components.aws_context import AwsContext
from components.policy_documents import key_by_alias, policy_json, rds_master_secret
from components.role_policy import attach_policy, iam_path

SESSION_SECONDS = 3600


def role_name(stack: str) -> str:
    """Known before the role exists: the alarm (`*-db-break-glass`) and the permission set name it."""
    return f"hipaa-aws-{stack}-db-break-glass"


def role_arn(ctx: AwsContext, stack: str) -> str:
    """The role's ARN, path included (IAM identifiers: `arn:aws:iam::<account>:role/<path><name>`)."""
    return ctx.arn("iam", f"role{iam_path(stack)}{role_name(stack)}", region=False)


def assume_statements(ctx: AwsContext, stack: str) -> list[dict]:
    """What the break-glass permission set holds on the secret: assuming this role, nothing more.
    The trust names the account, which delegates to the account's IAM (IAM "Policy elements:
    Principal"): without this grant on a caller's identity nobody can assume the role."""
    return [{"Sid": "AssumeBreakGlassRole", "Effect": "Allow", "Action": "sts:AssumeRole",
             "Resource": role_arn(ctx, stack)}]


def break_glass_trust(ctx: AwsContext, stack: str) -> str:
    """Only people signed in through IAM Identity Center with the stack's break-glass permission set
    (WorkforceAccess). Identity Center requires their MFA; a SAML session carries no MFA context into
    AssumeRole, so an aws:MultiFactorAuthPresent condition here would lock everyone out."""
    role = f"AWSReservedSSO_hipaa-{stack}-break-glass_*"
    provisioned = ctx.arn("iam", "role/aws-reserved/sso.amazonaws.com", region=False)
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "BreakGlassPermissionSet",
            "Effect": "Allow",
            "Principal": {"AWS": ctx.account_root_arn},
            "Action": "sts:AssumeRole",
            # Identity Center provisions the role at .../sso.amazonaws.com/[<region>/]AWSReservedSSO_...
            "Condition": {"ArnLike": {"aws:PrincipalArn": [f"{provisioned}/{role}",
                                                           f"{provisioned}/*/{role}"]}},
        }],
    })


def break_glass_statements(ctx: AwsContext, stack: str) -> list[dict]:
    """The master secret of this stack's database and its key, named before either exists."""
    secret, this_database = rds_master_secret(ctx, f"hipaa-aws-{stack}")
    key, by_alias = key_by_alias(ctx, f"alias/hipaa-aws-{stack}-secrets")
    return [
        {"Sid": "MasterSecret", "Effect": "Allow",
         "Action": ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
         "Resource": secret, "Condition": this_database},
        # Secrets Manager decrypts the secret with the caller's permission on its key.
        {"Sid": "MasterSecretKey", "Effect": "Allow", "Action": "kms:Decrypt", "Resource": key,
         "Condition": {**by_alias, "StringEquals": {"kms:ViaService": ctx.service_host("secretsmanager")}}},
    ]


@dataclass(frozen=True)
class BreakGlassAccessArgs:
    stack: str
    aws: AwsContext


class BreakGlassAccess(pulumi.ComponentResource):
    role_arn: pulumi.Output[str]
    """The only role allowed to read the database master secret."""
    role_name: str
    """Its name (the alarm on its use matches it)."""

    def __init__(self, name: str, args: BreakGlassAccessArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("hipaa:components:BreakGlassAccess", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.role_name = role_name(args.stack)
        role = aws.iam.Role(
            name, name=self.role_name, path=iam_path(args.stack),
            description="Break-glass: read the database master secret (MFA, one hour, alarmed)",
            assume_role_policy=break_glass_trust(args.aws, args.stack),
            max_session_duration=SESSION_SECONDS, opts=child)
        attach_policy(name, role, "The database master secret and its key, nothing else",
                      policy_json(*break_glass_statements(args.aws, args.stack)),
                      child, path=iam_path(args.stack))
        self.role_arn = role.arn
        self.register_outputs({"role_arn": self.role_arn})
