"""The organization project (`organization/`, issue 17): it runs under mocks, builds the OU tree, never
closes an account, puts each account in its OU, gives each member account its own pinned provider,
refuses bad settings with one clear message, and passes the offline preflight.

Sources of the AWS facts pinned here:
- SDK docstring of `aws.organizations.Account` (pulumi-aws 7.x): deleting the resource only removes the
  account from the organization unless `close_on_deletion` is true; `role_name` cannot be read back after
  creation; changing `iam_user_access_to_billing` recreates the account.
- terraform-provider-aws internal/service/organizations/account.go (the provider pulumi-aws wraps): Delete
  calls CloseAccount only when close_on_deletion is set; email, name, role_name and
  iam_user_access_to_billing are ForceNew.
- botocore `organizations` model: shapes AccountId, OrganizationId, RootId, OrganizationalUnitId, Email,
  CreateAccountName, PolicyType.
- AWS Organizations user guide, "AWS services that you can use with AWS Organizations" and each service's
  page (GuardDuty: guardduty.amazonaws.com and malware-protection.guardduty.amazonaws.com; AWS Config:
  config.amazonaws.com and config-multiaccountsetup.amazonaws.com; "AWS Control Tower and AWS
  Organizations": controltower.amazonaws.com).
- AWS Control Tower user guide, "How AWS Control Tower works with roles to create and manage accounts":
  Control Tower has Organizations create AWSControlTowerExecution in each account and works through it.
- Pulumi developer docs, architecture/import.md: a resource with the `import` option that is already in
  the state with that id is treated like any other resource (so ids can be added after the first run).
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any, Optional

import pulumi
import pytest
import yaml

from components.organization.settings import NAMESPACE, parse_organization_settings
from components.organization.structure import (
    CONTROL_TOWER_PRINCIPAL, CONTROL_TOWER_ROLE, ORGANIZATION_ACCESS_ROLE, SERVICE_ACCESS_PRINCIPALS,
)
from preflight import __main__ as preflight_main
from preflight.program_runner import ProgramError, ProgramRun, project_program, run_program
from preflight.stack_config import PROJECT_DIR, StackConfig, load_stack_config
from stacks import catalog

ORG_DIR = PROJECT_DIR / "organization"
STACK = "organization"
ACCOUNT = "aws:organizations/account:Account"
OU = "aws:organizations/organizationalUnit:OrganizationalUnit"
ORGANIZATION = "aws:organizations/organization:Organization"
PROVIDER = "pulumi:providers:aws"
# A stack name with no stack file and no account entry yet (the shipped tree has neither for dev; a tree
# that added dev with `python -m stacks.new` uses the next one).
NEW = next(n for n in ("dev", "qa", "sandbox", "perf") if n not in catalog.names()
           and n not in catalog.organization_environments())


def org_config(overrides: Optional[dict[str, Any]] = None, removed: tuple[str, ...] = ()) -> StackConfig:
    """The organization stack file's config with some project keys replaced or removed."""
    config = load_stack_config(STACK, project_dir=ORG_DIR)
    values = {k: v for k, v in config.values.items() if not (k.startswith(f"{NAMESPACE}:")
                                                              and k.split(":", 1)[1] in removed)}
    for key, value in (overrides or {}).items():
        values[f"{NAMESPACE}:{key}"] = value if isinstance(value, str) else json.dumps(value)
    return replace(config, values=values)


def run_org(overrides: Optional[dict[str, Any]] = None, removed: tuple[str, ...] = (),
            preview: bool = False) -> ProgramRun:
    return run_program(project_program(ORG_DIR), org_config(overrides, removed), preview=preview)


def stack_value(key: str) -> Any:
    return json.loads(load_stack_config(STACK, project_dir=ORG_DIR).values[f"{NAMESPACE}:{key}"])


def home_region() -> str:
    return load_stack_config(STACK, project_dir=ORG_DIR).values[f"{NAMESPACE}:homeRegion"]


