"""SecurityAlarms: the CIS alarm set, finding routing, and the anomalous PHI read alarm."""

from __future__ import annotations

import json
import re

import pytest

from components.environment.security_alarms import CIS_ALARMS
from tests.conftest import arn_of, owned_run, run_stack

ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
FILTER = "aws:cloudwatch/logMetricFilter:LogMetricFilter"
# The CIS AWS Foundations CloudWatch monitoring set, as an auditor lists it.
CIS_SET = {
    "unauthorized-api-calls", "console-signin-without-mfa", "root-account-usage",
    "iam-policy-changes", "cloudtrail-changes", "console-auth-failures",
    "cmk-disabled-or-deleted", "s3-bucket-policy-changes", "config-changes",
    "security-group-changes", "nacl-changes", "network-gateway-changes",
    "route-table-changes", "vpc-changes",
}


@pytest.fixture
def owner():
    """prod as its account's only owner: its trail records the account's management events, so the CIS
    alarms and finding routing are its (in an organization member account they are the organization's)."""
    return owned_run("prod")


def topic_arn(run):
    return run.named("hipaa-alarms", "aws:sns/topic:Topic").outputs["arn"]


def test_alert_topic_is_encrypted_with_the_alerting_key_and_mails_the_configured_address(any_stack):
    topic = any_stack.named("hipaa-alarms", "aws:sns/topic:Topic")
    assert topic.inputs["kmsMasterKeyId"] == arn_of(any_stack, "hipaa-keys-alerting", "aws:kms/key:Key")
    (subscription,) = any_stack.of_type("aws:sns/topicSubscription:TopicSubscription")
    assert subscription.inputs["protocol"] == "email"
    assert subscription.inputs["endpoint"] == "security-alerts@example-health.com"
    policy = json.loads(any_stack.named("hipaa-alarms", "aws:sns/topicPolicy:TopicPolicy").inputs["policy"])
    publishers = {s["Principal"]["Service"] for s in policy["Statement"] if s["Effect"] == "Allow"}
    # EventBridge publishes only where this stack routes the account's findings (the owner); the shipped
    # stacks are organization members, whose findings the delegated administrator routes.
    assert any_stack.stack_outputs["accountBaseline"] == "organization"
    assert publishers == {"cloudwatch.amazonaws.com"}
    owner = owned_run("prod").named("hipaa-alarms", "aws:sns/topicPolicy:TopicPolicy")
    policy = json.loads(owner.inputs["policy"])
    assert {s["Principal"]["Service"] for s in policy["Statement"] if s["Effect"] == "Allow"} == {
        "cloudwatch.amazonaws.com", "events.amazonaws.com"}


def test_eventbridge_is_scoped_by_the_topic_policy_not_the_key_policy(owner):
    prod = owner
    """SNS guide: EventBridge cannot satisfy aws:SourceAccount/aws:SourceArn in the key policy of an
    encrypted topic (deliveries fail silently); the topic policy names the rules instead."""
    key = json.loads(prod.named("hipaa-keys-alerting", "aws:kms/key:Key").inputs["policy"])
    events = [s for s in key["Statement"] if s["Principal"] == {"Service": "events.amazonaws.com"}]
    assert events and all("Condition" not in s for s in events)
    topic = json.loads(prod.named("hipaa-alarms", "aws:sns/topicPolicy:TopicPolicy").inputs["policy"])
    (rules,) = [s for s in topic["Statement"] if s["Principal"] == {"Service": "events.amazonaws.com"}]
    rule_arns = {r.outputs["arn"] for r in prod.of_type("aws:cloudwatch/eventRule:EventRule")}
    assert set(rules["Condition"]["ArnEquals"]["aws:SourceArn"]) == {
        f"arn:aws:events:us-east-1:123456789012:rule/{r.inputs['name']}"
        for r in prod.of_type("aws:cloudwatch/eventRule:EventRule")} and rule_arns


def test_the_full_cis_alarm_set_exists_where_management_events_are_recorded(owner, any_stack):
    assert set(CIS_ALARMS) == CIS_SET
    alarms = {a.name.removeprefix("hipaa-alarms-") for a in owner.of_type(ALARM)}
    assert CIS_SET | {"key-administration-by-others", "database-break-glass-used"} <= alarms
    # An organization member's trail records data events only: the organization trail's log group (in
    # the management account) holds the management events the CIS alarms read.
    assert {a.name for a in any_stack.of_type(ALARM) if a.name.startswith("hipaa-alarms-")} == {
        "hipaa-alarms-phi-reads-per-principal"}


def test_key_administration_by_anyone_else_raises_an_alarm(owner):
    prod = owner
    pattern = prod.named("hipaa-alarms-key-administration-by-others", FILTER).inputs["pattern"]
    assert '($.eventName = "PutKeyPolicy")' in pattern
    assert '($.eventName = "CreateGrant") && ($.userIdentity.invokedBy NOT EXISTS)' in pattern
    assert ('($.userIdentity.sessionContext.sessionIssuer.arn != '
            '"arn:aws:iam::123456789012:role/hipaa-aws/ci/hipaa-aws-prod-deploy")') in pattern
    assert pattern.count("{") == pattern.count("}") == 1


