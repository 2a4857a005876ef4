"""One bootstrap per AWS account: its state backend, its OIDC provider, its platform administrator role
and the CI roles of the stacks pinned to that account, nothing of any other account's.

Data-driven over the stack files (stacks/ and bootstrap/): each bootstrap stack runs under the mock
runtime with its own account as the caller (the mocks answer the pinned `aws:allowedAccountIds`, the
only account the real provider accepts). Both shapes a team may have are run on stack files written
here: two stacks sharing one account, and each stack in its own account.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any, Optional

import pulumi
import pytest
import yaml

from preflight.program_runner import ProgramError, ProgramRun, project_program, run_program
from preflight.stack_config import PROJECT_DIR, load_stack_config
from tests.test_bootstrap_ci_roles import (
    ATTACHMENT, BOOTSTRAP, BOOTSTRAP_STACKS, NAMESPACE, PROGRAM_STACKS, ROLE, STACKS, account_of,
    account_stacks, allows, attached_documents, bootstrap, bootstrap_account, ci_roles_of, deploy_documents,
    grants, role, state_bucket,
)

import platform_admin  # noqa: E402  (bootstrap/ is on sys.path through tests.test_bootstrap_ci_roles)

ACCOUNT_IN_ARN = re.compile(r"arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:(\d{12}):")
ACCOUNT_IN_NAME = re.compile(r"(?<!\d)(\d{12})(?!\d)")


def served_stacks(bootstrap_stack: str) -> set[str]:
    """The program stacks whose stack files pin this bootstrap stack's account."""
    return {s for s in STACKS if account_of(s) == bootstrap_account(bootstrap_stack)}


def ci_role_names(run: ProgramRun) -> set[str]:
    return {r.inputs["name"] for r in ci_roles_of(run)}


def accounts_named(run: ProgramRun) -> set[str]:
    """Every account id a registered input names (ARNs, and bucket names, which carry the account),
    except who may assume the platform administrator role: the organization's management account's
    administrators (test_only_the_organizations_administrators_may_assume_it)."""
    found: set[str] = set()
    for r in run.resources:
        inputs = r.inputs
        if r.type == ROLE and inputs.get("name") == platform_admin.ROLE_NAME:
            inputs = {k: v for k, v in inputs.items() if k != "assumeRolePolicy"}
        text = json.dumps(inputs)
        found |= set(ACCOUNT_IN_ARN.findall(text))
        for key in ("bucket", "name"):
            if isinstance(r.inputs.get(key), str) and r.type.startswith("aws:s3/"):
                found |= set(ACCOUNT_IN_NAME.findall(r.inputs[key]))
    return found


# ---- the shipped stack files ----

def test_every_account_has_exactly_one_bootstrap_and_every_bootstrap_serves_a_stack():
    accounts = [bootstrap_account(b) for b in BOOTSTRAP_STACKS]
    assert len(set(accounts)) == len(accounts), "two bootstrap stacks pin the same account"
    assert {account_of(s) for s in STACKS} == set(accounts)


@pytest.mark.parametrize("bootstrap_stack", BOOTSTRAP_STACKS)
def test_the_roles_are_exactly_those_of_the_stacks_pinned_to_the_account(bootstrap_stack):
    run = bootstrap(bootstrap_stack)
    served = served_stacks(bootstrap_stack)
    assert served
    assert ci_role_names(run) == {f"hipaa-aws-{s}-{kind}" for s in served
                                  for kind in ("preview", "deploy", "drift")}
    assert set(run.stack_outputs["stacks"]) == served
    assert set(run.stack_outputs["environments"]) == served


@pytest.mark.parametrize("bootstrap_stack", BOOTSTRAP_STACKS)
def test_nothing_of_another_account_is_created_or_named(bootstrap_stack):
    """The state bucket, the keys, the roles and every ARN in their policies are of this account only."""
    run = bootstrap(bootstrap_stack)
    account = bootstrap_account(bootstrap_stack)
    assert accounts_named(run) == {account}
    buckets = {r.inputs["bucket"] for r in run.of_type("aws:s3/bucket:Bucket")}
    assert state_bucket(account) in buckets
    # No stack pinned elsewhere has a role, a state path or a bucket here.
    for other in set(STACKS) - served_stacks(bootstrap_stack):
        assert not [n for n in ci_role_names(run) if n.startswith(f"hipaa-aws-{other}-")]
        assert f"/{other}." not in json.dumps([r.inputs for r in run.resources])
        assert state_bucket(account_of(other)) not in buckets


