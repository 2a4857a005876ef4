"""Every alarm and every routed finding type has a runbook, and every alarm says where it is (issue 19).

Read as the on-call engineer reads an alarm at 3 a.m.: the notification carries the alarm's description,
so it must end with `Runbook: docs/runbooks/<key>.md`, and that file must exist. The alarms and finding
rules are not listed here: they are read from the programs themselves, run under mocks (both shipped
stacks, both again as their account's owner, which adds the CIS alarms and the finding rules, and the
organization project), so an alarm or rule added later is covered the moment it exists.

Sources of the AWS facts pinned here:
- botocore `cloudwatch` model, PutMetricAlarm: AlarmDescription is at most 1,024 characters.
- Amazon EventBridge User Guide, "Amazon EventBridge event patterns": a rule matches an event when every
  field of the pattern matches; `source` and `detail-type` values are lists of alternatives.
- AWS Security Hub CSPM User Guide, "AWS service integrations with Security Hub CSPM": GuardDuty, IAM Access
  Analyzer, AWS Config, Amazon Inspector and Amazon Macie send their findings to Security Hub, so the
  Security Hub rule routes them too; each finding names its `ProductName`.
"""

from __future__ import annotations

import functools
import itertools
import json
import re

import pytest

from components.runbooks import ALARM_DESCRIPTION_LIMIT, runbook_link, runbook_path, with_runbook
from docs import generate_runbooks
from preflight.program_runner import ProgramRun
from preflight.stack_config import PROJECT_DIR
from tests.conftest import cached_run, owned_run
from tests.test_organization_project import run_org

ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
RULE = "aws:cloudwatch/eventRule:EventRule"
LINK = re.compile(r"Runbook: docs/runbooks/(?P<key>[a-z0-9-]+)\.md$")
STACKS = ("prod", "staging")
SECURITY_HUB = ("aws.securityhub", "Security Hub Findings - Imported")
# The services whose findings Security Hub imports when they are on in the account (Security Hub CSPM User
# Guide, "AWS service integrations with Security Hub CSPM"), by the resource that switches them on, with
# the `ProductName` their findings carry.
SECURITY_HUB_PRODUCERS = {
    "aws:guardduty/detector:Detector": "GuardDuty",
    "aws:accessanalyzer/analyzer:Analyzer": "IAM Access Analyzer",
    "aws:cfg/recorder:Recorder": "Config",
    "aws:cfg/configurationAggregator:ConfigurationAggregator": "Config",
    "aws:securityhub/account:Account": "Security Hub",
    "aws:inspector2/enabler:Enabler": "Inspector",
    "aws:inspector2/organizationConfiguration:OrganizationConfiguration": "Inspector",
    "aws:macie2/account:Account": "Macie",
}


@functools.cache
def runs() -> dict[str, ProgramRun]:
    """Every shape the programs ship in: the stack files, each stack as its account's owner, the
    organization project."""
    return {**{stack: cached_run(stack) for stack in STACKS},
            **{f"{stack} (owned)": owned_run(stack) for stack in STACKS},
            "organization": run_org()}


@functools.cache
def data() -> dict:
    return generate_runbooks.load()


def alarms() -> list[tuple[str, str, dict]]:
    """(run, alarm name, inputs) for every alarm of every run."""
    return [(label, r.inputs.get("name", r.name), r.inputs)
            for label, run in runs().items() for r in run.of_type(ALARM)]


def routed() -> dict[tuple[str, str], list[str]]:
    """(source, detail-type) -> the rules (run: name) that route it, from every rule's event pattern."""
    found: dict[tuple[str, str], list[str]] = {}
    for label, run in runs().items():
        for rule in run.of_type(RULE):
            pattern = rule.inputs.get("eventPattern")
            if not pattern:
                continue  # a scheduled rule routes no finding
            parsed = json.loads(pattern)
            for pair in itertools.product(parsed.get("source", []), parsed.get("detail-type", [])):
                found.setdefault(pair, []).append(f"{label}: {rule.inputs.get('name', rule.name)}")
    return found


def finding_runbook(source: str, detail_type: str) -> str | None:
    for key, entry in data()["findings"].items():
        if any(r["source"] == source and r["detail-type"] == detail_type for r in entry["routes"]):
            return key
    return None


def test_every_alarm_links_an_existing_runbook():
    missing = []
    for label, name, inputs in alarms():
        description = inputs.get("alarmDescription") or ""
        match = LINK.search(description)
        if not match:
            missing.append(f"{label}: {name} (description {description!r} does not end with "
                           f"'Runbook: docs/runbooks/<key>.md'; use components.runbooks.with_runbook)")
        elif not (PROJECT_DIR / runbook_path(match["key"])).is_file():
            missing.append(f"{label}: {name} links {runbook_path(match['key'])}, which does not exist "
                           f"(add it to docs/runbooks/data.yaml, run docs/generate_runbooks.py)")
    assert alarms(), "the programs registered no alarm: the runs are broken"
    assert not missing, "\n".join(missing)