def first_run_accounts() -> dict:
    """The stack file's accounts without ids: a new organization's first `pulumi up`."""
    accounts = stack_value("accounts")
    for account in [accounts["logArchive"], accounts["audit"], *accounts["environments"].values()]:
        account.pop("id", None)
    return accounts


@pytest.fixture(scope="module")
def org() -> ProgramRun:
    return run_org()


def of_type(run: ProgramRun, type_: str) -> dict[str, Any]:
    return {r.name: r for r in run.resources if r.type == type_}


def classification(stack: str) -> str:
    document = yaml.safe_load((PROJECT_DIR / "stacks" / f"Pulumi.{stack}.yaml").read_text())
    return document["config"]["hipaa-aws:dataClassification"]


# ---- the organization and its OUs ----

def test_organization_has_all_features_trusted_access_and_the_three_policy_types(org):
    (organization,) = of_type(org, ORGANIZATION).values()
    inputs = organization.inputs
    assert inputs["featureSet"] == "ALL"  # SCPs, RCPs and tag policies need all features
    assert set(inputs["awsServiceAccessPrincipals"]) == set(SERVICE_ACCESS_PRINCIPALS)
    assert set(inputs["enabledPolicyTypes"]) == {
        "SERVICE_CONTROL_POLICY", "RESOURCE_CONTROL_POLICY", "TAG_POLICY"}
    # Nothing here deletes the organization.
    assert organization.protect is True and organization.retain_on_delete is True


def test_ou_tree(org):
    ous = {r.name.removeprefix("organization-"): r for r in of_type(org, OU).values()}
    root = org.stack_outputs["rootId"]
    assert {k: r.inputs["name"] for k, r in ous.items()} == {
        "security": "Security", "infrastructure": "Infrastructure", "workloads": "Workloads",
        "workloadsPhi": "PHI", "workloadsNonPhi": "NonPHI", "suspended": "Suspended"}
    for top in ("security", "infrastructure", "workloads", "suspended"):
        assert ous[top].inputs["parentId"] == root, top
    for child in ("workloadsPhi", "workloadsNonPhi"):
        assert ous[child].inputs["parentId"] == ous["workloads"].id, child
    assert org.stack_outputs["ouIds"] == {k: r.id for k, r in ous.items()}


# ---- accounts ----

def test_no_account_is_ever_closed_on_destroy(org):
    """Three independent guards, each enough: the provider's delete closes an account only with
    close_on_deletion (SDK docstring; account.go resourceAccountDelete), retain_on_delete means the
    engine never calls delete, protect makes it refuse to delete or replace."""
    accounts = of_type(org, ACCOUNT)
    assert len(accounts) == 2 + len(stack_value("accounts")["environments"])
    for name, account in accounts.items():
        assert account.inputs["closeOnDeletion"] is False, name
        assert account.retain_on_delete is True, name
        assert account.protect is True, name


def test_create_only_account_inputs_are_ignored_so_no_account_is_ever_replaced(org):
    """A ForceNew input would replace (create a new account, drop the old one): account.go marks email,
    name, role_name and iam_user_access_to_billing ForceNew, and role_name cannot be read back."""
    for name, account in of_type(org, ACCOUNT).items():
        assert {"email", "name", "roleName", "iamUserAccessToBilling"} <= set(account.ignore_changes), name
        assert account.inputs["iamUserAccessToBilling"] == "DENY", name
        assert account.inputs["roleName"] == ORGANIZATION_ACCESS_ROLE, name


def test_each_account_is_in_its_ou_phi_by_the_environment_stack_file(org):
    ous = org.stack_outputs["ouIds"]
    accounts = of_type(org, ACCOUNT)
    assert accounts["organization-logArchive"].inputs["parentId"] == ous["security"]
    assert accounts["organization-audit"].inputs["parentId"] == ous["security"]
    environments = stack_value("accounts")["environments"]
    assert {"prod", "staging"} <= set(environments)
    for stack in environments:
        expected = ous["workloadsPhi"] if classification(stack) == "phi" else ous["workloadsNonPhi"]
        assert accounts[f"organization-{stack}"].inputs["parentId"] == expected, stack
    assert classification("prod") == "phi" and classification("staging") == "synthetic"


