"""Workforce permission sets administered from the organization (issue 17), read as an auditor reads
them: which sets exist for each environment, which IAM policies of which account they grant, who is
assigned them where, for how long.

WorkforcePermissionSets runs under the mock runtime with an explicit Identity Center provider and the
organization project's tagging, for every environment stack in stacks/ (their groups from
`hipaa-aws:identityCenter`, their accounts from `aws:allowedAccountIds`); each environment's program runs
too, with `identityCenter.managedBy: organization`, and the policies the sets reference must be the ones
that program creates, by name and path (sso-admin API Reference, CustomerManagedPolicyReference: "You
must have an IAM policy that matches the name and path in each AWS account where you want to deploy your
permission set")."""

from __future__ import annotations

import functools
import json
from dataclasses import replace
from typing import Any

import pulumi
import pulumi_aws as aws
import pytest
import yaml

from components.app_settings import IdentityCenterSettings, WorkforceGroups
from components.application.workforce_access import (
    DESCRIPTIONS, PERMISSION_SETS, SESSION_DURATIONS, WorkforceAccessArgs,
)
from components.application.workforce_access import validate as workforce_validate
from components.aws_context import AwsContext
from components.organization.identity_center import (
    ENVIRONMENT_TAG, EnvironmentWorkforce, OrganizationTrailAlarms, WorkforcePermissionSets,
    WorkforcePermissionSetsArgs, environment_workforce, validate,
)
from components.tagging import register_tagging
from preflight.judge import judge
from preflight.policy_pack_client import POLICY_DIR
from preflight.program_runner import ProgramRun, RecordedResource, run_program
from preflight.stack_config import StackConfig, load_stack_config, stack_file_path, stack_names
from tests.conftest import cached_run, owned_run, run_stack
from tests.test_workforce_access import matches, sign_in

MANAGEMENT = "111122223333"
# The organization trail's log group and an alert topic in the management account (components/
# organization/organization_trail.py names the group).
TRAIL_LOG_GROUP = "/hipaa-aws/organization/organization-trail"
TOPIC = f"arn:aws:sns:us-east-1:{MANAGEMENT}:hipaa-aws-organization-alerts"
IDENTITY_CENTER_REGION = "us-east-1"
CONFIG = StackConfig(project="hipaa-aws-organization", stack="organization",
                     values={"aws:region": IDENTITY_CENTER_REGION})
ORGANIZATION_MODE = {"identityCenter": {"managedBy": "organization"}}

T = "aws:ssoadmin/"
PERMISSION_SET = f"{T}permissionSet:PermissionSet"
CUSTOMER_POLICY_ATTACHMENT = f"{T}customerManagedPolicyAttachment:CustomerManagedPolicyAttachment"
MANAGED_POLICY_ATTACHMENT = f"{T}managedPolicyAttachment:ManagedPolicyAttachment"
ASSIGNMENT = f"{T}accountAssignment:AccountAssignment"
IAM_POLICY = "aws:iam/policy:Policy"
# AWS managed job-function policy: resource metadata, no data (IAM "AWS managed policies for job functions").
VIEW_ONLY = "arn:aws:iam::aws:policy/job-function/ViewOnlyAccess"
GROUP_KEYS = {"read-only": "readOnly", "phi-operator": "phiOperator", "break-glass": "breakGlass"}


def stack_file_config(stack: str) -> dict[str, Any]:
    """The `config` of stacks/Pulumi.<stack>.yaml, as the organization project reads it."""
    return (yaml.safe_load(stack_file_path(stack).read_text()) or {}).get("config") or {}


def in_organization_mode(config: dict[str, Any]) -> dict[str, Any]:
    identity_center = {**config["hipaa-aws:identityCenter"], "managedBy": "organization"}
    return {**config, "hipaa-aws:identityCenter": identity_center}


STACKS = [s for s in stack_names() if "hipaa-aws:identityCenter" in stack_file_config(s)]
INSTANCE = stack_file_config(STACKS[0])["hipaa-aws:identityCenter"]["instanceArn"]


def account_of(stack: str) -> str:
    [account] = load_stack_config(stack).allowed_account_ids
    return account


