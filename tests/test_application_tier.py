"""The application tier as an auditor questions it: HTTPS only at the edge, a WAF that logs, tasks
that cannot escalate, the workload role as the only task role, no open administration port,
encrypted and logged operator sessions, and alarms that reach the alert topic."""

from __future__ import annotations

import json

import pytest

from components.ingress import MANAGED_RULE_GROUPS, TLS_POLICY
from tests.conftest import arn_of, run_stack

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
    assert delivery["Principal"] == {"Service": "logdelivery.elasticloadbalancing.amazonaws.com",
                                     "AWS": "arn:aws:iam::127311923021:root"}  # us-east-1 predates 2022
    assert delivery["Resource"].endswith("/alb/AWSLogs/123456789012/*")


def test_the_target_group_speaks_https_to_the_tasks(any_stack):
    group = any_stack.named("hipaa-ingress", "aws:lb/targetGroup:TargetGroup").inputs
    assert group["protocol"] == "HTTPS" and group["targetType"] == "ip" and group["port"] == 8443
    assert group["healthCheck"]["protocol"] == "HTTPS" and group["healthCheck"]["path"] == "/health"


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
            # ECS Exec's agent needs these writable beside the read-only root.
            paths = {m["containerPath"] for m in container["mountPoints"]}
            assert {"/var/lib/amazon/ssm", "/var/log/amazon/ssm"} <= paths
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


def test_the_service_rolls_back_failed_deployments_and_scales_on_cpu(any_stack):
    service = any_stack.named("hipaa-app", SERVICE).inputs
    assert service["deploymentCircuitBreaker"] == {"enable": True, "rollback": True}
    assert service["enableExecuteCommand"] is True and service["launchType"] == "FARGATE"
    (policy,) = any_stack.of_type("aws:appautoscaling/policy:Policy")
    tracking = policy.inputs["targetTrackingScalingPolicyConfiguration"]
    assert tracking["predefinedMetricSpecification"]["predefinedMetricType"] == "ECSServiceAverageCPUUtilization"
    (target,) = any_stack.of_type("aws:appautoscaling/target:Target")
    assert target.inputs["maxCapacity"] >= target.inputs["minCapacity"]


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
    assert image == f"123456789012.dkr.ecr.us-east-1.amazonaws.com/{inputs['name']}:1.0.0"


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
    (document,) = prod.of_type("aws:ssm/document:Document")
    assert document.inputs["name"] == "SSM-SessionManagerRunShell" and document.inputs["documentType"] == "Session"
    inputs = json.loads(document.inputs["content"])["inputs"]
    assert inputs["cloudWatchEncryptionEnabled"] is True and inputs["s3EncryptionEnabled"] is True
    assert inputs["kmsKeyId"] == prod.named("hipaa-account-keys-session-manager", "aws:kms/key:Key").outputs["arn"]
    group = prod.named("hipaa-account-sessions", "aws:cloudwatch/logGroup:LogGroup")
    assert inputs["cloudWatchLogGroupName"] == group.inputs["name"] and group.inputs["retentionInDays"] >= 2192
    assert document.retain_on_delete is True


def test_port_forwarding_sessions_raise_an_alarm(prod):
    pattern = prod.named("hipaa-alarms-port-forwarding-session-started",
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


def test_the_database_endpoint_reaches_the_task_through_parameter_store_not_its_definition(any_stack):
    container = _containers(any_stack.named("hipaa-app", TASK_DEFINITION))[0]
    from_parameters = {s["name"]: s["valueFrom"] for s in container["secrets"]}
    prefix = f"arn:aws:ssm:us-east-1:123456789012:parameter/hipaa-aws/{any_stack.stack}/app"
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
