"""The workforce permission sets of every environment, created where IAM Identity Center is
administered: the organization's management account (or a delegated administrator), in the instance's
region (IAM Identity Center User Guide, "Delegate permission set administration": permission sets need
an organization instance, managed from the management account or a delegated administrator account).

Per environment stack whose `identityCenter.managedBy` is `organization`: the sets `hipaa-<stack>-
read-only`, `-phi-operator` and `-break-glass` (names, descriptions and session lengths are
WorkforceAccess's, components/application/workforce_access.py), each attached to the customer-managed
policy `hipaa-aws-<stack>-workforce-<set>` at path `/hipaa-aws/<stack>/`, read-only also to AWS's
ViewOnlyAccess, and assigned to that stack's groups in that stack's account only.

The policies themselves are the environment stack's (WorkforceAccess in organization mode): their
documents name that account's bucket, keys, database and roles, and a permission set references a
customer-managed policy by name and path only, which must exist in every account the set is assigned to
(sso-admin API Reference, CustomerManagedPolicyReference). So an environment stack is deployed before
the organization assigns its sets: an assignment provisions the set into the account (sso-admin
CreateAccountAssignment) and fails while the policy is missing there. Editing a policy's document in
the environment stack needs nothing here: the provisioned role attaches the account's policy itself.

Each set is tagged `hipaa-aws:environment: <stack>` so that whoever administers the instance can be
held to one environment's sets with `aws:ResourceTag` (permission sets take that condition key; Identity
Center accounts take none). Not `Environment`: the organization project's stack transform sets
`Environment: organization` on everything it creates, and a stack transform has the last word.

Break-glass sign-ins: CloudTrail records the sign-in (sts AssumeRoleWithSAML of the set's
`AWSReservedSSO_*` role, a management event) in the account that owns the role, the environment's (IAM
User Guide, "Logging IAM and AWS STS API calls with AWS CloudTrail": the event's recipientAccountId is
the role's account). An environment whose own trail records its management events (accountBaseline
`owned`) alarms on it itself (WorkforceAccess). One with `organization` records only its data events;
its management events reach the organization trail's CloudWatch Logs group, in the management account
(CloudTrail User Guide, "Role policy document for CloudTrail to use CloudWatch Logs for monitoring": an
organization trail writes every member account's log streams there), so its alarm is created here, on
that group, with that environment's account in the role ARN it matches (`alarm_in_organization_trail`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Optional

import pulumi
import pydantic

from components.app_settings import IdentityCenterSettings, WorkforceGroups
from components.application.workforce_access import (
    ALARM_METRIC, PERMISSION_SETS, break_glass_alarm, permission_set_names, policy_reference, set_groups,
    workforce_permission_set,
)
from components.aws_context import AwsContext

ENVIRONMENT_TAG = "hipaa-aws:environment"
"""The tag naming the environment stack a permission set belongs to."""
ACCOUNT_ID = re.compile(r"\d{12}")


@dataclass(frozen=True)
class EnvironmentWorkforce:
    """One environment stack's workforce access: its account and who gets each set there."""

    stack: str
    account_id: str
    groups: WorkforceGroups = field(default_factory=lambda: WorkforceGroups.model_validate({}))
    """Identity Store group ids (unset: the set exists, assigned to no one)."""
    alarm_in_organization_trail: bool = False
    """Its account's management events are in the organization trail only (accountBaseline
    `organization`): its break-glass sign-in alarm is created here."""


@dataclass(frozen=True)
class OrganizationTrailAlarms:
    """Where the break-glass sign-ins of `alarm_in_organization_trail` environments are watched."""

    provider: pulumi.ProviderResource
    """The management account, in the organization trail's home region."""
    management: AwsContext
    """That account and region (partition and DNS suffix for the environments' role ARNs too)."""
    log_group_name: pulumi.Input[str]
    """The organization trail's CloudWatch Logs group (OrganizationTrail.log_group_name)."""
    topic_arn: pulumi.Input[str]
    """The SNS topic the alarms notify, in the management account and that region."""


@dataclass(frozen=True)
class WorkforcePermissionSetsArgs:
    identity_center_provider: pulumi.ProviderResource
    """The management account (or the delegated administrator) in the instance's region."""
    instance_arn: str
    partition: str
    management_account_id: str
    """No environment may live there: a delegated administrator cannot assign sets to it, and nobody
    should work in it."""
    environments: Sequence[EnvironmentWorkforce]
    organization_trail_alarms: Optional[OrganizationTrailAlarms] = None
    """Required when an environment's management events are in the organization trail only."""


