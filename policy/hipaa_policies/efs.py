"""EFS: encrypted with customer-managed keys."""

from __future__ import annotations

from collections.abc import Iterable

from .framework import ENCRYPTION_AT_REST, Resource, resource_policy, policy_meta

EFS = ("aws:efs/fileSystem:FileSystem",)


def _efs(r: Resource) -> Iterable[str]:
    if r.props.bool("encrypted") is not True:
        yield "Set encrypted to true."
    if not r.props.customer_key("kmsKeyId"):
        yield "Set kmsKeyId to a customer-managed key."


POLICIES = [
    resource_policy(policy_meta("aws-efs-encrypted", "EFS file systems must be encrypted with a customer-managed key.",
                          ENCRYPTION_AT_REST, "Set encrypted=true and kmsKeyId.", "efs", ["efs-encrypted-check"]),
                    EFS, _efs),
]