def environments(accounts: dict[str, str]) -> list[EnvironmentWorkforce]:
    found = [environment_workforce(stack, accounts[stack], in_organization_mode(stack_file_config(stack)),
                                   INSTANCE) for stack in STACKS]
    assert None not in found
    return [e for e in found if e is not None]


def organization_run(accounts: dict[str, str]) -> ProgramRun:
    def program() -> None:
        # The organization project's stack transform (organization/__main__.py) tags every resource.
        register_tagging({"Environment": "organization", "DataClassification": "internal",
                          "Owner": "platform-team@example-health.com", "CostCenter": "cc-1000-platform",
                          "ManagedBy": "pulumi"})
        provider = aws.Provider("identity-center", region=IDENTITY_CENTER_REGION,
                                allowed_account_ids=[MANAGEMENT])
        management = aws.Provider("management", region="us-east-1", allowed_account_ids=[MANAGEMENT])
        WorkforcePermissionSets("workforce", WorkforcePermissionSetsArgs(
            identity_center_provider=provider, instance_arn=INSTANCE, partition="aws",
            management_account_id=MANAGEMENT, environments=environments(accounts),
            organization_trail_alarms=OrganizationTrailAlarms(
                provider=management, management=AwsContext(MANAGEMENT, "us-east-1", "aws", "amazonaws.com"),
                log_group_name=TRAIL_LOG_GROUP, topic_arn=TOPIC)))
    return run_program(program, CONFIG, preview=False)


@functools.cache
def from_stack_files() -> ProgramRun:
    return organization_run({stack: account_of(stack) for stack in STACKS})


@functools.cache
def environment_in_organization_mode(stack: str) -> ProgramRun:
    return run_stack(stack, overrides=ORGANIZATION_MODE)


def sets_of(run: ProgramRun, stack: str) -> dict[str, RecordedResource]:
    """The stack's permission sets by key (read-only, ...), found by name."""
    by_name = {r.inputs["name"]: r for r in run.of_type(PERMISSION_SET)}
    return {key: by_name[name] for key in PERMISSION_SETS if (name := f"hipaa-{stack}-{key}") in by_name}


def attached_to(run: ProgramRun, type_token: str, permission_set: RecordedResource) -> list[RecordedResource]:
    """The resources of `type_token` that name the set by its ARN."""
    arn = permission_set.outputs["arn"]
    return [r for r in run.of_type(type_token) if r.inputs["permissionSetArn"] == arn]


def workforce_policies(run: ProgramRun, stack: str) -> dict[str, tuple[str, str]]:
    """(name, path) of each workforce policy the environment program creates, by set."""
    prefix = f"hipaa-aws-{stack}-workforce-"
    return {r.inputs["name"][len(prefix):]: (r.inputs["name"], r.inputs["path"])
            for r in run.of_type(IAM_POLICY) if r.inputs.get("name", "").startswith(prefix)}


def test_the_stacks_under_test_are_every_stack_with_identity_center():
    assert set(STACKS) >= {"prod", "staging"}
    assert len({stack_file_config(s)["hipaa-aws:identityCenter"]["instanceArn"] for s in STACKS}) == 1


@pytest.mark.parametrize("stack", STACKS)
def test_each_set_references_exactly_the_policies_its_environment_creates(stack):
    environment = environment_in_organization_mode(stack)
    policies = workforce_policies(environment, stack)
    assert set(policies) == set(PERMISSION_SETS)
    sets = sets_of(from_stack_files(), stack)
    assert set(sets) == set(PERMISSION_SETS)
    for key, permission_set in sets.items():
        [attachment] = attached_to(from_stack_files(), CUSTOMER_POLICY_ATTACHMENT, permission_set)
        reference = attachment.inputs["customerManagedPolicyReference"]
        assert (reference["name"], reference["path"]) == policies[key], key
        assert attachment.inputs["instanceArn"] == INSTANCE


