"""Secrets Manager: customer-managed keys and rotation."""

from __future__ import annotations

from collections.abc import Iterable

from .framework import AUTHENTICATION, ENCRYPTION_AT_REST, Metadata, Resource, Stack, resource_policy, stack_policy

SECRET = ("aws:secretsmanager/secret:Secret",)
ROTATION = ("aws:secretsmanager/secretRotation:SecretRotation",)


def _cmk(r: Resource) -> Iterable[str]:
    if not r.props.is_set("kmsKeyId"):
        yield "Set kmsKeyId to the secrets key."


def _rotation(stack: Stack) -> Iterable[tuple[str, str]]:
    for secret in stack.of_type(*SECRET):
        def check(secret=secret) -> Iterable[str]:
            if not stack.attached(secret, ROTATION, "secretId"):
                yield "Attach a SecretRotation to this secret."
        yield from stack.judge(secret, check)


POLICIES = [
    resource_policy(Metadata("aws-secretsmanager-secret-customer-key", "Secrets must be encrypted with a customer-managed key.",
                             ENCRYPTION_AT_REST, "Set kmsKeyId.", config_rules=("secretsmanager-using-cmk",),
                             service="secretsmanager"), SECRET, _cmk),
    stack_policy(Metadata("aws-secretsmanager-secret-rotated", "Secrets must rotate automatically.",
                          AUTHENTICATION, "Attach aws.secretsmanager.SecretRotation (RDS-managed master secrets rotate on their own).",
                          config_rules=("secretsmanager-rotation-enabled-check",), service="secretsmanager"), _rotation),
]
