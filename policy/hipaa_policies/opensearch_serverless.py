"""OpenSearch Serverless: its security policies are JSON of their own, not IAM documents.

A collection's encryption and network exposure are not inputs of the collection: they are
`aws:opensearch/serverlessSecurityPolicy` resources whose `policy` is a list of entries
(OpenSearch Serverless "Encryption" and "Network access" pages):
- type `encryption`: {"Rules": [...], "AWSOwnedKey": true|false, "KmsARN": "..."}; an AWS-owned key
  is not a customer-managed key;
- type `network`: [{"Rules": [...], "AllowFromPublic": true|false, "SourceVPCEs": [...]}]; an entry
  allowing public access exposes the collections and dashboards its rules name to the internet.
Data access policies (`aws:opensearch/serverlessAccessPolicy`) grant `Permission`s to a `Principal`
list of IAM ARNs; a wildcard principal grants every account.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from .framework import ACCESS_CONTROL, ENCRYPTION_AT_REST, Metadata, Resource, as_list, resource_policy

SECURITY_POLICY = ("aws:opensearch/serverlessSecurityPolicy:ServerlessSecurityPolicy",)
ACCESS_POLICY = ("aws:opensearch/serverlessAccessPolicy:ServerlessAccessPolicy",)


def _entries(r: Resource) -> list[Mapping]:
    text = r.props.get("policy")
    try:
        document: Any = json.loads(text) if isinstance(text, str) else text
    except ValueError:
        return [{"__invalid__": True}]
    return [e for e in as_list(document) if isinstance(e, Mapping)]


def _security_policy(r: Resource) -> Iterable[str]:
    kind = str(r.props.get("type") or "").lower()
    for entry in _entries(r):
        if "__invalid__" in entry:
            yield "Set policy to valid JSON."
        elif kind == "encryption" and (entry.get("AWSOwnedKey") is not False or not entry.get("KmsARN")):
            yield 'Set "AWSOwnedKey": false and "KmsARN" to a customer-managed key in the encryption policy.'
        elif kind == "network" and entry.get("AllowFromPublic") is not False:
            yield ('Set "AllowFromPublic": false and list "SourceVPCEs" (OpenSearch Serverless VPC endpoints) '
                   "in every network policy entry.")


def _access_policy(r: Resource) -> Iterable[str]:
    for entry in _entries(r):
        if "__invalid__" in entry:
            yield "Set policy to valid JSON."
            continue
        principals = [p for p in as_list(entry.get("Principal")) if isinstance(p, str)]
        if any(p.strip() == "*" or ":*:" in p or p.endswith(":*") for p in principals):
            yield "Name IAM roles or users in Principal; a wildcard grants every account's principals."


POLICIES = [
    resource_policy(Metadata(
        "aws-opensearch-serverless-security-policy",
        "OpenSearch Serverless encryption policies must use a customer-managed key; network policies must not allow public access.",
        ENCRYPTION_AT_REST, "Set AWSOwnedKey false with KmsARN; set AllowFromPublic false with SourceVPCEs.",
        service="opensearch"), SECURITY_POLICY, _security_policy),
    resource_policy(Metadata(
        "aws-opensearch-serverless-access-policy-not-public",
        "OpenSearch Serverless data access policies must name principals, never a wildcard.",
        ACCESS_CONTROL, "List IAM role or user ARNs in every rule's Principal.", service="opensearch"),
        ACCESS_POLICY, _access_policy),
]
