"""The seven control families, judged from data for every data-bearing resource type.

Hand-written policies (s3.py, rds.py...) judge the services this project deploys, with their
full semantics. Everything else a healthcare team reaches for (caches, file systems, streams,
registries, search, analytics, ML...) is judged by seven policies, one per control family, whose
rules are data: `data/controls/<group>.json`, one rule list per (resource type, family), each rule
naming the input it reads, what AWS does when the input is absent, and the fix. A rule file is
checked against pulumi-aws's inputs by tests/test_policy_property_names.py (every path a policy
reads must exist), and docs/coverage-matrix.md is generated from the same files.

Rule grammar (JSON), every rule an object with "path" (a list of input names; "[]" means each
element of a list) and "fix" (the message); "[key=value]" in a path selects the list element whose `key` is `value`
(a parameter list: no such element means the AWS default applies); plus exactly one test:
    {"customerKey": true}            a customer-managed KMS key (not alias/aws/*, not blank)
    {"equals": V}                    the value is V
    {"oneOf": [V, ...]}              the value is one of these
    {"noneOf": [V, ...]}             the value is none of these
    {"atLeast": N}                   a number >= N
    {"isSet": true}                  present and not blank (a log destination, a key...)
    {"notPublicDocument": true}      a JSON policy document granting nothing to everyone
and optionally:
    "default": V                     the value AWS or the provider uses when the input is absent
                                     (without it, an absent input fails the rule)
    "when": {"path": [...], "oneOf": [...]}   the rule applies only when that input is one of
                                     these values (absent: its "default", when given)
    "anyOf": [rule, ...]             instead of "path": passes when any of these rules passes
    "phiOnly": true                  the rule applies only in a stack whose pack config holds PHI
                                     (holdsPhi), for a control a synthetic stack must be able to
                                     tear down (log groups' deletion protection)

Values unknown at preview: a customerKey or isSet rule passes on an unknown value (it is another
resource's output: aws-kms-key-is-customer-managed follows a key to its source); every other test,
a "when" switch, and any unknown block or list on the way raise UnknownValueError: not judged.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import documents as doc
from .framework import (
    ACCESS_CONTROL, AUDIT_CONTROLS, DATA_BACKUP, ENCRYPTION_AT_REST, INTEGRITY, MISSING, TRANSMISSION_SECURITY,
    HOLDS_PHI_SCHEMA, Control, Metadata, Props, Resource, _raw_get, is_unknown, resource_policy,
)
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, UnknownValueError

RULES_DIR = Path(__file__).resolve().parent / "data" / "controls"
ITEM = "[]"


@dataclass(frozen=True)
class Family:
    key: str
    title: str
    policy: str
    description: str
    control: Control


FAMILIES = (
    Family("at-rest", "Encryption at rest with a customer-managed key", "aws-data-at-rest-customer-key",
           "Data stores must be encrypted at rest with a customer-managed KMS key.", ENCRYPTION_AT_REST),
    Family("in-transit", "Encryption in transit (TLS 1.2+, no plaintext listener or endpoint)",
           "aws-data-in-transit-tls", "Endpoints that carry data must require TLS 1.2 or later.",
           TRANSMISSION_SECURITY),
    Family("network", "Network exposure (public endpoints, internet ingress)", "aws-data-not-network-public",
           "Data services must not be reachable from the internet.", ACCESS_CONTROL),
    Family("resource-policy", "Resource-based policy exposure", "aws-resource-policy-not-public",
           "Resource-based policies must not grant access to any principal or any account without a "
           "condition that narrows it.", ACCESS_CONTROL),
    Family("logging", "Audit logging", "aws-data-access-logged",
           "Data services must log access and activity to a destination this account keeps.", AUDIT_CONTROLS),
    Family("backup", "Backup and point-in-time recovery", "aws-data-backup-enabled",
           "Data stores must keep backups or point-in-time recovery.", DATA_BACKUP),
    Family("deletion", "Deletion protection", "aws-data-deletion-protected",
           "Data stores must be protected from deletion.", INTEGRITY),
)
FAMILY_KEYS = tuple(f.key for f in FAMILIES)
TESTS = ("customerKey", "equals", "oneOf", "noneOf", "atLeast", "isSet", "notPublicDocument")


class RuleError(ValueError):
    """A rule file breaks the grammar above (the pack refuses to load rather than judge wrongly)."""


def _validate(rule: Any, where: str) -> None:
    if not isinstance(rule, Mapping):
        raise RuleError(f"{where}: a rule must be an object")
    if "anyOf" in rule:
        if not isinstance(rule["anyOf"], list) or not rule["anyOf"] or not isinstance(rule.get("fix"), str):
            raise RuleError(f"{where}: anyOf needs a non-empty list of rules and a fix")
        for index, option in enumerate(rule["anyOf"]):
            _validate({"fix": rule["fix"], **option}, f"{where}.anyOf[{index}]")
        return
    path = rule.get("path")
    if not isinstance(path, list) or not path or not all(isinstance(p, (str, int)) for p in path):
        raise RuleError(f"{where}: path must be a non-empty list of input names")
    tests = [t for t in TESTS if t in rule]
    if len(tests) != 1:
        raise RuleError(f"{where}: exactly one of {', '.join(TESTS)} is required, found {tests or 'none'}")
    if not isinstance(rule.get("fix"), str) or not rule["fix"].strip():
        raise RuleError(f"{where}: fix must say what to set")
    when = rule.get("when")
    if when is not None and (not isinstance(when, Mapping) or not isinstance(when.get("path"), list)
                             or not isinstance(when.get("oneOf"), list)):
        raise RuleError(f"{where}: when must be {{path: [...], oneOf: [...]}}")


def load_rules(directory: Path = RULES_DIR) -> dict[str, dict[str, list[dict]]]:
    """type -> family -> rules, merged from every rule file (a type in two files is an error)."""
    merged: dict[str, dict[str, list[dict]]] = {}
    for file in sorted(directory.glob("*.json")):
        content = json.loads(file.read_text(encoding="utf-8"))
        for type_, families in content.get("types", {}).items():
            if type_ in merged:
                raise RuleError(f"{file.name}: {type_} is already defined in another rule file")
            if not isinstance(families, Mapping):
                raise RuleError(f"{file.name}: {type_} must map families to rules")
            merged[type_] = {}
            for family, rules in families.items():
                if family not in FAMILY_KEYS:
                    raise RuleError(f"{file.name}: {type_}: unknown family {family!r} (known: {', '.join(FAMILY_KEYS)})")
                if not isinstance(rules, list) or not rules:
                    raise RuleError(f"{file.name}: {type_}.{family} must be a non-empty list of rules")
                for index, rule in enumerate(rules):
                    _validate(rule, f"{file.name}: {type_}.{family}[{index}]")
                merged[type_][family] = rules
    return merged


RULES = load_rules()


# ---------------------------------------------------------------- evaluating one rule

def _values(values: Any, path: list) -> Iterable[Any]:
    """Each value at `path` ("[]" fans out over a list); MISSING where absent. Unknown raises."""
    if not path:
        yield _raw_get({"v": values}, ("v",))  # an unknown list element (path ending in "[]") raises
        return
    if is_unknown(values):  # a whole block or list unknown at preview: nothing inside can be read
        raise UnknownValueError(values, [str(p) for p in path])
    head, rest = path[0], path[1:]
    selector = _SELECTOR.fullmatch(head) if isinstance(head, str) else None
    if selector:  # "[key=value]": the list element whose `key` is `value`; absent: the AWS default
        items = _raw_get({"v": values}, ("v",)) if isinstance(values, (Mapping, list, str)) else MISSING
        matched = [item for item in (items if isinstance(items, list) else [])
                   if isinstance(item, Mapping) and _element_key(item, selector[1]) == selector[2]]
        if not matched:
            yield MISSING
        for item in matched:
            yield from _values(item, rest)
        return
    if head == ITEM:
        items = _raw_get({"v": values}, ("v",))
        if items is MISSING or items is None:
            return  # no elements: nothing to judge
        if not isinstance(items, list):
            yield MISSING
            return
        for item in items:
            yield from _values(item, rest)
        return
    if not rest:  # the leaf: an unknown value is judged by the rule (_passes), not here
        found = values.get(head, MISSING) if isinstance(values, Mapping) else MISSING
        yield MISSING if found is None else found
        return
    found = _raw_get(values, (head,)) if isinstance(values, Mapping) else MISSING
    if found is None:
        found = MISSING
    if rest and found is MISSING:
        if ITEM not in rest:
            yield MISSING
        # else: an absent list, or an absent object holding one, has no elements to judge
        return
    yield from _values(found, rest) if rest else iter([found])


_SELECTOR = re.compile(r"\[([A-Za-z0-9_]+)=([^\]]+)\]")


def _element_key(item: Mapping, key: str) -> Any:
    value = item.get(key)
    if is_unknown(value):  # which element this is cannot be known yet
        raise UnknownValueError(str(value), [key])
    return value


def _blank(value: Any) -> bool:
    return value is MISSING or (isinstance(value, str) and not value.strip())


def _same(value: Any, expected: Any) -> bool:
    if isinstance(expected, bool):
        return value is expected or (isinstance(value, str) and value.lower() == str(expected).lower())
    if isinstance(expected, (int, float)) and not isinstance(value, bool):
        try:
            return float(value) == float(expected)
        except (TypeError, ValueError):
            return False
    return value == expected


def _passes(rule: Mapping, value: Any) -> bool:
    if is_unknown(value):
        # Another resource's output: a key this stack creates or reads (aws-kms-key-is-customer-managed
        # follows it to its source), or a destination that exists; any other test cannot be judged.
        if "customerKey" in rule or "isSet" in rule:
            return True
        raise UnknownValueError(value, [str(p) for p in rule["path"]])
    if _blank(value):
        if "notPublicDocument" in rule:
            return True  # no document grants nothing
        if "default" not in rule:
            return False
        value = rule["default"]
    if "customerKey" in rule:
        return Props({"k": value}).customer_key("k")
    if "isSet" in rule:
        return True
    if "equals" in rule:
        return _same(value, rule["equals"])
    if "oneOf" in rule:
        return any(_same(value, v) for v in rule["oneOf"])
    if "noneOf" in rule:
        return not any(_same(value, v) for v in rule["noneOf"])
    if "atLeast" in rule:
        number = Props({"n": value}).number("n")
        return number is not None and number >= rule["atLeast"]
    if "notPublicDocument" in rule:
        document = Props({"d": value}).document("d")
        return not doc.public_statements(document)
    return False


def _applies(rule: Mapping, props: Any) -> bool:
    when = rule.get("when")
    if when is None:
        return True
    values = list(_values(props, list(when["path"])))
    if not values:
        return False
    if any(is_unknown(v) for v in values):  # which variant it is cannot be known yet
        raise UnknownValueError(UNKNOWN_STRING_VALUE, [str(p) for p in when["path"]])
    return any(_same(when.get("default") if _blank(v) else v, option)
               for v in values for option in when["oneOf"])


def rule_passes(rule: Mapping, props: Any) -> bool:
    """Whether `props` satisfies `rule` (raises UnknownValueError when preview cannot know)."""
    if not _applies(rule, props):
        return True
    if "anyOf" in rule:
        return any(rule_passes({"fix": rule["fix"], **option}, props) for option in rule["anyOf"])
    return all(_passes(rule, value) for value in _values(props, list(rule["path"])))


def family_check(family: str):
    def check(r: Resource) -> Iterable[str]:
        props = r.props.values
        for rule in RULES.get(r.type, {}).get(family, []):
            if rule.get("phiOnly") and not r.holds_phi:
                continue
            if not rule_passes(rule, props):  # an unknown value raises: not judged
                yield rule["fix"]
    return check


def types_of(family: str) -> list[str]:
    return sorted(t for t, families in RULES.items() if family in families)


POLICIES = [
    resource_policy(Metadata(f.policy, f.description, f.control,
                             "Set the input the message names; docs/coverage-matrix.md lists every type and rule.",
                             service="data", config=HOLDS_PHI_SCHEMA),
                    types_of(f.key), family_check(f.key))
    for f in FAMILIES if types_of(f.key)
]
