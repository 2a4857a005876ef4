"""The application: a Fargate service in the private app subnets behind the load balancer.

- An ECR repository of this stack (customer key, immutable tags, scan on push, lifecycle policy).
- An ECS cluster with Container Insights and ECS Exec, whose sessions are encrypted with a
  customer key and logged to a KMS-encrypted log group through the cluster's execute-command
  configuration (ECS Exec sessions are not governed by the Session Manager preferences document).
- A task definition whose container runs as a non-root user with a read-only root filesystem, no
  privileged mode, logs to a KMS-encrypted log group kept six years, receives no secret in plain
  environment variables, runs as the workload role and pulls with its own execution role. The SSM
  agent ECS Exec injects needs writable directories beside the read-only root filesystem.
- A service with no public IP, the deployment circuit breaker with rollback, and target-tracking
  auto scaling on CPU.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi_aws as aws

from .app_settings import AppSettings
from .aws_context import AwsContext
from .policy_documents import key_by_alias, policy_json, service_trust_policy
from .role_policy import attach_policy, iam_path

CONTAINER_NAME = "app"
# A numeric non-root user: the image's USER may be anything, the task always runs unprivileged.
CONTAINER_USER = "10001:10001"
# Writable scratch space beside the read-only root filesystem: the application's /tmp and the
# state and log directories of the SSM agent that ECS Exec injects. AWS's ECS Exec guide calls a
# read-only root filesystem unsupported because the agent writes there; these volumes are the
# workaround reported to work (aws/containers-roadmap issue 1359). If ECS Exec fails to start, the
# application still runs; only operator sessions are affected.
WRITABLE_PATHS = {"tmp": "/tmp", "ssm-agent-state": "/var/lib/amazon/ssm",
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


def container_definitions(*, name: str, image: str, port: int, log_group: str, region: str,
                          environment: dict[str, str], secrets: dict[str, str],
                          command: Optional[list[str]] = None) -> str:
    """One hardened container; `secrets` maps variable names to Secrets Manager / Parameter Store
    ARNs (ECS resolves them at start: nothing sensitive in the task definition)."""
    container: dict = {
        "name": name,
        "image": image,
        "essential": True,
        "user": CONTAINER_USER,
        "readonlyRootFilesystem": True,
        "privileged": False,
        "linuxParameters": {"initProcessEnabled": True, "capabilities": {"drop": ["ALL"]}},
        "mountPoints": [{"sourceVolume": volume, "containerPath": path, "readOnly": False}
                        for volume, path in WRITABLE_PATHS.items()],
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


def scratch_volumes() -> list[aws.ecs.TaskDefinitionVolumeArgs]:
    return [aws.ecs.TaskDefinitionVolumeArgs(name=volume) for volume in WRITABLE_PATHS]


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
    service_name: str
    exec_log_group_name: str
    exec_log_group_arn: str
    execution_role: aws.iam.Role
    """Pulls images and writes the application's log (shared by the operator's task)."""

    def __init__(self, name: str, args: AppServiceArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("hipaa:components:AppService", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        ctx, app = args.aws, args.settings
        prefix = f"hipaa-aws-{args.stack}"
        self.cluster_name = prefix
        self.service_name = f"{prefix}-app"
        repository_name = f"{prefix}-app"
        self.repository_url = f"{ctx.account_id}.dkr.ecr.{ctx.region}.{ctx.dns_suffix}/{repository_name}"
        repository_arn = ctx.arn("ecr", f"repository/{repository_name}")
        image = app.image or f"{self.repository_url}:{app.image_tag}"

        repository = aws.ecr.Repository(
            name, name=repository_name, image_tag_mutability="IMMUTABLE",
            image_scanning_configuration=aws.ecr.RepositoryImageScanningConfigurationArgs(scan_on_push=True),
            encryption_configurations=[aws.ecr.RepositoryEncryptionConfigurationArgs(
                encryption_type="KMS", kms_key=args.storage_key_arn)],
            force_delete=not args.holds_phi, opts=child)
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

        self.cluster = aws.ecs.Cluster(
            name, name=self.cluster_name,
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
            f"{name}-execution", path=iam_path(args.stack),
            description="ECS task execution: pull the application image, write its log, read its parameters",
            assume_role_policy=service_trust_policy("ecs-tasks.amazonaws.com", ctx), opts=child)
        execution_policy = attach_policy(
            f"{name}-execution", self.execution_role,
            "Pull this stack's image, write its log, read its parameters",
            policy_json(
                {"Sid": "RegistryLogin", "Effect": "Allow", "Action": "ecr:GetAuthorizationToken",
                 "Resource": "*"},
                {"Sid": "PullImage", "Effect": "Allow",
                 "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer",
                            "ecr:BatchCheckLayerAvailability"],
                 "Resource": repository_arn},
                {"Sid": "WriteLog", "Effect": "Allow",
                 "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                 "Resource": [ctx.arn("logs", f"log-group:{group}:*")
                              for group in (app_group_name, f"/hipaa-aws/{args.stack}/db-access")]},
                {"Sid": "ReadParameters", "Effect": "Allow", "Action": "ssm:GetParameters",
                 "Resource": ctx.arn("ssm", f"parameter/hipaa-aws/{args.stack}/app/*")},
            ), child, path=iam_path(args.stack))
        exec_policy = attach_policy(
            f"{name}-exec", args.workload_role,
            "ECS Exec: encrypted, logged operator sessions into the application's tasks",
            policy_json(*ecs_exec_statements(ctx, args.stack, self.exec_log_group_arn)),
            child, path=iam_path(args.stack))

        task_definition = aws.ecs.TaskDefinition(
            name, family=f"{prefix}-app", requires_compatibilities=["FARGATE"], network_mode="awsvpc",
            cpu=str(app.cpu), memory=str(app.memory_mib),
            runtime_platform=aws.ecs.TaskDefinitionRuntimePlatformArgs(
                operating_system_family="LINUX", cpu_architecture="X86_64"),
            execution_role_arn=self.execution_role.arn, task_role_arn=args.workload_role.arn,
            volumes=scratch_volumes(),
            container_definitions=container_definitions(
                name=CONTAINER_NAME, image=image, port=args.app_port, log_group=app_group_name,
                region=ctx.region, environment={**args.environment, "APP_PORT": str(args.app_port),
                                                "TLS_MIN_VERSION": "1.2"},
                secrets=parameter_arns),
            opts=child)

        service = aws.ecs.Service(
            name, name=self.service_name, cluster=self.cluster.arn, task_definition=task_definition.arn,
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
            health_check_grace_period_seconds=60, enable_execute_command=True, propagate_tags="SERVICE",
            wait_for_steady_state=False,
            # Auto scaling owns the running count once the service exists.
            opts=pulumi.ResourceOptions(parent=self, ignore_changes=["desiredCount"],
                                        # Tasks start only once their parameters (the database
                                        # endpoint exists only after RDS creates it) and log exist.
                                        depends_on=[args.listener, execution_policy, exec_policy,
                                                    app_logs, *parameters]))

        target = aws.appautoscaling.Target(
            name, service_namespace="ecs", scalable_dimension="ecs:service:DesiredCount",
            resource_id=f"service/{self.cluster_name}/{self.service_name}",
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
