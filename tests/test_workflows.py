"""The GitHub workflows a team copies: lint clean, gate every stack, OIDC only, pinned, and working on
every GitHub plan (with or without code scanning, with or without environment required reviewers).

Facts the workflows rely on, and where they are stated:
- GitHub Docs, "Uploading a SARIF file to GitHub" and "Troubleshooting: Advanced Security must be
  enabled": code scanning is available on all public repositories; on private and internal ones only
  with GitHub Code Security (Advanced Security), else the upload fails with a 403.
- GitHub Docs, "Managing environments for deployment": on private repositories environments need
  GitHub Pro or Team, required reviewers GitHub Enterprise (shared AWS_FACTS: GitHub).
- GitHub Docs, REST "List artifacts for a repository" (`name` filter, `actions: read`) and
  actions/download-artifact's `run-id` / `github-token` inputs (its action.yml): a job may download
  another run's artifact.
- Pulumi Docs, "Update plans": `pulumi preview --save-plan=plan.json`, then `pulumi up --plan=plan.json`
  constrains the update to the planned operations and fails on any difference. Status: public preview,
  not GA; no longer behind PULUMI_EXPERIMENTAL since pulumi/pulumi#20271 (Aug 2025, "Remove experimental
  label & unhide save-plan"), so the pinned CLI 3.272.0 needs no environment variable for them.
- Pulumi CLI docs, `pulumi refresh --preview-only` and `pulumi policy analyze --policy-pack
  --policy-pack-config --stack` (analyzes the stack's existing state with local packs; added in CLI
  3.229-3.248, so present in the pinned 3.272.0).
"""

from __future__ import annotations

import importlib.util
import io
import json
import os
import re
import shutil
import subprocess
import sys
import venv
from pathlib import Path
from types import ModuleType

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from preflight.stack_config import PROJECT_DIR
from stacks import catalog

GITHUB = PROJECT_DIR / ".github"
WORKFLOWS = GITHUB / "workflows"
SCRIPTS = GITHUB / "scripts"
WORKFLOW_FILES = ["pull-request.yml", "deploy.yml", "pulumi-up.yml", "drift.yml"]
LOCKS = {"requirements.lock": "requirements.txt", "policy/requirements.lock": "policy/requirements.txt",
         "requirements-dev.lock": "requirements-dev.txt"}


def load(name: str) -> dict:
    # PyYAML reads the key `on` as True; normalise it back.
    document = yaml.safe_load((WORKFLOWS / name).read_text())
    if True in document:
        document["on"] = document.pop(True)
    return document


