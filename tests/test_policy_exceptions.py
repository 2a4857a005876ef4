"""Exceptions an auditor can see (issue 18): in a PHI stack every deviation from the pack's defaults
needs an approved, unexpired exception in the pack config, a short list of policies cannot be lowered
at all, the stack file and the pack config agree on the classification, and every report lists every
deviation. Tested over the Analyzer protocol (the pack's own process) and end to end through
`python -m preflight`.

The exceptions are dated with far past and far future days (2020-01-01, 2099-12-31): the pack reads
"today" from the system clock (policy/hipaa_policies/governance.py), and there is no override.
"""

from __future__ import annotations

import copy
import json
import re
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest
import yaml

from preflight import engine
from preflight.policy_pack_client import POLICY_DIR, PolicyPackProcess
from preflight.stack_config import PROJECT_DIR

sys.path.insert(0, str(POLICY_DIR))

import pulumi_policy.policy as sdk  # noqa: E402
from pulumi_policy import EnforcementLevel  # noqa: E402

from hipaa_policies import ALL_POLICIES  # noqa: E402
from hipaa_policies.analyzer_service import TypeDispatchingAnalyzer  # noqa: E402
from hipaa_policies.governance import (  # noqa: E402
    GOVERNANCE_POLICY,
    NON_LOWERABLE,
    REVIEWABLE_SETTINGS,
    TIGHTER,
)

FIXTURES = PROJECT_DIR / "tests" / "fixtures"
PROD_CONFIG = json.loads((POLICY_DIR / "config" / "prod.json").read_text())
STAGING_CONFIG = json.loads((POLICY_DIR / "config" / "staging.json").read_text())
PAST, FUTURE = "2020-01-01", "2099-12-31"
LOWERED = "aws-rds-multi-az"  # a policy a reviewed exception may lower (not in NON_LOWERABLE)
PUBLIC_DB = {"engine": "postgres", "instanceClass": "db.t4g.micro", "publiclyAccessible": True,
             "storageEncrypted": True}


def exception(policy: str, expires: str = FUTURE, setting: str | None = None) -> dict:
    entry = {"policy": policy, "reason": "Reviewed: the risk is accepted until the migration ends.",
             "approver": "hipaa-security-officer", "expires": expires}
    return {**entry, "setting": setting} if setting else entry


def with_changes(base: dict, changes: dict, exceptions: list[dict] = ()) -> dict:
    """`base` with entries replaced and `exceptions` added to the governance policy's register."""
    config = copy.deepcopy(base)
    config.update(copy.deepcopy(changes))
    register = config.setdefault(GOVERNANCE_POLICY, {}).setdefault("exceptions", [])
    register.extend(exceptions)
    return config


# ------------------------------------------------------------------ the registry's data

def test_every_non_lowerable_policy_is_a_mandatory_policy_of_the_pack_with_its_reason():
    by_name = {p.name: p for p in ALL_POLICIES}
    assert set(NON_LOWERABLE) <= set(by_name)
    for name, reason in NON_LOWERABLE.items():
        assert len(reason) > 20, name
        # The pack's default for each is mandatory, so keeping it mandatory never raises it.
        assert by_name[name].enforcement_level in (None, EnforcementLevel.MANDATORY), name
    # The list: public or unencrypted PHI stores, admin/database ports from the internet,
    # IAM users and access keys, the trail, the BAA boundary, and the governance policy itself.
    assert {"aws-rds-not-publicly-accessible", "aws-s3-bucket-policy-not-public", "aws-rds-storage-encrypted",
            "aws-s3-bucket-encrypted-with-kms", "aws-ec2-sg-no-internet-admin-ports", "aws-iam-no-users",
            "aws-cloudtrail-phi-stack-trail", "hipaa-baa-eligible-services", GOVERNANCE_POLICY,
            } <= set(NON_LOWERABLE)


def test_every_setting_of_a_non_lowerable_policy_is_a_deliberate_decision():
    """Each setting of a non-lowerable policy is either a reviewed declaration or has a direction that
    tightens it; a setting added later without a decision is refused in a PHI stack (fail closed)."""
    settings = {(p.name, key) for p in ALL_POLICIES if p.name in NON_LOWERABLE and p.config_schema
                for key in (p.config_schema.properties or {}) if key != "holdsPhi"}
    settings.discard((GOVERNANCE_POLICY, "exceptions"))  # the register itself
    assert settings == set(REVIEWABLE_SETTINGS) | set(TIGHTER)
    assert set(TIGHTER.values()) <= {"more", "fewer"}


