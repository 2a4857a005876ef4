"""Security alarms on the organization trail (issue 17), read as an auditor reads them: with every
environment in its own member account and `accountBaseline: organization`, the CIS CloudWatch alarms,
key administration by others, port-forwarding sessions and database break-glass assumptions are
raised in the management account, on the organization trail's log group, to an encrypted topic.

OrganizationAlarms runs under the mock runtime with an explicit management provider and the
organization project's tagging; the environments are the stack files in stacks/ (their accounts from
`aws:allowedAccountIds`, their key administrators from `hipaa-aws:keyAdministrators`)."""

from __future__ import annotations

import functools
import json
import re
from typing import Any, Optional

import pulumi
import pulumi_aws as aws
import pytest

from components.aws_context import AwsContext
from components.environment.break_glass import role_arn
from components.environment.security_alarms import CIS_ALARMS
from components.organization.identity_center import OrganizationTrailAlarms
from components.organization.organization_alarms import (
    TOPIC_NAME, OrganizationAlarms, OrganizationAlarmsArgs, WatchedAccount, environment_account, patterns,
    validate,
)
from components.tagging import register_tagging
from components.trail_patterns import METRIC_FILTER_PATTERN_LIMIT
from preflight.judge import judge
from preflight.policy_pack_client import POLICY_DIR
from preflight.program_runner import ProgramRun, RecordedResource, run_program
from preflight.stack_config import StackConfig, load_stack_config
from tests.test_organization_identity_center import stack_file_config

MANAGEMENT = "111122223333"
AUDIT = "444455556666"
ADMIN = f"arn:aws:iam::{MANAGEMENT}:role/hipaa-aws-platform-admin"
AUDIT_ADMIN = f"arn:aws:iam::{AUDIT}:role/OrganizationAccountAccessRole"
REGION = "us-east-1"
CTX = AwsContext(MANAGEMENT, REGION, "aws", "amazonaws.com")
CONFIG = StackConfig(project="hipaa-aws-organization", stack="organization", values={"aws:region": REGION})
TRAIL_LOG_GROUP = "/hipaa-aws/organization/organization-trail"
STACKS = ("prod", "staging")

METRIC_FILTER = "aws:cloudwatch/logMetricFilter:LogMetricFilter"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
TOPIC = "aws:sns/topic:Topic"
KEY = "aws:kms/key:Key"


def account_of(stack: str) -> str:
    [account] = load_stack_config(stack).allowed_account_ids
    return account


def environments() -> list[WatchedAccount]:
    return [environment_account(stack, account_of(stack), stack_file_config(stack)) for stack in STACKS]


def args(**changes: Any) -> OrganizationAlarmsArgs:
    values: dict[str, Any] = dict(
        management_provider=None, management=CTX, log_group_name=TRAIL_LOG_GROUP,
        alert_email="security-alerts@example-health.com", key_administrators=[ADMIN],
        environments=environments(),
        shared_accounts=[WatchedAccount("audit", AUDIT, (AUDIT_ADMIN,), environment=False)])
    values.update(changes)
    return OrganizationAlarmsArgs(**values)


@functools.cache
def organization_run() -> ProgramRun:
    def program() -> None:
        register_tagging({"Environment": "organization", "DataClassification": "internal",
                          "Owner": "platform-team@example-health.com", "CostCenter": "cc-1000-platform",
                          "ManagedBy": "pulumi"})
        management = aws.Provider("management", region=REGION, allowed_account_ids=[MANAGEMENT])
        # Stands in for OrganizationTrail's log group: its name is an output, as the trail's is.
        log_group = aws.cloudwatch.LogGroup("organization-trail", name=TRAIL_LOG_GROUP,
                                            retention_in_days=2192,
                                            kms_key_id=f"arn:aws:kms:{REGION}:{MANAGEMENT}:key/org-trail-logs",
                                            opts=pulumi.ResourceOptions(provider=management))
        alarms = OrganizationAlarms("organization-alarms", args(management_provider=management,
                                                                 log_group_name=log_group.name))
        pulumi.export("topicArn", alarms.topic_arn)
    return run_program(program, CONFIG, preview=False)


