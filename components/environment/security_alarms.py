"""Security alarms: anomalous PHI reads for every stack; for the account layer's owner, whose trail
holds the account's management events, also the CIS CloudWatch set, key-administration and
break-glass alarms, and high-severity GuardDuty and Security Hub findings."""

from __future__ import annotations

import json
from dataclasses import dataclass
from collections.abc import Sequence
from typing import Optional

import pulumi
import pulumi_aws as aws

from components.aws_context import AwsContext
from components.environment.incident_response import finding_opsitem_targets, opsitem_action
from components.policy_documents import policy_json
from components.runbooks import with_runbook
from components.trail_patterns import (
    break_glass_pattern, key_administration_pattern, object_reads_per_principal_rule, port_forwarding_pattern,
)

METRIC_NAMESPACE = "HipaaAws/Security"
PHI_READ_WINDOW_SECONDS = 300


def _any_event(*names: str, source: Optional[str] = None) -> str:
    names_clause = " || ".join(f"($.eventName = {n})" for n in names)
    if source:
        return f"{{ ($.eventSource = {source}) && ({names_clause}) }}"
    return f"{{ {names_clause} }}"


# CIS AWS Foundations Benchmark, CloudWatch monitoring section: metric filter patterns.
CIS_ALARMS: dict[str, tuple[str, str]] = {
    "unauthorized-api-calls": (
        "Unauthorized API calls",
        '{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") }'),
    "console-signin-without-mfa": (
        "Console sign-in without MFA",
        '{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") && '
        '($.userIdentity.type = "IAMUser") && ($.responseElements.ConsoleLogin = "Success") }'),
    "root-account-usage": (
        "Root account used",
        '{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && '
        '$.eventType != "AwsServiceEvent" }'),
    "iam-policy-changes": ("IAM policy changed", _any_event(
        "DeleteGroupPolicy", "DeleteRolePolicy", "DeleteUserPolicy", "PutGroupPolicy",
        "PutRolePolicy", "PutUserPolicy", "CreatePolicy", "DeletePolicy", "CreatePolicyVersion",
        "DeletePolicyVersion", "AttachRolePolicy", "DetachRolePolicy", "AttachUserPolicy",
        "DetachUserPolicy", "AttachGroupPolicy", "DetachGroupPolicy",
        source="iam.amazonaws.com")),
    "cloudtrail-changes": ("CloudTrail configuration changed", _any_event(
        "CreateTrail", "UpdateTrail", "DeleteTrail", "StartLogging", "StopLogging")),
    "console-auth-failures": (
        "Console authentication failures",
        '{ ($.eventName = ConsoleLogin) && ($.errorMessage = "Failed authentication") }'),
    "cmk-disabled-or-deleted": ("Customer managed key disabled or scheduled for deletion",
                                _any_event("DisableKey", "ScheduleKeyDeletion",
                                           source="kms.amazonaws.com")),
    "s3-bucket-policy-changes": ("S3 bucket policy changed", _any_event(
        "PutBucketAcl", "PutBucketPolicy", "PutBucketCors", "PutBucketLifecycle",
        "PutBucketReplication", "DeleteBucketPolicy", "DeleteBucketCors",
        "DeleteBucketLifecycle", "DeleteBucketReplication", source="s3.amazonaws.com")),
    "config-changes": ("AWS Config changed", _any_event(
        "StopConfigurationRecorder", "DeleteDeliveryChannel", "PutDeliveryChannel",
        "PutConfigurationRecorder", source="config.amazonaws.com")),
    "security-group-changes": ("Security group changed", _any_event(
        "AuthorizeSecurityGroupIngress", "AuthorizeSecurityGroupEgress",
        "RevokeSecurityGroupIngress", "RevokeSecurityGroupEgress", "CreateSecurityGroup",
        "DeleteSecurityGroup")),
    "nacl-changes": ("Network ACL changed", _any_event(
        "CreateNetworkAcl", "CreateNetworkAclEntry", "DeleteNetworkAcl", "DeleteNetworkAclEntry",
        "ReplaceNetworkAclEntry", "ReplaceNetworkAclAssociation")),
    "network-gateway-changes": ("Network gateway changed", _any_event(
        "CreateCustomerGateway", "DeleteCustomerGateway", "AttachInternetGateway",
        "CreateInternetGateway", "DeleteInternetGateway", "DetachInternetGateway")),
    "route-table-changes": ("Route table changed", _any_event(
        "CreateRoute", "CreateRouteTable", "ReplaceRoute", "ReplaceRouteTableAssociation",
        "DeleteRouteTable", "DeleteRoute", "DisassociateRouteTable",
        source="ec2.amazonaws.com")),
    "vpc-changes": ("VPC changed", _any_event(
        "CreateVpc", "DeleteVpc", "ModifyVpcAttribute", "AcceptVpcPeeringConnection",
        "CreateVpcPeeringConnection", "DeleteVpcPeeringConnection",
        "RejectVpcPeeringConnection", "AttachClassicLinkVpc", "DetachClassicLinkVpc",
        "DisableVpcClassicLink", "EnableVpcClassicLink")),
}

