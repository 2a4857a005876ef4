"""The application tier as an auditor questions it: HTTPS only at the edge, a WAF that logs, tasks
that cannot escalate, the workload role as the only task role, no open administration port,
encrypted and logged operator sessions, and alarms that reach the alert topic."""

from __future__ import annotations

import json

import pulumi
import pytest

from components.account.threat_detection import (
    GUARDDUTY_FARGATE_AGENT_ACCOUNTS,
    guardduty_agent_repository_arn,
)
from components.application.ingress import MANAGED_RULE_GROUPS, TLS_POLICY
from components.aws_context import AwsContext
from tests.conftest import account_of, arn_of, owned_run, region_of, run_stack

LB = "aws:lb/loadBalancer:LoadBalancer"
LISTENER = "aws:lb/listener:Listener"
TASK_DEFINITION = "aws:ecs/taskDefinition:TaskDefinition"
SERVICE = "aws:ecs/service:Service"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
# AWS's ELB guide lists these as the policies that admit TLS 1.2 and 1.3 only.
TLS_12_PLUS = {"ELBSecurityPolicy-TLS13-1-2-2021-06", "ELBSecurityPolicy-TLS13-1-3-2021-06",
               "ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09"}


def _containers(task_definition) -> list[dict]:
    return json.loads(task_definition.inputs["containerDefinitions"])


def test_both_stacks_build_the_tier(any_stack):
    for component in ("Ingress", "AppService", "OperatorAccess", "AppAlarms"):
        assert any_stack.of_type(f"hipaa:components:{component}"), component
    assert any_stack.stack_outputs["applicationUrl"].startswith("https://")


def test_the_listener_accepts_only_tls_12_or_newer_and_port_80_only_redirects(any_stack):
    listeners = {r.inputs["port"]: r.inputs for r in any_stack.of_type(LISTENER)}
    assert set(listeners) == {443, 80}
    https = listeners[443]
    assert https["protocol"] == "HTTPS" and https["sslPolicy"] == TLS_POLICY in TLS_12_PLUS
    assert https["defaultActions"][0]["type"] == "forward"
    (redirect,) = listeners[80]["defaultActions"]
    assert redirect["type"] == "redirect"
    assert redirect["redirect"] == {"protocol": "HTTPS", "port": "443", "statusCode": "HTTP_301"}


