"""Security alarms on the organization trail: the alarms an environment's own trail raises when it owns
its account (`accountBaseline: owned`), raised centrally for every account whose management events
only the organization trail records (`accountBaseline: organization`).

An organization trail delivers every member account's events to one CloudWatch Logs group, in the
management account that owns the trail (CloudTrail User Guide, "Role policy document for CloudTrail to
use CloudWatch Logs for monitoring"); metric filters, their alarms and the topic they notify must be in
that account and region (a metric filter belongs to a log group; an alarm publishes to a topic of its
own account and region). So this component runs with the management account's provider and creates:
- a customer-managed alerting key (key_ring.py's alerting purpose: CloudWatch alarms cannot publish
  to a topic encrypted with the AWS managed `alias/aws/sns` key) and the topic
  `hipaa-aws-organization-security-alerts` encrypted with it, with an email subscription;
- the CIS AWS Foundations CloudWatch alarms (security_alarms.CIS_ALARMS), once, over every account;
- per account, alarms that depend on who is expected in that account, each matching only the events
  that account received (`recipientAccountId`, trail_patterns.in_account): a KMS key policy changed
  or a grant created by anyone but that account's key administrators (and, in an environment account,
  its CI deploy roles); in every environment account, a Session Manager port-forwarding session and
  an assumption of the database break-glass role (whose ARN names the account).

GuardDuty and Security Hub findings are the delegated administrator's to route
(security_services.CentralSecurity), not this component's.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Optional

import pulumi
import pulumi_aws as aws

from components.aws_context import AwsContext
from components.environment.incident_response import opsitem_action
from components.environment.security_alarms import CIS_ALARMS, alert_topic_policy, trail_event_alarm
from components.key_ring import KeyRing, KeyRingArgs, purpose
from components.runbooks import with_runbook
from components.organization.identity_center import OrganizationTrailAlarms
from components.trail_patterns import (
    METRIC_FILTER_PATTERN_LIMIT, break_glass_pattern, in_account, key_administration_pattern,
    port_forwarding_pattern,
)

SCOPE = "organization"
TOPIC_NAME = "hipaa-aws-organization-security-alerts"
# PutMetricFilter (CloudWatch Logs API Reference): "The maximum number of metric filters that can be
# associated with a log group is 100."
METRIC_FILTERS_PER_LOG_GROUP = 100
ACCOUNT_ID = re.compile(r"\d{12}")
IAM_ROLE_ARN = re.compile(r"arn:aws[a-z-]*:iam::(?P<account>\d{12}):role/[\w+=,.@/-]{1,512}")
# The environment program's key administrators (components/settings.py, `keyAdministrators`).
KEY_ADMINISTRATORS_KEY = "hipaa-aws:keyAdministrators"
# Labels of the shared accounts in names; no environment stack may be called so.
SHARED_LABELS = ("management", "audit", "logarchive")

KEY_ADMINISTRATION = ("key-administration-by-others",
                      "A KMS key policy was changed, or a grant created, by someone other than the key "
                      "administrators")
PORT_FORWARDING = ("port-forwarding-session-started",
                   "An operator opened a port-forwarding session (e.g. to the database); Session Manager "
                   "does not log its content")
BREAK_GLASS = ("database-break-glass-used",
               "A database break-glass role was assumed (the master secret may be read)")


def metric_name(key: str) -> str:
    """The metric a filter publishes, as SecurityAlarms names it (`port-forwarding` -> `PortForwarding`)."""
    return "".join(part.capitalize() for part in key.split("-"))


@dataclass(frozen=True)
class WatchedAccount:
    """An account whose management events only the organization trail records."""

    label: str
    """In alarm names: the environment's stack, or `audit` / `logarchive`."""
    account_id: str
    key_administrators: Sequence[str] = ()
    """Roles of this account that may change its key policies and create grants."""
    environment: bool = True
    """An environment stack's account: its CI deploy roles (`role/hipaa-aws/ci/*`, bootstrap/) also
    administer keys, and port-forwarding and database break-glass are watched there."""


