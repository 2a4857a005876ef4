"""The GitHub workflows a team copies: lint clean, gate every stack, OIDC only, pinned actions."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from preflight.stack_config import PROJECT_DIR, stack_names

WORKFLOWS = PROJECT_DIR / ".github" / "workflows"


def load(name: str) -> dict:
    # PyYAML reads the key `on` as True; normalise it back.
    document = yaml.safe_load((WORKFLOWS / name).read_text())
    if True in document:
        document["on"] = document.pop(True)
    return document


def steps(workflow: dict):
    for job_name, job in workflow["jobs"].items():
        for step in job.get("steps", []):
            yield job_name, job, step


def actionlint() -> str:
    found = shutil.which("actionlint") or str(Path(sys.executable).parent / "actionlint")
    assert Path(found).exists(), "actionlint is installed by requirements-dev.txt"
    return found


def test_every_workflow_lints_clean():
    files = sorted(str(p) for p in WORKFLOWS.glob("*.yml"))
    assert len(files) == 3
    result = subprocess.run([actionlint(), "-color=false", *files], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_stack_is_previewed_with_the_policy_pack_and_its_config():
    workflow = load("pull-request.yml")
    preview = workflow["jobs"]["preview"]
    matrix_stacks = sorted(entry["stack"] for entry in preview["strategy"]["matrix"]["include"])
    assert matrix_stacks == stack_names(), "add the new stack to the preview matrix"
    (pulumi,) = [s for s in preview["steps"] if str(s.get("uses", "")).startswith("pulumi/actions@")]
    assert pulumi["with"]["command"] == "preview"
    assert pulumi["with"]["policyPacks"] == "policy"
    assert pulumi["with"]["policyPackConfigs"] == "policy/config/${{ matrix.stack }}.json"
    assert pulumi["with"]["comment-on-pr"] is True
    # One state backend per account (bootstrap/ per account): each stack previews against its own.
    assert pulumi["with"]["cloud-url"] == "${{ vars[matrix.backend] }}"
    for entry in preview["strategy"]["matrix"]["include"]:
        assert entry["backend"] == f"PULUMI_BACKEND_URL_{entry['stack'].upper()}", entry
        assert entry["role"] == f"AWS_PREVIEW_ROLE_ARN_{entry['stack'].upper()}", entry
    for stack in matrix_stacks:
        assert (PROJECT_DIR / "policy" / "config" / f"{stack}.json").exists(), stack


def test_deploys_run_staging_then_prod_behind_an_environment_with_the_pack():
    deploy = load("deploy.yml")
    assert deploy["on"] == {"push": {"branches": ["main"]}}
    assert deploy["jobs"]["staging"]["needs"] == "gate"
    assert deploy["jobs"]["prod"]["needs"] == "staging"
    assert deploy["jobs"]["prod"]["with"] == {"stack": "prod", "environment": "prod"}
    up = load("pulumi-up.yml")["jobs"]["up"]
    assert up["environment"] == "${{ inputs.environment }}"
    assert up["concurrency"] == {"group": "pulumi-up-${{ inputs.stack }}", "cancel-in-progress": False}
    (pulumi,) = [s for s in up["steps"] if str(s.get("uses", "")).startswith("pulumi/actions@")]
    assert pulumi["with"]["command"] == "up"
    assert pulumi["with"]["policyPacks"] == "policy"
    assert pulumi["with"]["policyPackConfigs"] == "policy/config/${{ inputs.stack }}.json"
    deployed = {job["with"]["stack"] for job in deploy["jobs"].values() if "with" in job}
    assert deployed == set(stack_names())


@pytest.mark.parametrize("name", ["pull-request.yml", "deploy.yml", "pulumi-up.yml"])
def test_least_privilege_and_oidc_only(name):
    workflow = load(name)
    assert workflow["permissions"] == {"contents": "read"}
    text = (WORKFLOWS / name).read_text()
    assert "aws-access-key-id" not in text and "AWS_SECRET_ACCESS_KEY" not in text
    for job_name, job, step in steps(workflow):
        if str(step.get("uses", "")).startswith("aws-actions/configure-aws-credentials@"):
            assert job["permissions"]["id-token"] == "write", job_name
            assert "role-to-assume" in step["with"], job_name
    for job in workflow["jobs"].values():
        granted = job.get("permissions", {})
        assert granted != "write-all" and "write-all" not in str(granted)


@pytest.mark.parametrize("name", ["pull-request.yml", "deploy.yml", "pulumi-up.yml"])
def test_actions_are_pinned_to_exact_versions(name):
    for _, _, step in steps(load(name)):
        uses = step.get("uses")
        if uses and not uses.startswith("./"):
            assert re.search(r"@(v\d+\.\d+\.\d+|[0-9a-f]{40})$", uses), uses


def test_the_state_backend_bootstrap_passes_the_policy_pack():
    result = subprocess.run([sys.executable, "-m", "preflight", "prod", "--project-dir", "bootstrap"],
                            cwd=PROJECT_DIR, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "PASSED" in result.stdout and "mandatory violations: 0" in result.stdout
