"""Break-glass access to the database's master credentials.

The RDS-managed master secret is the `rds_superuser` credential. The application never reads
it: it connects with IAM database authentication as its own database role (WorkloadRole). Only
this role may read the secret; people assume it with MFA, for an hour at most, and every
assumption raises an alarm (SecurityAlarms).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi_aws as aws

from .aws_context import AwsContext
from .policy_documents import policy_json
from .role_policy import attach_policy, iam_path

SESSION_SECONDS = 3600


def break_glass_trust(ctx: AwsContext) -> str:
    """People of this account (with an IAM permission naming this role) who signed in with MFA."""
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "PeopleWithMfa",
            "Effect": "Allow",
            "Principal": {"AWS": ctx.account_root_arn},
            "Action": "sts:AssumeRole",
            "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}},
        }],
    })


def break_glass_statements(secret_arn: str, secrets_key_arn: str, secretsmanager_host: str) -> list[dict]:
    return [
        {"Sid": "MasterSecret", "Effect": "Allow",
         "Action": ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
         "Resource": secret_arn},
        # Secrets Manager decrypts the secret with the caller's permission on its key.
        {"Sid": "MasterSecretKey", "Effect": "Allow", "Action": "kms:Decrypt",
         "Resource": secrets_key_arn,
         "Condition": {"StringEquals": {"kms:ViaService": secretsmanager_host}}},
    ]


@dataclass(frozen=True)
class BreakGlassAccessArgs:
    stack: str
    aws: AwsContext
    database_secret_arn: pulumi.Input[str]
    secrets_key_arn: pulumi.Input[str]


class BreakGlassAccess(pulumi.ComponentResource):
    role_arn: pulumi.Output[str]
    """The only role allowed to read the database master secret."""
    role_name: str
    """Its name (the alarm on its use matches it)."""

    def __init__(self, name: str, args: BreakGlassAccessArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("hipaa:components:BreakGlassAccess", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.role_name = f"hipaa-aws-{args.stack}-db-break-glass"
        role = aws.iam.Role(
            name, name=self.role_name, path=iam_path(args.stack),
            description="Break-glass: read the database master secret (MFA, one hour, alarmed)",
            assume_role_policy=break_glass_trust(args.aws),
            max_session_duration=SESSION_SECONDS, opts=child)
        attach_policy(name, role, "The database master secret and its key, nothing else",
                      pulumi.Output.all(args.database_secret_arn, args.secrets_key_arn).apply(
                          lambda v: policy_json(*break_glass_statements(
                              v[0], v[1], args.aws.service_host("secretsmanager")))),
                      child, path=iam_path(args.stack))
        self.role_arn = role.arn
        self.register_outputs({"role_arn": self.role_arn})