@pytest.mark.parametrize("stack", STACKS)
def test_an_environment_in_organization_mode_creates_its_policies_and_no_set_or_assignment(stack):
    environment = environment_in_organization_mode(stack)
    assert [r.urn for r in environment.resources if r.type.startswith(T)] == []
    # The policies keep their URNs and documents: switching a deployed stack to the organization
    # replaces no policy (state is keyed by URN).
    before = {r.urn: r.inputs["policy"] for r in owned_run(stack).of_type(IAM_POLICY)
              if "workforce" in r.inputs.get("name", "")}
    after = {r.urn: r.inputs["policy"] for r in environment.of_type(IAM_POLICY)
             if "workforce" in r.inputs.get("name", "")}
    assert len(before) == 3 and after == before
    # The stack mode (a single-account team) still creates the sets itself.
    assert len(owned_run(stack).of_type(PERMISSION_SET)) == 3


@pytest.mark.parametrize("stack", STACKS)
def test_the_sets_are_the_ones_the_stack_creates_today(stack):
    """Same names, descriptions, sessions, instance and managed policy as the stack-mode sets: moving a
    team into the organization changes who creates them, not what people get."""
    def shape(run: ProgramRun) -> dict[str, tuple]:
        return {key: (s.inputs["name"], s.inputs["description"], s.inputs["sessionDuration"],
                      s.inputs["instanceArn"],
                      sorted(a.inputs["managedPolicyArn"]
                             for a in attached_to(run, MANAGED_POLICY_ATTACHMENT, s)))
                for key, s in sets_of(run, stack).items()}
    organization, today = shape(from_stack_files()), shape(owned_run(stack))
    assert organization == today
    assert {key: value[1:3] for key, value in organization.items()} == {
        key: (DESCRIPTIONS[key], SESSION_DURATIONS[key]) for key in PERMISSION_SETS}
    # Identity Center allows PT1H to PT12H (sso-admin CreatePermissionSet SessionDuration); the issue
    # allows four hours at most and one hour for break-glass.
    assert organization["break-glass"][2] == "PT1H"
    assert {value[2] for value in organization.values()} <= {"PT1H", "PT4H"}
    # Only the read-only set gets an AWS managed policy, and only ViewOnlyAccess (never ReadOnlyAccess).
    assert {key: value[4] for key, value in organization.items()} == {
        "read-only": [VIEW_ONLY], "phi-operator": [], "break-glass": []}


@pytest.mark.parametrize("stack", STACKS)
def test_each_set_is_assigned_to_its_stack_groups_in_its_stack_account_only(stack):
    run = from_stack_files()
    groups = stack_file_config(stack)["hipaa-aws:identityCenter"].get("groups", {})
    assigned = {}
    for key, permission_set in sets_of(run, stack).items():
        for assignment in attached_to(run, ASSIGNMENT, permission_set):
            assert assignment.inputs["targetType"] == "AWS_ACCOUNT"
            assert assignment.inputs["targetId"] == account_of(stack)
            assert assignment.inputs["principalType"] == "GROUP"
            assert assignment.inputs["instanceArn"] == INSTANCE
            assigned.setdefault(key, []).append(assignment.inputs["principalId"])
    assert assigned == {key: [groups[GROUP_KEYS[key]]]
                        for key in PERMISSION_SETS if GROUP_KEYS[key] in groups}


def test_with_an_account_per_environment_no_set_reaches_another_environments_account():
    accounts = {stack: f"{500000000000 + i:012d}" for i, stack in enumerate(STACKS, start=1)}
    run = organization_run(accounts)
    targets = {stack: {a.inputs["targetId"] for s in sets_of(run, stack).values()
                       for a in attached_to(run, ASSIGNMENT, s)} for stack in STACKS}
    assert targets == {stack: {accounts[stack]} for stack in STACKS}
    assert len(run.of_type(ASSIGNMENT)) == sum(
        len(stack_file_config(s)["hipaa-aws:identityCenter"].get("groups", {})) for s in STACKS)


def test_every_identity_center_resource_goes_through_the_identity_center_provider():
    run = from_stack_files()
    provider = run.named("identity-center", "pulumi:providers:aws")
    sso = [r for r in run.resources if r.type.startswith(T)]
    assert len(sso) >= 3 * len(STACKS)
    assert {r.provider for r in sso} == {f"{provider.urn}::{provider.id}"}
    assert provider.inputs["region"] == IDENTITY_CENTER_REGION