def test_each_stacks_roles_exist_in_its_own_account_only():
    for stack in STACKS:
        holders = [b for b in BOOTSTRAP_STACKS if f"hipaa-aws-{stack}-deploy" in ci_role_names(bootstrap(b))]
        assert [bootstrap_account(b) for b in holders] == [account_of(stack)], stack


@pytest.mark.parametrize("bootstrap_stack", BOOTSTRAP_STACKS)
def test_the_account_layer_owner_is_read_from_the_stack_files(bootstrap_stack):
    """The owner is the stack pinned here whose accountBaseline is owned or organization (O6's
    components/settings.py ACCOUNT_LAYER_BASELINES); only its deploy role manages the layer."""
    from components.settings import ACCOUNT_LAYER_BASELINES

    owners = {s for s in served_stacks(bootstrap_stack)
              if PROGRAM_STACKS[s].account_baseline in ACCOUNT_LAYER_BASELINES}
    assert len(owners) <= 1
    for stack in served_stacks(bootstrap_stack):
        manages = any(grants(s, "s3:PutAccountPublicAccessBlock") for s in allows(deploy_documents(stack)))
        assert manages == (stack in owners), stack


# ---- both shapes, on stack files written here ----

SHARED, PROD_ACCOUNT, STAGING_ACCOUNT = "111111111111", "222222222222", "333333333333"


def write_program(tmp_path: Path, stacks: dict[str, tuple[Any, Optional[str]]]) -> Path:
    """A program directory whose stack files pin the given (accounts, accountBaseline)."""
    (tmp_path / "Pulumi.yaml").write_text("name: hipaa-aws\nstackConfigDir: stacks\n")
    (tmp_path / "stacks").mkdir()
    for name, (accounts, baseline) in stacks.items():
        config: dict[str, Any] = {"aws:region": "us-east-1", "aws:allowedAccountIds": accounts}
        if baseline:
            config["hipaa-aws:accountBaseline"] = baseline
        (tmp_path / "stacks" / f"Pulumi.{name}.yaml").write_text(yaml.safe_dump({"config": config}))
    return tmp_path


def run_in(monkeypatch, program_dir: Path, account: str, overrides: Optional[dict[str, Any]] = None,
           preview: bool = False) -> ProgramRun:
    """The first bootstrap stack file, pinned to `account` (the caller), reading `program_dir`'s stacks."""
    monkeypatch.setattr(account_stacks, "PROGRAM_DIR", program_dir)
    config = load_stack_config(BOOTSTRAP_STACKS[0], project_dir=BOOTSTRAP)
    values = {**config.values, "aws:allowedAccountIds": json.dumps([account]),
              f"{NAMESPACE}:keyAdministratorRoleArns": json.dumps([f"arn:aws:iam::{account}:role/admin"])}
    for key, value in (overrides or {}).items():
        values[f"{NAMESPACE}:{key}"] = value if isinstance(value, str) else json.dumps(value)
    return run_program(project_program(BOOTSTRAP), replace(config, values=values), preview)


def failure(monkeypatch, program_dir: Path, account: str, overrides: Optional[dict[str, Any]] = None) -> str:
    with pytest.raises(ProgramError) as caught:
        run_in(monkeypatch, program_dir, account, overrides)
    assert isinstance(caught.value.cause, pulumi.RunError)
    return str(caught.value.cause)


def layer_managers(run: ProgramRun, action: str = "s3:PutAccountPublicAccessBlock") -> set[str]:
    """The stacks whose deploy role may call `action` (by default: set the account's S3 public access
    block, which the account layer's owner does in both an owned and an organization account)."""
    deploy_roles = [r.inputs["name"] for r in ci_roles_of(run) if r.inputs["name"].endswith("-deploy")]
    return {name.removeprefix("hipaa-aws-").removesuffix("-deploy") for name in deploy_roles
            if any(grants(s, action) for s in allows(attached_documents(run, name)))}