def test_a_third_stack_is_one_entry_and_its_classification_places_it():
    accounts = stack_value("accounts")
    accounts["environments"][NEW] = {"email": f"aws-{NEW}@example-health.com", "name": f"hipaa-aws {NEW}",
                                     "dataClassification": "synthetic"}
    run = run_org({"accounts": accounts})
    dev = of_type(run, ACCOUNT)[f"organization-{NEW}"]
    assert dev.inputs["parentId"] == run.stack_outputs["ouIds"]["workloadsNonPhi"]
    assert run.stack_outputs["environmentAccountIds"][NEW] == dev.id
    assert f"member-{NEW}" in of_type(run, PROVIDER)


def test_adopted_accounts_keep_their_ids_and_exports_pin_the_environment_stacks(org):
    accounts = stack_value("accounts")
    assert org.stack_outputs["environmentAccountIds"] == {
        stack: account["id"] for stack, account in accounts["environments"].items()}
    assert org.stack_outputs["logArchiveAccountId"] == accounts["logArchive"]["id"]
    assert org.stack_outputs["auditAccountId"] == accounts["audit"]["id"]
    assert org.stack_outputs["organizationId"] == stack_value("existingOrganization")["organizationId"]
    assert org.stack_outputs["rootId"] == stack_value("existingOrganization")["rootId"]


# ---- providers ----

def test_one_pinned_provider_per_member_account_assuming_the_access_role(org):
    providers = of_type(org, PROVIDER)
    account_ids = {**org.stack_outputs["environmentAccountIds"],
                   "logArchive": org.stack_outputs["logArchiveAccountId"],
                   "audit": org.stack_outputs["auditAccountId"]}
    for key, account_id in account_ids.items():
        inputs = providers[f"member-{key}"].inputs
        role_arn = f"arn:aws:iam::{account_id}:role/{ORGANIZATION_ACCESS_ROLE}"
        assert json.loads(inputs["allowedAccountIds"]) == [account_id], key
        assert [r["roleArn"] for r in json.loads(inputs["assumeRoles"])] == [role_arn], key
        assert inputs["region"] == home_region(), key
        assert "defaultTags" not in inputs, key  # tags are explicit (components.tagging)
        assert org.stack_outputs["accountRoleArns"][key] == role_arn
    management = providers["management"].inputs
    assert json.loads(management["allowedAccountIds"]) == [org.stack_outputs["managementAccountId"]]
    assert "assumeRoles" not in management


def provider_name(resource) -> str:
    """The provider a resource is created with: `default_<version>` or the explicit provider's name."""
    return resource.provider.split("::")[-2]


def test_components_deploy_through_the_right_account(org):
    """Organizations calls (policies, attachments, delegated administrators, the services' admin
    account designations) run in the management account only (Organizations user guide: only the
    management account manages policies and delegated administrators); the trail's bucket and key
    live in the log-archive account, the finding topic and detectors in the audit account. Nothing
    is deployed into an environment account by this project."""
    management_only = ("aws:organizations/", "organizationAdminAccount:OrganizationAdminAccount")
    by_provider: dict[str, set[str]] = {}
    for resource in org.resources:
        if not resource.custom or resource.type == PROVIDER:
            continue
        name = provider_name(resource)
        by_provider.setdefault(name, set()).add(resource.type)
        if any(part in resource.type for part in management_only):
            assert name == "management" or name.startswith("default_"), (resource.name, name)
    # The management account's providers: the default one, `management` (home region) and, when an
    # Identity Center instance is given, `identity-center` (the instance's region).
    providers = of_type(org, PROVIDER)
    in_management = {n for n in by_provider if n.startswith("default_")
                     or json.loads(providers[n].inputs.get("allowedAccountIds", "[]")) == [MANAGEMENT]}
    assert {n for n in in_management if not n.startswith("default_")} <= {"management", "identity-center"}
    assert set(by_provider) - in_management == {"member-logArchive", "member-audit"}
    assert "aws:s3/bucket:Bucket" in by_provider["member-logArchive"]
    assert "aws:cloudtrail/trail:Trail" in by_provider["management"]
    assert {"aws:sns/topic:Topic", "aws:guardduty/detector:Detector"} <= by_provider["member-audit"]


