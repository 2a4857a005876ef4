"""The breach clock: every alarm of the PHI-access kind and every routed high-severity finding opens a
Systems Manager OpsCenter OpsItem by itself, stamped with when AWS saw it.

Sources:
- Systems Manager user guide, "Configure CloudWatch alarms to create OpsItems" (programmatically): the
  alarm action `arn:aws:ssm:Region:account_ID:opsitem:severity#CATEGORY=category_name`, severity 1-4,
  category Availability, Cost, Performance, Recovery or Security, the alarm's own account and Region.
- Systems Manager user guide, "Configure EventBridge rules to create OpsItems": the target is an OpsItem,
  EventBridge needs a role, an input transformer gives title, description, category, severity, source and
  operational data (`/aws/dedup` with a `dedupString`); "Managing duplicate OpsItems".
- EventBridge user guide, "Amazon EventBridge input transformation": array indices in paths;
  `aws.events.event.ingestion-time` is when EventBridge received the event (ISO 8601).
- botocore `ssm` CreateOpsItem: the request the OpsItem target makes.
"""

from __future__ import annotations

import json
import re
from typing import Any

import botocore.session
import pytest
from botocore.validate import ParamValidator

from components.aws_context import AwsContext
from components.environment.incident_response import (
    DISCOVERY_TIME_KEY, FINDING_ID_KEY, FINDING_OPSITEMS, opsitem_action, opsitem_input_template,
)
from components.environment.security_alarms import FINDING_RULES, PHI_ACCESS_ALARMS
from components.organization.organization_alarms import BREAK_GLASS
from tests.conftest import STACKS, account_of, cached_run, owned_run

CTX = AwsContext(account_id="123456789012", region="us-west-2", partition="aws", dns_suffix="amazonaws.com")
OPSITEM_ACTION = re.compile(r"arn:aws:ssm:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):opsitem:"
                            r"(?P<severity>[1-4])#CATEGORY=(?P<category>Availability|Cost|Performance|Recovery|Security)")
INGESTED = "2026-12-06T14:03:27Z"
# Shapes of the events the rules match (GuardDuty user guide, "GuardDuty finding format"; Security Hub
# user guide, "EventBridge event formats": findings is a list).
EVENTS = {
    "guardduty-high-severity": {
        "source": "aws.guardduty", "detail-type": "GuardDuty Finding", "region": "us-west-2",
        "detail": {"id": "a1b2c3",
                   "type": "UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS",
                   "severity": 8, "accountId": "333333333333", "region": "us-west-2",
                   "service": {"eventFirstSeen": "2026-12-06T13:58:00.000Z"}}},
    "securityhub-critical-high": {
        "source": "aws.securityhub", "detail-type": "Security Hub Findings - Imported", "region": "us-west-2",
        "detail": {"findings": [{"Id": "arn:aws:securityhub:us-west-2:333333333333:finding/f1",
                                 "Types": ["Effects/Data Exposure"], "Severity": {"Label": "CRITICAL"},
                                 "AwsAccountId": "333333333333", "Region": "us-west-2",
                                 "FirstObservedAt": "2026-12-06T13:50:00Z"}]}},
}


def test_the_alarm_action_is_the_arn_opscenter_documents():
    assert opsitem_action(AwsContext("123456789012", "us-west-2", "aws", "amazonaws.com"), "3") == \
        "arn:aws:ssm:us-west-2:123456789012:opsitem:3#CATEGORY=Security"
    china = AwsContext("123456789012", "cn-north-1", "aws-cn", "amazonaws.com.cn")
    assert opsitem_action(china, "1", "Recovery") == \
        "arn:aws-cn:ssm:cn-north-1:123456789012:opsitem:1#CATEGORY=Recovery"
    for severity, category in (("0", "Security"), ("5", "Security"), ("high", "Security"), ("1", "Breach")):
        with pytest.raises(ValueError):
            opsitem_action(CTX, severity, category)


def _opsitem_actions(alarm) -> list[re.Match]:
    return [m for m in (OPSITEM_ACTION.fullmatch(a) for a in alarm.inputs.get("alarmActions", [])) if m]