def name_pattern(name: str) -> re.Pattern:
    """A runbook's alarm name with `<stack>` / `<account>` standing for a stack or an account label."""
    return re.compile("".join("[a-z0-9-]+" if part in ("<stack>", "<account>") else re.escape(part)
                              for part in re.split(r"(<stack>|<account>)", name)))


def test_each_runbook_names_the_alarms_that_link_it():
    """The runbook's header tells the engineer which alarms it serves: the names must be the programs'."""
    by_key = {r.key: r for r in generate_runbooks.runbooks(data())}
    wrong = []
    for label, name, inputs in alarms():
        match = LINK.search(inputs.get("alarmDescription") or "")
        if match and match["key"] in by_key:
            names = generate_runbooks.alarm_names(by_key[match["key"]])
            if not any(name_pattern(n).fullmatch(name) for n in names):
                wrong.append(f"{label}: {name} links {match['key']}.md, which names {names}")
    assert not wrong, "\n".join(wrong)


def test_alarm_descriptions_fit_cloudwatch():
    """PutMetricAlarm refuses an AlarmDescription over 1,024 characters (botocore `cloudwatch` model)."""
    too_long = [f"{label}: {name} ({len(inputs['alarmDescription'])})" for label, name, inputs in alarms()
                if len(inputs.get("alarmDescription") or "") > ALARM_DESCRIPTION_LIMIT]
    assert not too_long


def test_alarms_that_open_an_incident_record_have_a_runbook_that_weighs_a_breach():
    """An alarm whose actions open an OpsItem starts the breach clock: its runbook cannot say a breach is
    out of the question, and starts at the OpsItem's severity (SEV-n for OpsItem severity n; the
    CloudWatch alarm action `arn:...:ssm:<region>:<account>:opsitem:<severity>#CATEGORY=<category>`,
    CloudWatch User Guide, "Alarm actions")."""
    wrong = []
    for label, name, inputs in alarms():
        for action in inputs.get("alarmActions") or []:
            opsitem = re.search(r":opsitem:(\d)#", action)
            if not opsitem:
                continue
            match = LINK.search(inputs.get("alarmDescription") or "")
            entry = data()["alarms"].get(match["key"]) if match else None
            if entry is None or entry["breach"] == "no":
                wrong.append(f"{label}: {name} opens an OpsItem but its runbook rules a breach out")
            elif entry["severity"] != f"SEV-{opsitem[1]}":
                wrong.append(f"{label}: {name} opens an OpsItem of severity {opsitem[1]}, its runbook starts "
                             f"at {entry['severity']}")
    assert not wrong, "\n".join(wrong)


def test_every_routed_finding_type_has_a_runbook():
    routes = routed()
    assert SECURITY_HUB in routes, "no program routes Security Hub findings: the owned runs are broken"
    missing = [f"{source} / {detail_type} (routed by {', '.join(rules)})"
               for (source, detail_type), rules in routes.items()
               if finding_runbook(source, detail_type) is None]
    assert not missing, "no runbook under findings: in docs/runbooks/data.yaml for " + "; ".join(missing)


def test_every_product_behind_the_security_hub_rule_has_a_runbook():
    """The Security Hub rule also routes what GuardDuty, Access Analyzer, Config (and Inspector or Macie,
    once switched on) send to Security Hub: each product a program switches on needs its runbook."""
    products = {entry_product: key for key, entry in data()["findings"].items()
                for entry_product in entry.get("products", [])}
    missing = []
    for label, run in runs().items():
        if not any(rule.inputs.get("eventPattern") and SECURITY_HUB[0] in rule.inputs["eventPattern"]
                   for rule in run.of_type(RULE)):
            continue
        for resource in run.resources:
            product = SECURITY_HUB_PRODUCERS.get(resource.type)
            if product and product not in products:
                missing.append(f"{label}: {resource.type} sends '{product}' findings")
    assert not missing, "no finding runbook lists these products: " + "; ".join(sorted(set(missing)))


def test_no_runbook_is_left_without_its_alarm():
    """A runbook for an alarm no program creates any more misleads whoever reads the index."""
    linked = {m["key"] for _, _, inputs in alarms()
              if (m := LINK.search(inputs.get("alarmDescription") or ""))}
    assert sorted(set(data()["alarms"]) - linked) == []


def test_runbooks_are_generated_from_their_data():
    """`docs/generate_runbooks.py --check`: every runbook file is what data.yaml says, none is extra."""
    assert generate_runbooks.main(["--check"]) == 0, "run venv/bin/python docs/generate_runbooks.py"


def test_every_runbook_answers_the_questions_an_incident_asks():
    for name, text in generate_runbooks.expected(data()).items():
        if name == generate_runbooks.INDEX:
            continue
        for heading in ("## What it means", "## First checks", "## Containment", "## Evidence to preserve",
                        "## Can it be a breach?", "## Who decides"):
            assert heading in text, f"{name} has no {heading}"