def test_two_stacks_in_one_account_share_one_bootstrap(monkeypatch, tmp_path):
    program = write_program(tmp_path, {"prod": ([SHARED], "owned"), "staging": ([SHARED], "external")})
    run = run_in(monkeypatch, program, SHARED)
    assert ci_role_names(run) == {f"hipaa-aws-{s}-{k}" for s in ("prod", "staging")
                                  for k in ("preview", "deploy", "drift")}
    assert layer_managers(run) == {"prod"}
    assert accounts_named(run) == {SHARED}


@pytest.mark.parametrize("baseline", ["owned", "organization"])
def test_each_stack_in_its_own_account_gets_its_own_bootstrap(monkeypatch, tmp_path, baseline):
    program = write_program(tmp_path, {"prod": ([PROD_ACCOUNT], baseline),
                                       "staging": ([STAGING_ACCOUNT], baseline)})
    for account, stack in ((PROD_ACCOUNT, "prod"), (STAGING_ACCOUNT, "staging")):
        run = run_in(monkeypatch, program, account)
        assert ci_role_names(run) == {f"hipaa-aws-{stack}-{r}" for r in ("preview", "deploy", "drift")}
        assert layer_managers(run) == {stack}
        # The organization runs GuardDuty (and Security Hub, Access Analyzer) in its member accounts.
        assert layer_managers(run, "guardduty:CreateDetector") == ({stack} if baseline == "owned" else set())
        assert accounts_named(run) == {account}
        assert run.stack_outputs["stateBucket"] == state_bucket(account)


def test_the_stacks_setting_narrows_but_never_reaches_another_account(monkeypatch, tmp_path):
    program = write_program(tmp_path, {"prod": ([SHARED], "owned"), "staging": ([SHARED], "external"),
                                       "qa": ([STAGING_ACCOUNT], "owned")})
    run = run_in(monkeypatch, program, SHARED, {"stacks": ["staging"]})
    assert ci_role_names(run) == {f"hipaa-aws-staging-{r}" for r in ("preview", "deploy", "drift")}
    assert layer_managers(run) == set()  # the owner, prod, is not served here
    message = failure(monkeypatch, program, SHARED, {"stacks": ["prod", "qa"]})
    assert message.startswith(
        f"stack '{BOOTSTRAP_STACKS[0]}': the stacks of account {SHARED} cannot be served:")
    (problem,) = message.splitlines()[1:]
    # One line naming the stack, the account its file pins and this account.
    assert problem == (f"  {NAMESPACE}:stacks names qa, which is pinned to account {STAGING_ACCOUNT} "
                       f"(stacks/Pulumi.qa.yaml), not this account ({SHARED}): its CI roles and state belong "
                       f"to the bootstrap of account {STAGING_ACCOUNT}")


@pytest.mark.parametrize("stacks,setting,expected", [
    ({"prod": (["111111111111"], "owned")}, ["qa"],
     "stacks names qa, which has no stack file (stacks/Pulumi.qa.yaml): its account is unknown"),
    ({"prod": (["111111111111"], "owned"), "qa": ("111111111111", "external")}, None,
     "stacks/Pulumi.qa.yaml does not pin exactly one account"),
    ({"prod": (["111111111111", "222222222222"], "owned")}, None,
     "stacks/Pulumi.prod.yaml does not pin exactly one account"),
    ({"prod": (["111111111111"], "owned"), "staging": (["111111111111"], "organization")}, None,
     "stacks prod, staging are all pinned to account 111111111111 with accountBaseline owned or "
     "organization"),
    ({"prod": (["222222222222"], "owned")}, None, "no stack file pins this account (111111111111)"),
    ({"prod-eu": (["111111111111"], "owned")}, None, "stack prod-eu cannot get CI roles"),
])
def test_what_cannot_be_served_is_refused_with_the_reason(monkeypatch, tmp_path, stacks, setting, expected):
    program = write_program(tmp_path, stacks)
    message = failure(monkeypatch, program, SHARED, {"stacks": setting} if setting else None)
    assert expected in message, message


# ---- the platform administrator role ----