def script(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"ci_{name}", SCRIPTS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


stack_matrix = script("stack_matrix")
code_scanning = script("code_scanning")
find_plan = script("find_plan")


def steps(workflow: dict):
    for job_name, job in workflow["jobs"].items():
        for step in job.get("steps", []):
            yield job_name, job, step


def step_running(job: dict, command: str) -> dict:
    (found,) = [s for s in job["steps"] if command in s.get("run", "")]
    return found


def step_using(job: dict, action: str) -> dict:
    (found,) = [s for s in job["steps"] if str(s.get("uses", "")).startswith(f"{action}@")]
    return found


def actionlint() -> str:
    found = shutil.which("actionlint") or str(Path(sys.executable).parent / "actionlint")
    assert Path(found).exists(), "actionlint is installed by requirements-dev.txt"
    return found


def test_every_workflow_lints_clean():
    files = sorted(str(p) for p in WORKFLOWS.glob("*.yml"))
    assert sorted(Path(f).name for f in files) == sorted(WORKFLOW_FILES)
    result = subprocess.run([actionlint(), "-color=false", *files], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


# ---- stacks are data: the matrices come from stacks/ when the workflows run ----

def test_the_matrix_script_agrees_with_the_stack_catalog():
    found = stack_matrix.matrices()
    stacks = catalog.stacks()
    assert [e["stack"] for e in found["all"]] == list(stacks)
    for entry in found["all"]:
        stack = stacks[entry["stack"]]
        assert entry["classification"] == stack.classification
        assert entry["region"] == stack.region
    assert [e["stack"] for e in found["phi"]] == [s.name for s in stacks.values() if s.holds_phi]
    assert [e["stack"] for e in found["synthetic"]] == catalog.of_classification("synthetic")


def test_a_copied_stack_file_joins_every_matrix_without_a_workflow_edit(tmp_path):
    (tmp_path / "stacks").mkdir()
    for path in (PROJECT_DIR / "stacks").glob("Pulumi.*.yaml"):
        shutil.copy(path, tmp_path / "stacks" / path.name)
    text = (PROJECT_DIR / "stacks" / "Pulumi.prod.yaml").read_text()
    (tmp_path / "stacks" / "Pulumi.euprod.yaml").write_text(
        text.replace("aws:region: us-east-1", 'aws:region: "eu-west-1"'))
    found = stack_matrix.matrices(tmp_path)
    stacks = catalog.stacks(tmp_path)
    assert [e["stack"] for e in found["all"]] == list(stacks) == sorted([*catalog.names(), "euprod"])
    (euprod,) = [e for e in found["phi"] if e["stack"] == "euprod"]
    assert euprod == {"stack": "euprod", "classification": "phi", "region": "eu-west-1",
                      "preview_role": "AWS_PREVIEW_ROLE_ARN_EUPROD",
                      "drift_role": "AWS_DRIFT_ROLE_ARN_EUPROD", "backend": "PULUMI_BACKEND_URL_EUPROD"}
    assert stacks["euprod"].region == "eu-west-1"


def test_an_unclassified_stack_deploys_like_a_phi_stack(tmp_path):
    (tmp_path / "stacks").mkdir()
    (tmp_path / "stacks" / "Pulumi.qa.yaml").write_text("config:\n  aws:region: us-east-1\n")
    found = stack_matrix.matrices(tmp_path)
    assert [e["stack"] for e in found["phi"]] == ["qa"] and found["synthetic"] == []


def test_the_matrix_variables_are_the_ones_the_bootstrap_exports():
    ci_roles = bootstrap_ci_roles()
    for entry in stack_matrix.matrices()["all"]:
        assert entry["preview_role"] == ci_roles.preview_variable(entry["stack"])
        assert entry["backend"] == ci_roles.backend_variable(entry["stack"])
        assert entry["drift_role"] == ci_roles.drift_variable(entry["stack"])


@pytest.mark.parametrize(("name", "job"), [("pull-request.yml", "preview"), ("deploy.yml", "synthetic"),
                                           ("deploy.yml", "phi"), ("drift.yml", "drift")])
def test_every_stack_job_takes_its_matrix_from_the_stacks_job(name, job):
    workflow = load(name)
    matrix = workflow["jobs"][job]["strategy"]["matrix"]
    assert set(matrix) == {"include"}
    assert re.fullmatch(r"\$\{\{ fromJSON\(needs\.stacks\.outputs\.(all|synthetic|phi)\) \}\}",
                        matrix["include"])
    assert step_running(workflow["jobs"]["stacks"], "stack_matrix.py --github-output")


# ---- deploys only on infrastructure changes ----

def test_deploys_run_only_on_changes_that_can_change_infrastructure():
    deploy = load("deploy.yml")
    assert deploy["on"] == {"push": {"branches": ["main"], "paths": list(stack_matrix.INFRASTRUCTURE_PATHS)}}
    changed = stack_matrix.infrastructure_changed
    assert changed(["components/network.py"]) and changed(["stacks/Pulumi.qa.yaml"])
    assert changed(["policy/config/prod.json"]) and changed(["requirements.lock"])
    assert not changed(["README.md", "docs/runbooks/x.md", "tests/test_workflows.py"])
    assert not changed(["components_old.txt"])  # a prefix, not a directory


def test_pull_requests_preview_only_when_infrastructure_changed():
    workflow = load("pull-request.yml")
    preview = workflow["jobs"]["preview"]
    assert preview["if"] == "needs.stacks.outputs.infrastructure == 'true'"
    changes = step_running(workflow["jobs"]["stacks"], "--changed")
    assert 'git diff --name-only "$BASE" HEAD' in changes["run"]
    assert changes["env"]["BASE"] == "${{ github.event.pull_request.base.sha }}"
    result = subprocess.run([sys.executable, str(SCRIPTS / "stack_matrix.py"), "--changed"],
                            input="README.md\ncomponents/tagging.py\n", capture_output=True, text=True)
    assert result.stdout.strip() == "true"
    # The test suite and the preflight run on every pull request, whatever it changes.
    assert "if" not in workflow["jobs"]["test"] and "if" not in workflow["jobs"]["preflight"]


# ---- the preview: every stack, the pack and its config, the plan saved for the deploy ----

def test_every_stack_is_previewed_with_the_policy_pack_and_saves_its_plan():
    preview = load("pull-request.yml")["jobs"]["preview"]
    run = step_running(preview, "pulumi preview")["run"]
    assert '--policy-pack policy --policy-pack-config "policy/config/$STACK.json"' in run
    assert '--save-plan "plan-$STACK.json"' in run
    assert "tree=$(git rev-parse 'HEAD^{tree}')" in run
    upload = step_using(preview, "actions/upload-artifact")
    assert upload["with"]["name"] == "pulumi-plan-${{ matrix.stack }}-${{ steps.preview.outputs.tree }}"
    assert find_plan.artifact_name("prod", "abc") == "pulumi-plan-prod-abc"
    assert "plan-${{ matrix.stack }}.json" in upload["with"]["path"]
    assert upload["with"]["if-no-files-found"] == "error"
    assert preview["env"]["STACK"] == "${{ matrix.stack }}"
    credentials = step_using(preview, "aws-actions/configure-aws-credentials")
    assert credentials["with"]["role-to-assume"] == "${{ vars[matrix.preview_role] }}"
    assert credentials["with"]["aws-region"] == "${{ matrix.region }}"
    # Each stack previews against its own account's state backend.
    backend = step_running(preview, "pulumi preview")["env"]["PULUMI_BACKEND_URL"]
    assert backend == "${{ vars[matrix.backend] }}"
    for stack in catalog.names():
        assert (PROJECT_DIR / "policy" / "config" / f"{stack}.json").exists(), stack


# ---- plan case: environment required reviewers on, or off ----

def test_synthetic_stacks_deploy_first_then_phi_stacks_only_from_their_reviewed_plan():
    jobs = load("deploy.yml")["jobs"]
    assert jobs["synthetic"]["needs"] == ["stacks", "gate"]
    assert jobs["phi"]["needs"] == ["stacks", "gate", "synthetic"]
    condition = jobs["phi"]["if"]
    assert "needs.gate.result == 'success'" in condition
    assert "needs.synthetic.result == 'success' || needs.synthetic.result == 'skipped'" in condition
    for job, saved in (("synthetic", False), ("phi", True)):
        assert jobs[job]["uses"] == "./.github/workflows/pulumi-up.yml"
        assert jobs[job]["with"] == {"stack": "${{ matrix.stack }}", "environment": "${{ matrix.stack }}",
                                     "region": "${{ matrix.region }}", "saved-plan": saved}
        assert jobs[job]["permissions"] == {"contents": "read", "id-token": "write", "actions": "read"}


def test_reviewers_on_every_deploy_runs_in_the_stacks_environment():
    """With environment required reviewers (public repositories, GitHub Enterprise), the job waits for
    approval: its environment is the stack's, and only that environment's token may assume the deploy
    role (bootstrap/ci_roles.py trusts `repo:OWNER/REPO:environment:<stack>` only)."""
    up = load("pulumi-up.yml")["jobs"]["up"]
    assert up["environment"] == "${{ inputs.environment }}"
    assert step_using(up, "aws-actions/configure-aws-credentials")["with"]["role-to-assume"] == \
        "${{ vars.AWS_DEPLOY_ROLE_ARN }}"
    assert up["concurrency"] == {"group": "pulumi-up-${{ inputs.stack }}", "cancel-in-progress": False}
    ci_roles_text = (PROJECT_DIR / "bootstrap" / "ci_roles.py").read_text()
    assert 'f"environment:{stack}"' in ci_roles_text


def test_reviewers_off_a_phi_stack_gets_exactly_the_reviewed_plan_or_nothing():
    """Without required reviewers (GitHub Free, Pro, Team on private repositories), the review is the
    pull request's (branch protection: required approvals, up to date with main): the deploy finds the
    plan its preview saved for this exact tree, downloads it, and `pulumi up --plan` applies only that."""
    up = load("pulumi-up.yml")["jobs"]["up"]
    find = step_running(up, "find_plan.py")
    assert find["if"] == "inputs.saved-plan"
    assert find["env"] == {"GH_TOKEN": "${{ github.token }}", "REPOSITORY_ID": "${{ github.repository_id }}"}
    assert find["run"] == 'python3 .github/scripts/find_plan.py "$STACK" "$(git rev-parse \'HEAD^{tree}\')"'
    download = step_using(up, "actions/download-artifact")
    assert download["if"] == "inputs.saved-plan"
    assert download["with"] == {"name": "${{ steps.plan.outputs.name }}",
                                "run-id": "${{ steps.plan.outputs.run_id }}",
                                "github-token": "${{ github.token }}", "path": ".plan"}
    names = [s.get("name", s.get("uses", "")) for s in up["steps"]]
    up_step = names.index("pulumi up with the policy pack")
    assert names.index(find["name"]) < names.index(download["name"]) < up_step
    run = step_running(up, "pulumi up")
    assert run["env"]["SAVED_PLAN"] == "${{ inputs.saved-plan }}"
    assert 'args+=(--plan ".plan/plan-$STACK.json")' in run["run"]
    assert '--policy-pack policy --policy-pack-config "policy/config/$STACK.json"' in run["run"]
    assert up["permissions"] == {"contents": "read", "id-token": "write", "actions": "read"}


def artifact(run_id, created, head=7, repository=7, expired=False):
    return {"expired": expired, "created_at": created,
            "workflow_run": {"id": run_id, "repository_id": repository, "head_repository_id": head}}


def test_the_plan_is_the_newest_unexpired_one_from_this_repositorys_own_branches():
    assert find_plan.pick([], 7) is None
    assert find_plan.pick([artifact(1, "2026-12-01T00:00:00Z", expired=True)], 7) is None
    assert find_plan.pick([artifact(1, "2026-12-01T00:00:00Z", head=99)], 7) is None  # a fork's run
    assert find_plan.pick([artifact(1, "2026-12-01T00:00:00Z"), artifact(2, "2026-12-02T00:00:00Z"),
                           artifact(3, "2026-12-03T00:00:00Z", head=99)], 7) == 2


def test_without_a_reviewed_plan_the_deploy_fails(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(find_plan, "list_artifacts", lambda *args: [])
    monkeypatch.setenv("GITHUB_REPOSITORY", "example-health/hipaa-aws")
    monkeypatch.setenv("REPOSITORY_ID", "7")
    monkeypatch.setenv("GH_TOKEN", "token")
    monkeypatch.setenv("GITHUB_OUTPUT", str(tmp_path / "output"))
    assert find_plan.main(["prod", "abc123"]) == 1
    assert "::error title=No reviewed plan for prod::" in capsys.readouterr().out
    assert not (tmp_path / "output").exists()
    monkeypatch.setattr(find_plan, "list_artifacts", lambda *args: [artifact(41, "2026-12-01T00:00:00Z")])
    assert find_plan.main(["prod", "abc123"]) == 0
    assert (tmp_path / "output").read_text() == "run_id=41\nname=pulumi-plan-prod-abc123\n"


# ---- plan case: code scanning available, or not ----

def test_code_scanning_off_the_upload_is_skipped_with_a_notice_and_the_gate_still_runs():
    preflight = load("pull-request.yml")["jobs"]["preflight"]
    detect = step_running(preflight, "code_scanning.py")
    gate = step_running(preflight, "make preflight")
    upload = step_using(preflight, "github/codeql-action/upload-sarif")
    order = [s.get("name") for s in preflight["steps"]]
    assert order.index(detect["name"]) < order.index(gate["name"]) < order.index(upload["name"])
    assert "if" not in gate and "continue-on-error" not in gate  # the gate runs and fails on its own
    assert upload["if"] == "${{ !cancelled() && steps.code-scanning.outputs.available == 'true' }}"
    assert detect["env"] == {"GH_TOKEN": "${{ github.token }}", "CODE_SCANNING": "${{ vars.CODE_SCANNING }}",
                             "VISIBILITY": "${{ github.event.repository.visibility }}"}
    reports = step_using(preflight, "actions/upload-artifact")
    assert reports["if"] == "${{ !cancelled() }}" and reports["with"]["path"] == "reports/"
    assert preflight["permissions"] == {"contents": "read", "security-events": "write"}


@pytest.mark.parametrize(("override", "visibility", "status", "available"), [
    ("", "public", None, True),        # public: always available, no API call
    ("", "private", 403, False),       # private without GitHub Code Security
    ("", "internal", 403, False),
    ("", "private", 404, True),        # enabled, no analysis yet
    ("", "private", 200, True),
    ("", "private", 500, False),       # unknown: skip with a notice rather than fail the gate
    ("false", "public", None, False),  # an admin's repository variable wins
    ("true", "private", None, True),
])
def test_code_scanning_detection(override, visibility, status, available):
    def probe():
        assert status is not None, "no API call expected"
        return status
    assert code_scanning.decide(override, visibility, probe)[0] is available


@pytest.mark.parametrize(("status", "available"), [(403, "false"), (404, "true")])
def test_code_scanning_step_output_and_notice(monkeypatch, tmp_path, capsys, status, available):
    monkeypatch.setattr(code_scanning, "probe", lambda *args: status)
    output = tmp_path / "output"
    assert code_scanning.main({"GITHUB_OUTPUT": str(output), "VISIBILITY": "private", "CODE_SCANNING": "",
                               "GITHUB_REPOSITORY": "example-health/hipaa-aws", "GH_TOKEN": "t"}) == 0
    assert output.read_text() == f"available={available}\n"
    notice = "::notice title=Code scanning unavailable::" in capsys.readouterr().out
    assert notice is (available == "false")


# ---- drift ----

def test_a_scheduled_drift_job_refreshes_in_preview_and_runs_the_same_pack_over_the_state():
    workflow = load("drift.yml")
    assert "schedule" in workflow["on"] and "workflow_dispatch" in workflow["on"]
    drift = workflow["jobs"]["drift"]
    check = step_running(drift, "pulumi refresh")["run"]
    assert ('pulumi refresh --preview-only --expect-no-changes --diff --non-interactive '
            '--stack "$STACK"') in check
    assert ('pulumi policy analyze --stack "$STACK" \\\n'
            '  --policy-pack policy --policy-pack-config "policy/config/$STACK.json"') in check
    report = step_running(drift, "aws sns publish")
    assert report["if"] == "steps.check.outputs.refresh != '0' || steps.check.outputs.policy != '0'"
    assert "hipaa-aws-$STACK-security-alerts" in report["run"] and report["run"].rstrip().endswith("exit 1")
    assert step_using(drift, "aws-actions/configure-aws-credentials")["with"]["role-to-assume"] == \
        "${{ vars[matrix.drift_role] }}"
    assert "environment" not in drift  # the drift role trusts main's token, no reviewer holds it up
    assert drift["permissions"] == {"contents": "read", "id-token": "write"}


def bootstrap_ci_roles() -> ModuleType:
    sys.path.insert(0, str(PROJECT_DIR / "bootstrap"))
    try:
        import ci_roles  # bootstrap/ci_roles.py, imported as the bootstrap program imports it
    finally:
        sys.path.remove(str(PROJECT_DIR / "bootstrap"))
    return ci_roles


def test_the_drift_role_reads_and_reports_only_and_trusts_main_only():
    """The drift job's token (no environment, main): `sub` is `repo:OWNER/REPO:ref:refs/heads/main`
    (GitHub Docs, "OpenID Connect reference", example subject claims)."""
    from components.aws_context import AwsContext
    ci_roles = bootstrap_ci_roles()
    ctx = AwsContext(account_id="123456789012", region="us-east-1", partition="aws",
                     dns_suffix="amazonaws.com")
    backend = ci_roles.StateBackend(bucket="state", state_key_alias="alias/state",
                                    secrets_key_alias="alias/sec")
    document = ci_roles.drift_policy(ctx, "prod", backend)
    preview = ci_roles.preview_policy(ctx, "prod", backend)
    by_sid = {s["Sid"]: s for s in document["Statement"]}
    assert by_sid["ReportDrift"]["Action"] == ["sns:Publish"]
    assert by_sid["ReportDrift"]["Resource"] == ["arn:aws:sns:*:123456789012:hipaa-aws-prod-security-alerts"]
    assert by_sid["EncryptedTopic"]["Condition"]["StringEquals"] == {
        "kms:ViaService": "sns.us-east-1.amazonaws.com"}
    assert by_sid["EncryptedTopic"]["Condition"]["ForAnyValue:StringEquals"] == {
        "kms:ResourceAliases": "alias/hipaa-aws-prod-alerting"}
    state = [s for s in preview["Statement"] if s["Sid"] != "ProgramDataSources"]
    assert [s for s in document["Statement"] if s["Sid"] not in ("ReportDrift", "EncryptedTopic")] == state
    assert all(s["Effect"] == "Allow" for s in document["Statement"])
    trust = ci_roles.github_trust_policy(ctx, "example-health/hipaa-aws", "ref:refs/heads/main")
    assert trust["Statement"][0]["Condition"]["StringEquals"][
        "token.actions.githubusercontent.com:sub"] == "repo:example-health/hipaa-aws:ref:refs/heads/main"
    assert 'github_trust_policy(args.aws, args.repository, "ref:refs/heads/main")' in \
        (PROJECT_DIR / "bootstrap" / "ci_roles.py").read_text()


def test_securityaudit_reads_configuration_not_data():
    """The drift role's managed policy (moto's copy of AWS's managed policies): no S3 object, secret
    value, parameter value or KMS decrypt, and nothing but Allow."""
    from moto.iam.aws_managed_policies import aws_managed_policies_data
    policy = json.loads(aws_managed_policies_data)[bootstrap_ci_roles().SECURITY_AUDIT]
    actions = {a.lower() for s in policy["Document"]["Statement"]
               for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
    assert {s["Effect"] for s in policy["Document"]["Statement"]} == {"Allow"}
    for forbidden in ("s3:getobject", "secretsmanager:getsecretvalue", "ssm:getparameter", "kms:decrypt",
                      "logs:getlogevents", "s3:*", "*"):
        assert forbidden not in actions, forbidden


# ---- supply chain ----

@pytest.mark.parametrize("name", WORKFLOW_FILES)
def test_least_privilege_and_oidc_only(name):
    workflow = load(name)
    assert workflow["permissions"] == {"contents": "read"}
    text = (WORKFLOWS / name).read_text()
    assert "aws-access-key-id" not in text and "AWS_SECRET_ACCESS_KEY" not in text
    for job_name, job, step in steps(workflow):
        if str(step.get("uses", "")).startswith("aws-actions/configure-aws-credentials@"):
            assert job["permissions"]["id-token"] == "write", job_name
            assert "role-to-assume" in step["with"], job_name
        if str(step.get("uses", "")).startswith("actions/checkout@"):
            assert step.get("with", {}).get("persist-credentials") is False, job_name
    for job in workflow["jobs"].values():
        granted = job.get("permissions", {})
        assert granted != "write-all" and "write-all" not in str(granted)


@pytest.mark.parametrize("name", WORKFLOW_FILES)
def test_actions_are_pinned_to_commit_shas_with_their_version(name):
    """A tag can be moved; a commit SHA cannot (GitHub Docs, "Security hardening for GitHub Actions":
    pin to a full-length commit SHA). Each SHA was read from the action's repository tag."""
    uses = re.findall(r"^\s*(?:-\s*)?uses:\s*(\S+)(.*)$", (WORKFLOWS / name).read_text(), re.MULTILINE)
    assert uses
    for action, comment in uses:
        if action.startswith("./"):
            continue
        assert re.fullmatch(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}", action), action
        assert re.fullmatch(r"\s+# v\d+\.\d+\.\d+", comment), (action, comment)


def test_one_pulumi_cli_version_everywhere_equal_to_the_locked_sdk():
    versions = {name: load(name)["env"]["PULUMI_VERSION"] for name in WORKFLOW_FILES}
    (version,) = set(versions.values())
    assert re.fullmatch(r"\d+\.\d+\.\d+", version)
    assert f"pulumi=={version} " in (PROJECT_DIR / "requirements.lock").read_text()
    for name in WORKFLOW_FILES:
        for _, _, step in steps(load(name)):
            if str(step.get("uses", "")).startswith("pulumi/actions@"):
                # pulumi/actions installs only the CLI when given pulumi-version and no command.
                assert step["with"] == {"pulumi-version": "${{ env.PULUMI_VERSION }}"}, name


def test_dependabot_keeps_actions_and_python_dependencies_current():
    config = yaml.safe_load((GITHUB / "dependabot.yml").read_text())
    assert config["version"] == 2
    ecosystems = {(u["package-ecosystem"], u["directory"]) for u in config["updates"]}
    assert ecosystems == {("github-actions", "/"), ("pip", "/"), ("pip", "/policy")}


@pytest.mark.parametrize("name", WORKFLOW_FILES)
def test_every_install_checks_hashes_and_the_deploy_installs_only_what_deploying_needs(name):
    for job_name, _, step in steps(load(name)):
        for line in step.get("run", "").splitlines():
            if "pip install" in line:
                assert "--require-hashes --no-deps -r " in line and ".lock" in line, (job_name, line)
            assert "make venv" not in line, job_name  # unlocked
    up = load("pulumi-up.yml")["jobs"]["up"]
    installs = [line.strip() for s in up["steps"] for line in s.get("run", "").splitlines()
                if "pip install" in line]
    assert [line.rsplit(" ", 1)[-1] for line in installs] == ["requirements.lock", "policy/requirements.lock"]


def locked(path: str) -> dict[str, tuple[str, tuple[str, ...]]]:
    """name -> (version, hashes) of a pip-compile --generate-hashes file."""
    entries: dict[str, tuple[str, tuple[str, ...]]] = {}
    text = (PROJECT_DIR / path).read_text()
    for block in re.split(r"\n(?=[A-Za-z0-9])", text):
        match = re.match(r"([A-Za-z0-9._-]+)==([^\s\\]+)", block)
        if match:
            hashes = tuple(sorted(re.findall(r"--hash=sha256:([0-9a-f]{64})", block)))
            entries[canonicalize_name(match.group(1))] = (match.group(2), hashes)
    return entries


def requirements(path: str) -> list[Requirement]:
    found = []
    for line in (PROJECT_DIR / path).read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line.startswith("-r "):
            found += requirements(str(Path(path).parent / line[3:].strip()))
        elif line:
            found.append(Requirement(line))
    return found


@pytest.mark.parametrize("lock", LOCKS)
def test_each_lock_pins_every_requirement_within_its_range_with_hashes(lock):
    pins = locked(lock)
    assert pins
    for name, (version, hashes) in pins.items():
        assert hashes, f"{lock}: {name} has no --hash"
        assert re.fullmatch(r"[0-9][0-9A-Za-z.+!-]*", version), (name, version)
    for requirement in requirements(LOCKS[lock]):
        name = canonicalize_name(requirement.name)
        assert name in pins, \
            f"{lock} lacks {requirement} of {LOCKS[lock]}: run .github/scripts/compile_locks.sh"
        assert requirement.specifier.contains(pins[name][0], prereleases=True), \
            f"{lock}: {name}=={pins[name][0]} is outside {requirement} ({LOCKS[lock]})"


def test_ci_tests_exactly_the_versions_it_deploys():
    dev = locked("requirements-dev.lock")
    for lock in ("requirements.lock", "policy/requirements.lock"):
        for name, entry in locked(lock).items():
            assert dev.get(name) == entry, f"{lock} and requirements-dev.lock differ on {name}"


def test_the_program_and_pack_locks_install_with_hash_checking_into_a_clean_venv(tmp_path):
    """pip's "Secure installs": with --require-hashes every requirement must be pinned and hashed, and
    every dependency present (pip refuses an unpinned one). A dry run downloads and checks each file.
    Only PyPI: this machine's pip configuration (mirrors, find-links, caps) is switched off."""
    venv.create(tmp_path / "venv", with_pip=True)
    env = {**os.environ, "PIP_CONFIG_FILE": os.devnull, "PIP_FIND_LINKS": "", "PIP_CONSTRAINT": "",
           "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    for lock in ("requirements.lock", "policy/requirements.lock"):
        pip = [str(tmp_path / "venv" / "bin" / "python"), "-m", "pip", "install", "--quiet"]
        result = subprocess.run([*pip, "--require-hashes", "--dry-run", "--report", "-",
                                 "-r", str(PROJECT_DIR / lock)],
                                capture_output=True, text=True, env=env, timeout=600)
        assert result.returncode == 0, result.stderr[-3000:]
        report = json.load(io.StringIO(result.stdout))
        installed = {canonicalize_name(i["metadata"]["name"]): i["metadata"]["version"]
                     for i in report["install"]}
        assert installed == {name: version for name, (version, _) in locked(lock).items()}, lock


def test_the_state_backend_bootstrap_passes_the_policy_pack():
    result = subprocess.run([sys.executable, "-m", "preflight", "prod", "--project-dir", "bootstrap"],
                            cwd=PROJECT_DIR, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "PASSED" in result.stdout and "mandatory violations: 0" in result.stdout


def test_every_deploy_refuses_placeholders_first_and_keeps_its_evidence_report_six_years():
    """The deploy refuses a stack whose files still hold a placeholder before any credential is
    used, and uploads the deploy's offline report into the account's Object Lock evidence bucket
    (bootstrap/evidence_bucket.py), with the checksum Object Lock puts need."""
    from bootstrap.evidence_bucket import evidence_bucket_name

    steps = yaml.safe_load((WORKFLOWS / "pulumi-up.yml").read_text())["jobs"]["up"]["steps"]
    runs = [str(step.get("run", "")) for step in steps]
    uses = [str(step.get("uses", "")) for step in steps]
    placeholder_step = next(i for i, run in enumerate(runs) if "preflight.placeholders" in run)
    credentials_step = next(i for i, use in enumerate(uses) if "configure-aws-credentials" in use)
    assert placeholder_step < credentials_step
    upload = next(run for run in runs if "aws s3 cp" in run)
    assert f"s3://{evidence_bucket_name('${ACCOUNT_ID}')}/${{STACK}}/" in upload
    assert "--checksum-algorithm SHA256" in upload and "-m preflight \"$STACK\" --output-dir reports" in upload
    assert runs.index(upload) > next(i for i, run in enumerate(runs) if "pulumi up" in run)