def test_each_set_is_tagged_with_its_environment_despite_the_organization_tags():
    """Delegated administration can be held to one environment's sets with aws:ResourceTag (IAM
    Identity Center User Guide, "Delegate permission set administration": PermissionSet supports
    aws:ResourceTag/${TagKey}); the organization's own transform sets Environment: organization."""
    run = from_stack_files()
    for stack in STACKS:
        for permission_set in sets_of(run, stack).values():
            assert permission_set.inputs["tags"][ENVIRONMENT_TAG] == stack
            assert permission_set.inputs["tags"]["Environment"] == "organization"


# ---------------------------------------------------------------------------------------------
# What the organization reads from a stack file, and validation (no mocks)
# ---------------------------------------------------------------------------------------------


def test_only_stacks_managed_by_the_organization_are_the_organizations():
    config = stack_file_config("prod")
    in_stack_mode = {**config, "hipaa-aws:identityCenter": {**config["hipaa-aws:identityCenter"],
                                                            "managedBy": "stack"}}
    assert environment_workforce("prod", "510987654321", in_stack_mode, INSTANCE) is None
    assert environment_workforce("prod", "510987654321", {}, INSTANCE) is None  # no identityCenter
    groups = WorkforceGroups.model_validate(config["hipaa-aws:identityCenter"]["groups"])
    for baseline, in_organization_trail in (("organization", True), ("owned", False), ("external", False)):
        found = environment_workforce("prod", "510987654321", {
            **in_organization_mode(config), "hipaa-aws:accountBaseline": baseline}, INSTANCE)
        assert found == EnvironmentWorkforce("prod", "510987654321", groups, in_organization_trail), baseline


def test_a_stack_of_another_instance_or_with_a_bad_group_is_refused():
    config = in_organization_mode(stack_file_config("prod"))
    other = "arn:aws:sso:::instance/ssoins-0000000000000000"
    with pytest.raises(pulumi.RunError, match=f"stack prod, key hipaa-aws:identityCenter: instanceArn .* is "
                                              f"not the organization's Identity Center instance {other}"):
        environment_workforce("prod", "510987654321", config, other)
    bad = {**config, "hipaa-aws:identityCenter": {**config["hipaa-aws:identityCenter"],
                                                  "groups": {"readOnly": "admins"}}}
    with pytest.raises(pulumi.RunError, match="stack prod, key hipaa-aws:identityCenter: groups.readOnly"):
        environment_workforce("prod", "510987654321", bad, INSTANCE)


def test_managed_by_takes_only_stack_or_organization():
    assert IdentityCenterSettings.model_validate({"instanceArn": INSTANCE}).managed_by == "stack"
    with pytest.raises(ValueError, match="managedBy"):
        IdentityCenterSettings.model_validate({"instanceArn": INSTANCE, "managedBy": "org"})


def args(**changes: Any) -> WorkforcePermissionSetsArgs:
    base = WorkforcePermissionSetsArgs(
        identity_center_provider=None,  # type: ignore[arg-type]  # validation creates nothing
        instance_arn=INSTANCE, partition="aws", management_account_id=MANAGEMENT,
        environments=[EnvironmentWorkforce("prod", "510987654321")])
    return replace(base, **changes)


def test_validation_names_every_problem_at_once():
    with pytest.raises(pulumi.RunError) as error:
        validate("w", args(partition="aws-us-gov", environments=[
            EnvironmentWorkforce("prod", MANAGEMENT), EnvironmentWorkforce("prod", "5109876543"),
            EnvironmentWorkforce("a" * 14, "610987654321")]))
    message = str(error.value)
    assert message.startswith("workforce permission sets w: ")
    assert f"instance {INSTANCE} is not in partition aws-us-gov" in message
    assert "environment prod is listed more than once" in message
    assert f"environment prod: account {MANAGEMENT} is the management account" in message
    assert "environment prod: account id '5109876543' is not 12 digits" in message
    assert "'hipaa-aaaaaaaaaaaaaa-phi-operator' is 33 characters" in message
    validate("w", args())  # a valid environment passes