PHI_ACCESS_ALARMS = ("database-break-glass-used", "phi-reads-per-principal")
"""Alarms of the PHI-access kind: besides the alert topic, each opens a severity-1 Security OpsItem in
OpsCenter (incident_response.py), which records when it was opened: the breach clock's discovery time."""

FINDING_RULES = {
    "guardduty-high-severity": ("GuardDuty findings of severity 7 or more", {
        "source": ["aws.guardduty"], "detail-type": ["GuardDuty Finding"],
        "detail": {"severity": [{"numeric": [">=", 7]}]}}),
    "securityhub-critical-high": ("Security Hub CRITICAL and HIGH findings", {
        "source": ["aws.securityhub"], "detail-type": ["Security Hub Findings - Imported"],
        "detail": {"findings": {"Severity": {"Label": ["CRITICAL", "HIGH"]}}}}),
}


def trail_event_alarm(resource: str, name: str, description: str, log_group_name: pulumi.Input[str],
                      pattern: str, metric: str, topic_arn: pulumi.Input[str],
                      parent: pulumi.Resource,
                      incident_actions: Sequence[str] = ()) -> aws.cloudwatch.MetricAlarm:
    """A metric filter counting the trail events that match `pattern`, and an alarm notifying the
    alert topic on the first one in five minutes (also when data is missing). `incident_actions`
    (incident_response.opsitem_action) open an OpsItem when it goes into ALARM, not on missing data."""
    metric_filter = aws.cloudwatch.LogMetricFilter(
        resource, name=name, log_group_name=log_group_name, pattern=pattern,
        metric_transformation=aws.cloudwatch.LogMetricFilterMetricTransformationArgs(
            name=metric, namespace=METRIC_NAMESPACE, value="1", unit="Count"),
        opts=pulumi.ResourceOptions(parent=parent))
    return aws.cloudwatch.MetricAlarm(
        resource, name=name, alarm_description=description, metric_name=metric,
        namespace=METRIC_NAMESPACE, statistic="Sum", period=300, evaluation_periods=1, threshold=1,
        comparison_operator="GreaterThanOrEqualToThreshold", treat_missing_data="notBreaching",
        alarm_actions=[topic_arn, *incident_actions], insufficient_data_actions=[topic_arn],
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[metric_filter]))


