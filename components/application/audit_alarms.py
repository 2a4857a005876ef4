"""Alarms on the application's audit events (docs/audit-event.schema.json), thresholds from `audit` settings:

- bulk export: one actor (`actor.id`) reading, searching or exporting more patient records
  (`recordCount`, successful actions) than `bulkReadRecords` in `bulkReadWindowMinutes`. A CloudWatch
  Contributor Insights rule sums `recordCount` per actor; the alarm watches the top contributor's sum
  (INSIGHT_RULE_METRIC ... MaxContributorValue), so one actor over the threshold fires it however many
  others are active. A metric filter could only sum all actors together.
- off-hours access: PHI access (every action but sign-in and sign-out) whose UTC `time` falls in an hour
  outside `businessHours`, counted by a metric filter matching the hour of the RFC 3339 time.
- failed sign-ins above their baseline: a metric filter counts sign-in failures; the alarm fires when
  the count leaves the band CloudWatch anomaly detection learns from its history (daily and weekly
  patterns): sign-in failures grow with the number of users, which a fixed threshold would not follow.
- new principals: AWS offers no rule for "an actor never seen before" without code. A CloudWatch Logs
  anomaly detector on the group learns the event patterns and reports unusual ones (new patterns,
  unusual values of their tokens), which can include an unknown actor's events; it is not a guarantee
  and has no alarm: its anomalies are reviewed in the console (the runbook says how).

The two PHI-access alarms also open a Systems Manager OpsItem (the incident record that starts the
breach clock); every alarm notifies the alert topic and ends its description with its runbook.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi_aws as aws

from components.audit_settings import AuditSettings
from components.aws_context import AwsContext
from components.environment.incident_response import opsitem_action
from components.runbooks import runbook_link
from components.trail_patterns import METRIC_FILTER_PATTERN_LIMIT

METRIC_NAMESPACE = "HipaaAws/ApplicationAudit"
# Actions that touch patient records (the contract's `action`), and those of them that return records.
PHI_ACTIONS = ("read", "search", "export", "create", "update", "delete")
READ_ACTIONS = ("read", "search", "export")
FAILED_SIGN_IN_PATTERN = '{ ($.action = "sign-in") && ($.result = "failure") }'
# Which OpsCenter severity each PHI-access alarm opens (1 critical .. 4 low).
BULK_EXPORT_SEVERITY, OFF_HOURS_SEVERITY = "2", "3"
# Runbook keys (docs/runbooks/<key>.md).
RUNBOOKS = {"bulk-export": "app-audit-bulk-export", "off-hours-access": "app-audit-off-hours-access",
            "failed-sign-ins": "app-audit-failed-sign-ins"}


def _any_of(selector: str, values: tuple[str, ...]) -> str:
    return " || ".join(f'{selector} = "{value}"' for value in values)


def off_hours_pattern(settings: AuditSettings) -> Optional[str]:
    """The metric filter pattern for PHI access in the UTC hours outside business hours; None when the
    business window covers the whole day. `"*T14:*"` matches the hour of `2026-12-06T14:03:27.123Z`:
    a leading and a trailing asterisk match any text before and after (CloudWatch Logs, "Filter pattern
    syntax": wildcards in JSON string values)."""
    hours = settings.business_hours.off_hours_utc()
    if not hours:
        return None
    times = " || ".join(f'$.time = "*T{hour:02d}:*"' for hour in hours)
    return f"{{ ({_any_of('$.action', PHI_ACTIONS)}) && ({times}) }}"


def bulk_read_rule(log_group_name: str) -> dict:
    """The Contributor Insights rule: records read per actor (CloudWatch user guide, "Contributor
    Insights rule syntax in CloudWatch": Keys, ValueOf, Filters with Match/In, AggregateOn Sum)."""
    return {
        "Schema": {"Name": "CloudWatchLogRule", "Version": 1},
        "LogGroupNames": [log_group_name],
        "LogFormat": "JSON",
        "Contribution": {
            "Keys": ["$.actor.id"],
            "ValueOf": "$.recordCount",
            "Filters": [{"Match": "$.action", "In": list(READ_ACTIONS)},
                        {"Match": "$.result", "In": ["success"]}],
        },
        "AggregateOn": "Sum",
    }


@dataclass(frozen=True)
class AuditAlarmsArgs:
    stack: str
    aws: AwsContext
    settings: AuditSettings
    topic_arn: pulumi.Input[str]
    log_group_name: pulumi.Input[str]
    """The audit log group's name as an output of the group: PutMetricFilter on a group that does not
    exist yet fails (ResourceNotFoundException), so a literal name is not enough."""
    log_group_arn: pulumi.Input[str]
    """The audit log group's ARN (without `:*`), for the anomaly detector."""
    logs_key_arn: pulumi.Input[str]
    """The stack's logs key: the detector's patterns and anomalies quote audit events."""


class AuditAlarms(pulumi.ComponentResource):
    """Bulk export, off-hours access and failed sign-in alarms on the audit log group."""

    alarm_names: list[pulumi.Output[str]]

    def __init__(self, name: str, args: AuditAlarmsArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("hipaa:components:AuditAlarms", name, None, opts)
        self._name, self._args = name, args
        child = pulumi.ResourceOptions(parent=self)
        settings, stack = args.settings, args.stack
        self.alarm_names = []

        rule_name = f"hipaa-aws-{stack}-audit-records-per-actor"
        rule = aws.cloudwatch.ContributorInsightRule(
            f"{name}-records-per-actor", rule_name=rule_name, rule_state="ENABLED",
            rule_definition=pulumi.Output.from_input(args.log_group_name).apply(
                lambda group: json.dumps(bulk_read_rule(group))),
            opts=child)
        window = settings.bulk_read_window_minutes * 60
        self._alarm(
            "bulk-export",
            f"One actor read, searched or exported more than {settings.bulk_read_records} patient records "
            f"in {settings.bulk_read_window_minutes} minute(s) (bulk export?)",
            BULK_EXPORT_SEVERITY, pulumi.ResourceOptions(parent=self, depends_on=[rule]),
            comparison_operator="GreaterThanThreshold", threshold=settings.bulk_read_records,
            evaluation_periods=1, metric_queries=[aws.cloudwatch.MetricAlarmMetricQueryArgs(
                id="top", return_data=True, period=window,
                label="Records read by the top actor",
                expression=f"INSIGHT_RULE_METRIC('{rule_name}', 'MaxContributorValue')")])

        pattern = off_hours_pattern(settings)
        if pattern is not None:
            if len(pattern) > METRIC_FILTER_PATTERN_LIMIT:
                raise pulumi.RunError(f"the off-hours filter pattern has {len(pattern)} characters; "
                                      f"CloudWatch allows {METRIC_FILTER_PATTERN_LIMIT}")
            hours = settings.business_hours
            self._filter("off-hours-access", pattern, "AuditOffHoursAccess", child)
            self._alarm(
                "off-hours-access",
                f"{settings.off_hours_accesses} or more PHI accesses in 5 minutes outside business hours "
                f"({hours.start:02d}:00-{hours.end:02d}:00 UTC{hours.utc_offset})",
                OFF_HOURS_SEVERITY, child, namespace=METRIC_NAMESPACE, metric_name="AuditOffHoursAccess",
                statistic="Sum", period=300, evaluation_periods=1, threshold=settings.off_hours_accesses,
                comparison_operator="GreaterThanOrEqualToThreshold")

        self._filter("failed-sign-ins", FAILED_SIGN_IN_PATTERN, "AuditFailedSignIns", child, default="0")
        query, width = aws.cloudwatch.MetricAlarmMetricQueryArgs, settings.failed_sign_ins_band_width
        self._alarm(
            "failed-sign-ins", "Failed sign-ins to the application above their learned baseline "
            "(credential stuffing or password guessing?)", None, child,
            comparison_operator="GreaterThanUpperThreshold", evaluation_periods=3, datapoints_to_alarm=2,
            threshold_metric_id="band", metric_queries=[
                query(id="failures", return_data=True, label="Failed sign-ins",
                      metric=aws.cloudwatch.MetricAlarmMetricQueryMetricArgs(
                          namespace=METRIC_NAMESPACE, metric_name="AuditFailedSignIns", period=300,
                          stat="Sum")),
                query(id="band", return_data=True, label="Expected range",
                      expression=f"ANOMALY_DETECTION_BAND(failures, {width:g})"),
            ])

        aws.cloudwatch.LogAnomalyDetector(
            f"{name}-anomalies", detector_name=f"hipaa-aws-{stack}-app-audit-anomalies", enabled=True,
            log_group_arn_lists=[args.log_group_arn], evaluation_frequency="FIFTEEN_MIN",
            anomaly_visibility_time=90,
            kms_key_id=args.logs_key_arn,
            filter_pattern=f'{{ ({_any_of("$.action", PHI_ACTIONS)}) && ($.result = "success") }}',
            opts=child)
        self.register_outputs({"alarmNames": self.alarm_names})

    def _filter(self, key: str, pattern: str, metric: str, opts: pulumi.ResourceOptions,
                default: Optional[str] = None) -> None:
        aws.cloudwatch.LogMetricFilter(
            f"{self._name}-{key}", name=f"hipaa-aws-{self._args.stack}-audit-{key}",
            log_group_name=self._args.log_group_name, pattern=pattern,
            metric_transformation=aws.cloudwatch.LogMetricFilterMetricTransformationArgs(
                name=metric, namespace=METRIC_NAMESPACE, value="1", unit="Count", default_value=default),
            opts=opts)

    def _alarm(self, key: str, description: str, opsitem_severity: Optional[str],
               opts: pulumi.ResourceOptions, **settings) -> None:
        topic = self._args.topic_arn
        actions: list[pulumi.Input[str]] = [topic]
        if opsitem_severity is not None:
            # PHI access: an OpsItem stamped with the discovery time (the breach clock).
            actions.append(opsitem_action(self._args.aws, opsitem_severity, "Security"))
        alarm = aws.cloudwatch.MetricAlarm(
            f"{self._name}-{key}", name=f"hipaa-aws-{self._args.stack}-audit-{key}",
            alarm_description=f"{description}. {runbook_link(RUNBOOKS[key])}",
            treat_missing_data="notBreaching", alarm_actions=actions, ok_actions=[topic],
            insufficient_data_actions=[topic], opts=opts, **settings)
        self.alarm_names.append(alarm.name)
