"""DMS: private, encrypted replication instances; TLS endpoints."""

from __future__ import annotations

from collections.abc import Iterable

from .framework import ACCESS_CONTROL, Metadata, Resource, resource_policy

DMS_INSTANCE = ("aws:dms/replicationInstance:ReplicationInstance",)
DMS_ENDPOINT = ("aws:dms/endpoint:Endpoint",)


def _dms_instance(r: Resource) -> Iterable[str]:
    if r.props.bool("publiclyAccessible") is not False:
        yield "Set publiclyAccessible to false."
    if not r.props.customer_key("kmsKeyArn"):
        yield "Set kmsKeyArn to a customer-managed key."


def _dms_endpoint(r: Resource) -> Iterable[str]:
    if r.props.get("engineName") in ("s3", "kinesis", "dynamodb"):
        return
    if r.props.get("sslMode") in (None, "none"):
        yield "Set sslMode to verify-full (or require)."


POLICIES = [
    resource_policy(Metadata("aws-dms-replication-instance-private", "DMS replication instances must be private and encrypted with a customer key.",
                             ACCESS_CONTROL, "Set publiclyAccessible=false and kmsKeyArn.",
                             config_rules=("dms-replication-not-public",), service="dms"), DMS_INSTANCE, _dms_instance),
    resource_policy(Metadata("aws-dms-endpoint-tls", "DMS database endpoints must use TLS.",
                             ACCESS_CONTROL, "Set sslMode to verify-full.", service="dms"), DMS_ENDPOINT, _dms_endpoint),
]