ADMIN_PERMISSION_SET_ROLE = ("arn:aws:iam::701234567890:role/aws-reserved/sso.amazonaws.com/"
                             "AWSReservedSSO_AdministratorAccess_0123456789abcdef")


def platform_admin_role(run: ProgramRun):
    return role(run, platform_admin.ROLE_NAME)


def assumable_by(trust: dict, principal_arn: str, account: str, mfa: bool) -> bool:
    """Whether an AssumeRole by `principal_arn` (of `account`) matches an Allow of the trust policy
    (IAM: a Principal naming an account's root delegates to that account; ArnLike globbing)."""
    for statement in trust["Statement"]:
        principals = statement["Principal"]["AWS"]
        principals = principals if isinstance(principals, list) else [principals]
        if principal_arn not in principals and f"arn:aws:iam::{account}:root" not in principals:
            continue
        condition = statement.get("Condition", {})
        like = condition.get("ArnLike", {}).get("aws:PrincipalArn")
        if like is not None and not any(fnmatchcase(principal_arn, p) for p in like):
            continue
        if condition.get("Bool", {}).get("aws:MultiFactorAuthPresent") == "true" and not mfa:
            continue
        return True
    return False


@pytest.mark.parametrize("bootstrap_stack", BOOTSTRAP_STACKS)
def test_the_platform_admin_role_is_the_one_the_stack_files_name(bootstrap_stack):
    run = bootstrap(bootstrap_stack)
    account = bootstrap_account(bootstrap_stack)
    admin = platform_admin_role(run)
    arn = f"arn:aws:iam::{account}:role{admin.inputs['path']}{admin.inputs['name']}"
    assert arn == f"arn:aws:iam::{account}:role/hipaa-aws-platform-admin"
    assert run.stack_outputs["platformAdminRoleArn"] == admin.outputs["arn"]
    assert admin.inputs["maxSessionDuration"] == 3600
    for stack in served_stacks(bootstrap_stack):  # every stack here names it a key administrator
        administrators = yaml.safe_load((PROJECT_DIR / "stacks" / f"Pulumi.{stack}.yaml").read_text())[
            "config"].get("hipaa-aws:keyAdministrators") or []
        assert arn in administrators, stack
    # AdministratorAccess, an AWS managed policy at path / (moto ships AWS's managed-policy list).
    from moto.iam.aws_managed_policies import aws_managed_policies_data

    attached = [a.inputs["policyArn"] for a in run.of_type(ATTACHMENT)
                if admin.urn in a.property_dependencies["role"]]
    assert attached == ["arn:aws:iam::aws:policy/AdministratorAccess"]
    assert json.loads(aws_managed_policies_data)["AdministratorAccess"]["Path"] == "/"


@pytest.mark.parametrize("bootstrap_stack", BOOTSTRAP_STACKS)
def test_only_the_organizations_administrators_may_assume_it(bootstrap_stack):
    """Identity Center provisions a permission set's role as AWSReservedSSO_<name>_<suffix> at
    /aws-reserved/sso.amazonaws.com/ or .../sso.amazonaws.com/<region>/ (IAM Identity Center user guide,
    "Referencing permission sets in resource policies, Amazon EKS, and AWS KMS")."""
    trust = json.loads(platform_admin_role(bootstrap(bootstrap_stack)).inputs["assumeRolePolicy"])
    setting = json.loads(load_stack_config(bootstrap_stack, project_dir=BOOTSTRAP).values[
        f"{NAMESPACE}:platformAdminPermissionSet"])
    management = setting["managementAccountId"]
    admin_role = ADMIN_PERMISSION_SET_ROLE.replace("701234567890", management)
    assert assumable_by(trust, admin_role, management, mfa=False)  # Identity Center carries no MFA context
    assert assumable_by(trust, admin_role.replace("sso.amazonaws.com/", "sso.amazonaws.com/eu-west-2/"),
                        management, mfa=False)
    for other in (admin_role.replace("AdministratorAccess", "ReadOnlyAccess"),
                  admin_role.replace("AWSReservedSSO_", "x/AWSReservedSSO_").replace("aws-reserved/", ""),
                  # a set whose name only starts with the administrator set's name
                  admin_role.replace("AdministratorAccess_", "AdministratorAccess_Lite_"),
                  f"arn:aws:iam::{management}:role/AdministratorAccess",
                  f"arn:aws:iam::{management}:role/OrganizationAccountAccessRole"):
        assert not assumable_by(trust, other, management, mfa=True), other
    elsewhere = admin_role.replace(management, "999999999999")
    assert not assumable_by(trust, elsewhere, "999999999999", mfa=True)