def environment_account(stack: str, account_id: str,
                        stack_file_config: Optional[Mapping[str, Any]]) -> WatchedAccount:
    """The environment as its stack file (`config` of stacks/Pulumi.<stack>.yaml) describes it: its key
    administrators are `hipaa-aws:keyAdministrators` (unset: only its CI deploy role, which every
    environment's rule expects anyway). Raises a RunError naming the stack and key if it is not a list
    of role ARNs."""
    raw = (stack_file_config or {}).get(KEY_ADMINISTRATORS_KEY)
    if raw is None:
        return WatchedAccount(stack, account_id)
    if not isinstance(raw, Sequence) or isinstance(raw, str) or not all(isinstance(a, str) for a in raw):
        raise pulumi.RunError(f"stack {stack}, key {KEY_ADMINISTRATORS_KEY}: {raw!r} is not a list of IAM "
                              f"role ARNs")
    return WatchedAccount(stack, account_id, tuple(raw))


@dataclass(frozen=True)
class OrganizationAlarmsArgs:
    management_provider: pulumi.ProviderResource
    """The management account, in the organization trail's home region."""
    management: AwsContext
    """That account and region."""
    log_group_name: pulumi.Input[str]
    """The organization trail's CloudWatch Logs group (OrganizationTrail.log_group_name: an output, so
    every metric filter waits for the group)."""
    alert_email: str
    key_administrators: Sequence[str]
    """Management-account roles that administer the alerting key (the role running the project among
    them: KMS refuses a key policy that locks out its creator); the only ones expected to change key
    policies or create grants in the management account."""
    environments: Sequence[WatchedAccount]
    """Every environment stack with `accountBaseline: organization` (environment_account)."""
    shared_accounts: Sequence[WatchedAccount] = field(default_factory=tuple)
    """The audit and log-archive accounts (environment=False): key administration watched there too."""
    other_metric_filters: int = 0
    """Metric filters others put on the same log group (WorkforcePermissionSets: one per environment
    whose break-glass sign-ins it watches), counted against the log group's quota."""


def patterns(args: OrganizationAlarmsArgs) -> dict[tuple[str, str], tuple[str, str]]:
    """(label, key) -> (description, filter pattern), label `organization` for the CIS set."""
    ctx = args.management
    found: dict[tuple[str, str], tuple[str, str]] = {
        (SCOPE, key): value for key, value in CIS_ALARMS.items()}
    found[("management", KEY_ADMINISTRATION[0])] = (
        f"{KEY_ADMINISTRATION[1]} in the management account {ctx.account_id}",
        in_account(key_administration_pattern(args.key_administrators, ci_roles=None), ctx.account_id))
    for account in [*args.environments, *args.shared_accounts]:
        where = f"{'environment ' + account.label if account.environment else account.label} account " \
                f"{account.account_id}"
        member = AwsContext(account_id=account.account_id, region=ctx.region, partition=ctx.partition,
                            dns_suffix=ctx.dns_suffix)
        ci_roles = member.arn("iam", "role/hipaa-aws/ci/*", region=False) if account.environment else None
        found[(account.label, KEY_ADMINISTRATION[0])] = (
            f"{KEY_ADMINISTRATION[1]} in {where}",
            in_account(key_administration_pattern(account.key_administrators, ci_roles=ci_roles),
                       account.account_id))
        if account.environment:
            found[(account.label, PORT_FORWARDING[0])] = (
                f"{PORT_FORWARDING[1]} in {where}", in_account(port_forwarding_pattern(), account.account_id))
            # The role's ARN names the account. Not limited by recipientAccountId: a cross-account
            # assumption is recorded in the caller's account too, and either copy should alarm.
            found[(account.label, BREAK_GLASS[0])] = (
                f"{BREAK_GLASS[1]} in {where}",
                break_glass_pattern(member.arn("iam", "role/hipaa-aws/*", region=False)))
    return found


