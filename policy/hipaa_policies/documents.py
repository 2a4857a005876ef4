"""Reading IAM-style policy documents (bucket, key, topic, role and trust policies)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from .framework import as_list


def statements(document: Mapping | None) -> list[Mapping]:
    if not isinstance(document, Mapping):
        return []
    return [s for s in as_list(document.get("Statement")) if isinstance(s, Mapping)]


def allows(document: Mapping | None) -> Iterable[Mapping]:
    return (s for s in statements(document) if s.get("Effect") == "Allow")


def actions(statement: Mapping) -> list[str]:
    return [a for a in as_list(statement.get("Action")) if isinstance(a, str)]


def resources(statement: Mapping) -> list[str]:
    return [r for r in as_list(statement.get("Resource")) if isinstance(r, str)]


# Condition keys that narrow "everyone" to a known account, organization, network or resource.
NARROWING_KEYS = frozenset(k.lower() for k in (
    "aws:SourceArn", "aws:SourceAccount", "aws:SourceOwner", "aws:SourceVpc", "aws:SourceVpce",
    "aws:PrincipalOrgID", "aws:PrincipalOrgPaths", "aws:PrincipalAccount", "aws:PrincipalArn",
    "aws:SourceOrgID", "aws:SourceOrgPaths", "aws:userid", "kms:CallerAccount", "kms:ViaService",
    "aws:VpceAccount", "aws:VpceOrgID", "aws:VpceOrgPaths",
))
# A value that matches any account narrows nothing: "*", "?*", or an ARN whose account is a wildcard
# (arn:aws:iam::*:root, arn:aws:*:*:*:*).
_ANY_ACCOUNT = re.compile(r"^arn:[^:]*:[^:]*:[^:]*:[*?]+(:|$)")


def narrows(value: Any) -> bool:
    """True when every value of a condition names something specific."""
    values = as_list(value)
    return bool(values) and all(
        isinstance(v, str) and v.strip() and v.strip("*?") and not _ANY_ACCOUNT.match(v) for v in values)


def is_everyone(principal: Any) -> bool:
    return principal == "*" or (isinstance(principal, Mapping) and "*" in as_list(principal.get("AWS")))


def is_public_principal(statement: Mapping) -> bool:
    """Principal is everyone ("*" or {"AWS": "*"}) and no condition narrows it to a known
    account, organization, network or source (a TLS-only condition does not)."""
    if not is_everyone(statement.get("Principal")):
        return False
    condition = statement.get("Condition")
    if not isinstance(condition, Mapping):
        return True
    narrowing = {str(key).lower() for block in condition.values() if isinstance(block, Mapping)
                 for key, value in block.items() if narrows(value)}
    return not narrowing & NARROWING_KEYS


def denies_insecure_transport(document: Mapping | None, service: str = "s3") -> bool:
    """A Deny of every action of `service`, for every principal, when aws:SecureTransport is false."""
    for statement in statements(document):
        if statement.get("Effect") != "Deny" or not is_everyone(statement.get("Principal")):
            continue
        if not any(a in ("*", f"{service}:*") for a in actions(statement)):
            continue
        condition = statement.get("Condition")
        secure = condition.get("Bool") if isinstance(condition, Mapping) else None
        if isinstance(secure, Mapping) and [str(v).lower() for v in as_list(secure.get("aws:SecureTransport"))] == ["false"]:
            return True
    return False


def mentions(document: Mapping | None, needle: str) -> bool:
    """True when any string in the document matches `needle` (fnmatch pattern)."""
    from fnmatch import fnmatchcase

    def walk(value: Any) -> Iterable[str]:
        if isinstance(value, str):
            yield value
        elif isinstance(value, Mapping):
            for v in value.values():
                yield from walk(v)
        elif isinstance(value, (list, tuple)):
            for v in value:
                yield from walk(v)

    return any(fnmatchcase(s, needle) for s in walk(document))