def test_the_management_account_is_the_organizations():
    """The permission set lives in the organization's management account: the one organization/'s stack
    file pins."""
    organization = PROJECT_DIR / "organization" / "Pulumi.organization.yaml"
    (management,) = yaml.safe_load(organization.read_text())["config"]["aws:allowedAccountIds"]
    for bootstrap_stack in BOOTSTRAP_STACKS:
        setting = json.loads(load_stack_config(bootstrap_stack, project_dir=BOOTSTRAP).values[
            f"{NAMESPACE}:platformAdminPermissionSet"])
        assert setting["managementAccountId"] == management, bootstrap_stack


def test_named_principals_need_mfa(monkeypatch, tmp_path):
    """IAM principals in platformAdminPrincipals only with MFA (IAM user guide, "Configuring MFA-protected
    API access": aws:MultiFactorAuthPresent)."""
    program = write_program(tmp_path, {"prod": ([SHARED], "owned")})
    person = f"arn:aws:iam::{SHARED}:role/break-glass-operators"
    run = run_in(monkeypatch, program, SHARED, {"platformAdminPrincipals": [person]})
    trust = json.loads(platform_admin_role(run).inputs["assumeRolePolicy"])
    assert assumable_by(trust, person, SHARED, mfa=True)
    assert not assumable_by(trust, person, SHARED, mfa=False)
    assert not assumable_by(trust, f"arn:aws:iam::{SHARED}:role/someone-else", SHARED, mfa=True)
    # The stack file's permission set stays trusted beside them.
    assert [s["Sid"] for s in trust["Statement"]] == ["IdentityCenterAdministrators",
                                                      "NamedPrincipalsWithMfa"]
    with pytest.raises(ValueError):
        platform_admin.platform_admin_trust(run_context(SHARED), (), None)


def run_context(account: str):
    from components.aws_context import AwsContext

    return AwsContext(account_id=account, region="us-east-1", partition="aws", dns_suffix="amazonaws.com")


@pytest.mark.parametrize("bootstrap_stack", BOOTSTRAP_STACKS)
def test_the_platform_admin_role_is_protected(bootstrap_stack):
    """The stacks' key policies name it: a policy stores a role as its unique id, so a deleted and
    recreated role would no longer be the administrator they name (IAM "Policy elements: Principal")."""
    run = bootstrap(bootstrap_stack)
    admin = platform_admin_role(run)
    assert admin.protect is True
    (attachment,) = [a for a in run.of_type(ATTACHMENT) if admin.urn in a.property_dependencies["role"]]
    assert attachment.protect is True


@pytest.mark.parametrize("stack", STACKS)
def test_no_ci_role_may_change_or_pass_the_platform_admin_role(stack):
    """The deploy role writes IAM only under role/hipaa-aws/<stack>/: the administrator role at / is out
    of its reach (else a CI run could widen who may assume it, or hand it to a service)."""
    from tests.test_bootstrap_ci_roles import is_allowed, preview_documents

    admin = f"arn:aws:iam::{account_of(stack)}:role/hipaa-aws-platform-admin"
    for documents in (deploy_documents(stack), preview_documents(stack)):
        for action in ("iam:UpdateAssumeRolePolicy", "iam:AttachRolePolicy", "iam:DetachRolePolicy",
                       "iam:PutRolePolicy", "iam:DeleteRole", "iam:TagRole", "iam:UpdateRole"):
            assert not is_allowed(documents, action, admin, {}), (stack, action)
        for service in ("ecs-tasks.amazonaws.com", "backup.amazonaws.com", "config.amazonaws.com"):
            assert not is_allowed(documents, "iam:PassRole", admin, {"iam:PassedToService": service})
        assert not is_allowed(documents, "sts:AssumeRole", admin, {})