# ------------------------------------------------------------------ over the Analyzer protocol

def _pack(classification: str | None, pack_config: dict) -> PolicyPackProcess:
    """The pack as the engine starts it for a stack whose stack file says `classification`."""
    config = {"aws:region": "us-east-1"}
    if classification:
        config["hipaa-aws:dataClassification"] = classification
    context = engine.StackContext(stack="prod", project="hipaa-aws", config=config)
    pack = PolicyPackProcess(POLICY_DIR, stack=context)
    pack.configure(json.dumps(pack_config))
    return pack


def _governance_findings(classification: str | None, pack_config: dict) -> list[tuple[str, str]]:
    with _pack(classification, pack_config) as pack:
        verdict = pack.analyze_stack([])
    return [(d.enforcement, d.violation) for d in verdict.diagnostics if d.policy == GOVERNANCE_POLICY]


def test_the_shipped_phi_config_has_an_exception_for_each_of_its_deviations():
    assert _governance_findings("phi", PROD_CONFIG) == []


def test_a_lowered_policy_without_an_exception_is_a_mandatory_violation_naming_it():
    findings = _governance_findings("phi", with_changes(PROD_CONFIG, {LOWERED: "advisory"}))
    assert [level for level, _ in findings] == ["mandatory"]
    assert findings[0][1].startswith(f"{LOWERED} deviates from the pack's default in this PHI stack "
                                     "(enforcement level advisory instead of mandatory) without an exception")


def test_a_valid_exception_approves_the_deviation_and_an_expired_one_does_not():
    lowered = {LOWERED: "disabled"}
    assert _governance_findings("phi", with_changes(PROD_CONFIG, lowered, [exception(LOWERED)])) == []
    (finding,) = _governance_findings("phi", with_changes(PROD_CONFIG, lowered, [exception(LOWERED, PAST)]))
    assert finding[0] == "mandatory"
    assert re.match(rf"The exception for {LOWERED} \(enforcement level disabled instead of mandatory\) "
                    rf"expired on {PAST} \(today is \d{{4}}-\d\d-\d\d, UTC\)", finding[1])


def test_a_changed_setting_needs_an_exception_for_that_setting():
    changed = {"aws-cloudwatch-log-group-six-year-retention": {"minimumRetentionDays": 365}}
    (finding,) = _governance_findings("phi", with_changes(PROD_CONFIG, changed))
    assert ("aws-cloudwatch-log-group-six-year-retention's setting minimumRetentionDays deviates from the "
            "pack's default in this PHI stack (minimumRetentionDays = 365 instead of the default 2192)"
            ) in finding[1]
    # An exception for the policy's level does not cover its setting.
    level_only = [exception("aws-cloudwatch-log-group-six-year-retention")]
    assert len(_governance_findings("phi", with_changes(PROD_CONFIG, changed, level_only))) == 1
    for_setting = [exception("aws-cloudwatch-log-group-six-year-retention", setting="minimumRetentionDays")]
    assert _governance_findings("phi", with_changes(PROD_CONFIG, changed, for_setting)) == []


def test_a_non_lowerable_policy_stays_mandatory_in_a_phi_stack_even_with_an_exception():
    config = with_changes(PROD_CONFIG, {"aws-rds-not-publicly-accessible": "disabled"},
                          [exception("aws-rds-not-publicly-accessible")])
    with _pack("phi", config) as pack:
        verdict = pack.analyze("aws:rds/instance:Instance", PUBLIC_DB, name="db")
        stack = pack.analyze_stack([])
    assert ("aws-rds-not-publicly-accessible", "mandatory") in {(d.policy, d.enforcement)
                                                                for d in verdict.diagnostics}
    (finding,) = [d for d in stack.diagnostics if d.policy == GOVERNANCE_POLICY]
    assert finding.enforcement == "mandatory"
    assert finding.violation.startswith("aws-rds-not-publicly-accessible cannot be lowered in a PHI stack")