# ---- first run of a new organization, Control Tower, adoption lists ----

def test_first_run_creates_the_organization_and_accounts_and_waits_with_the_trail():
    run = run_org({"accounts": first_run_accounts()}, removed=("existingOrganization",))
    types = {r.type for r in run.resources}
    assert "hipaa:components:OrganizationTrail" not in types
    assert "hipaa:organization:CentralSecurity" not in types
    assert "hipaa:organization:Guardrails" in types  # takes ids as outputs
    accounts = of_type(run, ACCOUNT)
    # Created accounts get the new ids Organizations returns (mocked as 12 digits).
    assert all(len(a.id) == 12 and a.id.isdigit() for a in accounts.values())
    assert {a.inputs["email"] for a in accounts.values()} == {
        a["email"] for a in [first_run_accounts()["logArchive"], first_run_accounts()["audit"],
                             *first_run_accounts()["environments"].values()]}
    (organization,) = of_type(run, ORGANIZATION).values()
    assert run.stack_outputs["rootId"] == organization.outputs["roots"][0]["id"]  # the new root


def test_control_tower_uses_its_role_and_principal_and_leaves_the_trail_to_it():
    kept = "member.org.stacksets.cloudformation.amazonaws.com"
    run = run_org({"controlTower": "true", "ous": {"security": {"id": "ou-a1b2-c3d4e5f6"}},
                   "existingOrganization": {**stack_value("existingOrganization"),
                                            "keepServiceAccessPrincipals": [kept]}})
    (organization,) = of_type(run, ORGANIZATION).values()
    principals = set(organization.inputs["awsServiceAccessPrincipals"])
    assert {CONTROL_TOWER_PRINCIPAL, kept} <= principals
    for name, account in of_type(run, ACCOUNT).items():
        assert account.inputs["roleName"] == CONTROL_TOWER_ROLE, name
    for name, provider in of_type(run, PROVIDER).items():
        if name.startswith("member-"):
            (role,) = json.loads(provider.inputs["assumeRoles"])
            assert role["roleArn"].endswith(f":role/{CONTROL_TOWER_ROLE}"), name
    types = {r.type for r in run.resources}
    assert "hipaa:components:OrganizationTrail" not in types  # Control Tower's trail stays
    # Control Tower's Region deny control governs Regions; the project's SCP is left out.
    policies = {r.inputs["name"] for r in run.resources if r.type == "aws:organizations/policy:Policy"}
    assert "hipaa-deny-unapproved-regions" in {r.inputs["name"] for r in run_org().resources
                                               if r.type == "aws:organizations/policy:Policy"}
    assert "hipaa-deny-unapproved-regions" not in policies
    assert "hipaa:organization:CentralSecurity" in types


def test_a_new_environment_account_leaves_the_trail_and_central_security_in_place(org):
    """Adding a stack's account (no id yet) must not drop what the ids of the others built: a resource
    missing from the program is deleted by `pulumi up`."""
    accounts = stack_value("accounts")
    accounts["environments"][NEW] = {"email": f"aws-{NEW}@example-health.com", "name": f"hipaa-aws {NEW}",
                                     "dataClassification": "synthetic"}
    before = {r.urn for r in org.resources}
    after = {r.urn for r in run_org({"accounts": accounts}).resources}
    assert before <= after
    assert {"hipaa:components:OrganizationTrail", "hipaa:organization:CentralSecurity"} <= {
        r.type for r in org.resources}