def test_the_load_balancer_drops_invalid_headers_logs_and_resists_deletion_with_phi(any_stack):
    lb = any_stack.named("hipaa-ingress", LB).inputs
    assert lb["internal"] is False and lb["loadBalancerType"] == "application"
    assert lb["dropInvalidHeaderFields"] is True
    assert lb["enableDeletionProtection"] is (any_stack.stack == "prod")
    logs = any_stack.named("hipaa-ingress-logs", "aws:s3/bucket:Bucket")
    assert lb["accessLogs"] == {"bucket": logs.outputs["bucket"], "prefix": "alb", "enabled": True}
    sse = any_stack.named("hipaa-ingress-logs", "aws:s3/bucketServerSideEncryptionConfiguration:"
                          "BucketServerSideEncryptionConfiguration").inputs
    # SSE-S3 is the only encryption ALB log delivery supports.
    assert sse["rules"][0]["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == "AES256"
    policy = json.loads(any_stack.named("hipaa-ingress-logs", "aws:s3/bucketPolicy:BucketPolicy").inputs["policy"])
    (delivery,) = [s for s in policy["Statement"] if s["Effect"] == "Allow"]
    # ELB guide: the log delivery service principal, which AWS now recommends in every region.
    # Regions older than August 2022 also name their ELB account (ELB guide, "Enable access logs":
    # us-east-1 127311923021, us-west-2 797873946194); newer regions only the service principal.
    elb_account = {"us-east-1": "127311923021", "us-west-2": "797873946194"}.get(region_of(any_stack.stack))
    assert delivery["Principal"] == {"Service": "logdelivery.elasticloadbalancing.amazonaws.com",
                                     **({"AWS": f"arn:aws:iam::{elb_account}:root"} if elb_account else {})}
    assert delivery["Resource"].endswith(f"/alb/AWSLogs/{account_of(any_stack.stack)}/*")


def test_the_target_group_speaks_https_to_the_tasks(any_stack):
    group = any_stack.named("hipaa-ingress", "aws:lb/targetGroup:TargetGroup").inputs
    assert group["protocol"] == "HTTPS" and group["targetType"] == "ip" and group["port"] == 8443
    assert group["healthCheck"]["protocol"] == "HTTPS" and group["healthCheck"]["path"] == "/health"


def test_the_target_group_can_be_replaced_without_a_name_clash(any_stack):
    """botocore elbv2: ModifyTargetGroup changes only health checks, so a new port or protocol
    replaces the group; Pulumi creates the new one first, and a fixed name would fail it
    (DuplicateTargetGroupName). The provider names it (SDK docstring of aws.lb.TargetGroup: "If
    omitted, this provider will assign a random, unique name"); everything that uses the group
    follows it by reference, so it moves to the new group before the old one is deleted."""
    group = any_stack.named("hipaa-ingress", "aws:lb/targetGroup:TargetGroup")
    assert "name" not in group.inputs and "namePrefix" not in group.inputs
    assert group.delete_before_replace is not True
    https = any_stack.named("hipaa-ingress-https", LISTENER)
    assert https.inputs["defaultActions"][0]["targetGroupArn"] == group.outputs["arn"]
    assert group.urn in https.property_dependencies["defaultActions"]
    service = any_stack.named("hipaa-app", SERVICE)
    assert service.inputs["loadBalancers"][0]["targetGroupArn"] == group.outputs["arn"]
    assert group.urn in service.property_dependencies["loadBalancers"]
    unhealthy = any_stack.named("hipaa-app-alarms-unhealthy-targets", ALARM)
    assert unhealthy.inputs["dimensions"]["TargetGroup"] == group.outputs["arnSuffix"]
    assert group.urn in unhealthy.property_dependencies["dimensions"]


def test_an_issued_certificate_is_replaced_create_before_destroy(prod):
    """ACM DeleteCertificate refuses a certificate in use (ResourceInUseException, botocore acm);
    the SDK docstring of aws.acm.Certificate recommends create-before-destroy for one a listener
    uses. The listener takes the validated certificate, so it moves before the old one goes."""
    (certificate,) = prod.of_type("aws:acm/certificate:Certificate")
    assert certificate.delete_before_replace is not True
    (validation,) = prod.of_type("aws:acm/certificateValidation:CertificateValidation")
    https = prod.named("hipaa-ingress-https", LISTENER)
    assert validation.urn in https.property_dependencies["certificateArn"]


def test_the_waf_is_associated_with_managed_rules_a_rate_limit_and_logs(any_stack):
    (acl,) = any_stack.of_type("aws:wafv2/webAcl:WebAcl")
    groups = {r["statement"]["managedRuleGroupStatement"]["name"] for r in acl.inputs["rules"]
              if "managedRuleGroupStatement" in r["statement"]}
    assert groups == set(MANAGED_RULE_GROUPS)
    (rate,) = [r for r in acl.inputs["rules"] if "rateBasedStatement" in r["statement"]]
    assert "block" in rate["action"] and rate["statement"]["rateBasedStatement"]["aggregateKeyType"] == "IP"
    (association,) = any_stack.of_type("aws:wafv2/webAclAssociation:WebAclAssociation")
    assert association.inputs["resourceArn"] == any_stack.named("hipaa-ingress", LB).outputs["arn"]
    (logging,) = any_stack.of_type("aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration")
    group = any_stack.named("hipaa-ingress-waf", "aws:cloudwatch/logGroup:LogGroup")
    assert group.inputs["name"].startswith("aws-waf-logs-")
    assert logging.inputs["logDestinationConfigs"] == [group.outputs["arn"]]
    assert group.inputs["kmsKeyId"] == arn_of(any_stack, "hipaa-keys-logs", "aws:kms/key:Key")
    assert group.inputs["retentionInDays"] >= 2192
    redacted = {f["singleHeader"]["name"] for f in logging.inputs["redactedFields"]}
    assert redacted == {"authorization", "cookie"}


def test_tasks_run_without_public_ips_as_non_root_on_a_read_only_filesystem(any_stack):
    for task_definition in any_stack.of_type(TASK_DEFINITION):
        for container in _containers(task_definition):
            assert container["readonlyRootFilesystem"] is True
            assert container["privileged"] is False
            assert container["user"].split(":")[0] not in ("", "0", "root")
            assert container["linuxParameters"]["capabilities"]["drop"] == ["ALL"]
            assert container["logConfiguration"]["logDriver"] == "awslogs"
            assert not any(v.get("name", "").upper().endswith(("PASSWORD", "SECRET", "TOKEN"))
                           for v in container["environment"])
    (service,) = any_stack.of_type(SERVICE)
    network = service.inputs["networkConfiguration"]
    assert network["assignPublicIp"] is False
    assert sorted(network["subnets"]) == sorted(s.id for s in any_stack.of_type("aws:ec2/subnet:Subnet")
                                                if s.inputs["tags"]["Tier"] == "app")


def test_the_task_role_is_exactly_the_workload_role(any_stack):
    app = any_stack.named("hipaa-app", TASK_DEFINITION).inputs
    workload = any_stack.named("hipaa-workload", "aws:iam/role:Role")
    assert app["taskRoleArn"] == workload.outputs["arn"]
    execution = any_stack.named("hipaa-app-execution", "aws:iam/role:Role")
    assert app["executionRoleArn"] == execution.outputs["arn"] != workload.outputs["arn"]


# The workaround for ECS Exec with a read-only root filesystem, from
# https://github.com/aws/containers-roadmap/issues/1359 (AWS's ECS Exec guide calls the combination
# unsupported): the SSM agent's three directories as writable volumes.
ECS_EXEC_WRITABLE = {"/managed-agents", "/var/lib/amazon/ssm", "/var/log/amazon/ssm"}


def _writable_paths(task_definition) -> set[str]:
    (container,) = _containers(task_definition)
    volumes = {v["name"] for v in task_definition.inputs["volumes"]}
    assert {m["sourceVolume"] for m in container["mountPoints"]} == volumes
    assert all(m["readOnly"] is False for m in container["mountPoints"])
    return {m["containerPath"] for m in container["mountPoints"]}


def test_only_the_db_access_task_is_reachable_by_ecs_exec_with_the_agents_writable_directories(any_stack):
    """The application service has no ECS Exec (no shell in a PHI application container; the
    workload role has no Session Manager channel); the db-access task keeps it, with the writable
    volumes of the containers-roadmap 1359 workaround and a read-only root."""
    service = any_stack.named("hipaa-app", SERVICE).inputs
    assert service["enableExecuteCommand"] is False
    assert _writable_paths(any_stack.named("hipaa-app", TASK_DEFINITION)) == {"/tmp"}
    access = any_stack.named("hipaa-operator", TASK_DEFINITION)
    assert _writable_paths(access) == {"/tmp"} | ECS_EXEC_WRITABLE
    assert _containers(access)[0]["readonlyRootFilesystem"] is True
    workload = any_stack.named("hipaa-workload", "aws:iam/role:Role").outputs["name"]
    actions = {a for p in _policies_of(any_stack, workload) for s in p["Statement"]
               for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
    assert not any(a.startswith("ssmmessages:") for a in actions)
    task_role = any_stack.named("hipaa-operator-task", "aws:iam/role:Role").outputs["name"]
    access_actions = {a for p in _policies_of(any_stack, task_role) for s in p["Statement"]
                      for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
    assert "ssmmessages:OpenDataChannel" in access_actions
    # Sessions stay encrypted and logged through the cluster's execute-command configuration.
    (cluster,) = any_stack.of_type("aws:ecs/cluster:Cluster")
    assert cluster.inputs["configuration"]["executeCommandConfiguration"]["logging"] == "OVERRIDE"


def _policies_of(run, role_name: str) -> list[dict]:
    """The documents of the managed policies attached to the role named `role_name`."""
    arns = {a.inputs["policyArn"] for a in run.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
            if a.inputs["role"] == role_name}
    return [json.loads(p.inputs["policy"]) for p in run.of_type("aws:iam/policy:Policy")
            if p.outputs["arn"] in arns]


def _pull_resources(run, role_arn: str) -> set[str]:
    role = next(r for r in run.of_type("aws:iam/role:Role") if r.outputs["arn"] == role_arn)
    pull = {"ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"}
    found = set()
    for policy in _policies_of(run, role.outputs["name"]):
        for statement in policy["Statement"]:
            actions = statement["Action"]
            actions = {actions} if isinstance(actions, str) else set(actions)
            if statement["Effect"] == "Allow" and pull <= actions:
                resources = statement["Resource"]
                found |= {resources} if isinstance(resources, str) else set(resources)
    return found


@pytest.mark.parametrize("region", ["us-east-1", "eu-west-2"])
def test_every_task_execution_role_may_pull_guardduty_s_runtime_agent(region):
    """GuardDuty Runtime Monitoring with automated Fargate agent management adds its agent to every
    task and pulls it with the task's execution role from `aws-guardduty-agent-fargate` in
    GuardDuty's account for the region (GuardDuty User Guide, "ECR Repository for GuardDuty agent on
    AWS Fargate (Amazon ECS only)": us-east-1 593207742271, eu-west-2 892757235363). Without the pull
    rights the agent never starts, and Runtime Monitoring silently covers nothing."""
    expected = {"us-east-1": "593207742271", "eu-west-2": "892757235363"}[region]
    run = run_stack("prod", overrides={"aws:region": region})
    tasks = run.of_type(TASK_DEFINITION)
    assert len(tasks) == 2
    for task in tasks:
        assert f"arn:aws:ecr:{region}:{expected}:repository/aws-guardduty-agent-fargate" in _pull_resources(
            run, task.inputs["executionRoleArn"]), task.name


def test_a_region_without_a_known_guardduty_agent_repository_fails_clearly():
    ctx = AwsContext(account_id="123456789012", region="xx-nowhere-1", partition="aws",
                     dns_suffix="amazonaws.com")
    with pytest.raises(pulumi.RunError, match="agent repository is not known for region xx-nowhere-1"):
        guardduty_agent_repository_arn(ctx)


def test_the_guardduty_agent_table_names_only_real_regions_and_account_ids():
    """A typo in the table would point the pull rights at nobody: every region is one botocore's
    endpoint data knows in the `aws` partition, every account id has 12 digits."""
    from botocore.loaders import Loader
    endpoints = Loader().load_data("endpoints")
    (aws_partition,) = [p for p in endpoints["partitions"] if p["partition"] == "aws"]
    assert set(GUARDDUTY_FARGATE_AGENT_ACCOUNTS) <= set(aws_partition["regions"])
    assert all(len(a) == 12 and a.isdigit() for a in GUARDDUTY_FARGATE_AGENT_ACCOUNTS.values())


def test_the_service_rolls_back_failed_deployments_and_scales_on_cpu(any_stack):
    service = any_stack.named("hipaa-app", SERVICE).inputs
    assert service["deploymentCircuitBreaker"] == {"enable": True, "rollback": True}
    assert service["launchType"] == "FARGATE"
    (policy,) = any_stack.of_type("aws:appautoscaling/policy:Policy")
    tracking = policy.inputs["targetTrackingScalingPolicyConfiguration"]
    assert tracking["predefinedMetricSpecification"]["predefinedMetricType"] == "ECSServiceAverageCPUUtilization"
    (target,) = any_stack.of_type("aws:appautoscaling/target:Target")
    assert target.inputs["maxCapacity"] >= target.inputs["minCapacity"]
    # The service is named by the provider (a replacement must not clash with the old one): auto
    # scaling addresses it as service/<cluster>/<service> (botocore application-autoscaling
    # RegisterScalableTarget ResourceId) through its output, so it follows a replacement.
    service = any_stack.named("hipaa-app", SERVICE)
    assert "name" not in service.inputs
    (cluster,) = any_stack.of_type("aws:ecs/cluster:Cluster")
    assert target.inputs["resourceId"] == f"service/{cluster.inputs['name']}/{service.outputs['name']}"
    assert service.urn in target.property_dependencies["resourceId"]


def test_the_image_repository_is_encrypted_immutable_and_scanned(any_stack):
    (repository,) = any_stack.of_type("aws:ecr/repository:Repository")
    inputs = repository.inputs
    assert inputs["imageTagMutability"] == "IMMUTABLE"
    assert inputs["imageScanningConfiguration"] == {"scanOnPush": True}
    assert inputs["encryptionConfigurations"] == [
        {"encryptionType": "KMS", "kmsKey": arn_of(any_stack, "hipaa-keys-storage", "aws:kms/key:Key")}]
    assert bool(inputs.get("forceDelete")) is (any_stack.stack != "prod")
    (lifecycle,) = any_stack.of_type("aws:ecr/lifecyclePolicy:LifecyclePolicy")
    assert json.loads(lifecycle.inputs["policy"])["rules"]
    image = _containers(any_stack.named("hipaa-app", TASK_DEFINITION))[0]["image"]
    region = region_of(any_stack.stack)
    assert image == f"{account_of(any_stack.stack)}.dkr.ecr.{region}.amazonaws.com/{inputs['name']}:1.0.0"


def test_no_security_group_opens_ssh_or_rdp_and_only_the_load_balancer_faces_clients(any_stack):
    for rule in any_stack.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"):
        inputs = rule.inputs
        ports = range(int(inputs.get("fromPort", 0)), int(inputs.get("toPort", 65535)) + 1)
        assert 22 not in ports and 3389 not in ports, rule.name
        if "cidrIpv4" in inputs:
            assert rule.name.startswith("hipaa-network-lb-"), rule.name
            assert inputs["fromPort"] in (443, 80)


def test_staging_admits_only_its_configured_clients(staging):
    cidrs = {r.inputs["cidrIpv4"] for r in staging.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
             if "cidrIpv4" in r.inputs}
    assert cidrs == {"203.0.113.0/24", "198.51.100.0/24"}


def test_operator_sessions_are_encrypted_and_logged_without_any_inbound_port(any_stack):
    (cluster,) = any_stack.of_type("aws:ecs/cluster:Cluster")
    exec_config = cluster.inputs["configuration"]["executeCommandConfiguration"]
    assert exec_config["kmsKeyId"] == arn_of(any_stack, "hipaa-keys-sessions", "aws:kms/key:Key")
    assert exec_config["logging"] == "OVERRIDE"
    log = exec_config["logConfiguration"]
    assert log["cloudWatchEncryptionEnabled"] is True
    group = any_stack.named("hipaa-app-exec", "aws:cloudwatch/logGroup:LogGroup").inputs
    assert group["name"] == log["cloudWatchLogGroupName"] and group["kmsKeyId"]
    assert {"name": "containerInsights", "value": "enabled"} in cluster.inputs["settings"]
    endpoints = {e.inputs["serviceName"].rsplit(".", 1)[1] for e in any_stack.of_type("aws:ec2/vpcEndpoint:VpcEndpoint")}
    assert {"ssm", "ssmmessages"} <= endpoints
    access = any_stack.named("hipaa-operator", TASK_DEFINITION)
    assert "portMappings" not in _containers(access)[0]  # reached through Session Manager only


def test_the_account_owner_logs_and_encrypts_shell_sessions(prod):
    # Session Manager's preferences are the account's one Session document (the containment runbooks
    # are Automation documents): AWS Systems Manager User Guide, "Create a Session Manager
    # preferences document (command line)" and "Start a default shell session by specifying the
    # default session document in IAM policies".
    (document,) = [d for d in prod.of_type("aws:ssm/document:Document")
                   if d.inputs["documentType"] == "Session"]
    assert document.inputs["name"] == "SSM-SessionManagerRunShell" and document.inputs["documentType"] == "Session"
    inputs = json.loads(document.inputs["content"])["inputs"]
    assert inputs["cloudWatchEncryptionEnabled"] is True and inputs["s3EncryptionEnabled"] is True
    assert inputs["kmsKeyId"] == prod.named("hipaa-account-keys-session-manager", "aws:kms/key:Key").outputs["arn"]
    group = prod.named("hipaa-account-sessions", "aws:cloudwatch/logGroup:LogGroup")
    assert inputs["cloudWatchLogGroupName"] == group.inputs["name"] and group.inputs["retentionInDays"] >= 2192
    assert document.retain_on_delete is True


def test_port_forwarding_sessions_raise_an_alarm():
    """Where the stack's trail records the account's management events (its owner's); in an organization
    member they are in the organization trail's log group."""
    pattern = owned_run("prod").named("hipaa-alarms-port-forwarding-session-started",
                         "aws:cloudwatch/logMetricFilter:LogMetricFilter").inputs["pattern"]
    assert '($.eventName = "StartSession")' in pattern and "AWS-StartPortForwardingSession" in pattern


def test_tier_alarms_notify_the_alert_topic(any_stack):
    topic = any_stack.named("hipaa-alarms", "aws:sns/topic:Topic").outputs["arn"]
    names = {a.name.removeprefix("hipaa-app-alarms-"): a.inputs for a in any_stack.of_type(ALARM)
             if a.name.startswith("hipaa-app-alarms-")}
    assert set(names) == {"lb-5xx-above-baseline", "lb-4xx-above-baseline", "waf-blocked-above-baseline",
                          "unhealthy-targets", "db-failed-logins"}
    for alarm in names.values():
        assert alarm["alarmActions"] == [topic]
    band = names["lb-4xx-above-baseline"]
    assert band["thresholdMetricId"] == "band" and band["comparisonOperator"] == "GreaterThanUpperThreshold"
    failed_logins = any_stack.named("hipaa-app-alarms-db-failed-logins", "aws:cloudwatch/logMetricFilter:LogMetricFilter")
    assert failed_logins.inputs["logGroupName"].endswith("/postgresql")


def test_the_failed_login_filter_waits_for_the_database_log_group(any_stack):
    """botocore logs: PutMetricFilter on a log group that does not exist fails with
    ResourceNotFoundException; on a new stack the filter must be created after the group."""
    group = any_stack.named("hipaa-db-postgresql", "aws:cloudwatch/logGroup:LogGroup")
    failed_logins = any_stack.named("hipaa-app-alarms-db-failed-logins",
                                    "aws:cloudwatch/logMetricFilter:LogMetricFilter")
    assert failed_logins.inputs["logGroupName"] == group.inputs["name"]
    assert group.urn in failed_logins.property_dependencies["logGroupName"]


def test_the_database_endpoint_reaches_the_task_through_parameter_store_not_its_definition(any_stack):
    container = _containers(any_stack.named("hipaa-app", TASK_DEFINITION))[0]
    from_parameters = {s["name"]: s["valueFrom"] for s in container["secrets"]}
    prefix = (f"arn:aws:ssm:{region_of(any_stack.stack)}:{account_of(any_stack.stack)}:parameter/hipaa-aws/"
              f"{any_stack.stack}/app")
    assert from_parameters == {"DATABASE_HOST": f"{prefix}/database-host", "CACHE_HOST": f"{prefix}/cache-host"}


def test_a_stack_without_app_settings_builds_no_application_tier():
    run = run_stack("staging", removed=("app",))
    assert not run.of_type("hipaa:components:Ingress") and not run.of_type(LB)
    assert not run.of_type("aws:kms/key:Key") or all(k.name != "hipaa-keys-sessions" for k in run.of_type("aws:kms/key:Key"))


@pytest.mark.parametrize("override,shown,allowed", [
    ({"cpu": 300}, "300", "must be a Fargate CPU size"),
    ({"cpu": 256, "memoryMib": 4096}, None, "does not fit cpu 256 on Fargate"),
    ({"desiredCount": 5, "maxCount": 2}, None, "maxCount (2) must be at least desiredCount (5)"),
    ({"image": "registry.example/app:1"}, None, "set exactly one of image"),
    ({"healthCheckPath": "health"}, "'health'", "should match pattern"),
    ({"certificateArn": "arn:aws:acm:eu-west-1:123456789012:certificate/0b5a4f34-1c7e-4d6b-9a1f-3e2d5c6b7a80"},
     None, "must be a certificate in the stack's region (us-east-1)"),
    ({"certificateArn": "arn:aws:iam::123456789012:server-certificate/x"}, None, "must be an ACM certificate ARN"),
    ({"allowedClientCidrs": ["10.0.0.300/24"]}, None, "is not an IPv4 network in CIDR form"),
    ({"hostedZoneId": "Z0123456789ABC"}, None, "set certificateArn, or hostedZoneId with domainName, not both"),
    ({"desiredCount": -1}, "-1", "greater than or equal to 0"),
])
def test_each_bad_app_value_is_refused_with_stack_key_value_and_what_is_allowed(override, shown, allowed):
    from tests.test_settings import config_error
    message = config_error("staging", {"app": override})
    assert "stack 'staging'" in message and "hipaa-aws:app" in message
    assert allowed in message, message
    if shown:
        assert shown in message