def of(run: ProgramRun, type_token: str) -> list[RecordedResource]:
    return run.of_type(type_token)


def filters_by_name() -> dict[str, RecordedResource]:
    return {r.inputs["name"]: r for r in of(organization_run(), METRIC_FILTER)}


def alarm_of(metric_filter: RecordedResource) -> RecordedResource:
    transformation = metric_filter.inputs["metricTransformation"]
    [alarm] = [a for a in of(organization_run(), ALARM) if a.inputs["metricName"] == transformation["name"]
               and a.inputs["namespace"] == transformation["namespace"]]
    return alarm


def topic() -> RecordedResource:
    [found] = of(organization_run(), TOPIC)
    return found


# --- a CloudWatch Logs JSON filter pattern evaluator ---------------------------------------------
# CloudWatch Logs User Guide, "Filter pattern syntax for metric filters, subscription filters, filter
# log events, and Live Tail" (JSON log events): `$.selector`, `=` and `!=` against a string, `*` as a
# wildcard at the start or end of the value, `NOT EXISTS`, conditions combined with && and || and
# grouped with parentheses.
TOKEN = re.compile(r'\s*(\(|\)|&&|\|\||NOT EXISTS|!=|=|"[^"]*"|\$\.[\w.]+|[\w*.-]+)')


def matches(pattern: str, event: dict) -> bool:
    body = pattern.strip()
    assert body.startswith("{") and body.endswith("}"), pattern
    tokens, position = [], 0
    text = body[1:-1].strip()
    while position < len(text):
        found = TOKEN.match(text, position)
        assert found, f"cannot read {text[position:]!r}"
        tokens.append(found.group(1))
        position = found.end()
    result, rest = _or(tokens, event)
    assert rest == [], rest
    return result


def _or(tokens: list[str], event: dict) -> tuple[bool, list[str]]:
    value, tokens = _and(tokens, event)
    while tokens[:1] == ["||"]:
        other, tokens = _and(tokens[1:], event)
        value = value or other
    return value, tokens


def _and(tokens: list[str], event: dict) -> tuple[bool, list[str]]:
    value, tokens = _atom(tokens, event)
    while tokens[:1] == ["&&"]:
        other, tokens = _atom(tokens[1:], event)
        value = value and other
    return value, tokens


def _atom(tokens: list[str], event: dict) -> tuple[bool, list[str]]:
    if tokens[0] == "(":
        value, tokens = _or(tokens[1:], event)
        assert tokens[0] == ")", tokens
        return value, tokens[1:]
    selector, operator = tokens[0], tokens[1]
    assert selector.startswith("$."), tokens
    actual: Any = event_value(event, selector[2:])
    if operator == "NOT EXISTS":
        return actual is None, tokens[2:]
    wanted = tokens[2].strip('"')
    assert "*" not in wanted.strip("*"), f"a wildcard inside {wanted!r} matches only a literal *"
    core = wanted.strip("*")
    if not isinstance(actual, str):
        equal = False
    elif wanted.startswith("*") and wanted.endswith("*") and len(wanted) > 1:
        equal = core in actual
    elif wanted.startswith("*"):
        equal = actual.endswith(core)
    elif wanted.endswith("*"):
        equal = actual.startswith(core)
    else:
        equal = actual == wanted
    return (equal if operator == "=" else not equal), tokens[3:]


def event_value(event: dict, selector: str) -> Optional[Any]:
    value: Any = event
    for part in selector.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def fires(pattern: str, event: dict) -> bool:
    return matches(pattern, event)


