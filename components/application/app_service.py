"""The application: a Fargate service in the private app subnets behind the load balancer.

- An ECR repository of this stack (customer key, immutable tags, scan on push, lifecycle policy).
- An ECS cluster with Container Insights, whose ECS Exec sessions (the db-access task's, see
  OperatorAccess) are encrypted with a customer key and logged to a KMS-encrypted log group through
  the cluster's execute-command configuration (ECS Exec sessions are not governed by the Session
  Manager preferences document). In a synthetic stack the cluster is excluded from GuardDuty's
  automated Fargate agent, so `pulumi destroy` meets no GuardDuty-created endpoint in the VPC.
- A task definition whose container runs as a non-root user with a read-only root filesystem, no
  privileged mode, logs to a KMS-encrypted log group kept six years, receives no secret in plain
  environment variables, runs as the workload role and pulls with its own execution role (which
  may also pull GuardDuty's runtime agent, injected into every task).
- A service with no public IP, no ECS Exec (nobody needs a shell in a PHI application container:
  operators reach the database through the db-access task), the deployment circuit breaker with
  rollback, and target-tracking auto scaling on CPU.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi_aws as aws

from components.app_settings import AppSettings
from components.aws_context import AwsContext
from components.policy_documents import key_by_alias, policy_json, service_trust_policy
from components.role_policy import attach_policy, iam_path
from components.account.threat_detection import GUARDDUTY_EXCLUSION_TAG, guardduty_agent_repository_arn

CONTAINER_NAME = "app"
# A numeric non-root user: the image's USER may be anything, the task always runs unprivileged.
CONTAINER_USER = "10001:10001"
# Writable scratch space beside the read-only root filesystem: every task's /tmp.
WRITABLE_PATHS = {"tmp": "/tmp"}
# And, in a task reached by ECS Exec, the directories the SSM agent ECS Exec injects writes to.
# AWS's ECS Exec guide calls a read-only root filesystem unsupported because the agent writes
# there; mounting exactly these three as writable volumes is the workaround reported to work
# (https://github.com/aws/containers-roadmap/issues/1359). If ECS Exec fails to start, the task
# still runs; only operator sessions are affected.
ECS_EXEC_WRITABLE_PATHS = {"ssm-managed-agents": "/managed-agents", "ssm-agent-state": "/var/lib/amazon/ssm",
                           "ssm-agent-logs": "/var/log/amazon/ssm"}
CPU_TARGET_PERCENT = 60
SCALE_IN_COOLDOWN_SECONDS = 300
SCALE_OUT_COOLDOWN_SECONDS = 60
# Tagged images kept in the repository; untagged ones go after a week.
IMAGES_KEPT = 50


def ecs_exec_statements(ctx: AwsContext, stack: str, exec_log_group_arn: str) -> list[dict]:
    """What a task's role needs for ECS Exec with encrypted, logged sessions (ECS guide, "ECS Exec":
    the ssmmessages actions take no resource). The session key is named by its alias."""
    key, by_alias = key_by_alias(ctx, f"alias/hipaa-aws-{stack}-sessions")
    return [
        {"Sid": "ExecChannels", "Effect": "Allow",
         "Action": ["ssmmessages:CreateControlChannel", "ssmmessages:CreateDataChannel",
                    "ssmmessages:OpenControlChannel", "ssmmessages:OpenDataChannel"],
         "Resource": "*"},
        {"Sid": "ExecSessionKey", "Effect": "Allow", "Action": "kms:Decrypt", "Resource": key,
         "Condition": by_alias},
        {"Sid": "ExecSessionLog", "Effect": "Allow",
         "Action": ["logs:CreateLogStream", "logs:PutLogEvents"], "Resource": f"{exec_log_group_arn}:*"},
        {"Sid": "ExecSessionLogGroup", "Effect": "Allow", "Action": "logs:DescribeLogGroups",
         "Resource": "*"},
    ]


ECR_PULL_ACTIONS = ("ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability")


def execution_statements(ctx: AwsContext, log_group_name: str) -> list[dict]:
    """What every task execution role of the stack needs: write its task's log, and pull the
    GuardDuty runtime agent that GuardDuty's automated Fargate agent management adds to each task
    (GuardDuty, "ECR repository for the GuardDuty agent on Fargate"): without it the agent is not
    pulled and runtime monitoring silently covers nothing. ECR's token is per account, not per
    repository."""
    return [
        {"Sid": "RegistryLogin", "Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"},
        {"Sid": "WriteLog", "Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
         "Resource": ctx.arn("logs", f"log-group:{log_group_name}:*")},
        {"Sid": "PullGuardDutyAgent", "Effect": "Allow", "Action": list(ECR_PULL_ACTIONS),
         "Resource": guardduty_agent_repository_arn(ctx)},
    ]


def cluster_name(stack: str) -> str:
    """The stack's ECS cluster (known before it exists: the workforce policies name it)."""
    return f"hipaa-aws-{stack}"


