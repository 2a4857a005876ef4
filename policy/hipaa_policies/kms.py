"""KMS: customer-managed keys rotate, are not public, and are not deleted in a hurry."""

from __future__ import annotations

from collections.abc import Iterable

from . import documents as doc
from .framework import ACCESS_CONTROL, ENCRYPTION_AT_REST, Metadata, Resource, not_applicable, resource_policy

KEY = ("aws:kms/key:Key",)


def customer_managed_key(key: str):
    """A check that property `key` names a customer-managed KMS key, not an AWS-managed alias."""
    def check(r: Resource) -> Iterable[str]:
        if not r.props.customer_key(key):
            yield f"Set {key} to a customer-managed KMS key (not an AWS-managed alias)."
    return check


def _rotation(r: Resource) -> Iterable[str]:
    if r.props.bool("enableKeyRotation") is not True:
        # botocore `kms` EnableKeyRotation: "Automatic key rotation is supported only on symmetric
        # encryption KMS keys. You cannot enable automatic rotation of asymmetric KMS keys, HMAC KMS
        # keys, KMS keys with imported key material, or KMS keys in a custom key store."
        spec = r.props.get("customerMasterKeySpec")
        if spec not in (None, "SYMMETRIC_DEFAULT"):
            not_applicable(f"KMS rotates only symmetric encryption keys, not {spec} keys (botocore kms "
                           "EnableKeyRotation); rotate them by creating a new key and moving the alias.")
        if r.props.is_set("customKeyStoreId") or r.props.is_set("xksKeyId"):
            not_applicable("KMS cannot rotate a key in a custom key store (botocore kms EnableKeyRotation); "
                           "rotate it by creating a new key and moving the alias.")
        yield "Set enableKeyRotation to true."
    period = r.props.number("rotationPeriodInDays")
    maximum = r.config["maximumRotationDays"]
    if period is not None and period > maximum:
        yield f"Set rotationPeriodInDays to {maximum} or less."


def _deletion_window(r: Resource) -> Iterable[str]:
    window = r.props.number("deletionWindowInDays") if r.props.is_set("deletionWindowInDays") else 30  # AWS default
    minimum = r.config["minimumDeletionWindowDays"]
    if window is None or window < minimum:
        yield f"Set deletionWindowInDays to at least {minimum}."


def _not_public(r: Resource) -> Iterable[str]:
    if doc.public_statements(r.props.document("policy")):
        yield 'Remove key policy statements that allow Principal "*" without a condition.'


POLICIES = [
    resource_policy(Metadata(
        "aws-kms-key-rotation-enabled", "Customer-managed KMS keys must rotate at least yearly.",
        ENCRYPTION_AT_REST, "Set enableKeyRotation=true and rotationPeriodInDays<=365.",
        service="kms", config={"maximumRotationDays": {
            "type": "integer", "minimum": 90, "maximum": 2560, "default": 365,
            "description": "Longest allowed rotation period in days."}}), KEY, _rotation),
    resource_policy(Metadata(
        "aws-kms-key-deletion-window", "KMS keys must keep a long deletion window so a mistaken deletion can be cancelled.",
        ENCRYPTION_AT_REST, "Set deletionWindowInDays to 30.",
        config_rules=("kms-cmk-not-scheduled-for-deletion",), service="kms",
        config={"minimumDeletionWindowDays": {"type": "integer", "minimum": 7, "maximum": 30,
                                              "default": 30, "description": "Shortest allowed window."}}),
        KEY, _deletion_window),
    resource_policy(Metadata(
        "aws-kms-key-policy-not-public", "KMS key policies must not let everyone use the key.",
        ACCESS_CONTROL, "Grant use to named principals or services with conditions.", service="kms"),
        KEY, _not_public),
]
