"""Secrets Manager: customer-managed keys and rotation."""

from __future__ import annotations

import re
from collections.abc import Iterable

from .framework import AUTHENTICATION, ENCRYPTION_AT_REST, Metadata, Resource, Stack, resource_policy, stack_policy

SECRET = ("aws:secretsmanager/secret:Secret",)
ROTATION = ("aws:secretsmanager/secretRotation:SecretRotation",)


def _cmk(r: Resource) -> Iterable[str]:
    if not r.props.customer_key("kmsKeyId"):
        yield "Set kmsKeyId to the secrets key."
    # A replica without kmsKeyId is encrypted with aws/secretsmanager in its Region (botocore
    # `secretsmanager` ReplicaRegionType.KmsKeyId).
    if any(not replica.customer_key("kmsKeyId") for replica in r.props.each("replicas")):
        yield "Set replicas[].kmsKeyId to a customer-managed key in each replica Region."


def _rotation(stack: Stack) -> Iterable[tuple[str, str]]:
    maximum = stack.config.get("maximumRotationDays", 90)
    for secret in stack.of_type(*SECRET):
        def check(secret=secret) -> Iterable[str]:
            rotations = stack.attached(secret, ROTATION, "secretId")
            if not rotations:
                yield "Attach a SecretRotation to this secret."
            for rotation in rotations:
                yield from _interval(rotation, maximum)
        yield from stack.judge(secret, check)


def _interval(rotation: Resource, maximum: int) -> Iterable[str]:
    """The rotation schedule: automaticallyAfterDays, or a rate(...) schedule expression (a cron
    expression's interval is not computed here; it passes only if it rotates at least monthly)."""
    days = rotation.props.number("rotationRules", "automaticallyAfterDays")
    expression = rotation.props.str("rotationRules", "scheduleExpression")
    if days is None and expression:
        rate = re.fullmatch(r"rate\((\d+) (hours?|days?)\)", expression.strip())
        if rate:
            days = int(rate[1]) / (24 if rate[2].startswith("hour") else 1)
        elif not expression.strip().startswith("cron("):
            yield f"Set rotationRules.scheduleExpression to rate(N days) or a cron expression; got {expression!r}."
            return
    if days is None and not expression:
        yield "Set rotationRules.automaticallyAfterDays (or a scheduleExpression)."
    elif days is not None and days > maximum:
        yield f"Rotate at least every {maximum} days (rotationRules)."


POLICIES = [
    resource_policy(Metadata("aws-secretsmanager-secret-customer-key", "Secrets must be encrypted with a customer-managed key.",
                             ENCRYPTION_AT_REST, "Set kmsKeyId.", config_rules=("secretsmanager-using-cmk",),
                             service="secretsmanager"), SECRET, _cmk),
    stack_policy(Metadata("aws-secretsmanager-secret-rotated", "Secrets must rotate automatically.",
                          AUTHENTICATION, "Attach aws.secretsmanager.SecretRotation (RDS-managed master secrets rotate on their own).",
                          config_rules=("secretsmanager-rotation-enabled-check",),
                          service="secretsmanager",
                          config={"maximumRotationDays": {"type": "integer", "minimum": 1, "maximum": 365, "default": 90,
                                                          "description": "Longest allowed rotation interval in days."}}),
                 _rotation),
]
