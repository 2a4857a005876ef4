"""Systems Manager: documents are never shared publicly."""

from __future__ import annotations

from collections.abc import Iterable

from .framework import ACCESS_CONTROL, Metadata, Resource, resource_policy

DOCUMENT = ("aws:ssm/document:Document",)


def _not_public(r: Resource) -> Iterable[str]:
    if str(r.props.get("permissions", "accountIds")).lower() == "all" or \
            str(r.props.get("permissions", "account_ids")).lower() == "all":
        yield 'Share the document with named accounts, never "All".'


POLICIES = [
    resource_policy(Metadata("aws-ssm-document-not-public", "SSM documents must not be public.",
                             ACCESS_CONTROL, "Remove permissions with account_ids All.",
                             config_rules=("ssm-document-not-public",), service="ssm"), DOCUMENT, _not_public),
]
