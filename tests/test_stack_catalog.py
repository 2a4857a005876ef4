"""Stacks are data: the catalog lists what stacks/ holds, and one command adds a stack that every
derived list (tests, bootstrap, organization, preflight) picks up with no other edit.

The command runs on a temporary copy of the project's config files, never on the tree itself.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from preflight.program_runner import project_program, run_program
from preflight.stack_config import PROJECT_DIR, load_stack_config, stack_names
from stacks import catalog, new
from tests.conftest import STACKS
from tests.test_bootstrap_ci_roles import account_stacks

CONFIG_FILES = ("Pulumi.yaml", "stacks/Pulumi.*.yaml", "policy/config/*.json", "bootstrap/Pulumi.*.yaml",
                "organization/Pulumi.organization.yaml")
# A name and an account no stack has yet (dev in the shipped tree; the next one in a tree that added dev).
NEW = next(n for n in ("dev", "qa", "sandbox", "perf") if n not in catalog.names())
NEW_PHI = next(n for n in ("dr", "prod2", "clinic") if n not in catalog.names())
NEW_ACCOUNT = next(a for a in ("345678901234", "456789012345", "567890123456")
                   if a not in {s.account_id for s in catalog.stacks().values()})


def project_copy(tmp_path: Path) -> Path:
    """The project's config files (stack files, pack configs, bootstrap and organization stack files)."""
    root = tmp_path / "project"
    for pattern in CONFIG_FILES:
        for path in PROJECT_DIR.glob(pattern):
            target = root / path.relative_to(PROJECT_DIR)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(path, target)
    return root


def add(root: Path, *args: str) -> int:
    return new.main([*args, "--no-generate"], root=root)


def config_of(root: Path, name: str) -> dict:
    return yaml.safe_load((root / "stacks" / f"Pulumi.{name}.yaml").read_text())["config"]


# ---- the shipped stacks ----

def test_the_catalog_is_the_stack_files_and_each_has_its_pack_config_bootstrap_and_account():
    stacks = catalog.stacks()
    assert list(stacks) == stack_names() == STACKS
    assert {"prod", "staging"} <= set(stacks)
    for stack in stacks.values():
        assert (PROJECT_DIR / stack.pack_config).exists(), stack.name
        assert stack.classification in ("phi", "synthetic")
    assert catalog.problems() == []


def test_the_catalog_cidr_plan_refuses_overlapping_vpcs():
    prod, staging = catalog.stacks()["prod"], catalog.stacks()["staging"]
    clash = replace(staging, vpc_cidr="10.10.128.0/17")
    assert catalog.cidr_problems([prod, clash]) == [
        "stacks/Pulumi.staging.yaml: vpcCidr 10.10.128.0/17 overlaps prod's 10.10.0.0/16"]
    assert catalog.cidr_problems([prod, staging]) == []
    assert catalog.next_free_cidr(["10.10.0.0/16", "10.20.0.0/16"]) == "10.30.0.0/16"


# ---- one command adds a stack ----