def test_a_non_lowerable_policys_setting_may_tighten_with_an_exception_but_never_weaken():
    policy, default = "aws-ec2-sg-no-internet-admin-ports", [20, 21, 22, 3389, 3306, 4333, 5432, 1433, 1521,
                                                             6379, 27017]
    register = [exception(policy, setting="blockedPorts")]
    wider = {policy: {"blockedPorts": [*default, 9200]}}  # OpenSearch's port too: tighter
    assert _governance_findings("phi", with_changes(PROD_CONFIG, wider, register)) == []
    (unapproved,) = _governance_findings("phi", with_changes(PROD_CONFIG, wider))
    assert "without an exception" in unapproved[1]
    no_mysql = {policy: {"blockedPorts": [p for p in default if p != 3306]}}
    (finding,) = _governance_findings("phi", with_changes(PROD_CONFIG, no_mysql, register))
    assert finding[1].startswith(f"{policy}'s setting blockedPorts cannot be weakened in a PHI stack")


def test_all_disabled_in_a_phi_stack_keeps_governance_and_the_non_lowerable_policies_mandatory():
    with _pack("phi", with_changes(PROD_CONFIG, {"all": "disabled"})) as pack:
        verdict = pack.analyze("aws:rds/instance:Instance", PUBLIC_DB, name="db")
        stack = pack.analyze_stack([])
    # Only the non-lowerable policies judge the database (multi-AZ, deletion protection... are off).
    assert "aws-rds-not-publicly-accessible" in {d.policy for d in verdict.diagnostics}
    assert {d.policy for d in verdict.diagnostics} <= set(NON_LOWERABLE)
    assert {d.enforcement for d in verdict.diagnostics} == {"mandatory"}
    governance = [d.violation for d in stack.diagnostics if d.policy == GOVERNANCE_POLICY]
    assert any(m.startswith(f"{LOWERED} deviates") for m in governance)
    assert any(m.startswith(f"{GOVERNANCE_POLICY} cannot be lowered") for m in governance)


def test_a_synthetic_stack_may_lower_policies_without_exceptions():
    config = with_changes(STAGING_CONFIG, {"aws-rds-not-publicly-accessible": "disabled",
                                           LOWERED: "disabled"})
    with _pack("synthetic", config) as pack:
        verdict = pack.analyze("aws:rds/instance:Instance", PUBLIC_DB, name="db")
        stack = pack.analyze_stack([])
    assert "aws-rds-not-publicly-accessible" not in {d.policy for d in verdict.diagnostics}
    assert [d for d in stack.diagnostics if d.policy == GOVERNANCE_POLICY] == []


@pytest.mark.parametrize("stack_file,holds_phi", [("phi", False), ("synthetic", True)])
def test_disagreeing_classifications_are_a_violation_and_the_stack_is_treated_as_phi(stack_file, holds_phi):
    base = PROD_CONFIG if holds_phi else STAGING_CONFIG
    config = with_changes(base, {"aws-rds-not-publicly-accessible": "disabled"})
    with _pack(stack_file, config) as pack:
        verdict = pack.analyze("aws:rds/instance:Instance", PUBLIC_DB, name="db")
        stack = pack.analyze_stack([])
    messages = [d.violation for d in stack.diagnostics if d.policy == GOVERNANCE_POLICY]
    assert (f"The stack file says dataClassification={stack_file} but the pack config says "
            f"holdsPhi={'true' if holds_phi else 'false'}: one of them is wrong") in messages[0]
    # Fail safe: treated as PHI, so the non-lowerable policy still blocks the public database.
    assert ("aws-rds-not-publicly-accessible", "mandatory") in {(d.policy, d.enforcement)
                                                                for d in verdict.diagnostics}


def test_holds_phi_that_differs_between_policies_is_a_violation():
    config = with_changes(PROD_CONFIG, {"aws-backup-phi-store-in-plan": {"holdsPhi": False}})
    (finding,) = _governance_findings("phi", config)
    assert "holdsPhi disagrees between policies" in finding[1]
    assert "false: aws-backup-phi-store-in-plan" in finding[1]


