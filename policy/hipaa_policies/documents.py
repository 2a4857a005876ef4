"""Reading IAM-style policy documents (bucket, key, topic, role and trust policies)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Iterable

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


def is_public_principal(statement: Mapping) -> bool:
    """Principal is everyone ("*" or {"AWS": "*"}) and no condition narrows it."""
    principal: Any = statement.get("Principal")
    everyone = principal == "*" or (
        isinstance(principal, Mapping) and "*" in as_list(principal.get("AWS")))
    return everyone and not statement.get("Condition")


def denies_insecure_transport(document: Mapping | None) -> bool:
    """A Deny for every principal when aws:SecureTransport is false."""
    for statement in statements(document):
        if statement.get("Effect") != "Deny":
            continue
        condition = statement.get("Condition")
        if not isinstance(condition, Mapping):
            continue
        secure = condition.get("Bool", {})
        if isinstance(secure, Mapping) and str(secure.get("aws:SecureTransport")).lower() == "false":
            if statement.get("Principal") in ("*", {"AWS": "*"}):
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
