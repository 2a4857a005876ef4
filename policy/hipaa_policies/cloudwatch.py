"""CloudWatch: encrypted log groups kept six years; every alarm notifies someone."""

from __future__ import annotations

from collections.abc import Iterable

from .framework import (
    ENCRYPTION_AT_REST, INCIDENT_PROCEDURES, RETENTION, Metadata, Resource, not_applicable, resource_policy,
)

LOG_GROUP = ("aws:cloudwatch/logGroup:LogGroup",)
ALARM = ("aws:cloudwatch/metricAlarm:MetricAlarm",)


def _encrypted(r: Resource) -> Iterable[str]:
    if not r.props.customer_key("kmsKeyId"):
        yield "Set kmsKeyId to the logs key."


def _retention(r: Resource) -> Iterable[str]:
    days = r.props.number("retentionInDays")
    minimum = r.config["minimumRetentionDays"]
    if days not in (None, 0) and days < minimum:  # unset or 0 keeps logs forever
        # botocore `logs` CreateLogGroup.logGroupClass: "Log events in log groups in the Delivery class
        # are kept in CloudWatch Logs for only one day"; they are kept where they are delivered (S3,
        # Firehose), whose retention the bucket's lifecycle policies judge.
        if r.props.get("logGroupClass") == "DELIVERY":
            not_applicable("A DELIVERY-class log group keeps events for one day only (botocore logs "
                           "CreateLogGroup.logGroupClass); they are kept by the S3 or Firehose destination.")
        yield f"Set retentionInDays to at least {minimum} (six years)."


def _alarm_actions(r: Resource) -> Iterable[str]:
    if r.props.bool("actionsEnabled") is False:
        yield "Set actionsEnabled to true: with actions disabled the alarm notifies nobody."
    if not r.props.size("alarmActions"):
        yield "Set alarmActions to the security alert topic."
    if r.config["requireInsufficientDataAction"] and not r.props.size("insufficientDataActions"):
        yield "Set insufficientDataActions to the security alert topic."


POLICIES = [
    resource_policy(Metadata("aws-cloudwatch-log-group-encrypted", "Log groups must be encrypted with a customer-managed key.",
                             ENCRYPTION_AT_REST, "Set kmsKeyId to the logs key.", service="cloudwatch"),
                    LOG_GROUP, _encrypted),
    resource_policy(Metadata("aws-cloudwatch-log-group-six-year-retention", "Log groups must keep audit logs at least six years.",
                             RETENTION, "Set retentionInDays to 2192 or more (or leave it unset to keep logs forever).",
                             service="cloudwatch",
                             config={"minimumRetentionDays": {"type": "integer", "minimum": 1, "default": 2192,
                                                              "description": "Shortest allowed retention in days."}}),
                    LOG_GROUP, _retention),
    resource_policy(Metadata("aws-cloudwatch-alarm-has-action", "Every alarm must notify someone.",
                             INCIDENT_PROCEDURES, "Set alarmActions (and insufficientDataActions) to the alert topic.",
                             config_rules=("cloudwatch-alarm-action-check",), service="cloudwatch",
                             config={"requireInsufficientDataAction": {
                                 "type": "boolean", "default": True,
                                 "description": "Also require insufficientDataActions (the HIPAA pack's default)."}}),
                    ALARM, _alarm_actions),
]
