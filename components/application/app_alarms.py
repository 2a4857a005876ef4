"""Alarms on the application tier, each notifying the alert topic:

- load balancer 5xx and 4xx responses above their learned baseline (CloudWatch anomaly detection):
  a failing release, or data extraction and credential stuffing;
- WAF blocked requests above their baseline (an attack in progress);
- unhealthy targets;
- failed database logins, from the PostgreSQL log (password and IAM/PAM authentication failures).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi_aws as aws

from components.runbooks import with_runbook

METRIC_NAMESPACE = "HipaaAws/Application"
# Standard deviations above the learned band before an anomaly alarm fires.
ANOMALY_BAND_WIDTH = 3
FAILED_LOGINS_PER_5_MINUTES = 5
# PostgreSQL writes these for wrong passwords and for rejected IAM tokens (which reach it via PAM).
FAILED_LOGIN_PATTERN = '?"password authentication failed" ?"PAM authentication failed"'


@dataclass(frozen=True)
class AppAlarmsArgs:
    stack: str
    region: str
    topic_arn: pulumi.Input[str]
    load_balancer_arn_suffix: pulumi.Input[str]
    target_group_arn_suffix: pulumi.Input[str]
    web_acl_name: pulumi.Input[str]
    database_log_group_name: pulumi.Input[str]
    """The PostgreSQL log group's name as an output of the group: PutMetricFilter on a group that
    does not exist yet fails (ResourceNotFoundException), so a literal name is not enough."""


class AppAlarms(pulumi.ComponentResource):
    def __init__(self, name: str, args: AppAlarmsArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("hipaa:components:AppAlarms", name, None, opts)
        self._name, self._args = name, args
        child = pulumi.ResourceOptions(parent=self)
        lb = {"LoadBalancer": args.load_balancer_arn_suffix}

        for key, description, metrics in (
            ("lb-5xx-above-baseline", "Load balancer 5xx responses above their baseline",
             ("HTTPCode_ELB_5XX_Count", "HTTPCode_Target_5XX_Count")),
            ("lb-4xx-above-baseline",
             "Load balancer 4xx responses above their baseline (data extraction or credential stuffing?)",
             ("HTTPCode_ELB_4XX_Count", "HTTPCode_Target_4XX_Count")),
        ):
            self._anomaly(key, description, "AWS/ApplicationELB", metrics, lb, child)
        waf = {"WebACL": args.web_acl_name, "Region": args.region, "Rule": "ALL"}
        self._anomaly("waf-blocked-above-baseline", "WAF blocked requests above their baseline", "AWS/WAFV2",
                      ("BlockedRequests",), waf, child)
        self._alarm("unhealthy-targets", "The load balancer has unhealthy application targets", child,
                    namespace="AWS/ApplicationELB", metric_name="UnHealthyHostCount", statistic="Maximum",
                    dimensions={**lb, "TargetGroup": args.target_group_arn_suffix}, period=60,
                    evaluation_periods=3, threshold=1, comparison_operator="GreaterThanOrEqualToThreshold")

        metric = "DatabaseFailedLogins"
        aws.cloudwatch.LogMetricFilter(
            f"{name}-db-failed-logins", name=f"hipaa-aws-{args.stack}-db-failed-logins",
            log_group_name=args.database_log_group_name, pattern=FAILED_LOGIN_PATTERN,
            metric_transformation=aws.cloudwatch.LogMetricFilterMetricTransformationArgs(
                name=metric, namespace=METRIC_NAMESPACE, value="1", unit="Count"),
            opts=child)
        self._alarm("db-failed-logins",
                    f"{FAILED_LOGINS_PER_5_MINUTES} or more failed database logins in 5 minutes", child,
                    namespace=METRIC_NAMESPACE, metric_name=metric, statistic="Sum", period=300,
                    evaluation_periods=1, threshold=FAILED_LOGINS_PER_5_MINUTES,
                    comparison_operator="GreaterThanOrEqualToThreshold")
        self.register_outputs({})

    def _alarm(self, key: str, description: str, opts: pulumi.ResourceOptions, **settings) -> None:
        aws.cloudwatch.MetricAlarm(
            f"{self._name}-{key}", name=f"hipaa-aws-{self._args.stack}-{key}",
            alarm_description=with_runbook(description, key),
            treat_missing_data="notBreaching", alarm_actions=[self._args.topic_arn],
            ok_actions=[self._args.topic_arn], insufficient_data_actions=[self._args.topic_arn],
            opts=opts, **settings)

    def _anomaly(self, key: str, description: str, namespace: str, metrics: tuple[str, ...],
                 dimensions: dict, opts: pulumi.ResourceOptions) -> None:
        """Alarm when the sum of `metrics` leaves the band CloudWatch learns from their history."""
        query = aws.cloudwatch.MetricAlarmMetricQueryArgs
        metric_args = aws.cloudwatch.MetricAlarmMetricQueryMetricArgs
        queries = [query(id=f"m{i}", return_data=False, metric=metric_args(
            namespace=namespace, metric_name=metric, dimensions=dimensions, period=300, stat="Sum"))
            for i, metric in enumerate(metrics)]
        total = " + ".join(f"FILL(m{i}, 0)" for i in range(len(metrics)))
        queries += [
            query(id="total", expression=total, label=description, return_data=True),
            query(id="band", expression=f"ANOMALY_DETECTION_BAND(total, {ANOMALY_BAND_WIDTH})",
                  label="Expected range", return_data=True),
        ]
        self._alarm(key, description, opts, comparison_operator="GreaterThanUpperThreshold",
                    evaluation_periods=2, datapoints_to_alarm=2, threshold_metric_id="band",
                    metric_queries=queries)