def call(account: str, source: str, name: str, issuer: str, **fields: Any) -> dict:
    """A management event as CloudTrail records it (CloudTrail User Guide, "CloudTrail record
    contents": `recipientAccountId` is the account that received the event)."""
    return {"eventSource": source, "eventName": name, "recipientAccountId": account,
            "eventType": "AwsApiCall",
            "userIdentity": {"type": "AssumedRole", "accountId": issuer.split(":")[4],
                             "sessionContext": {"sessionIssuer": {"type": "Role", "arn": issuer}}},
            **fields}


# --- tests ------------------------------------------------------------------------------------------


def test_every_cis_alarm_exists_once_on_the_organization_trail_and_notifies_the_encrypted_topic():
    run, filters = organization_run(), filters_by_name()
    [log_group] = of(run, LOG_GROUP)
    for key, (_, pattern) in CIS_ALARMS.items():
        metric_filter = filters[f"hipaa-aws-organization-{key}"]
        assert metric_filter.inputs["pattern"] == pattern
        assert metric_filter.inputs["logGroupName"] == TRAIL_LOG_GROUP
        # PutMetricFilter on a group that does not exist yet fails (botocore `logs`:
        # ResourceNotFoundException): the filter depends on the group, not on a literal name.
        assert log_group.urn in metric_filter.property_dependencies["logGroupName"], key
        alarm = alarm_of(metric_filter)
        assert alarm.inputs["alarmActions"] == [topic().outputs["arn"]], key
        assert alarm.inputs["threshold"] == 1
    assert sum(f.inputs["pattern"] in {p for _, p in CIS_ALARMS.values()} for f in filters.values()) == len(
        CIS_ALARMS)


def test_everything_is_created_in_the_management_account():
    run = organization_run()
    [provider] = [r for r in run.resources if r.type == "pulumi:providers:aws" and r.name == "management"]
    custom = [r for r in run.resources if r.custom and not r.type.startswith("pulumi:providers:")]
    assert len(custom) > len(CIS_ALARMS) * 2
    assert {r.provider.rsplit("::", 1)[0] for r in custom} == {provider.urn}