def test_a_stack_managed_by_the_organization_takes_no_identity_center_provider():
    settings = IdentityCenterSettings.model_validate({"instanceArn": INSTANCE, "managedBy": "organization"})
    ctx = AwsContext("510987654321", "us-east-1", "aws", "amazonaws.com")
    access = WorkforceAccessArgs(
        stack="prod", aws=ctx, settings=settings, phi_bucket_arn="arn:aws:s3:::b",
        alarm_log_group_name=None, alert_topic_arn="arn:aws:sns:us-east-1:510987654321:t")
    assert workforce_validate("w", access)["break-glass"] == "hipaa-prod-break-glass"
    with pytest.raises(pulumi.RunError, match="managedBy is organization"):
        workforce_validate("w", replace(access, identity_center_provider=object()))  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------
# Break-glass sign-ins of environments whose management events are in the organization trail only
# ---------------------------------------------------------------------------------------------

METRIC_FILTER = "aws:cloudwatch/logMetricFilter:LogMetricFilter"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
BREAK_GLASS_ROLE = "aws-reserved/sso.amazonaws.com/AWSReservedSSO_hipaa-{stack}-break-glass_7243976e43c75fc5"


def test_a_break_glass_sign_in_into_an_organization_environment_alarms_in_the_management_account():
    """The sign-in (AssumeRoleWithSAML) is recorded in the environment's account; with accountBaseline
    organization only the organization trail, whose log group is in the management account, has it."""
    accounts = {stack: f"{500000000000 + i:012d}" for i, stack in enumerate(STACKS, start=1)}
    run = organization_run(accounts)
    watched = [s for s in STACKS if stack_file_config(s).get("hipaa-aws:accountBaseline") == "organization"]
    filters = {f.inputs["name"]: f for f in run.of_type(METRIC_FILTER)}
    alarms = {a.inputs["name"]: a for a in run.of_type(ALARM)}
    assert set(filters) == set(alarms) == {f"hipaa-aws-{s}-workforce-break-glass-used" for s in watched}
    management = run.named("management", "pulumi:providers:aws")
    metrics = set()
    for stack in watched:
        name = f"hipaa-aws-{stack}-workforce-break-glass-used"
        metric_filter, alarm = filters[name], alarms[name]
        pattern = metric_filter.inputs["pattern"]
        assert metric_filter.inputs["logGroupName"] == TRAIL_LOG_GROUP
        role, account = BREAK_GLASS_ROLE.format(stack=stack), accounts[stack]
        assert matches(pattern, sign_in(role, account=account))
        # The organization trail holds every account's events: another account's role of the same name,
        # another environment's set and another set of this environment do not alarm here.
        assert not matches(pattern, sign_in(role, account=MANAGEMENT))
        for other in (s for s in STACKS if s != stack):
            assert not matches(pattern, sign_in(BREAK_GLASS_ROLE.format(stack=other), account=account))
        assert not matches(pattern, sign_in(role.replace("break-glass", "read-only"), account=account))
        assert alarm.inputs["alarmActions"] == [TOPIC]
        assert alarm.inputs["metricName"] == metric_filter.inputs["metricTransformation"]["name"]
        metrics.add(alarm.inputs["metricName"])
        for resource in (metric_filter, alarm):
            assert resource.provider == f"{management.urn}::{management.id}"
    assert len(metrics) == len(watched)  # one metric each: an alarm counts its own environment only


def test_an_organization_environment_without_the_organization_trail_alarms_is_refused():
    with pytest.raises(pulumi.RunError, match="environments prod record their management events in the "
                                              "organization trail only: give organization_trail_alarms"):
        validate("w", args(environments=[EnvironmentWorkforce("prod", "510987654321",
                                                              alarm_in_organization_trail=True)]))


def test_the_policy_pack_finds_no_violation_in_the_organizations_sets(pack):
    """Judged as the organization project is (policy/config/organization.json): session lengths, managed
    policies and assignments by the pack's ssoadmin rules; every resource judged."""
    pack.configure(json.loads((POLICY_DIR / "config" / "organization.json").read_text()))
    try:
        result = judge(from_stack_files(), pack, CONFIG)
        found = [(d.policy, d.urn, d.violation) for v in result.by_resource.values() for d in v.violations]
        assert found == []
        assert {PERMISSION_SET, CUSTOMER_POLICY_ATTACHMENT, MANAGED_POLICY_ATTACHMENT, ASSIGNMENT} <= {
            r.type for r in result.resources}
        assert result.not_judged == []
    finally:
        pack.configure({})