@pytest.mark.parametrize("mutation, message", [
    (lambda d: d["alarms"]["root-account-usage"]["containment"].append("unplugging"), "is not defined"),
    (lambda d: d["alarms"]["root-account-usage"].update(breach="maybe"), "breach 'maybe'"),
    (lambda d: d["alarms"]["root-account-usage"].update(severity="SEV-9"), "severity 'SEV-9'"),
    (lambda d: d["findings"]["guardduty-finding"].update(routes=[]), "no routes"),
    (lambda d: d["alarms"]["root-account-usage"].pop("checks"), "no checks"),
])
def test_the_generator_refuses_incomplete_data(tmp_path, mutation, message):
    import yaml

    broken = json.loads(json.dumps(data()))
    mutation(broken)
    path = tmp_path / "data.yaml"
    path.write_text(yaml.safe_dump(broken))
    with pytest.raises(ValueError, match=message):
        generate_runbooks.load(path)


def test_with_runbook_appends_the_link_and_respects_the_limit():
    assert with_runbook("Root account used", "root-account-usage") == (
        "Root account used. Runbook: docs/runbooks/root-account-usage.md")
    assert runbook_link("x") == "Runbook: docs/runbooks/x.md"
    with pytest.raises(ValueError, match="1024"):
        with_runbook("x" * ALARM_DESCRIPTION_LIMIT, "root-account-usage")


# --- docs/incident-response.md ---------------------------------------------------------------------

INCIDENT_RESPONSE = PROJECT_DIR / "docs" / "incident-response.md"


def deadline_function():
    """The worked example's code block, run as the reader would run it."""
    text = INCIDENT_RESPONSE.read_text()
    [code] = re.findall(r"```python\n(.*?)```", text, re.S)
    namespace: dict = {}
    exec(compile(code.replace("\nprint(", "\n_ = ("), str(INCIDENT_RESPONSE), "exec"), namespace)
    return namespace["deadlines"]


def test_the_worked_example_computes_the_deadlines_the_rule_sets():
    """45 CFR 164.404(b), 164.406(b), 164.408(b): no later than 60 calendar days after discovery
    (discovered 2026-12-06: day 60 is 2027-02-04); 164.406(a): media for more than 500 residents of a
    State; 164.408(c): fewer than 500, within 60 days after the end of the calendar year (2027-03-01).
    Sources: HHS "Breach Notification Rule"; 45 CFR 164.404-164.408 (eCFR)."""
    from datetime import date, datetime

    deadlines = deadline_function()
    discovered = datetime.fromisoformat("2026-12-06T14:03:27.123+00:00")
    assert deadlines(discovered, 1200, 640) == {
        "individuals": date(2027, 2, 4), "media": date(2027, 2, 4), "hhs": date(2027, 2, 4)}
    assert deadlines(discovered, 120, 120) == {"individuals": date(2027, 2, 4), "hhs": date(2027, 3, 1)}
    assert "media" not in deadlines(discovered, 900, 500), "media notice is for MORE than 500 residents"
    assert deadlines(discovered, 500, 10)["hhs"] == date(2027, 2, 4), "HHS now for 500 or more"
    text = INCIDENT_RESPONSE.read_text()
    assert "**2027-02-04**" in text and "**2027-03-01**" in text


def test_incident_response_covers_what_an_auditor_asks_for():
    text = INCIDENT_RESPONSE.read_text()
    for heading in ("## Roles", "## Severity levels", "## Breach risk assessment",
                    "## Notification deadlines", "## Evidence handling", "## Tabletop exercise",
                    "## AWS Security Incident Response"):
        assert heading in text
    for section in ("164.308(a)(6)", "164.312(b)", "164.402", "164.404", "164.406", "164.408", "164.410"):
        assert section in text, section
    for level in data()["severities"]:
        assert f"| {level} |" in text, f"{level} (docs/runbooks/data.yaml) is not in the severity table"


def test_the_tabletop_exercise_triggers_alarms_the_stack_has():
    """Every alarm the exercise tells the team to expect is one the programs create."""
    names = {name for _, name, _ in alarms()}
    text = INCIDENT_RESPONSE.read_text()
    exercise = text[text.index("## Tabletop exercise"):text.index("## AWS Security Incident Response")]
    expected = set(re.findall(r"`(hipaa-aws-[a-z0-9-]+)`", exercise)) - {
        "hipaa-aws-staging-db-break-glass", "hipaa-aws-staging-ContainFargateService"}
    assert expected and expected <= names, sorted(expected - names)


def test_aws_security_incident_response_is_described_as_the_pack_sees_it():
    """The document's eligibility statement follows the pack's BAA data (AWS's HIPAA Eligible Services
    Reference as the pack carries it)."""
    services = json.loads((PROJECT_DIR / "policy" / "hipaa_policies" / "data" /
                           "hipaa_eligible_services.json").read_text())
    listed = any("Security Incident Response" in name for name in services["listed"])
    text = INCIDENT_RESPONSE.read_text()
    assert ("it is not on the list of HIPAA eligible services the policy pack carries" in text) != listed