def test_every_break_glass_assumption_raises_an_alarm(owner):
    prod = owner
    pattern = prod.named("hipaa-alarms-database-break-glass-used", FILTER).inputs["pattern"]
    assert '($.eventName = "AssumeRole")' in pattern and '"*-db-break-glass"' in pattern
    role = prod.named("hipaa-break-glass", "aws:iam/role:Role").inputs
    assert role["name"].endswith("-db-break-glass") and role["path"] == "/hipaa-aws/prod/"


@pytest.mark.parametrize("key", sorted(CIS_SET))
def test_each_cis_alarm_watches_the_trail_and_notifies_the_topic(owner, key):
    any_stack = owner
    log_metric = any_stack.named(f"hipaa-alarms-{key}", FILTER).inputs
    trail_group = any_stack.named("hipaa-audit-trail", "aws:cloudwatch/logGroup:LogGroup")
    assert log_metric["logGroupName"] == trail_group.outputs["name"]
    assert log_metric["pattern"].startswith("{") and log_metric["pattern"].endswith("}")
    alarm = any_stack.named(f"hipaa-alarms-{key}", ALARM).inputs
    assert alarm["metricName"] == log_metric["metricTransformation"]["name"]
    assert alarm["namespace"] == log_metric["metricTransformation"]["namespace"]
    assert alarm["alarmActions"] == [topic_arn(any_stack)]
    assert alarm["threshold"] == 1


def test_every_alarm_has_an_action(any_stack):
    for alarm in any_stack.of_type(ALARM):
        assert alarm.inputs.get("alarmActions"), alarm.name


def test_high_severity_findings_reach_the_topic(owner, staging):
    any_stack = owner
    assert staging.of_type("aws:cloudwatch/eventRule:EventRule") == []  # the organization routes them
    rules = {r.name: json.loads(r.inputs["eventPattern"])
             for r in any_stack.of_type("aws:cloudwatch/eventRule:EventRule")}
    guardduty = rules["hipaa-alarms-guardduty-high-severity"]
    assert guardduty["source"] == ["aws.guardduty"]
    assert guardduty["detail"]["severity"] == [{"numeric": [">=", 7]}]
    hub = rules["hipaa-alarms-securityhub-critical-high"]
    assert hub["detail"]["findings"]["Severity"]["Label"] == ["CRITICAL", "HIGH"]
    targets = any_stack.of_type("aws:cloudwatch/eventTarget:EventTarget")
    # Each rule notifies the topic and opens an OpsItem (tests/test_incident_response.py).
    to_topic = [t for t in targets if t.inputs["arn"] == topic_arn(any_stack)]
    assert len(to_topic) == 2
    assert all(t.inputs["arn"].endswith(":opsitem") for t in targets if t not in to_topic)


# botocore `cloudwatch` PutMetricAlarm AlarmActions, "SSM integration actions":
# arn:aws:ssm:region:account-id:opsitem:severity#CATEGORY=category-name
OPSITEM_ACTION = re.compile(r"arn:aws:ssm:[a-z0-9-]+:\d{12}:opsitem:[1-4]#CATEGORY=Security")


@pytest.mark.parametrize("rule_name, bucket, alarm_name", [
    ("hipaa-alarms-phi-reads", "hipaa-phi-documents", "hipaa-alarms-phi-reads-per-principal"),
    ("hipaa-app-audit-reads", "hipaa-app-audit-archive", "hipaa-app-audit-reads"),
])
def test_phi_reads_by_one_principal_above_the_threshold_raise_an_alarm(rule_name, bucket, alarm_name):
    """Object reads of each PHI bucket (the documents, the app audit archive) are counted per
    principal from the trail's data events; more than the threshold in five minutes raises the
    alarm, which mails the security topic and opens an OpsItem."""
    run = run_stack("staging", overrides={"phiReadAlarmThreshold": 42})
    rule = run.named(rule_name, "aws:cloudwatch/contributorInsightRule:ContributorInsightRule").inputs
    definition = json.loads(rule["ruleDefinition"])
    assert definition["Contribution"]["Keys"] == ["$.userIdentity.arn"]
    filters = {f["Match"]: f["In"] for f in definition["Contribution"]["Filters"]}
    assert filters["$.eventName"] == ["GetObject"]
    assert filters["$.requestParameters.bucketName"] == [
        run.named(bucket, "aws:s3/bucket:Bucket").outputs["bucket"]]
    assert definition["LogGroupNames"] == [run.named(
        "hipaa-audit-trail", "aws:cloudwatch/logGroup:LogGroup").outputs["name"]]
    alarm = run.named(alarm_name, ALARM).inputs
    assert alarm["threshold"] == 42 and alarm["comparisonOperator"] == "GreaterThanThreshold"
    (query,) = alarm["metricQueries"]
    assert query["expression"] == f"INSIGHT_RULE_METRIC('{rule['ruleName']}', 'MaxContributorValue')"
    topic, *others = alarm["alarmActions"]
    assert topic == topic_arn(run)
    assert len(others) == 1 and OPSITEM_ACTION.fullmatch(others[0]), others