def alert_topic_policy(ctx: AwsContext, topic_arn: str, alarms: bool, rule_arns: Sequence[str]) -> str:
    """Who may publish to an alert topic: CloudWatch alarms of this account (`alarms`), and
    EventBridge only from the given rules. EventBridge is scoped here, by rule ARN, because it cannot
    satisfy source conditions in the alerting key's policy (SNS Developer Guide; see key_ring.py).
    Used by every alert topic: the stack's, the organization's alarms' and its findings'."""
    return policy_json(
        *([{"Sid": "CloudWatchAlarmsPublish", "Effect": "Allow",
            "Principal": {"Service": "cloudwatch.amazonaws.com"}, "Action": "sns:Publish",
            "Resource": topic_arn, "Condition": {"StringEquals": {"aws:SourceAccount": ctx.account_id}}}]
          if alarms else []),
        *([{"Sid": "FindingRulesPublish", "Effect": "Allow",
            "Principal": {"Service": "events.amazonaws.com"}, "Action": "sns:Publish",
            "Resource": topic_arn, "Condition": {"ArnEquals": {"aws:SourceArn": list(rule_arns)}}}]
          if rule_arns else []),
        {"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*",
         "Action": "sns:Publish", "Resource": topic_arn,
         "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
    )


@dataclass(frozen=True)
class SecurityAlarmsArgs:
    stack: str
    aws: AwsContext
    alerting_key_arn: pulumi.Input[str]
    alert_email: str
    trail_log_group_name: pulumi.Input[str]
    phi_bucket_name: pulumi.Input[str]
    phi_read_threshold: int
    account_wide: bool
    """`accountBaseline: owned`: this stack's trail records the account's management events and
    GuardDuty and Security Hub findings are its to route. Otherwise the stack's alarms are its own
    (PHI reads): with `external` the owner stack's trail and alarms cover the account; with
    `organization` the management events are in the organization trail's log group in the management
    account, where the CIS alarms belong, and the delegated administrator routes the findings."""
    key_administrators: list[str]


class SecurityAlarms(pulumi.ComponentResource):
    topic_arn: pulumi.Output[str]
    """The encrypted SNS topic every alarm and finding rule notifies."""

    def __init__(self, name: str, args: SecurityAlarmsArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("hipaa:components:SecurityAlarms", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        ctx = args.aws
        self._stack = args.stack
        self._ctx = ctx

        topic_name = f"hipaa-aws-{args.stack}-security-alerts"
        arn = ctx.arn("sns", topic_name)  # known at preview, so the topic policy can be judged
        topic = aws.sns.Topic(name, name=topic_name, kms_master_key_id=args.alerting_key_arn, opts=child)
        self.topic_arn = topic.arn
        finding_rules = FINDING_RULES if args.account_wide else {}
        rule_arns = [ctx.arn("events", f"rule/hipaa-aws-{args.stack}-{key}") for key in finding_rules]
        aws.sns.TopicPolicy(name, arn=topic.arn, policy=alert_topic_policy(
            ctx, arn, alarms=True, rule_arns=rule_arns), opts=child)
        aws.sns.TopicSubscription(name, topic=topic.arn, protocol="email",
                                  endpoint=args.alert_email, opts=child)

        # Management events are only in the owner's trail; elsewhere these filters would never match.
        trail_alarms = dict(CIS_ALARMS) if args.account_wide else {}
        if args.account_wide:
            trail_alarms["key-administration-by-others"] = (
                "A KMS key policy was changed, or a grant created, by someone other than the key "
                "administrators", key_administration_pattern(
                    args.key_administrators, ci_roles=ctx.arn("iam", "role/hipaa-aws/ci/*", region=False)))
            trail_alarms["port-forwarding-session-started"] = (
                "An operator opened a port-forwarding session (e.g. to the database); Session Manager "
                "does not log its content", port_forwarding_pattern())
            trail_alarms["database-break-glass-used"] = (
                "A database break-glass role was assumed (the master secret may be read)",
                break_glass_pattern(ctx.arn("iam", "role/hipaa-aws/*", region=False)))
        for key, (description, pattern) in trail_alarms.items():
            trail_event_alarm(f"{name}-{key}", f"hipaa-aws-{args.stack}-{key}",
                              with_runbook(description, key), args.trail_log_group_name, pattern,
                              "".join(part.capitalize() for part in key.split("-")), topic.arn, self,
                              incident_actions=[opsitem_action(ctx, "1")] if key in PHI_ACCESS_ALARMS else ())

        rules = {}
        for key, (description, pattern) in finding_rules.items():
            rule = aws.cloudwatch.EventRule(
                f"{name}-{key}", name=f"hipaa-aws-{args.stack}-{key}", description=description,
                event_pattern=json.dumps(pattern), opts=child)
            aws.cloudwatch.EventTarget(f"{name}-{key}", rule=rule.name, arn=topic.arn, opts=child)
            rules[key] = rule
        if rules:
            # The breach clock: each finding also opens an OpsItem stamped with its discovery time.
            finding_opsitem_targets(name, ctx, args.stack, rules, self)

        self._phi_read_alarm(name, args, topic.arn, child)
        self.register_outputs({"topic_arn": self.topic_arn})

    def _alarm(self, name, key, description, topic_arn, child, **metric) -> aws.cloudwatch.MetricAlarm:
        return aws.cloudwatch.MetricAlarm(
            f"{name}-{key}", name=f"hipaa-aws-{self._stack}-{key}",
            alarm_description=with_runbook(description, key),
            evaluation_periods=1, treat_missing_data="notBreaching",
            alarm_actions=[topic_arn, *([opsitem_action(self._ctx, "1")] if key in PHI_ACCESS_ALARMS
                                        else [])],
            insufficient_data_actions=[topic_arn], opts=child, **metric)

    def _phi_read_alarm(self, name, args: SecurityAlarmsArgs, topic_arn, child) -> None:
        """More PHI object reads by a single principal in five minutes than the threshold."""
        rule_name = f"hipaa-aws-{args.stack}-phi-reads-per-principal"
        definition = pulumi.Output.all(args.trail_log_group_name, args.phi_bucket_name).apply(
            lambda v: object_reads_per_principal_rule(v[0], v[1]))
        rule = aws.cloudwatch.ContributorInsightRule(
            f"{name}-phi-reads", rule_name=rule_name, rule_state="ENABLED",
            rule_definition=definition, opts=child)
        query = aws.cloudwatch.MetricAlarmMetricQueryArgs
        self._alarm(
            name, "phi-reads-per-principal",
            f"A single principal read more than {args.phi_read_threshold} PHI objects in 5 minutes",
            topic_arn, pulumi.ResourceOptions(parent=self, depends_on=[rule]),
            threshold=args.phi_read_threshold, comparison_operator="GreaterThanThreshold",
            metric_queries=[query(
                id="reads", return_data=True, period=PHI_READ_WINDOW_SECONDS,
                expression=f"INSIGHT_RULE_METRIC('{rule_name}', 'MaxContributorValue')",
                label="Most PHI object reads by one principal")])
