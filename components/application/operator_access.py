"""Operator access: Session Manager as the only way in, with no SSH, no inbound port and no bastion.

- Interface endpoints for `ssm` and `ssmmessages` in the app subnets, so agents reach Session
  Manager without the internet (`ec2messages` is needed only by SSM Agent older than 3.3.40.0).
- A database access task: a minimal Fargate task in the app tier (so the database's security group
  admits it) with ECS Exec, started on demand (`desiredCount` 0, `aws ecs run-task`), through which
  an operator opens a port-forwarding session to the database:
  `aws ssm start-session --target ecs:<cluster>_<task id>_<runtime id>
   --document-name AWS-StartPortForwardingSessionToRemoteHost --parameters host=<endpoint>,...`.
  Session Manager does not log port-forwarding sessions, so every StartSession for that document
  raises an alarm (SecurityAlarms) and pgAudit's connection log is the record of what happened.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi_aws as aws

from components.application.app_service import (
    container_definitions, ecs_exec_statements, execution_statements, scratch_volumes,
)
from components.aws_context import AwsContext
from components.policy_documents import policy_json, service_trust_policy
from components.role_policy import attach_policy, iam_path

SESSION_ENDPOINT_SERVICES = ("ssm", "ssmmessages")
PORT_FORWARDING_DOCUMENT = "AWS-StartPortForwardingSessionToRemoteHost"
# Amazon Linux 2023 minimal from the ECR Public gallery: a shell-less sleeper is enough, ECS Exec
# brings the agent that forwards the port.
DB_ACCESS_IMAGE = "public.ecr.aws/amazonlinux/amazonlinux:2023-minimal"
DB_ACCESS_SECONDS = 3600


def task_family(stack: str) -> str:
    """The database access task's family (operators may run only this one, WorkforceAccess)."""
    return f"hipaa-aws-{stack}-db-access"


def task_role_name(stack: str) -> str:
    """Its task role, named so that a policy may pass exactly this role."""
    return f"hipaa-aws-{stack}-db-access-task"


def execution_role_name(stack: str) -> str:
    """Its own execution role (log and GuardDuty agent only): operators may pass it, and passing
    the application's instead would hand them its image and parameters."""
    return f"hipaa-aws-{stack}-db-access-execution"


@dataclass(frozen=True)
class OperatorAccessArgs:
    stack: str
    aws: AwsContext
    vpc_id: pulumi.Input[str]
    app_subnet_ids: Sequence[pulumi.Input[str]]
    endpoint_security_group_id: pulumi.Input[str]
    app_security_group_id: pulumi.Input[str]
    exec_log_group_arn: str
    logs_key_arn: pulumi.Input[str]
    log_retention_days: int
    holds_phi: bool
    """Protect the task's log group (audit evidence) in a PHI stack."""


class OperatorAccess(pulumi.ComponentResource):
    task_family: str
    """Run this task definition, then forward a port through it."""

    def __init__(self, name: str, args: OperatorAccessArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("hipaa:components:OperatorAccess", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        ctx = args.aws
        for service in SESSION_ENDPOINT_SERVICES:
            aws.ec2.VpcEndpoint(
                f"{name}-{service}", vpc_id=args.vpc_id,
                service_name=f"com.amazonaws.{ctx.region}.{service}", vpc_endpoint_type="Interface",
                private_dns_enabled=True, subnet_ids=list(args.app_subnet_ids),
                security_group_ids=[args.endpoint_security_group_id], opts=child)

        self.task_family = task_family(args.stack)
        log_group = f"/hipaa-aws/{args.stack}/db-access"
        logs = aws.cloudwatch.LogGroup(
            f"{name}-logs", name=log_group, retention_in_days=args.log_retention_days,
            kms_key_id=args.logs_key_arn, opts=pulumi.ResourceOptions(parent=self, protect=args.holds_phi))
        self.log_group_name = logs.name
        """The database-access sessions' log group, as an output (it gets a masking policy)."""
        role = aws.iam.Role(
            f"{name}-task", name=task_role_name(args.stack), path=iam_path(args.stack),
            description="Database access task: ECS Exec sessions only, no AWS data",
            assume_role_policy=service_trust_policy("ecs-tasks.amazonaws.com", ctx),
            max_session_duration=3600, opts=child)
        attach_policy(f"{name}-task", role, "ECS Exec: encrypted, logged sessions, nothing else",
                      policy_json(*ecs_exec_statements(ctx, args.stack, args.exec_log_group_arn)),
                      child, path=iam_path(args.stack))
        execution = aws.iam.Role(
            f"{name}-execution", name=execution_role_name(args.stack), path=iam_path(args.stack),
            description="Database access task execution: write its log, pull GuardDuty's agent",
            assume_role_policy=service_trust_policy("ecs-tasks.amazonaws.com", ctx), opts=child)
        attach_policy(f"{name}-execution", execution, "Write the db-access log, pull GuardDuty's agent",
                      policy_json(*execution_statements(ctx, log_group)), child, path=iam_path(args.stack))
        aws.ecs.TaskDefinition(
            name, family=self.task_family, requires_compatibilities=["FARGATE"], network_mode="awsvpc",
            cpu="256", memory="512",
            runtime_platform=aws.ecs.TaskDefinitionRuntimePlatformArgs(
                operating_system_family="LINUX", cpu_architecture="X86_64"),
            execution_role_arn=execution.arn, task_role_arn=role.arn,
            volumes=scratch_volumes(ecs_exec=True),
            container_definitions=container_definitions(
                name="db-access", image=DB_ACCESS_IMAGE, port=0, log_group=log_group, region=ctx.region,
                environment={}, secrets={}, ecs_exec=True, command=["sleep", str(DB_ACCESS_SECONDS)]),
            opts=child)
        self.register_outputs({"task_family": self.task_family})
