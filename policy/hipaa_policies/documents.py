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
    "aws:VpceAccount", "aws:VpceOrgID", "aws:VpceOrgPaths", "aws:SourceIp",
))
# A value that matches any account narrows nothing: "*", "?*", or an ARN whose account is a wildcard
# (arn:aws:iam::*:root, arn:aws:*:*:*:*).
_ANY_ACCOUNT = re.compile(r"^arn:[^:]*:[^:]*:[^:]*:[*?]+(:|$)")
# ... and so does an ARN whose resource is only a wildcard, in a service whose ARNs carry no account
# (arn:aws:s3:::* is every bucket of every account).
_ANY_RESOURCE = re.compile(r"^arn:[^:]*:[^:]*:[^:]*:[^:]*:[*?]+$")
# An address range that is the whole internet narrows nothing either.
_ANY_ADDRESS = frozenset({"0.0.0.0/0", "::/0", "0.0.0.0", "::"})


def narrows(value: Any) -> bool:
    """True when every value of a condition names something specific."""
    values = as_list(value)
    return bool(values) and all(
        isinstance(v, str) and v.strip() and v.strip("*?") and not _ANY_ACCOUNT.match(v)
        and not _ANY_RESOURCE.match(v.strip())
        and v.strip() not in _ANY_ADDRESS for v in values)


def is_everyone(principal: Any) -> bool:
    return principal == "*" or (isinstance(principal, Mapping) and "*" in as_list(principal.get("AWS")))


# Condition operators that can narrow "everyone" (IAM's "Condition operators"): a positive match on
# a key the caller cannot choose. Negated operators (StringNotEquals, ArnNotLike, NotIpAddress...)
# grant everyone outside the named set; `...IfExists` passes requests that lack the key (a request
# from the internet has no aws:SourceVpce); `ForAllValues:` passes when the key is absent; Bool and
# Null test presence or a flag. None of them narrows.
NARROWING_OPERATORS = frozenset(op.lower() for op in (
    "StringEquals", "StringEqualsIgnoreCase", "StringLike", "ArnEquals", "ArnLike", "IpAddress",
    "ForAnyValue:StringEquals", "ForAnyValue:StringEqualsIgnoreCase", "ForAnyValue:StringLike",
))
# In a Deny for everyone, the negated operators narrow instead: "deny unless the request comes from
# this endpoint / organization / network" (the pattern AWS documents for private API Gateway APIs
# and VPC-endpoint-only buckets). `...IfExists` denies a request lacking the key too, so it counts.
DENY_NARROWING_OPERATORS = frozenset(op.lower() for op in (
    "StringNotEquals", "StringNotEqualsIgnoreCase", "StringNotLike", "ArnNotEquals", "ArnNotLike",
    "NotIpAddress", "StringNotEqualsIfExists", "StringNotLikeIfExists", "ArnNotEqualsIfExists",
    "ArnNotLikeIfExists", "NotIpAddressIfExists",
    "ForAllValues:StringNotEquals", "ForAllValues:StringNotLike",
))


def _narrowing_keys(condition: Mapping, operators: frozenset[str] = NARROWING_OPERATORS) -> set[str]:
    return {str(key).lower() for operator, block in condition.items()
            if str(operator).lower() in operators and isinstance(block, Mapping)
            for key, value in block.items() if narrows(value)}


def _covers(patterns: list[str], values: list[str]) -> bool:
    """Every value matched by some pattern (IAM wildcards, case-insensitive)."""
    from fnmatch import fnmatchcase
    return bool(values) and all(any(fnmatchcase(v.lower(), p.lower()) for p in patterns) for v in values)


def _denied_outside(statement: Mapping, document: Mapping | None) -> bool:
    """A Deny for everyone in the same document, covering the statement's actions and resources,
    refuses every request that does not match a narrowing key: the Allow is narrowed by it."""
    for deny in statements(document):
        if deny.get("Effect") != "Deny" or not is_everyone(deny.get("Principal")):
            continue
        if "NotAction" in deny or "NotResource" in deny:
            continue
        condition = deny.get("Condition")
        if not isinstance(condition, Mapping) or len(condition) != 1:
            continue  # other conditions would let some requests past the Deny
        (operator, block), = condition.items()
        # Keys inside one operator are ANDed (IAM, "Creating a condition with multiple keys or
        # values"): the Deny applies only when every key differs, so every key must be one the caller
        # cannot choose, with a specific value.
        if str(operator).lower() not in DENY_NARROWING_OPERATORS or not isinstance(block, Mapping) or not block \
                or not all(str(k).lower() in NARROWING_KEYS and narrows(v) for k, v in block.items()):
            continue
        if _covers(actions(deny), actions(statement)) and _covers(resources(deny) or ["*"], resources(statement) or ["*"]):
            return True
    return False


def is_public_principal(statement: Mapping, document: Mapping | None = None) -> bool:
    """Principal is everyone ("*" or {"AWS": "*"}, or any NotPrincipal: an Allow with NotPrincipal
    grants every principal but the ones it names) and nothing narrows it to a known account,
    organization, network or source: neither a condition with a positive match (a TLS-only
    condition does not count) nor, given the whole `document`, a Deny for everyone that refuses
    every request outside such a key."""
    if not (is_everyone(statement.get("Principal")) or "NotPrincipal" in statement):
        return False
    condition = statement.get("Condition")
    if isinstance(condition, Mapping) and _narrowing_keys(condition) & NARROWING_KEYS:
        return False
    return not _denied_outside(statement, document)


def public_statements(document: Mapping | None) -> list[Mapping]:
    """The Allow statements of `document` that grant everyone (see is_public_principal)."""
    return [s for s in allows(document) if is_public_principal(s, document)]


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