def test_adopting_keeps_the_enabled_policy_types_it_is_told_to_keep():
    existing = {**stack_value("existingOrganization"), "keepPolicyTypes": ["BACKUP_POLICY"]}
    run = run_org({"existingOrganization": existing})
    (organization,) = of_type(run, ORGANIZATION).values()
    assert "BACKUP_POLICY" in organization.inputs["enabledPolicyTypes"]
    assert organization.id == existing["organizationId"]  # imported by its id


def test_an_adopted_account_needs_no_name_and_keeps_its_own():
    """ignore_changes copies an ignored input from the imported account before Check (Pulumi
    architecture/import.md), so the account's name in Organizations stays as it is."""
    accounts = stack_value("accounts")
    del accounts["audit"]["name"]
    run = run_org({"accounts": accounts})
    audit = of_type(run, ACCOUNT)["organization-audit"]
    assert audit.id == accounts["audit"]["id"] and "name" not in audit.inputs
    assert "name" in audit.ignore_changes


def test_an_existing_ou_is_adopted_by_id():
    run = run_org({"ous": {"security": {"id": "ou-a1b2-c3d4e5f6"}}})
    assert of_type(run, OU)["organization-security"].id == "ou-a1b2-c3d4e5f6"
    assert run.stack_outputs["ouIds"]["security"] == "ou-a1b2-c3d4e5f6"


# ---- settings refusals ----

MANAGEMENT = load_stack_config(STACK, project_dir=ORG_DIR).allowed_account_ids[0]


def raw_settings(**changes: Any) -> dict[str, Any]:
    config = load_stack_config(STACK, project_dir=ORG_DIR)
    raw = {k.split(":", 1)[1]: v for k, v in config.values.items() if k.startswith(f"{NAMESPACE}:")}
    for key, value in changes.items():
        if value is None:
            raw.pop(key, None)
        else:
            raw[key] = value if isinstance(value, str) else json.dumps(value)
    return raw


def refusal(raw: dict[str, Any]) -> str:
    with pytest.raises(pulumi.RunError) as caught:
        parse_organization_settings(STACK, raw, MANAGEMENT)
    message = str(caught.value)
    assert message.startswith(f"stack '{STACK}':"), message
    return message


def test_the_stack_file_is_valid():
    settings, classes = parse_organization_settings(STACK, raw_settings(), MANAGEMENT)
    assert classes == {s.name: s.classification for s in catalog.stacks().values()}
    assert {"prod": "phi", "staging": "synthetic"}.items() <= classes.items()
    assert settings.known_ids("audit", "logArchive", "prod", "staging") is not None


def test_unknown_keys_are_refused_with_the_allowed_ones():
    message = refusal(raw_settings(acounts="{}"))
    assert f"{NAMESPACE}:acounts is not a setting" in message and "accounts" in message
    accounts = stack_value("accounts")
    accounts["environments"]["prod"]["emial"] = "x@example.com"
    message = refusal(raw_settings(accounts=accounts))
    assert "accounts.environments.prod" in message
    assert "'emial'" in message and "allowed keys: id, email, name, dataClassification" in message


