"""OpenSearch and Elasticsearch domains: encrypted, TLS 1.2+, in a VPC, logging."""

from __future__ import annotations

from collections.abc import Iterable

from .framework import ENCRYPTION_AT_REST, Resource, resource_policy, policy_meta

SEARCH = ("aws:opensearch/domain:Domain", "aws:elasticsearch/domain:Domain")


def _search(r: Resource) -> Iterable[str]:
    if r.props.bool("encryptAtRest", "enabled") is not True or not r.props.customer_key("encryptAtRest", "kmsKeyId"):
        yield "Set encryptAtRest with enabled=true and kmsKeyId."
    if r.props.bool("nodeToNodeEncryption", "enabled") is not True:
        yield "Set nodeToNodeEncryption.enabled to true."
    if r.props.bool("domainEndpointOptions", "enforceHttps") is not True:
        yield "Set domainEndpointOptions.enforceHttps to true."
    if not str(r.props.get("domainEndpointOptions", "tlsSecurityPolicy") or "").startswith(
            ("Policy-Min-TLS-1-2", "Policy-Min-TLS-1-3")):
        yield "Set domainEndpointOptions.tlsSecurityPolicy to Policy-Min-TLS-1-2-2019-07 or newer."
    if not r.props.size("vpcOptions", "subnetIds"):
        yield "Set vpcOptions.subnetIds to private subnets."
    if not any(o.get("logType") in ("AUDIT_LOGS", "ES_APPLICATION_LOGS") and o.bool("enabled") is not False
               for o in r.props.each("logPublishingOptions")):
        yield "Add logPublishingOptions for AUDIT_LOGS (or ES_APPLICATION_LOGS) to CloudWatch Logs."


POLICIES = [
    resource_policy(policy_meta("aws-opensearch-domain-secure", "OpenSearch/Elasticsearch domains must be encrypted, TLS 1.2+, in a VPC and logging.",
                          ENCRYPTION_AT_REST, "Set encryptAtRest, nodeToNodeEncryption, domainEndpointOptions, vpcOptions and logPublishingOptions.",
                          "opensearch",
                          ["opensearch-encrypted-at-rest", "opensearch-https-required", "opensearch-in-vpc-only",
                           "opensearch-logs-to-cloudwatch", "opensearch-node-to-node-encryption-check",
                           "elasticsearch-encrypted-at-rest", "elasticsearch-in-vpc-only",
                           "elasticsearch-logs-to-cloudwatch", "elasticsearch-node-to-node-encryption-check"]),
                    SEARCH, _search),
]