def execution_role_name(stack: str) -> str:
    """The execution role of the stack's tasks, named so that a policy may pass exactly this role."""
    return f"hipaa-aws-{stack}-task-execution"


def writable_paths(ecs_exec: bool) -> dict[str, str]:
    """Volume name -> writable path for a task, with the SSM agent's directories if ECS Exec is used."""
    return {**WRITABLE_PATHS, **(ECS_EXEC_WRITABLE_PATHS if ecs_exec else {})}


def container_definitions(*, name: str, image: str, port: int, log_group: str, region: str,
                          environment: dict[str, str], secrets: dict[str, str], ecs_exec: bool,
                          command: Optional[list[str]] = None) -> str:
    """One hardened container; `secrets` maps variable names to Secrets Manager / Parameter Store
    ARNs (ECS resolves them at start: nothing sensitive in the task definition); `ecs_exec` adds
    the writable volumes ECS Exec's agent needs (mount them with `scratch_volumes(ecs_exec)`)."""
    container: dict = {
        "name": name,
        "image": image,
        "essential": True,
        "user": CONTAINER_USER,
        "readonlyRootFilesystem": True,
        "privileged": False,
        "linuxParameters": {"initProcessEnabled": True, "capabilities": {"drop": ["ALL"]}},
        "mountPoints": [{"sourceVolume": volume, "containerPath": path, "readOnly": False}
                        for volume, path in writable_paths(ecs_exec).items()],
        "environment": [{"name": k, "value": v} for k, v in sorted(environment.items())],
        "secrets": [{"name": k, "valueFrom": v} for k, v in sorted(secrets.items())],
        "logConfiguration": {"logDriver": "awslogs", "options": {
            "awslogs-group": log_group, "awslogs-region": region, "awslogs-stream-prefix": name}},
    }
    if port:
        container["portMappings"] = [{"containerPort": port, "protocol": "tcp"}]
    if command:
        container["command"] = command
    return json.dumps([container])


def scratch_volumes(ecs_exec: bool) -> list[aws.ecs.TaskDefinitionVolumeArgs]:
    return [aws.ecs.TaskDefinitionVolumeArgs(name=volume) for volume in writable_paths(ecs_exec)]


@dataclass(frozen=True)
class AppServiceArgs:
    stack: str
    aws: AwsContext
    settings: AppSettings
    holds_phi: bool
    app_port: int
    app_subnet_ids: Sequence[pulumi.Input[str]]
    app_security_group_id: pulumi.Input[str]
    target_group_arn: pulumi.Input[str]
    listener: pulumi.Resource
    """The HTTPS listener: the target group must be attached before the service registers."""
    workload_role: aws.iam.Role
    """The task role: the application's least-privilege role (WorkloadRole)."""
    storage_key_arn: pulumi.Input[str]
    logs_key_arn: pulumi.Input[str]
    sessions_key_arn: pulumi.Input[str]
    log_retention_days: int
    environment: dict[str, str]
    """Non-secret configuration known before creation."""
    parameters: dict[str, pulumi.Input[str]]
    """Configuration known only after creation (the database endpoint): kept in Parameter Store and
    resolved by ECS at start, so the task definition stays known at preview."""


