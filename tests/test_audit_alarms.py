"""The alarms on the application's audit events: each pattern matches the events it must and no others
(under CloudWatch's documented JSON pattern semantics, tests/cloudwatch_filter_patterns.py), each alarm
watches its own setting, notifies the alert topic, links its runbook, and the PHI-access ones open an
OpsItem.

Events are built from docs/audit-event.example.json and checked against the contract's schema, so a
pattern is never tested on an event the application could not write.
"""

from __future__ import annotations

import copy
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import jsonschema
import pulumi
import pytest

from components.application.audit_alarms import (
    FAILED_SIGN_IN_PATTERN,
    PHI_ACTIONS,
    READ_ACTIONS,
    RUNBOOKS,
    bulk_read_rule,
    off_hours_pattern,
)
from components.audit_settings import AuditSettings, BusinessHours
from components.runbooks import runbook_link
from components.settings import parse_settings
from components.trail_patterns import METRIC_FILTER_PATTERN_LIMIT
from tests.cloudwatch_filter_patterns import PatternError, matches
from tests.conftest import cached_run, stack_config

DOCS = Path(__file__).resolve().parent.parent / "docs"
SCHEMA = json.loads((DOCS / "audit-event.schema.json").read_text())
EXAMPLE = json.loads((DOCS / "audit-event.example.json").read_text())
VALIDATOR = jsonschema.Draft202012Validator(
    SCHEMA, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
ALARM, FILTER = "aws:cloudwatch/metricAlarm:MetricAlarm", "aws:cloudwatch/logMetricFilter:LogMetricFilter"
RULE = "aws:cloudwatch/contributorInsightRule:ContributorInsightRule"
ALL_ACTIONS = tuple(SCHEMA["properties"]["action"]["enum"])


def audit_event(**changes: Any) -> dict[str, Any]:
    """A contract-valid event: the example with `changes` (sign-in/out and failures made consistent)."""
    event = copy.deepcopy(EXAMPLE)
    event.update(changes)
    if event["action"] in ("sign-in", "sign-out"):
        for key in ("patientId", "recordId", "recordType"):
            event.pop(key, None)
        event["recordCount"] = 0
    if event["result"] != "success":
        event["recordCount"] = 0
    VALIDATOR.validate(event)
    return event


def at_hour(hour: int, **changes: Any) -> str:
    return json.dumps(audit_event(time=f"2026-12-06T{hour:02d}:41:07.512Z", **changes))


# --- the evaluator itself, on the examples of AWS's page ("Filter pattern syntax ...", JSON section)

DOC_EVENT = json.dumps({
    "eventType": "UpdateTrail", "sourceIPAddress": "111.111.111.111",
    "arrayKey": ["value", "another value"], "objectList": [{"name": "a", "id": 1}, {"name": "b", "id": 2}],
    "user": {"id": 1, "email": "John.Stiles@example.com"},
    "users": [{"id": 2, "email": "John.Doe@example.com"}, {"id": 3, "email": "Jane.Doe@example.com"}],
    "actions": ["GET", "PUT", "DELETE"], "coordinates": [[0, 1, 2], [4, 5, 6], [7, 8, 9]],
})


@pytest.mark.parametrize("pattern, expected", [
    ('{ $.eventType = "UpdateTrail" }', True),
    ("{ $.sourceIPAddress != 123.123.* }", True),
    ('{ $.arrayKey[0] = "value" }', True),
    ("{ $.objectList[1].id = 2 }", True),
    ('{ ($.user.id = 1) && ($.users[0].email = "John.Doe@example.com") }', True),
    ('{ ($.user.id = 2 && $.users[0].email = "nonmatch") || $.actions[2] = "GET" }', False),
    ('{ $.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = nonmatch '
     '&& $.actions[2] = nomatch }', True),
    ('{ ($.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = nonmatch) '
     '&& $.actions[2] = nomatch }', False),
    ('{ $.eventType = "*Trail" }', True),
    ('{ $.eventType = "Update*" }', True),
    ('{ $.eventType = "*dateTr*" }', True),
    ('{ $.eventType = "Up*Trail" }', False),  # an asterisk inside the value is literal
    ('{ $.eventType = "updatetrail" }', False),  # case sensitive
    ("{ $.users = 1 }", False),  # a selector on an array matches nothing
    ("{ $.users != 1 }", False),
    ('{ $.missing != "x" }', False),
])
def test_evaluator_follows_the_documented_examples(pattern, expected):
    assert matches(pattern, DOC_EVENT) is expected


def test_evaluator_refuses_what_it_does_not_implement():
    for pattern in ("{ $.a IS NULL }", "{ $.a NOT EXISTS }", "{ $.a = %ab% }", "ERROR", "[ip, user]"):
        with pytest.raises(PatternError):
            matches(pattern, DOC_EVENT)


def test_evaluator_needs_a_json_object():
    assert not matches('{ $.action = "read" }', "read by someone")
    assert not matches('{ $.action = "read" }', '["read"]')


# --- off-hours access

@pytest.mark.parametrize("start, end, offset", [(7, 19, "+00:00"), (7, 19, "-05:00"), (8, 18, "+09:00"),
                                                (0, 12, "-14:00"), (22, 24, "+14:00")])
def test_off_hours_pattern_matches_exactly_the_local_hours_outside_business(start, end, offset):
    hours = {"start": start, "end": end, "utcOffset": offset}
    settings = AuditSettings.model_validate({"businessHours": hours})
    pattern = off_hours_pattern(settings)
    assert pattern is not None and len(pattern) <= METRIC_FILTER_PATTERN_LIMIT
    shift = int(offset[:3])
    for utc_hour in range(24):
        local = (utc_hour + shift) % 24
        off = not start <= local < end
        for action in PHI_ACTIONS:
            assert matches(pattern, at_hour(utc_hour, action=action)) is off, (utc_hour, action)
        for action in ("sign-in", "sign-out"):
            assert not matches(pattern, at_hour(utc_hour, action=action))


def test_off_hours_counts_denied_attempts_too():
    pattern = off_hours_pattern(AuditSettings.model_validate({}))
    assert pattern is not None
    assert matches(pattern, at_hour(3, result="denied"))


def test_no_off_hours_alarm_for_a_24_hour_service():
    assert off_hours_pattern(AuditSettings.model_validate({"businessHours": {"start": 0, "end": 24}})) is None


def test_minutes_that_look_like_hours_do_not_match():
    """`*T03:*` must read the hour: 14:03 is business time, though `03:` appears in it."""
    pattern = off_hours_pattern(AuditSettings.model_validate({}))
    assert pattern is not None
    assert not matches(pattern, json.dumps(audit_event(time="2026-12-06T14:03:03.003Z")))


# --- failed sign-ins

@pytest.mark.parametrize("action", ALL_ACTIONS)
@pytest.mark.parametrize("result", ["success", "failure", "denied"])
def test_failed_sign_in_pattern(action, result):
    assert matches(FAILED_SIGN_IN_PATTERN, json.dumps(audit_event(action=action, result=result))) is (
        action == "sign-in" and result == "failure")


# --- bulk export: the Contributor Insights rule, evaluated as its syntax page says

def contributions(rule: dict[str, Any], events: list[dict[str, Any]]) -> dict[tuple, float]:
    """Sum of ValueOf per Keys over events passing every Filter (Match value In the list), case
    sensitive (CloudWatch user guide, "Contributor Insights rule syntax in CloudWatch")."""
    def field(event: dict[str, Any], selector: str) -> Any:
        node: Any = event
        for part in selector.removeprefix("$.").split("."):
            node = node.get(part) if isinstance(node, dict) else None
        return node

    assert rule["AggregateOn"] == "Sum" and rule["LogFormat"] == "JSON"
    totals: dict[tuple, float] = defaultdict(float)
    contribution = rule["Contribution"]
    for event in events:
        if all(field(event, f["Match"]) in f["In"] for f in contribution["Filters"]):
            key = tuple(field(event, k) for k in contribution["Keys"])
            totals[key] += field(event, contribution["ValueOf"])
    return dict(totals)


def test_bulk_read_rule_sums_records_per_actor_for_successful_reads():
    rule = bulk_read_rule("/hipaa-aws/prod/app-audit")
    assert rule["Schema"] == {"Name": "CloudWatchLogRule", "Version": 1}
    assert rule["LogGroupNames"] == ["/hipaa-aws/prod/app-audit"]
    alice, bob = ({"id": who, "type": "user"} for who in ("alice", "bob"))
    events = [audit_event(actor=alice, action=a, recordCount=100) for a in READ_ACTIONS]
    events += [audit_event(actor=bob, action="read", recordCount=7),
               audit_event(actor=bob, action="update", recordCount=900),  # a change, not a read
               audit_event(actor=bob, action="export", result="denied"),
               audit_event(actor=alice, action="sign-in")]
    assert contributions(rule, events) == {("alice",): 300, ("bob",): 7}


# --- the alarms as deployed

def raw_settings(stack: str, **overrides: Any) -> dict[str, Any]:
    """The stack file's `hipaa-aws:` values, as the engine passes them, with some keys replaced."""
    config = stack_config(stack)
    raw = {k.split(":", 1)[1]: v for k, v in config.values.items() if k.startswith("hipaa-aws:")}
    return {**raw, **{k: json.dumps(v) for k, v in overrides.items()}}


def alarms_of(run) -> dict[str, dict[str, Any]]:
    return {r.inputs["name"]: r.inputs for r in run.of_type(ALARM) if "-audit-" in r.inputs["name"]
            and r.name.startswith("hipaa-audit-alarms-")}


@pytest.mark.parametrize("stack", ["prod", "staging"])
def test_each_alarm_notifies_links_its_runbook_and_phi_access_opens_an_opsitem(stack):
    run = cached_run(stack)
    alarms = alarms_of(run)
    assert set(alarms) == {f"hipaa-aws-{stack}-audit-{key}" for key in RUNBOOKS}
    topic = run.named("hipaa-app-alarms-unhealthy-targets", ALARM).inputs["alarmActions"][0]
    account = topic.split(":")[4]
    for key, runbook in RUNBOOKS.items():
        alarm = alarms[f"hipaa-aws-{stack}-audit-{key}"]
        assert alarm["alarmDescription"].endswith(runbook_link(runbook))
        assert topic in alarm["alarmActions"] and alarm["okActions"] == [topic]
        opsitems = [a for a in alarm["alarmActions"] if ":opsitem:" in a]
        if key == "failed-sign-ins":
            assert opsitems == []
        else:
            # CloudWatch user guide, "Alarm actions": arn:aws:ssm:region:account:opsitem:severity#CATEGORY=...
            severity = "2" if key == "bulk-export" else "3"
            assert opsitems == [f"arn:aws:ssm:us-east-1:{account}:opsitem:{severity}#CATEGORY=Security"]


@pytest.mark.parametrize("stack", ["prod", "staging"])
def test_alarms_read_the_audit_group_with_the_stacks_thresholds(stack):
    run = cached_run(stack)
    settings = parse_settings(stack, raw_settings(stack)).audit
    group = f"/hipaa-aws/{stack}/app-audit"
    alarms = alarms_of(run)
    filters = {r.inputs["name"]: r.inputs for r in run.of_type(FILTER)
               if r.name.startswith("hipaa-audit-alarms-")}
    assert {f["logGroupName"] for f in filters.values()} == {group}
    assert filters[f"hipaa-aws-{stack}-audit-off-hours-access"]["pattern"] == off_hours_pattern(settings)
    assert filters[f"hipaa-aws-{stack}-audit-failed-sign-ins"]["pattern"] == FAILED_SIGN_IN_PATTERN

    rule = run.named("hipaa-audit-alarms-records-per-actor", RULE).inputs
    assert json.loads(rule["ruleDefinition"]) == bulk_read_rule(group)
    bulk = alarms[f"hipaa-aws-{stack}-audit-bulk-export"]
    assert bulk["threshold"] == settings.bulk_read_records
    assert bulk["comparisonOperator"] == "GreaterThanThreshold"
    (query,) = bulk["metricQueries"]
    assert query["expression"] == f"INSIGHT_RULE_METRIC('{rule['ruleName']}', 'MaxContributorValue')"
    assert query["period"] == settings.bulk_read_window_minutes * 60

    off = alarms[f"hipaa-aws-{stack}-audit-off-hours-access"]
    assert off["threshold"] == settings.off_hours_accesses and off["metricName"] == "AuditOffHoursAccess"
    band = alarms[f"hipaa-aws-{stack}-audit-failed-sign-ins"]
    assert band["thresholdMetricId"] == "band"
    expressions = {q["id"]: q.get("expression") for q in band["metricQueries"]}
    assert expressions["band"] == f"ANOMALY_DETECTION_BAND(failures, {settings.failed_sign_ins_band_width:g})"


def test_metric_filters_wait_for_the_audit_group():
    """PutMetricFilter on a group that does not exist yet fails (botocore `logs`, ResourceNotFoundException):
    each filter takes the group's name from the group itself."""
    run = cached_run("prod")
    group = next(r for r in run.of_type("aws:cloudwatch/logGroup:LogGroup")
                 if r.inputs.get("name") == "/hipaa-aws/prod/app-audit")
    for resource in run.of_type(FILTER):
        if resource.name.startswith("hipaa-audit-alarms-"):
            assert group.urn in resource.property_dependencies.get("logGroupName", [])


# --- settings

def test_audit_settings_defaults_and_bounds():
    settings = AuditSettings.model_validate({})
    assert (settings.bulk_read_records, settings.bulk_read_window_minutes) == (500, 5)
    assert settings.business_hours.off_hours_utc() == (0, 1, 2, 3, 4, 5, 6, 19, 20, 21, 22, 23)
    assert BusinessHours.model_validate({"utcOffset": "-05:00"}).off_hours_utc() == tuple(range(0, 12))


@pytest.mark.parametrize("audit, message", [
    ({"businessHours": {"utcOffset": "+05:30"}}, "whole-hour UTC offset"),
    ({"businessHours": {"utcOffset": "EST"}}, "whole-hour UTC offset"),
    ({"businessHours": {"start": 19, "end": 7}}, "must be after start"),
    ({"bulkReadRecords": 0}, "greater than or equal to 1"),
    ({"bulkReadWindowMinutes": 120}, "less than or equal to 60"),
    ({"failedSignInsBandWidth": 0.5}, "greater than or equal to 1"),
    ({"bulkReadRecord": 5}, "did you mean bulkReadRecords"),
])
def test_bad_audit_settings_name_the_key_and_the_rule(audit, message):
    with pytest.raises(pulumi.RunError) as err:
        parse_settings("prod", raw_settings("prod", audit=audit))
    assert "hipaa-aws:audit." in str(err.value) and message in str(err.value)