def test_without_the_packs_service_the_governance_policy_fails_closed():
    """Under the SDK's own Analyzer service the policy cannot see the other policies' configuration."""
    service = sdk._PolicyAnalyzerServicer("hipaa-aws", "1.0.0", ALL_POLICIES, EnforcementLevel.MANDATORY,  # noqa: SLF001
                                          None, None, None, None, None, None, None)
    from pulumi.runtime.proto import analyzer_pb2

    response = service.AnalyzeStack(analyzer_pb2.AnalyzeStackRequest(resources=[]), None)
    (diagnostic,) = [d for d in response.diagnostics if d.policyName == GOVERNANCE_POLICY]
    assert "\nThe pack's exceptions cannot be checked" in diagnostic.message  # after the description
    assert TypeDispatchingAnalyzer.governed is True  # the pack's service is governed by default


# ------------------------------------------------------------------ end to end: python -m preflight

def preflight(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "preflight", *args], cwd=PROJECT_DIR,
                          capture_output=True, text=True, timeout=300)


def _run(tmp_path: Path, stack: str, pack_config: dict, *extra: str) -> tuple[int, dict]:
    path = tmp_path / f"{stack}-pack.json"
    path.write_text(json.dumps(pack_config, indent=2))
    result = preflight(stack, "--policy-pack-config", str(path), "--format", "json", *extra)
    assert result.returncode in (0, 1), result.stderr
    return result.returncode, json.loads(result.stdout)


def _mandatory(report: dict) -> set[tuple[str, str]]:
    return {(f["policy"], f["message"]) for g in report["violations"] for f in g["findings"]
            if f["enforcement"] == "mandatory"}


@cache
def _baseline(stack: str) -> tuple[int, frozenset]:
    """The shipped stack's own result: the changes below are judged against it, so these tests say
    what governance adds whatever else the shipped stack's report holds."""
    result = preflight(stack, "--format", "json")
    return result.returncode, frozenset(_mandatory(json.loads(result.stdout)))


def _added(stack: str, report: dict) -> set[tuple[str, str]]:
    """The governance policy's findings (the shipped stacks have none: see the last test below)."""
    assert not {f for f in _baseline(stack)[1] if f[0] == GOVERNANCE_POLICY}
    return {f for f in _mandatory(report) if f[0] == GOVERNANCE_POLICY}


def _deviation(report: dict, policy: str, setting: str | None = None) -> dict:
    (found,) = [d for d in report["deviations"] if d["policy"] == policy and d["setting"] == setting]
    return found


def test_preflight_fails_a_phi_stack_that_lowers_a_policy_without_an_exception(tmp_path):
    code, report = _run(tmp_path, "prod", with_changes(PROD_CONFIG, {LOWERED: "disabled"}))
    assert code == 1 and report["summary"]["passed"] is False
    (added,) = _added("prod", report)
    assert added[0] == GOVERNANCE_POLICY
    assert added[1].startswith(f"{LOWERED} deviates from the pack's default")
    assert _deviation(report, LOWERED) == {
        "policy": LOWERED, "setting": None, "default": "mandatory", "configured": "disabled",
        "status": "no exception", "exception": None, "nonLowerable": False}


def test_preflight_passes_an_approved_exception_and_every_format_lists_it(tmp_path):
    config = with_changes(PROD_CONFIG, {LOWERED: "disabled"}, [exception(LOWERED)])
    path = tmp_path / "prod.json"
    path.write_text(json.dumps(config))
    out = tmp_path / "reports"
    result = preflight("prod", "--policy-pack-config", str(path), "--output-dir", str(out))
    assert result.returncode == _baseline("prod")[0], result.stderr
    report = json.loads((out / "prod.json").read_text())
    assert _added("prod", report) == set()
    assert _deviation(report, LOWERED)["status"] == "approved"
    assert _deviation(report, LOWERED)["exception"] == exception(LOWERED)
    line = (f"{LOWERED}: level disabled (default mandatory) - approved; exception approved by "
            f"hipaa-security-officer until {FUTURE}")
    assert line in (out / "prod.txt").read_text()
    markdown = (out / "prod.md").read_text()
    assert "## Deviations from the pack's defaults" in markdown
    assert re.search(rf"\| `{LOWERED}` \| enforcement level \| \"mandatory\" \| \"disabled\" \| approved \| "
                     rf"approved by hipaa-security-officer until {FUTURE}", markdown)
    sarif = json.loads((out / "prod.sarif").read_text())["runs"][0]
    assert any(r.get("kind") == "informational" and line in r["message"]["text"] for r in sarif["results"])
    assert any(d["policy"] == LOWERED for d in sarif["properties"]["deviations"])


