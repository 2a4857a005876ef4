"""The application's role: exactly the PHI it serves, nothing else.

It connects to the database with IAM database authentication as its own database user
(`app_<stack>`, `policy_documents.database_user`, granted `rds_iam`; README "Creating the database
users"), never with the master secret, which only BreakGlassAccess may read.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi_aws as aws

from components.aws_context import AwsContext
from components.policy_documents import database_user_arn, key_by_alias, policy_json, service_trust_policy
from components.role_policy import attach_policy, iam_path


def workload_statements(ctx: AwsContext, stack: str, bucket_arn: str, db_user: str) -> list[dict]:
    """Built from names known before creation (keys by alias, the database user by name), so the
    policy pack judges it at preview."""
    aliases = [f"alias/hipaa-aws-{stack}-{purpose}" for purpose in ("storage", "database")]
    keys, by_alias = key_by_alias(ctx, aliases)
    return [
        {"Sid": "PhiObjects", "Effect": "Allow",
         "Action": ["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject"],
         "Resource": f"{bucket_arn}/*"},
        {"Sid": "PhiKeys", "Effect": "Allow",
         "Action": ["kms:Decrypt", "kms:GenerateDataKey"], "Resource": keys, "Condition": by_alias},
        {"Sid": "DatabaseIamAuth", "Effect": "Allow", "Action": "rds-db:connect",
         "Resource": database_user_arn(ctx, db_user)},
    ]


@dataclass(frozen=True)
class WorkloadRoleArgs:
    stack: str
    aws: AwsContext
    phi_bucket_arn: str
    database_user: str
    service: str = "ecs-tasks.amazonaws.com"
    """The compute service that runs the application and assumes the role."""


class WorkloadRole(pulumi.ComponentResource):
    role_arn: pulumi.Output[str]
    """ARN of the application's role."""
    role: aws.iam.Role
    """The role (other components attach the permissions their part of the application needs)."""

    def __init__(self, name: str, args: WorkloadRoleArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("hipaa:components:WorkloadRole", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        role = aws.iam.Role(
            name, name=f"hipaa-aws-{args.stack}-workload", path=iam_path(args.stack),
            description="Application workload: PHI bucket objects and its own database user",
            assume_role_policy=service_trust_policy(args.service, args.aws),
            max_session_duration=3600, opts=child)
        attach_policy(name, role, "PHI bucket objects, PHI keys, the application's database user",
                      policy_json(*workload_statements(args.aws, args.stack, args.phi_bucket_arn,
                                                       args.database_user)),
                      child, path=iam_path(args.stack))
        self.role, self.role_arn = role, role.arn
        self.register_outputs({"role_arn": self.role_arn})