def test_the_topic_key_lets_cloudwatch_alarms_publish():
    """AWS_FACTS / SNS Developer Guide ("Configure AWS KMS permissions for AWS services"): alarms cannot
    publish to a topic encrypted with alias/aws/sns; the customer key must let cloudwatch.amazonaws.com
    kms:Decrypt and kms:GenerateDataKey*."""
    found = topic()
    assert found.inputs["name"] == TOPIC_NAME
    [key] = [k for k in of(organization_run(), KEY) if k.outputs["arn"] == found.inputs["kmsMasterKeyId"]]
    statements = json.loads(key.inputs["policy"])["Statement"]
    [cloudwatch] = [s for s in statements if s["Principal"] == {"Service": "cloudwatch.amazonaws.com"}]
    assert cloudwatch["Effect"] == "Allow"
    assert set(cloudwatch["Action"]) >= {"kms:Decrypt", "kms:GenerateDataKey*"}
    assert cloudwatch["Condition"] == {"StringEquals": {"aws:SourceAccount": MANAGEMENT}}
    [administrators] = [s for s in statements if s["Sid"] == "KeyAdministrators"]
    assert administrators["Principal"] == {"AWS": [ADMIN]}
    [policy] = of(organization_run(), "aws:sns/topicPolicy:TopicPolicy")
    [publish] = [s for s in json.loads(policy.inputs["policy"])["Statement"] if s["Effect"] == "Allow"]
    assert publish["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    [subscription] = of(organization_run(), "aws:sns/topicSubscription:TopicSubscription")
    assert (subscription.inputs["protocol"], subscription.inputs["endpoint"]) == (
        "email", "security-alerts@example-health.com")


@pytest.mark.parametrize("stack", STACKS)
def test_port_forwarding_and_break_glass_alarms_match_only_their_environments_account(stack):
    filters = filters_by_name()
    account = account_of(stack)
    others = [s for s in STACKS if s != stack]
    operator = f"arn:aws:iam::{account}:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_x_1"
    session = call(account, "ssm.amazonaws.com", "StartSession", operator,
                   requestParameters={"documentName": "AWS-StartPortForwardingSessionToRemoteHost",
                                      "target": "i-0123456789abcdef0"})
    shell = call(account, "ssm.amazonaws.com", "StartSession", operator,
                 requestParameters={"target": "i-0123456789abcdef0"})
    ctx = AwsContext(account, REGION, "aws", "amazonaws.com")
    assume = call(account, "sts.amazonaws.com", "AssumeRole", operator,
                  requestParameters={"roleArn": role_arn(ctx, stack)})
    port_forwarding = filters[f"hipaa-aws-organization-{stack}-port-forwarding-session-started"]
    break_glass = filters[f"hipaa-aws-organization-{stack}-database-break-glass-used"]
    assert fires(port_forwarding.inputs["pattern"], session)
    assert not fires(port_forwarding.inputs["pattern"], shell)
    assert fires(break_glass.inputs["pattern"], assume)
    for other in others:
        assert not fires(filters[f"hipaa-aws-organization-{other}-port-forwarding-session-started"]
                         .inputs["pattern"], session), other
        assert not fires(filters[f"hipaa-aws-organization-{other}-database-break-glass-used"]
                         .inputs["pattern"], assume), other
    # One metric per account, each alarm on its own.
    assert alarm_of(port_forwarding).inputs["metricName"].endswith(f"-{stack}")
    # Break-glass is PHI access: it also opens an OpsItem (tests/test_incident_response.py).
    assert alarm_of(break_glass).inputs["alarmActions"] == [
        topic().outputs["arn"], f"arn:aws:ssm:{CTX.region}:{MANAGEMENT}:opsitem:1#CATEGORY=Security"]


@pytest.mark.parametrize("stack", STACKS)
def test_key_administration_alarm_expects_that_environments_administrators_only_in_its_account(stack):
    filters = filters_by_name()
    account = account_of(stack)
    pattern = filters[f"hipaa-aws-organization-{stack}-key-administration-by-others"].inputs["pattern"]
    configured = stack_file_config(stack).get("hipaa-aws:keyAdministrators", [])
    intruder = f"arn:aws:iam::{account}:role/someone-else"
    ci_role = f"arn:aws:iam::{account}:role/hipaa-aws/ci/hipaa-aws-{stack}-deploy"

    def put_key_policy(issuer: str, in_account: str = account) -> dict:
        return call(in_account, "kms.amazonaws.com", "PutKeyPolicy", issuer)

    assert fires(pattern, put_key_policy(intruder))
    assert fires(pattern, call(account, "kms.amazonaws.com", "CreateGrant", intruder))
    # A grant an AWS service creates for its caller (invokedBy set) is not key administration.
    assert not fires(pattern, call(account, "kms.amazonaws.com", "CreateGrant", intruder,
                                   userIdentity={"invokedBy": "rds.amazonaws.com",
                                                 "sessionContext": {"sessionIssuer": {"arn": intruder}}}))
    for expected in [*configured, ci_role]:
        assert not fires(pattern, put_key_policy(expected)), expected
    # Another account's events belong to that account's alarm.
    assert not fires(pattern, put_key_policy(intruder, in_account=MANAGEMENT))
    management = filters["hipaa-aws-organization-management-key-administration-by-others"].inputs["pattern"]
    assert fires(management, put_key_policy(f"arn:aws:iam::{MANAGEMENT}:role/someone-else", MANAGEMENT))
    assert not fires(management, put_key_policy(ADMIN, MANAGEMENT))
    assert not fires(management, put_key_policy(intruder))
    # No CI deploy role is expected in the management account.
    assert fires(management, put_key_policy(f"arn:aws:iam::{MANAGEMENT}:role/hipaa-aws/ci/x", MANAGEMENT))


def test_the_environment_key_administrators_come_from_the_stack_file():
    [prod, _] = environments()
    assert tuple(prod.key_administrators) == tuple(stack_file_config("prod")["hipaa-aws:keyAdministrators"])
    assert environment_account("dev", "210987654321", {}).key_administrators == ()
    with pytest.raises(pulumi.RunError, match="stack dev, key hipaa-aws:keyAdministrators"):
        environment_account("dev", "210987654321", {"hipaa-aws:keyAdministrators": "arn:aws:iam::1:role/x"})


def test_every_filter_pattern_fits_cloudwatch_logs_limit():
    """botocore `logs` model: PutMetricFilter filterPattern is at most 1,024 characters."""
    for metric_filter in of(organization_run(), METRIC_FILTER):
        assert len(metric_filter.inputs["pattern"]) <= METRIC_FILTER_PATTERN_LIMIT, metric_filter.name
    # Ten administrators (settings allow as many) of a long path do not fit: refused before anything.
    many = [f"arn:aws:iam::{MANAGEMENT}:role/hipaa-aws/administrators/platform-admin-{i:02}"
            for i in range(10)]
    with pytest.raises(pulumi.RunError, match="management key-administration-by-others: the filter pattern"):
        validate("a", args(key_administrators=many))
    assert all(len(p) <= METRIC_FILTER_PATTERN_LIMIT for _, p in patterns(args()).values())


def test_the_log_groups_metric_filter_quota_is_checked():
    """PutMetricFilter (CloudWatch Logs API Reference): at most 100 metric filters per log group."""
    count = len(patterns(args()))
    validate("a", args(other_metric_filters=100 - count))
    with pytest.raises(pulumi.RunError, match="CloudWatch Logs allows 100 per log group"):
        validate("a", args(other_metric_filters=101 - count))


def test_arguments_aws_would_refuse_are_refused_together():
    with pytest.raises(pulumi.RunError) as error:
        validate("a", args(key_administrators=[], environments=[
            WatchedAccount("prod", MANAGEMENT, (f"arn:aws:iam::{AUDIT}:role/x",)),
            WatchedAccount("audit", "12345")]))
    message = str(error.value)
    assert "key_administrators must name at least one role" in message
    assert f"prod: key administrator 'arn:aws:iam::{AUDIT}:role/x' is a role of account {AUDIT}" in message
    assert "environment prod: account 111122223333 is the management account" in message
    assert "audit: account id '12345' is not 12 digits" in message
    assert "audit is listed more than once" in message


def test_the_value_for_identity_centers_break_glass_alarms_is_the_same_topic_and_log_group():
    captured: list[OrganizationAlarms] = []

    def program() -> None:
        management = aws.Provider("management", region=REGION, allowed_account_ids=[MANAGEMENT])
        alarms = OrganizationAlarms("alarms", args(management_provider=management, environments=[]))
        captured.append(alarms)
        pulumi.export("topic", alarms.trail_alarms.topic_arn)
    run = run_program(program, CONFIG, preview=False)
    [alarms] = captured
    value = alarms.trail_alarms
    assert isinstance(value, OrganizationTrailAlarms)
    assert value.management == CTX and value.log_group_name == TRAIL_LOG_GROUP
    assert value.topic_arn is alarms.topic_arn and value.provider is not None
    assert run.stack_outputs["topic"].endswith(f":{TOPIC_NAME}")  # the mocks' ARNs carry their own account


def test_the_policy_pack_finds_no_violation(pack):
    """Judged as the organization project is (policy/config/organization.json)."""
    pack.configure(json.loads((POLICY_DIR / "config" / "organization.json").read_text()))
    try:
        result = judge(organization_run(), pack, CONFIG)
        found = [(d.policy, d.urn, d.violation) for v in result.by_resource.values() for d in v.violations]
        assert found == []
        assert {METRIC_FILTER, ALARM, TOPIC, KEY} <= {r.type for r in result.resources}
        assert result.not_judged == []
    finally:
        pack.configure({})