def environment_workforce(stack: str, account_id: str, stack_file_config: Mapping[str, Any],
                          instance_arn: str) -> Optional[EnvironmentWorkforce]:
    """The EnvironmentWorkforce an environment's stack file (`config` of stacks/Pulumi.<stack>.yaml)
    hands the organization: None unless its `hipaa-aws:identityCenter.managedBy` is `organization`
    (`stack`: the stack creates its sets itself). The stack's instance must be the organization's."""
    raw = stack_file_config.get("hipaa-aws:identityCenter")
    if raw is None:
        return None
    where = f"stack {stack}, key hipaa-aws:identityCenter"
    try:
        settings = IdentityCenterSettings.model_validate(raw)
    except pydantic.ValidationError as error:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'value'} = {e['input']!r}: {e['msg']}"
                             for e in error.errors())
        raise pulumi.RunError(f"{where}: {problems}") from None
    if settings.managed_by != "organization":
        return None
    if settings.instance_arn != instance_arn:
        raise pulumi.RunError(f"{where}: instanceArn {settings.instance_arn} is not the organization's "
                              f"Identity Center instance {instance_arn}")
    return EnvironmentWorkforce(
        stack=stack, account_id=account_id, groups=settings.groups,
        alarm_in_organization_trail=stack_file_config.get("hipaa-aws:accountBaseline") == "organization")


def validate(name: str, args: WorkforcePermissionSetsArgs) -> None:
    """Every problem at once, as a RunError, before anything is created."""
    problems = []
    partition = args.instance_arn.split(":")[1] if args.instance_arn.count(":") >= 5 else ""
    if partition != args.partition:
        problems.append(f"instance {args.instance_arn} is not in partition {args.partition}")
    stacks = [environment.stack for environment in args.environments]
    problems += [f"environment {stack} is listed more than once" for stack in sorted(set(stacks))
                 if stacks.count(stack) > 1]
    for environment in args.environments:
        _, name_problems = permission_set_names(environment.stack)
        problems += [f"environment {environment.stack}: {problem}" for problem in name_problems]
        if not ACCOUNT_ID.fullmatch(environment.account_id):
            problems.append(f"environment {environment.stack}: account id {environment.account_id!r} is "
                            f"not 12 digits")
        elif environment.account_id == args.management_account_id:
            problems.append(f"environment {environment.stack}: account {environment.account_id} is the "
                            f"management account; environments live in member accounts")
    unwatched = [e.stack for e in args.environments if e.alarm_in_organization_trail]
    if unwatched and args.organization_trail_alarms is None:
        problems.append(f"environments {', '.join(unwatched)} record their management events in the "
                        f"organization trail only: give organization_trail_alarms, or nobody hears of a "
                        f"break-glass sign-in there")
    if problems:
        raise pulumi.RunError(f"workforce permission sets {name}: " + "; ".join(problems))


class WorkforcePermissionSets(pulumi.ComponentResource):
    permission_set_arns: dict[str, dict[str, pulumi.Output[str]]]
    """ARN of each environment's sets: {stack: {read-only, phi-operator, break-glass: ARN}}."""

    def __init__(self, name: str, args: WorkforcePermissionSetsArgs,
                 opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("hipaa:components:WorkforcePermissionSets", name, None, opts)
        validate(name, args)
        self.permission_set_arns = {}
        for environment in args.environments:
            stack = environment.stack
            groups = set_groups(environment.groups)
            self.permission_set_arns[stack] = {
                key: workforce_permission_set(
                    f"{name}-{stack}-{key}", key, stack=stack, instance_arn=args.instance_arn,
                    partition=args.partition, account_id=environment.account_id, group_id=groups[key],
                    policy=policy_reference(stack, key), parent=self,
                    provider=args.identity_center_provider, tags={ENVIRONMENT_TAG: stack}).arn
                for key in PERMISSION_SETS}
        alarms = args.organization_trail_alarms
        watched = [e for e in args.environments if e.alarm_in_organization_trail]
        if alarms is not None and watched:
            # A component of its own so that the alarms inherit the management account's provider
            # (trail_event_alarm parents them, nothing more).
            scope = pulumi.ComponentResource(
                "hipaa:components:OrganizationTrailAlarms", f"{name}-alarms", None,
                pulumi.ResourceOptions(parent=self, providers=[alarms.provider]))
            for environment in watched:
                # One metric per environment: every filter on this log group publishes in the
                # management account's namespace.
                break_glass_alarm(
                    f"{name}-{environment.stack}-break-glass-used",
                    replace(alarms.management, account_id=environment.account_id), environment.stack,
                    alarms.log_group_name, alarms.topic_arn, scope,
                    metric=f"{ALARM_METRIC}-{environment.stack}")
            scope.register_outputs({})
        self.register_outputs({"permission_set_arns": self.permission_set_arns})