class AppService(pulumi.ComponentResource):
    cluster: aws.ecs.Cluster
    cluster_name: str
    repository_url: str
    """Push images here (tags are immutable)."""
    service_name: pulumi.Output[str]
    """The service's name, chosen by the provider (a replacement gets a new one)."""
    exec_log_group_name: str
    exec_log_group_arn: str
    execution_role: aws.iam.Role
    """Pulls the application's image and GuardDuty's agent, writes its log, reads its parameters (the
    db-access task has its own execution role, OperatorAccess)."""

    def __init__(self, name: str, args: AppServiceArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("hipaa:components:AppService", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        ctx, app = args.aws, args.settings
        prefix = f"hipaa-aws-{args.stack}"
        self.cluster_name = cluster_name(args.stack)
        repository_name = f"{prefix}-app"
        self.repository_url = f"{ctx.account_id}.dkr.ecr.{ctx.region}.{ctx.dns_suffix}/{repository_name}"
        repository_arn = ctx.arn("ecr", f"repository/{repository_name}")
        image = app.image or f"{self.repository_url}:{app.image_tag}"

        repository = aws.ecr.Repository(
            name, name=repository_name, image_tag_mutability="IMMUTABLE",
            image_scanning_configuration=aws.ecr.RepositoryImageScanningConfigurationArgs(scan_on_push=True),
            encryption_configurations=[aws.ecr.RepositoryEncryptionConfigurationArgs(
                encryption_type="KMS", kms_key=args.storage_key_arn)],
            force_delete=not args.holds_phi,
            # A new encryption key can only be set at creation (ECR has no call that changes it),
            # and the name is what clients push to: the old repository goes first. With PHI it is
            # not force-deleted, so a replacement stops at the non-empty old repository (move its
            # images first) before anything else changes.
            opts=pulumi.ResourceOptions(parent=self, delete_before_replace=True))
        aws.ecr.LifecyclePolicy(name, repository=repository.name, policy=json.dumps({"rules": [
            {"rulePriority": 1, "description": "Untagged images go after a week",
             "selection": {"tagStatus": "untagged", "countType": "sinceImagePushed",
                           "countUnit": "days", "countNumber": 7},
             "action": {"type": "expire"}},
            {"rulePriority": 2, "description": f"Keep the newest {IMAGES_KEPT} images",
             "selection": {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": IMAGES_KEPT},
             "action": {"type": "expire"}},
        ]}), opts=child)

        app_group_name = f"/hipaa-aws/{args.stack}/app"
        self.exec_log_group_name = f"/hipaa-aws/{args.stack}/ecs-exec"
        self.exec_log_group_arn = ctx.arn("logs", f"log-group:{self.exec_log_group_name}")
        # The application's log may hold PHI and the exec log is audit evidence: protected with PHI.
        evidence = pulumi.ResourceOptions(parent=self, protect=args.holds_phi)
        app_logs, exec_logs = (aws.cloudwatch.LogGroup(
            f"{name}-{kind}", name=group, retention_in_days=args.log_retention_days,
            kms_key_id=args.logs_key_arn, opts=evidence)
            for kind, group in (("logs", app_group_name), ("exec", self.exec_log_group_name)))
        # Operational groups that get a masking policy (components/log_data_protection.py), as outputs.
        self.log_group_names = {"app": app_logs.name, "ecs-exec": exec_logs.name}

        self.cluster = aws.ecs.Cluster(
            name, name=self.cluster_name,
            # A synthetic stack leaves GuardDuty's automated agent out of its tasks: GuardDuty would
            # otherwise put a VPC endpoint and a security group, outside this stack's state, in the
            # VPC, and `pulumi destroy` would fail on the subnets and the VPC. A PHI stack stays
            # covered (and is never destroyed by `pulumi destroy`).
            tags=None if args.holds_phi else dict([GUARDDUTY_EXCLUSION_TAG]),
            settings=[aws.ecs.ClusterSettingArgs(name="containerInsights", value="enabled")],
            configuration=aws.ecs.ClusterConfigurationArgs(
                execute_command_configuration=aws.ecs.ClusterConfigurationExecuteCommandConfigurationArgs(
                    kms_key_id=args.sessions_key_arn, logging="OVERRIDE",
                    log_configuration=aws.ecs.ClusterConfigurationExecuteCommandConfigurationLogConfigurationArgs(
                        cloud_watch_log_group_name=self.exec_log_group_name,
                        cloud_watch_encryption_enabled=True))),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[exec_logs]))

        parameter_arns, parameters = {}, []
        for key, value in sorted(args.parameters.items()):
            parameter_name = f"/hipaa-aws/{args.stack}/app/{key.lower().replace('_', '-')}"
            parameters.append(aws.ssm.Parameter(
                f"{name}-{key.lower().replace('_', '-')}", name=parameter_name, type="String", value=value,
                opts=child))
            parameter_arns[key] = ctx.arn("ssm", f"parameter{parameter_name}")

        self.execution_role = aws.iam.Role(
            f"{name}-execution", name=execution_role_name(args.stack), path=iam_path(args.stack),
            description="ECS task execution: pull the application image, write its log, read its parameters",
            assume_role_policy=service_trust_policy("ecs-tasks.amazonaws.com", ctx), opts=child)
        execution_policy = attach_policy(
            f"{name}-execution", self.execution_role,
            "Pull this stack's image, write its log, read its parameters",
            policy_json(
                *execution_statements(ctx, app_group_name),
                {"Sid": "PullImage", "Effect": "Allow", "Action": list(ECR_PULL_ACTIONS),
                 "Resource": repository_arn},
                {"Sid": "ReadParameters", "Effect": "Allow", "Action": "ssm:GetParameters",
                 "Resource": ctx.arn("ssm", f"parameter/hipaa-aws/{args.stack}/app/*")},
            ), child, path=iam_path(args.stack))

        task_definition = aws.ecs.TaskDefinition(
            name, family=f"{prefix}-app", requires_compatibilities=["FARGATE"], network_mode="awsvpc",
            cpu=str(app.cpu), memory=str(app.memory_mib),
            runtime_platform=aws.ecs.TaskDefinitionRuntimePlatformArgs(
                operating_system_family="LINUX", cpu_architecture="X86_64"),
            execution_role_arn=self.execution_role.arn, task_role_arn=args.workload_role.arn,
            volumes=scratch_volumes(ecs_exec=False),
            container_definitions=container_definitions(
                name=CONTAINER_NAME, image=image, port=args.app_port, log_group=app_group_name,
                region=ctx.region, environment={**args.environment, "APP_PORT": str(args.app_port),
                                                "TLS_MIN_VERSION": "1.2"},
                secrets=parameter_arns, ecs_exec=False),
            opts=child)

        # Named by the provider: a change ECS cannot make in place (the launch type) replaces the
        # service, and Pulumi creates the new one, registered with the same target group, before
        # deleting the old; under a fixed name that create would fail.
        service = aws.ecs.Service(
            name, cluster=self.cluster.arn, task_definition=task_definition.arn,
            desired_count=app.desired_count, launch_type="FARGATE", platform_version="LATEST",
            network_configuration=aws.ecs.ServiceNetworkConfigurationArgs(
                subnets=list(args.app_subnet_ids), security_groups=[args.app_security_group_id],
                assign_public_ip=False),
            load_balancers=[aws.ecs.ServiceLoadBalancerArgs(
                target_group_arn=args.target_group_arn, container_name=CONTAINER_NAME,
                container_port=args.app_port)],
            deployment_circuit_breaker=aws.ecs.ServiceDeploymentCircuitBreakerArgs(
                enable=True, rollback=True),
            deployment_minimum_healthy_percent=100, deployment_maximum_percent=200,
            health_check_grace_period_seconds=60, enable_execute_command=False, propagate_tags="SERVICE",
            wait_for_steady_state=False,
            # Auto scaling owns the running count once the service exists.
            opts=pulumi.ResourceOptions(parent=self, ignore_changes=["desiredCount"],
                                        # Tasks start only once their parameters (the database
                                        # endpoint exists only after RDS creates it) and log exist.
                                        depends_on=[args.listener, execution_policy,
                                                    app_logs, *parameters]))
        self.service_name = service.name

        target = aws.appautoscaling.Target(
            name, service_namespace="ecs", scalable_dimension="ecs:service:DesiredCount",
            resource_id=pulumi.Output.concat("service/", self.cluster_name, "/", self.service_name),
            min_capacity=app.desired_count, max_capacity=app.max_count,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[service]))
        aws.appautoscaling.Policy(
            f"{name}-cpu", name=f"{prefix}-app-cpu", policy_type="TargetTrackingScaling",
            service_namespace=target.service_namespace, scalable_dimension=target.scalable_dimension,
            resource_id=target.resource_id,
            target_tracking_scaling_policy_configuration=aws.appautoscaling.PolicyTargetTrackingScalingPolicyConfigurationArgs(
                target_value=CPU_TARGET_PERCENT, scale_in_cooldown=SCALE_IN_COOLDOWN_SECONDS,
                scale_out_cooldown=SCALE_OUT_COOLDOWN_SECONDS,
                predefined_metric_specification=aws.appautoscaling.PolicyTargetTrackingScalingPolicyConfigurationPredefinedMetricSpecificationArgs(
                    predefined_metric_type="ECSServiceAverageCPUUtilization")),
            opts=child)
        self.register_outputs({"repository_url": self.repository_url, "cluster_name": self.cluster_name,
                               "service_name": self.service_name})