@pytest.mark.parametrize("stack", STACKS)
@pytest.mark.parametrize("shape", ["member", "owned"])
def test_every_phi_access_alarm_opens_a_critical_security_opsitem_in_its_own_account(stack, shape):
    run = cached_run(stack) if shape == "member" else owned_run(stack)
    alarms = {a.inputs["name"]: a for a in run.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")}
    expected = {f"hipaa-aws-{stack}-{key}" for key in PHI_ACCESS_ALARMS} & set(alarms)
    assert f"hipaa-aws-{stack}-phi-reads-per-principal" in expected
    if shape == "owned":
        assert f"hipaa-aws-{stack}-database-break-glass-used" in expected
    for name in expected:
        (action,) = _opsitem_actions(alarms[name])
        assert action["account"] == account_of(stack) and action["severity"] == "1"
        assert action["category"] == "Security"
        # Missing data is not an incident: only ALARM opens an OpsItem.
        assert not any("opsitem" in a for a in alarms[name].inputs.get("insufficientDataActions", []))
    # The CIS set is operational: it notifies, it does not start a breach clock.
    cis = [a for n, a in alarms.items() if n.endswith("-vpc-changes")]
    assert all(not _opsitem_actions(a) for a in cis)


def _render(key: str, event: dict[str, Any]) -> dict[str, Any]:
    """What EventBridge sends the target: each <name> replaced by the JSON-path value (strings
    inside JSON strings), the predefined variables by their values."""
    values = {"aws.events.event.ingestion-time": INGESTED, "aws.events.rule-name": f"hipaa-aws-prod-{key}"}
    for name, path in FINDING_OPSITEMS[key]["paths"].items():
        value: Any = event
        for part in re.findall(r"[^.\[\]$]+", path):
            value = value[int(part)] if part.isdigit() else value[part]
        values[name] = value
    template = opsitem_input_template(key)
    rendered = re.sub(r"<([A-Za-z0-9.-]+)>", lambda m: json.dumps(str(values[m.group(1)]))[1:-1], template)
    return json.loads(rendered)


@pytest.mark.parametrize("key", sorted(FINDING_RULES))
def test_a_finding_opens_an_opsitem_carrying_its_id_and_discovery_time(key):
    assert set(FINDING_OPSITEMS) == set(FINDING_RULES)
    item = _render(key, EVENTS[key])
    data = item["operationalData"]
    assert data[DISCOVERY_TIME_KEY]["value"] == INGESTED
    finding_id = data[FINDING_ID_KEY]["value"]
    detail = EVENTS[key]["detail"]
    assert finding_id in (detail.get("id"), detail.get("findings", [{}])[0].get("Id"))
    assert json.loads(data["/aws/dedup"]["value"]) == {"dedupString": f"hipaa-aws-finding-{finding_id}"}
    assert item["severity"] == "1" and item["category"] == "Security"
    # botocore ssm CreateOpsItem: a Source may not contain aws, amazon or amzn; keys other than the
    # documented /aws/dedup may not begin with amazon, aws, amzn, ssm (or those after a slash).
    assert not re.search("aws|amazon|amzn", item["source"], re.IGNORECASE)
    assert not [k for k in data if k != "/aws/dedup" and re.match(r"/?(amazon|aws|amzn|ssm)", k)]
    # The same fields, as the CreateOpsItem request botocore's model accepts.
    request = {"Title": item["title"], "Description": item["description"], "Source": item["source"],
               "Severity": item["severity"], "Category": item["category"],
               "OperationalData": {k: {"Type": v["type"], "Value": v["value"]} for k, v in data.items()}}
    model = botocore.session.get_session().get_service_model("ssm").operation_model("CreateOpsItem")
    report = ParamValidator().validate(request, model.input_shape)
    assert not report.has_errors(), report.generate_report()
    assert len(item["title"]) <= model.input_shape.members["Title"].metadata["max"]


def _opsitem_targets(run) -> list:
    return [t for t in run.of_type("aws:cloudwatch/eventTarget:EventTarget")
            if str(t.inputs["arn"]).endswith(":opsitem")]


@pytest.mark.parametrize("stack", STACKS)
def test_owned_finding_rules_each_open_an_opsitem_through_a_role_only_they_may_use(stack):
    run = owned_run(stack)
    account = account_of(stack)
    rules = {r.inputs["name"]: r for r in run.of_type("aws:cloudwatch/eventRule:EventRule")
             if r.inputs["name"] in {f"hipaa-aws-{stack}-{key}" for key in FINDING_RULES}}
    targets = _opsitem_targets(run)
    assert len(rules) == len(FINDING_RULES) == len(targets)
    (role,) = [r for r in run.of_type("aws:iam/role:Role")
               if r.inputs.get("name") == f"hipaa-aws-{stack}-finding-opsitems"]
    for target in targets:
        assert re.fullmatch(rf"arn:aws:ssm:[a-z0-9-]+:{account}:opsitem", target.inputs["arn"])
        assert target.inputs["inputTransformer"]["inputTemplate"]
    trust = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
    assert [s["Principal"] for s in trust] == [{"Service": "events.amazonaws.com"}]
    sources = trust[0]["Condition"]["ArnEquals"]["aws:SourceArn"]
    assert sorted(s.rsplit("/", 1)[1] for s in sources) == sorted(rules)
    (policy,) = [p for p in run.of_type("aws:iam/policy:Policy") if p.name == "hipaa-alarms-opsitems"]
    statements = json.loads(policy.inputs["policy"])["Statement"]
    assert [s["Action"] for s in statements] == ["ssm:CreateOpsItem"]


def test_organization_findings_open_opsitems_in_the_audit_account():
    from tests.test_organization_security import AUDIT, account_of as provider_account, run
    org = run()
    targets = _opsitem_targets(org)
    assert len(targets) == len(FINDING_RULES)
    assert {provider_account(t) for t in targets} == {"audit"}  # the audit account's provider
    assert all(t.inputs["arn"] == f"arn:aws:ssm:us-east-1:{AUDIT}:opsitem" for t in targets)


def test_organization_break_glass_alarms_open_opsitems_in_the_management_account():
    from tests.test_organization_alarms import MANAGEMENT as management, organization_run
    run = organization_run()
    alarms = run.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")
    break_glass = [a for a in alarms if a.inputs["name"].endswith(BREAK_GLASS[0])]
    assert break_glass
    for alarm in alarms:
        actions = _opsitem_actions(alarm)
        if alarm in break_glass:
            assert [(m["account"], m["severity"]) for m in actions] == [(management, "1")]
        else:
            assert not actions
