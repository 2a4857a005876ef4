"""SecurityAlarms: the CIS alarm set, finding routing, and the anomalous PHI read alarm."""

from __future__ import annotations

import json

import pytest

from components.security_alarms import CIS_ALARMS
from tests.conftest import arn_of, run_stack

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
    assert publishers == {"cloudwatch.amazonaws.com", "events.amazonaws.com"}


def test_the_full_cis_alarm_set_exists(any_stack):
    assert set(CIS_ALARMS) == CIS_SET
    alarms = {a.name.removeprefix("hipaa-alarms-") for a in any_stack.of_type(ALARM)}
    assert CIS_SET <= alarms


@pytest.mark.parametrize("key", sorted(CIS_SET))
def test_each_cis_alarm_watches_the_trail_and_notifies_the_topic(any_stack, key):
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


def test_high_severity_findings_reach_the_topic(any_stack):
    rules = {r.name: json.loads(r.inputs["eventPattern"])
             for r in any_stack.of_type("aws:cloudwatch/eventRule:EventRule")}
    guardduty = rules["hipaa-alarms-guardduty-high-severity"]
    assert guardduty["source"] == ["aws.guardduty"]
    assert guardduty["detail"]["severity"] == [{"numeric": [">=", 7]}]
    hub = rules["hipaa-alarms-securityhub-critical-high"]
    assert hub["detail"]["findings"]["Severity"]["Label"] == ["CRITICAL", "HIGH"]
    targets = any_stack.of_type("aws:cloudwatch/eventTarget:EventTarget")
    assert len(targets) == 2 and all(t.inputs["arn"] == topic_arn(any_stack) for t in targets)


def test_phi_reads_by_one_principal_above_the_threshold_raise_an_alarm():
    run = run_stack("staging", overrides={"phiReadAlarmThreshold": 42})
    rule = run.of_type("aws:cloudwatch/contributorInsightRule:ContributorInsightRule")[0].inputs
    definition = json.loads(rule["ruleDefinition"])
    assert definition["Contribution"]["Keys"] == ["$.userIdentity.arn"]
    filters = {f["Match"]: f["In"] for f in definition["Contribution"]["Filters"]}
    assert filters["$.eventName"] == ["GetObject"]
    assert filters["$.requestParameters.bucketName"] == [
        run.named("hipaa-phi-documents", "aws:s3/bucket:Bucket").outputs["bucket"]]
    assert definition["LogGroupNames"] == [run.named(
        "hipaa-audit-trail", "aws:cloudwatch/logGroup:LogGroup").outputs["name"]]
    alarm = run.named("hipaa-alarms-phi-reads-per-principal", ALARM).inputs
    assert alarm["threshold"] == 42 and alarm["comparisonOperator"] == "GreaterThanThreshold"
    (query,) = alarm["metricQueries"]
    assert query["expression"] == f"INSIGHT_RULE_METRIC('{rule['ruleName']}', 'MaxContributorValue')"
    assert alarm["alarmActions"] == [topic_arn(run)]