def validate(name: str, args: OrganizationAlarmsArgs) -> None:
    """Every problem at once, as a RunError, before anything is created."""
    problems = []
    ctx = args.management
    if not args.key_administrators:
        problems.append("key_administrators must name at least one role of the management account "
                        "(never the whole account)")
    accounts = [("management", ctx.account_id, args.key_administrators),
                *((a.label, a.account_id, a.key_administrators)
                  for a in [*args.environments, *args.shared_accounts])]
    for label, account_id, roles in accounts:
        if not ACCOUNT_ID.fullmatch(account_id):
            problems.append(f"{label}: account id {account_id!r} is not 12 digits")
        for arn in roles:
            match = IAM_ROLE_ARN.fullmatch(arn)
            if not match:
                problems.append(f"{label}: key administrator {arn!r} is not an IAM role ARN")
            elif match["account"] != account_id:
                problems.append(f"{label}: key administrator {arn!r} is a role of account "
                                f"{match['account']}, not of {account_id}")
    labels = [label for label, _, _ in accounts]
    problems += [f"{label} is listed more than once"
                 for label in sorted(set(labels)) if labels.count(label) > 1]
    for environment in args.environments:
        if environment.label in SHARED_LABELS or environment.label == SCOPE:
            problems.append(f"environment {environment.label}: the name is reserved for a shared account's "
                            f"alarms")
        if environment.account_id == ctx.account_id:
            problems.append(f"environment {environment.label}: account {environment.account_id} is the "
                            f"management account; environments live in member accounts")
    found = patterns(args)
    for (label, key), (_, pattern) in found.items():
        if len(pattern) > METRIC_FILTER_PATTERN_LIMIT:
            problems.append(f"{label} {key}: the filter pattern has {len(pattern)} characters, more than "
                            f"CloudWatch Logs' {METRIC_FILTER_PATTERN_LIMIT}; name fewer key administrators")
    if len(found) + args.other_metric_filters > METRIC_FILTERS_PER_LOG_GROUP:
        problems.append(f"{len(found)} metric filters (+{args.other_metric_filters} others) on the "
                        f"organization trail's log group: CloudWatch Logs allows "
                        f"{METRIC_FILTERS_PER_LOG_GROUP} per log group")
    if problems:
        raise pulumi.RunError(f"organization alarms {name}: " + "; ".join(problems))


def incident_actions(ctx: AwsContext, key: str) -> list[str]:
    """A break-glass assumption is PHI access: its alarm also opens an OpsItem, in the management
    account, the only one this alarm's action can open it in (incident_response.py)."""
    return [opsitem_action(ctx, "1")] if key == BREAK_GLASS[0] else []


class OrganizationAlarms(pulumi.ComponentResource):
    topic_arn: pulumi.Output[str]
    """The encrypted SNS topic every alarm here notifies (management account, home region)."""
    key_arn: pulumi.Output[str]
    """The customer-managed key encrypting the topic."""
    trail_alarms: OrganizationTrailAlarms
    """Where other components put their organization-trail alarms (WorkforcePermissionSets)."""

    def __init__(self, name: str, args: OrganizationAlarmsArgs,
                 opts: Optional[pulumi.ResourceOptions] = None):
        # Every child (the key ring, the alarms trail_event_alarm parents here) inherits the provider.
        super().__init__("hipaa:components:OrganizationAlarms", name, None, pulumi.ResourceOptions.merge(
            opts, pulumi.ResourceOptions(providers=[args.management_provider])))
        validate(name, args)
        child = pulumi.ResourceOptions(parent=self)
        ctx = args.management

        keys = KeyRing(f"{name}-keys", KeyRingArgs(
            stack=SCOPE, aws=ctx, administrators=list(args.key_administrators),
            purposes=(purpose("alerting"),), alias_scope=SCOPE), opts=child)
        self.key_arn = keys.arn("alerting")
        arn = ctx.arn("sns", TOPIC_NAME)  # known at preview, so the topic policy can be judged
        topic = aws.sns.Topic(name, name=TOPIC_NAME, kms_master_key_id=self.key_arn, opts=child)
        self.topic_arn = topic.arn
        aws.sns.TopicPolicy(name, arn=topic.arn, policy=alert_topic_policy(
            ctx, arn, alarms=True, rule_arns=()), opts=child)
        aws.sns.TopicSubscription(name, topic=topic.arn, protocol="email", endpoint=args.alert_email,
                                  opts=child)

        for (label, key), (description, pattern) in patterns(args).items():
            # One metric per account: every filter on this log group publishes in the management
            # account's namespace.
            scoped = key if label == SCOPE else f"{label}-{key}"
            metric = metric_name(key) if label == SCOPE else f"{metric_name(key)}-{label}"
            # Per-account copies share the runbook of their kind (`key`).
            trail_event_alarm(f"{name}-{scoped}", f"hipaa-aws-{SCOPE}-{scoped}",
                              with_runbook(description, key), args.log_group_name, pattern, metric,
                              topic.arn, self, incident_actions=incident_actions(ctx, key))

        self.trail_alarms = OrganizationTrailAlarms(
            provider=args.management_provider, management=ctx, log_group_name=args.log_group_name,
            topic_arn=self.topic_arn)
        self.register_outputs({"topic_arn": self.topic_arn, "key_arn": self.key_arn})