def test_preflight_fails_an_expired_exception(tmp_path):
    code, report = _run(tmp_path, "prod", with_changes(PROD_CONFIG, {LOWERED: "disabled"},
                                                       [exception(LOWERED, PAST)]))
    assert code == 1
    (added,) = _added("prod", report)
    assert added[1].startswith(f"The exception for {LOWERED} (enforcement level disabled instead of "
                               f"mandatory) expired on {PAST}")
    assert _deviation(report, LOWERED)["status"] == "expired"


def test_preflight_fails_a_lowered_non_lowerable_policy_even_with_an_exception(tmp_path):
    policy = "aws-iam-no-users"
    config = with_changes(PROD_CONFIG, {policy: "advisory"}, [exception(policy)])
    code, report = _run(tmp_path, "prod", config)
    assert code == 1
    (added,) = _added("prod", report)
    assert added[1].startswith(f"{policy} cannot be lowered in a PHI stack")
    assert _deviation(report, policy)["status"] == "not lowerable"
    assert _deviation(report, policy)["nonLowerable"] is True


def test_preflight_fails_all_disabled_in_a_phi_stack(tmp_path):
    code, report = _run(tmp_path, "prod", with_changes(PROD_CONFIG, {"all": "disabled"}))
    assert code == 1
    added = {message for policy, message in _added("prod", report) if policy == GOVERNANCE_POLICY}
    assert any(m.startswith(f"{LOWERED} deviates") for m in added)
    assert any(m.startswith("aws-rds-not-publicly-accessible cannot be lowered") for m in added)
    # Every policy of the pack appears as a deviation.
    assert {d["policy"] for d in report["deviations"] if d["setting"] is None} >= {LOWERED, *NON_LOWERABLE}


def test_preflight_names_the_pack_config_as_wrong_when_the_account_is_in_the_phi_ou(tmp_path):
    """staging's stack file claims PHI and is pinned to prod's account (123456789012), which the
    organization's account map gives to prod, whose stack file puts it in Workloads/PHI: the pack
    config (holdsPhi false) is the wrong side."""
    stack_file = FIXTURES / "stacks" / "Pulumi.staging-claims-phi.yaml"
    code, report = _run(tmp_path, "staging", STAGING_CONFIG, "--stack-file", str(stack_file))
    assert code == 1
    classification = report["classification"]
    assert classification["agree"] is False and classification["wrong"] == "pack config"
    assert classification["explanation"].startswith(
        "the pack config is wrong: the stack file says dataClassification=phi, the pack config says "
        "holdsPhi=false; account 123456789012 is environments.prod in organization/Pulumi.organization.yaml")
    assert any(p == GOVERNANCE_POLICY and "one of them is wrong" in m for p, m in _mandatory(report))


def test_preflight_says_one_of_them_is_wrong_when_nothing_decides(tmp_path):
    """staging's own account, placed in its OU by this same stack file: no third source."""
    config = copy.deepcopy(STAGING_CONFIG)
    for entry in config.values():
        if isinstance(entry, dict) and "holdsPhi" in entry:
            entry["holdsPhi"] = True
    code, report = _run(tmp_path, "staging", config)
    assert code == 1
    assert report["classification"]["wrong"] is None
    assert report["classification"]["explanation"].startswith(
        "one of them is wrong: the stack file says dataClassification=synthetic, the pack config says "
        "holdsPhi=true")


def test_preflight_lets_a_synthetic_stack_lower_policies_but_lists_every_deviation(tmp_path):
    code, report = _run(tmp_path, "staging", with_changes(STAGING_CONFIG, {"aws-rds-not-publicly-accessible":
                                                                           "disabled"}))
    assert code == _baseline("staging")[0]
    assert _added("staging", report) == set()
    listed = {(d["policy"], d["setting"], d["status"]) for d in report["deviations"]}
    assert ("aws-rds-not-publicly-accessible", None, "allowed (not a PHI stack)") in listed
    # staging.json's own deviations are there too (advisory multi-AZ, a 7-day key deletion window...).
    assert {("aws-rds-multi-az", None), ("aws-kms-key-deletion-window", "minimumDeletionWindowDays")} <= {
        (p, s) for p, s, _ in listed}
    assert report["summary"]["deviations"] == len(report["deviations"])


