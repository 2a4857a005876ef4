"""DynamoDB: customer-managed keys, point-in-time recovery, capacity that keeps up."""

from __future__ import annotations

from collections.abc import Iterable

from pulumi_policy import EnforcementLevel, Severity

from .framework import DATA_BACKUP, ENCRYPTION_AT_REST, INTEGRITY, Resource, resource_policy, policy_meta

DYNAMODB = ("aws:dynamodb/table:Table",)


def _dynamodb_encryption(r: Resource) -> Iterable[str]:
    if r.props.bool("serverSideEncryption", "enabled") is not True or \
            not r.props.customer_key("serverSideEncryption", "kmsKeyArn"):
        yield "Set serverSideEncryption with enabled=true and kmsKeyArn (customer-managed key)."
    # A global-table replica without kmsKeyArn uses alias/aws/dynamodb in its region (SDK docstring of
    # TableReplicaArgs.kms_key_arn), whatever key the table itself uses.
    if any(not replica.customer_key("kmsKeyArn") for replica in r.props.each("replicas")):
        yield "Set kmsKeyArn on every replicas entry to a customer-managed key in that replica's region."


def _dynamodb_pitr(r: Resource) -> Iterable[str]:
    if r.props.bool("pointInTimeRecovery", "enabled") is not True:
        yield "Set pointInTimeRecovery.enabled to true."
    # Each replica keeps its own point-in-time recovery setting, false by default (SDK docstring).
    if any(replica.bool("pointInTimeRecovery") is not True for replica in r.props.each("replicas")):
        yield "Set pointInTimeRecovery to true on every replicas entry."


def _dynamodb_capacity(r: Resource) -> Iterable[str]:
    if r.props.get("billingMode") != "PAY_PER_REQUEST":
        yield "Use billingMode PAY_PER_REQUEST, or attach Application Auto Scaling to the table."


POLICIES = [
    resource_policy(policy_meta("aws-dynamodb-table-customer-key", "DynamoDB tables must be encrypted with a customer-managed key.",
                          ENCRYPTION_AT_REST, "Set serverSideEncryption.enabled and kmsKeyArn.", "dynamodb"),
                    DYNAMODB, _dynamodb_encryption),
    resource_policy(policy_meta("aws-dynamodb-table-pitr", "DynamoDB tables must have point-in-time recovery.",
                          DATA_BACKUP, "Set pointInTimeRecovery.enabled=true.", "dynamodb", ["dynamodb-pitr-enabled"]),
                    DYNAMODB, _dynamodb_pitr),
    resource_policy(policy_meta("aws-dynamodb-table-scales", "DynamoDB tables should be on-demand or auto-scaled so PHI writes are not throttled.",
                          INTEGRITY, "Use PAY_PER_REQUEST or Application Auto Scaling.", "dynamodb",
                          ["dynamodb-autoscaling-enabled"], severity=Severity.LOW,
                          enforcement=EnforcementLevel.ADVISORY), DYNAMODB, _dynamodb_capacity),
]