@pytest.mark.parametrize("changes, expected", [
    ({"allowedRegions": ["us-east-1", "us-east-7"]},
     ["allowedRegions", "'us-east-7': not an AWS region", "us-west-2"]),
    ({"homeRegion": "eu-west-1"},
     ["homeRegion = 'eu-west-1' is not allowed: must be one of allowedRegions (us-east-1, us-west-2)"]),
    ({"allowedRegions": ["us-east-1", "cn-north-1"]}, ["more than one partition"]),
    ({"securityAlertEmail": "security"}, ["securityAlertEmail", "'security'"]),
    ({"controlTower": "true", "existingOrganization": None},
     ["controlTower", "set existingOrganization", "needs ous.security.id"]),
    ({"existingOrganization": {"organizationId": "o-123", "rootId": "r-a1b2"}},
     ["existingOrganization.organizationId", "'o-123'"]),
    ({"existingOrganization": {"organizationId": "o-a1b2c3d4e5", "rootId": "r-a1b2",
                               "keepPolicyTypes": ["BACKUP"]}},
     ["keepPolicyTypes", "'BACKUP'", "BACKUP_POLICY"]),
    ({"keyAdministratorRoleArns": ["arn:aws:iam::999999999999:role/admin"]},
     ["keyAdministratorRoleArns", f"not a role of the management account {MANAGEMENT}"]),
    ({"ous": {"sandbox": {"name": "Sandbox"}}}, ["ous: key 'sandbox' is not allowed", "'security'"]),
    ({"accounts": {"logArchive": {"id": "12", "email": "a@b.co"}}},
     ["accounts.logArchive.id = '12' is not allowed: expected a 12-digit account id",
      "accounts.audit is not set", "accounts.environments is not set"]),
])
def test_bad_settings_are_refused_naming_key_value_and_rule(changes, expected):
    message = refusal(raw_settings(**changes))
    for text in expected:
        assert text in message, (text, message)


def test_account_refusals():
    accounts = stack_value("accounts")
    accounts["audit"]["email"] = accounts["logArchive"]["email"]
    assert "each account needs its own id and its own email" in refusal(raw_settings(accounts=accounts))
    accounts = stack_value("accounts")
    accounts["environments"]["prod"]["id"] = MANAGEMENT
    assert f"environments.prod.id = '{MANAGEMENT}' is the management account" in refusal(
        raw_settings(accounts=accounts))
    accounts = first_run_accounts()
    del accounts["environments"]["staging"]["name"]
    assert "a new account needs a name" in refusal(raw_settings(accounts=accounts))
    accounts = stack_value("accounts")
    accounts["environments"][NEW] = {"email": f"aws-{NEW}@example-health.com", "name": NEW}
    assert "no data classification" in refusal(raw_settings(accounts=accounts))
    accounts["environments"][NEW]["dataClassification"] = "phi"
    accounts["environments"]["prod"]["dataClassification"] = "synthetic"
    assert "stacks/Pulumi.prod.yaml says 'phi'" in refusal(raw_settings(accounts=accounts))
    accounts = stack_value("accounts")
    accounts["environments"]["Prod-1"] = accounts["environments"].pop("prod")
    assert "'Prod-1'" in refusal(raw_settings(accounts=accounts))


def test_every_problem_is_in_one_message():
    message = refusal(raw_settings(securityAlertEmail="security", keyAdministratorRoleArns=None,
                                   acounts="{}"))
    assert "3 invalid organization setting(s)" in message
    for text in ("securityAlertEmail = 'security'", "keyAdministratorRoleArns is not set", "acounts"):
        assert text in message


def test_a_bad_setting_stops_the_program_before_anything_is_created():
    with pytest.raises(ProgramError) as caught:
        run_org({"homeRegion": "eu-west-1"}, preview=True)
    assert isinstance(caught.value.cause, pulumi.RunError)
    assert not [r for r in caught.value.run.resources if r.custom]


# ---- the offline preflight ----

def stack_file_variant(tmp_path: Path, variant: str) -> list[str]:
    """--stack-file arguments for a variant of the stack file ([] for the file itself)."""
    if variant == "as-shipped":
        return []
    document = yaml.safe_load((ORG_DIR / f"Pulumi.{STACK}.yaml").read_text())
    config = document["config"]
    if variant == "first-run":
        del config[f"{NAMESPACE}:existingOrganization"]
        config[f"{NAMESPACE}:accounts"] = first_run_accounts()
    else:  # control tower
        config[f"{NAMESPACE}:controlTower"] = True
        config[f"{NAMESPACE}:ous"] = {"security": {"id": "ou-a1b2-c3d4e5f6"}}
    path = tmp_path / f"Pulumi.{variant}.yaml"
    path.write_text(yaml.safe_dump(document))
    return ["--stack-file", str(path)]