def test_evidence_names_the_stack_file_when_the_account_belongs_to_a_synthetic_environment(tmp_path):
    """The other direction, on the account map alone: a stack file saying phi, pinned to staging's
    account (synthetic by staging's stack file), against a pack config saying synthetic."""
    from preflight.governance import evidence

    organization = tmp_path / "Pulumi.organization.yaml"
    organization.write_text(yaml.safe_dump({"config": {"hipaa-aws-organization:accounts": {
        "environments": {"staging": {"id": "210987654321"}, "qa": {"id": "345678901234"}}}}}))
    wrong, why = evidence("qa", {"aws:allowedAccountIds": ["210987654321"]}, "phi", "synthetic", organization,
                          stacks_dir=PROJECT_DIR / "stacks")
    assert wrong == "stack file"
    assert "account 210987654321 is environments.staging" in why and "synthetic (OU Workloads/NonPHI)" in why
    # Not pinned to an account of the map: nothing decides.
    unpinned = {"aws:allowedAccountIds": ["999999999999"]}
    assert evidence("qa", unpinned, "phi", "synthetic", organization)[0] is None


def test_the_shipped_prod_exceptions_each_approve_a_real_deviation_for_at_most_a_year(tmp_path):
    from datetime import date, timedelta

    code, report = _run(tmp_path, "prod", PROD_CONFIG)
    approved = {(d["policy"], d["setting"]) for d in report["deviations"] if d["status"] == "approved"}
    register = PROD_CONFIG[GOVERNANCE_POLICY]["exceptions"]
    assert {(e["policy"], e.get("setting")) for e in register} == approved  # none stale, none missing
    assert all(d["status"] == "approved" for d in report["deviations"])
    assert all(date.fromisoformat(e["expires"]) <= date.today() + timedelta(days=366) for e in register)


# ------------------------------------------------------------------ CODEOWNERS

CODEOWNERS = PROJECT_DIR / ".github" / "CODEOWNERS"
# Everything that decides enforcement (the pack, its configs, the preflight that gates CI, the stack
# files' classification) or CI access (bootstrap's CI roles, the organization, the workflows, Makefile).
ENFORCEMENT_PATHS = ("policy", "preflight", "bootstrap", "organization", "stacks", ".github", "Makefile")


def _rules() -> list[tuple[str, list[str]]]:
    rules = []
    for line in CODEOWNERS.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            pattern, *owners = line.split()
            rules.append((pattern, owners))
    return rules


def _owners(path: str) -> list[str]:
    """GitHub's rule: the LAST matching pattern wins ("About code owners"). Every pattern here is
    anchored (/dir/ or /file), which this matcher handles exactly; the test below refuses others."""
    found: list[str] = []
    for pattern, owners in _rules():
        anchored = pattern.lstrip("/")
        if (path.startswith(anchored) if pattern.endswith("/") else path == anchored):
            found = owners
    return found


def _files(root: str) -> list[str]:
    top = PROJECT_DIR / root
    if top.is_file():
        return [root]
    return [str(p.relative_to(PROJECT_DIR)) for p in top.rglob("*")
            if p.is_file() and "__pycache__" not in p.parts and "venv" not in p.parts]


def test_codeowners_covers_every_file_that_decides_enforcement_or_ci_access():
    assert all(re.fullmatch(r"/[\w./-]+", pattern) for pattern, _ in _rules())
    assert all(owners and all(re.fullmatch(r"@[\w-]+/[\w-]+", o) for o in owners) for _, owners in _rules())
    files = [f for root in ENFORCEMENT_PATHS for f in _files(root)]
    assert ".github/CODEOWNERS" in files and "policy/config/prod.json" in files and len(files) > 50
    assert [f for f in files if not _owners(f)] == []
    # The security owners review every change to the pack, its exceptions and CODEOWNERS itself.
    for path in ("policy/config/prod.json", "policy/hipaa_policies/governance.py", ".github/CODEOWNERS",
                 "preflight/governance.py"):
        assert "@example-health/security-engineering" in _owners(path), path
