"""The application's role: exactly the PHI it serves, nothing else.

It connects to the database with IAM database authentication as its own database role
(`app_user`, granted `rds_iam`; see README), never with the master secret, which only
BreakGlassAccess may read.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi_aws as aws

from .aws_context import AwsContext
from .policy_documents import policy_json, service_trust_policy
from .role_policy import attach_policy, iam_path


def workload_statements(bucket_arn: str, storage_key: str, database_key: str,
                        db_user_arn: str) -> list[dict]:
    return [
        {"Sid": "PhiObjects", "Effect": "Allow",
         "Action": ["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject"],
         "Resource": f"{bucket_arn}/*"},
        {"Sid": "PhiKeys", "Effect": "Allow",
         "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
         "Resource": [storage_key, database_key]},
        {"Sid": "DatabaseIamAuth", "Effect": "Allow", "Action": "rds-db:connect",
         "Resource": db_user_arn},
    ]


@dataclass(frozen=True)
class WorkloadRoleArgs:
    stack: str
    aws: AwsContext
    phi_bucket_arn: pulumi.Input[str]
    storage_key_arn: pulumi.Input[str]
    database_key_arn: pulumi.Input[str]
    database_user_arn: pulumi.Input[str]
    service: str = "ecs-tasks.amazonaws.com"
    """The compute service that runs the application and assumes the role."""


class WorkloadRole(pulumi.ComponentResource):
    role_arn: pulumi.Output[str]
    """ARN of the application's role."""

    def __init__(self, name: str, args: WorkloadRoleArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("hipaa:components:WorkloadRole", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        role = aws.iam.Role(
            name, name=f"hipaa-aws-{args.stack}-workload", path=iam_path(args.stack),
            description="Application workload: PHI bucket objects and its own database user",
            assume_role_policy=service_trust_policy(args.service, args.aws),
            max_session_duration=3600, opts=child)
        attach_policy(name, role, "PHI bucket objects, PHI keys, the application's database user",
                      pulumi.Output.all(
            args.phi_bucket_arn, args.storage_key_arn, args.database_key_arn,
            args.database_user_arn,
        ).apply(lambda v: policy_json(*workload_statements(*v))), child, path=iam_path(args.stack))
        self.role_arn = role.arn
        self.register_outputs({"role_arn": self.role_arn})