def test_a_third_stack_is_one_command_and_every_derived_list_includes_it(tmp_path):
    root = project_copy(tmp_path)
    staging = catalog.stacks()["staging"]
    free = catalog.next_free_cidr([s.vpc_cidr for s in catalog.stacks().values() if s.vpc_cidr])
    assert add(root, NEW, "--from", "staging", "--account", NEW_ACCOUNT, "--region", "us-west-2") == 0

    assert NEW in catalog.names(root) and NEW in stack_names(root)
    dev = catalog.stacks(root)[NEW]
    assert (dev.classification, dev.account_id, dev.region, dev.vpc_cidr) == (
        "synthetic", NEW_ACCOUNT, "us-west-2", free)
    assert catalog.problems(root) == []
    # The bootstrap of the new account serves it, and only it (bootstrap/account_stacks.py).
    assert catalog.bootstrap_stacks(root)[NEW] == NEW_ACCOUNT
    served = account_stacks.resolve_account_stacks(NEW, "hipaa-aws-state", NEW_ACCOUNT,
                                                   account_stacks.read_program_stacks(root))
    assert served.stacks == (NEW,) and served.account_layer_stack == NEW
    # The organization creates and places its account (organization/).
    assert catalog.organization_environments(root)[NEW]["id"] == NEW_ACCOUNT
    # Its own account and region everywhere, nothing of staging's account.
    config = config_of(root, NEW)
    text = json.dumps(config)
    assert str(staging.account_id) not in text and str(staging.region) not in text
    assert config["hipaa-aws:keyAdministrators"][0] == \
        f"arn:aws:iam::{NEW_ACCOUNT}:role/hipaa-aws/ci/hipaa-aws-{NEW}-deploy"
    assert config["hipaa-aws:app"]["certificateArn"].startswith(f"arn:aws:acm:us-west-2:{NEW_ACCOUNT}:")
    # The program accepts it, and the pack passes it as the preflight judges it.
    run = run_program(project_program(PROJECT_DIR), load_stack_config(NEW, project_dir=root))
    assert run.stack_outputs["accountBaseline"] == "organization"
    result = subprocess.run(
        [sys.executable, "-m", "preflight", NEW, "--stack-file", str(root / dev.stack_file),
         "--policy-pack-config", str(root / dev.pack_config), "--format", "json"],
        cwd=PROJECT_DIR, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


def test_a_new_phi_stack_is_fenced_off_from_every_synthetic_stack(tmp_path):
    root = project_copy(tmp_path)
    assert add(root, NEW_PHI, "--from", "prod", "--account", NEW_ACCOUNT, "--region", "us-west-2") == 0
    config = config_of(root, NEW_PHI)
    assert config["hipaa-aws:dataClassification"] == "phi"
    # prod copies its backups to us-west-2; a stack there copies them back to us-east-1.
    assert config["hipaa-aws:backupCopyRegion"] == "us-east-1"
    staging = json.loads((root / "policy/config/staging.json").read_text())
    patterns = staging["hipaa-no-phi-access-from-synthetic-stack"]["phiResourcePatterns"]
    assert {f"arn:aws:s3:::hipaa-aws-{NEW_PHI}-*", f"arn:aws:*:*:{NEW_ACCOUNT}:*"} <= set(patterns)
    assert catalog.problems(root) == []


def test_a_new_stack_inherits_no_approval(tmp_path):
    """prod's exceptions were approved for prod: the new stack's copies carry the approver
    placeholder again, so the placeholder check refuses its `up` until each is reviewed for it."""
    root = project_copy(tmp_path)
    prod = root / "policy/config/prod.json"
    signed = json.loads(prod.read_text())
    for exception in signed["hipaa-policy-exceptions-approved"]["exceptions"]:
        exception["approver"] = "Jane Doe, HIPAA security officer"
    prod.write_text(json.dumps(signed, indent=2))
    assert add(root, NEW_PHI, "--from", "prod", "--account", NEW_ACCOUNT, "--region", "us-west-2") == 0
    copied = json.loads((root / f"policy/config/{NEW_PHI}.json").read_text())
    approvers = {e["approver"] for e in copied["hipaa-policy-exceptions-approved"]["exceptions"]}
    assert approvers == {"hipaa-security-officer"}


@pytest.mark.parametrize("args,refusal", [
    (["qa-1", "--from", "staging"], "stack name 'qa-1'"),                       # hyphen
    (["abcdefghijklm", "--from", "staging"], "stack name 'abcdefghijklm'"),     # 13 characters
    (["state", "--from", "staging"], "stack name 'state'"),                     # the bootstrap's own prefix
    (["staging", "--from", "prod"], "exists already"),
    (["qa", "--from", "nosuch"], "no such stack"),
    (["qa", "--from", "staging", "--account", "210987654321"], "pinned by staging already"),
    (["qa", "--from", "staging", "--region", "eu-west-1"], "allowedRegions"),
    (["qa", "--from", "staging", "--cidr", "10.20.64.0/18"], "overlaps the VPC range of staging"),
])
def test_the_command_refuses_and_writes_nothing(tmp_path, capsys, args, refusal):
    root = project_copy(tmp_path)
    before = {p: p.read_bytes() for p in root.rglob("*") if p.is_file()}
    defaults = {"--account": NEW_ACCOUNT, "--region": "us-west-2"}
    argv = args + [x for k, v in defaults.items() if k not in args for x in (k, v)]
    assert add(root, *argv) == 2
    assert refusal in capsys.readouterr().err
    assert {p: p.read_bytes() for p in root.rglob("*") if p.is_file()} == before


# ---- the stack name's length ----

def test_the_longest_stack_name_fits_every_name_the_program_builds(tmp_path):
    """The longest name the catalog allows (12 characters, bootstrap/ci_roles.py STACK_PATTERN), on a
    PHI stack with its own permission sets, keeps every fixed name inside AWS's limits: IAM role names
    64 (botocore `iam` roleNameType max), IAM policy names 128 (policyNameType), Identity Center
    permission set names 32 (botocore `sso-admin` PermissionSetName), load balancer and target group
    names 32 (botocore `elbv2` CreateLoadBalancer/CreateTargetGroup Name documentation), S3 bucket names
    63 (Amazon S3 user guide, "General purpose bucket naming rules")."""
    longest = "a" * 12
    assert catalog.name_problem(longest) is None and catalog.name_problem(longest + "a") is not None
    root = project_copy(tmp_path)
    assert add(root, longest, "--from", "prod", "--account", NEW_ACCOUNT, "--region", "us-west-2") == 0
    config = load_stack_config(longest, project_dir=root)
    values = dict(config.values)
    identity = json.loads(values["hipaa-aws:identityCenter"])
    values["hipaa-aws:identityCenter"] = json.dumps({**identity, "managedBy": "stack"})
    values["hipaa-aws:accountBaseline"] = "owned"  # a single-account stack creates its permission sets
    run = run_program(project_program(PROJECT_DIR), replace(config, values=values))
    limits = {("aws:iam/role:Role", "name"): 64, ("aws:iam/policy:Policy", "name"): 128,
              ("aws:ssoadmin/permissionSet:PermissionSet", "name"): 32,
              ("aws:lb/loadBalancer:LoadBalancer", "name"): 32,
              ("aws:lb/targetGroup:TargetGroup", "name"): 32,
              ("aws:s3/bucket:Bucket", "bucket"): 63}
    checked = {key: [r.inputs[key[1]] for r in run.resources
                     if r.type == key[0] and isinstance(r.inputs.get(key[1]), str)] for key in limits}
    assert checked[("aws:iam/role:Role", "name")] and checked[("aws:s3/bucket:Bucket", "bucket")]
    assert checked[("aws:ssoadmin/permissionSet:PermissionSet", "name")]
    too_long = {name: limits[key] for key, names in checked.items()
                for name in names if len(name) > limits[key]}
    assert too_long == {}
    assert any(longest in name for names in checked.values() for name in names)