@pytest.mark.parametrize("variant, judged", [("as-shipped", 100), ("first-run", 30), ("control-tower", 60)])
def test_preflight_of_the_project_passes_with_everything_judged(tmp_path, variant, judged):
    result = subprocess.run(
        [sys.executable, "-m", "preflight", STACK, "--project-dir", str(ORG_DIR),
         "--format", "json", *stack_file_variant(tmp_path, variant)],
        cwd=PROJECT_DIR, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    summary = json.loads(result.stdout)["summary"]
    assert (summary["passed"], summary["mandatoryViolations"], summary["notJudged"]) == (True, 0, 0), summary
    # As shipped (the second run) the trail, central security and guardrails are judged too.
    assert summary["resources"] > judged


def test_preflight_all_runs_the_organization_project(monkeypatch, tmp_path):
    calls: list[list[str]] = []

    def fake_run(args, check):  # noqa: ARG001 - subprocess.run's signature
        calls.append(list(args))
        return subprocess.CompletedProcess(args, 0)

    monkeypatch.setattr(preflight_main.subprocess, "run", fake_run)
    assert preflight_main.run_all(tmp_path) == 0
    organization_runs = [c for c in calls if str(ORG_DIR) in c]
    assert organization_runs == [[sys.executable, "-m", "preflight", STACK, "--project-dir", str(ORG_DIR),
                                  "--output-dir", str(tmp_path)]]
    report_paths = preflight_main.report_paths(preflight_main.parse_args(
        [STACK, "--project-dir", str(ORG_DIR), "--output-dir", str(tmp_path)]))
    assert report_paths["text"] == tmp_path / "organization-organization.txt"


def test_the_management_placeholder_is_what_the_mocks_answer(org):
    """The preflight's mocks answer get_caller_identity with the stack's pinned account."""
    assert org.stack_outputs["managementAccountId"] == MANAGEMENT


def test_each_environment_stack_pins_the_account_the_organization_gives_it(org):
    """The example files agree: `aws:allowedAccountIds` of stacks/Pulumi.<stack>.yaml is the
    organization's environmentAccountIds.<stack>, and no environment shares an account."""
    exported = org.stack_outputs["environmentAccountIds"]
    for stack, account_id in exported.items():
        assert load_stack_config(stack).allowed_account_ids == [account_id], stack
    assert len(set(exported.values())) == len(exported)
    assert MANAGEMENT not in exported.values()


def test_the_organization_pack_excludes_exactly_the_accounts_that_do_not_record(org):
    """cfg.OrganizationConformancePack (SDK docstring): every account it does not exclude must have a
    Config recorder, or it fails to create or update. The management, audit and log-archive accounts
    run no account layer; other non-recording accounts are listed in accountsWithoutConfigRecorder."""
    def excluded(run: ProgramRun) -> set[str]:
        (pack,) = of_type(run, "aws:cfg/organizationConformancePack:OrganizationConformancePack").values()
        return set(pack.inputs["excludedAccounts"])
    accounts = stack_value("accounts")
    management = json.loads(load_stack_config(STACK, project_dir=ORG_DIR).values["aws:allowedAccountIds"])[0]
    shipped = {management, accounts["audit"]["id"], accounts["logArchive"]["id"]}
    assert excluded(org) == shipped
    assert not shipped & {a["id"] for a in accounts["environments"].values()}  # environments record
    sandbox = "704567890123"
    assert excluded(run_org({"accountsWithoutConfigRecorder": [sandbox]})) == shipped | {sandbox}
    with pytest.raises(ProgramError, match="accountsWithoutConfigRecorder"):
        run_org({"accountsWithoutConfigRecorder": ["12345"]})
