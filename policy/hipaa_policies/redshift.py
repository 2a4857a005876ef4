"""Redshift: encrypted, private, backed up, patched, TLS-only, logging."""

from __future__ import annotations

from collections.abc import Iterable

from .framework import (
    policy_meta,
    AUDIT_CONTROLS, ENCRYPTION_AT_REST, TRANSMISSION_SECURITY, Resource, Stack, resource_policy, stack_policy,
)

REDSHIFT = ("aws:redshift/cluster:Cluster",)
REDSHIFT_PARAMETERS = ("aws:redshift/parameterGroup:ParameterGroup",)
REDSHIFT_LOGGING = ("aws:redshift/logging:Logging",)


def _redshift(r: Resource) -> Iterable[str]:
    if r.props.bool("encrypted") is not True or not r.props.customer_key("kmsKeyId"):
        yield "Set encrypted=true and kmsKeyId to a customer-managed key."
    if r.props.bool("publiclyAccessible") is not False:
        yield "Set publiclyAccessible to false."
    retention = r.props.number("automatedSnapshotRetentionPeriod")
    if retention is not None and retention < 1:
        yield "Set automatedSnapshotRetentionPeriod to at least 1."
    if r.props.bool("allowVersionUpgrade") is False:
        yield "Set allowVersionUpgrade to true."
    if not r.props.is_set("clusterParameterGroupName"):
        yield "Set clusterParameterGroupName to a parameter group with require_ssl=true."


def _redshift_tls(r: Resource) -> Iterable[str]:
    values = {p.str("name"): str(p.get("value")).lower() for p in r.props.each("parameters")}
    if values.get("require_ssl") != "true":
        yield "Add parameter require_ssl with value true."


def _redshift_logging(stack: Stack) -> Iterable[tuple[str, str]]:
    for cluster in stack.of_type(*REDSHIFT):
        def check(cluster=cluster) -> Iterable[str]:
            if not stack.attached(cluster, REDSHIFT_LOGGING, "clusterIdentifier"):
                yield "Attach aws.redshift.Logging to this cluster."
        yield from stack.judge(cluster, check)


POLICIES = [
    resource_policy(policy_meta("aws-redshift-cluster-secure", "Redshift clusters must be encrypted, private, backed up, patched and TLS-only.",
                          ENCRYPTION_AT_REST, "Set encrypted, kmsKeyId, publiclyAccessible=false, snapshots, allowVersionUpgrade and a require_ssl parameter group.",
                          "redshift",
                          ["redshift-cluster-configuration-check", "redshift-cluster-public-access-check",
                           "redshift-backup-enabled", "redshift-cluster-maintenancesettings-check"]),
                    REDSHIFT, _redshift),
    resource_policy(policy_meta("aws-redshift-require-tls", "Redshift parameter groups must set require_ssl=true.",
                          TRANSMISSION_SECURITY, "Add the parameter require_ssl=true.", "redshift",
                          ["redshift-require-tls-ssl"]), REDSHIFT_PARAMETERS, _redshift_tls),
    stack_policy(policy_meta("aws-redshift-cluster-logging", "Redshift clusters must have audit logging.",
                       AUDIT_CONTROLS, "Attach aws.redshift.Logging.", "redshift",
                       ["redshift-cluster-configuration-check"]), _redshift_logging),
]
