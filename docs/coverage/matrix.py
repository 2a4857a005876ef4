"""The coverage matrix as data: one row per in-scope type, one cell per control family, each
cell answered by the policies that read it or by an explanation with AWS's page.

Sources, all data:
- the scope and its hits: docs/coverage/scope.py (pulumi-aws inputs x the BAA data);
- the generic rules: hipaa_policies.data_controls.RULES (policy/hipaa_policies/data/controls/*.json);
- the hand-written policies' families: docs/coverage/policy_families.yaml; which types and paths
  they read: docs/coverage/policy_reads.py (found by running them);
- the explanations: docs/coverage/not_applicable/*.yaml;
- the groups and the primary data stores: docs/coverage/service_groups.yaml.

A hit (type, family, input path) is answered by a policy of that family that reads that path on
that type (or a path inside it), else by an explanation of that path, else by the cell's "*"
explanation. A cell with no hit is answered by a policy of the family that reads the type, else by
its "*" explanation, else, unless the type is a primary data store and the family is at-rest, backup
or deletion, by the automatic answer that pulumi-aws has no input for the family on this type.
`problems()` lists every way the data fails that contract; tests/test_coverage_matrix.py holds it
to none.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import yaml

from docs.coverage import scope
from docs.coverage.policy_reads import pack_checks, policy_reads, reads_type, types_read
from docs.coverage.pulumi_aws_inputs import ITEM, pulumi_aws_version, resource_inputs
from hipaa_policies import ALL_POLICIES
from hipaa_policies.data_controls import FAMILIES, FAMILY_KEYS, RULES

HERE = Path(__file__).resolve().parent
FAMILIES_FILE = HERE / "policy_families.yaml"
EXPLANATIONS_DIR = HERE / "not_applicable"
GROUPS_FILE = scope.GROUPS_FILE

REASONS = {
    "service-cannot": "AWS offers no way to do it",
    "aws-always": "AWS always does it and it cannot be turned off",
    "no-property": "pulumi-aws has no input for it",
    "not-data": "the input controls something that is not customer data",
    "other-resource": "the control is set on another resource type",
}
EXPLICIT_FOR_STORES = ("at-rest", "backup", "deletion")
"""Families a primary data store must answer explicitly (no automatic no-property answer)."""
AWS_PAGE = re.compile(r"https://(docs\.aws\.amazon\.com|aws\.amazon\.com)/\S+")
TYPE_TOKEN = re.compile(r"aws:[A-Za-z0-9]+/[A-Za-z0-9]+(?::[A-Za-z0-9]+)?")
"""A type named in prose: the full token, or its module/resource part (aws:docdb/clusterParameterGroup)."""
WHOLE = "*"
GENERIC = {f.key: f.policy for f in FAMILIES}


def dotted(path: Iterable[str]) -> str:
    """An input path as the matrix names it: "a.b.c" (list elements are not named)."""
    return ".".join(p for p in path if p != ITEM and not (p.startswith("[") and p.endswith("]")))


# ---------------------------------------------------------------- the data files

@dataclass(frozen=True)
class Explanation:
    type: str
    family: str
    path: str
    reason: str
    why: str
    page: str
    file: str
    other_types: tuple[str, ...] = ()
    """For other-resource: the types named as carrying the control (the `type` field, or the type
    tokens the why names)."""
    other_policy: Optional[str] = None


@functools.cache
def policy_families() -> dict[str, dict[str, Any]]:
    return yaml.safe_load(FAMILIES_FILE.read_text(encoding="utf-8")) or {}


def families_of(policy: str) -> tuple[str, ...]:
    for family in FAMILIES:
        if family.policy == policy:
            return (family.key,)
    entry = policy_families().get(policy) or {}
    return tuple(entry.get("families") or ())


@functools.cache
def explanations() -> tuple[tuple[Explanation, ...], tuple[str, ...]]:
    """Every explanation of docs/coverage/not_applicable/*.yaml, and the shape errors met."""
    found: list[Explanation] = []
    errors: list[str] = []
    for file in sorted(EXPLANATIONS_DIR.glob("*.yaml")):
        content = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
        if not isinstance(content, Mapping):
            errors.append(f"{file.name}: must map types to families")
            continue
        for type_, families in content.items():
            if not isinstance(families, Mapping):
                errors.append(f"{file.name}: {type_}: must map families to paths")
                continue
            for family, paths in families.items():
                if not isinstance(paths, Mapping):
                    errors.append(f"{file.name}: {type_}.{family}: must map paths to explanations")
                    continue
                for path, body in paths.items():
                    body = body if isinstance(body, Mapping) else {}
                    found.append(Explanation(
                        type_, family, str(path), str(body.get("reason", "")), str(body.get("why", "")),
                        str(body.get("page", "")), file.name,
                        _as_tuple(body.get("type")) or _named_types(type_, str(body.get("why", ""))),
                        body.get("policy") or _named_policy(str(body.get("why", "")))))
    return tuple(found), tuple(errors)


def _as_tuple(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    return tuple(str(v) for v in value) if isinstance(value, list) else (str(value),)


def _named_types(own: str, why: str) -> tuple[str, ...]:
    named = [t if t.count(":") == 2 else (_full_token(t) or t) for t in TYPE_TOKEN.findall(why)]
    return tuple(dict.fromkeys(t for t in named if t != own))


def _full_token(short: str) -> Optional[str]:
    """aws:docdb/clusterParameterGroup -> aws:docdb/clusterParameterGroup:ClusterParameterGroup."""
    found = [t for t in scope.resource_types() if t.startswith(short + ":")]
    return found[0] if len(found) == 1 else None


def _named_policy(why: str) -> Optional[str]:
    names = sorted((p.name for p in ALL_POLICIES if p.name in why), key=len, reverse=True)
    return names[0] if names else None


@functools.cache
def groups() -> tuple[tuple[str, tuple[str, ...]], ...]:
    content = yaml.safe_load(GROUPS_FILE.read_text(encoding="utf-8"))
    return tuple((g["title"], tuple(g["modules"])) for g in content["groups"])


def module_of(type_: str) -> str:
    return type_.split(":")[1].split("/")[0]


def group_of(type_: str) -> str:
    for title, modules in groups():
        if module_of(type_) in modules:
            return title
    return "Other services"


# ---------------------------------------------------------------- who reads what

def generic_reads(type_: str, family: str) -> frozenset[str]:
    """The paths the family's generic rules read on the type (dotted)."""
    found: set[str] = set()

    def add(rule: Mapping) -> None:
        if "path" in rule:
            found.add(dotted(rule["path"]))
        if isinstance(rule.get("when"), Mapping):
            found.add(dotted(rule["when"]["path"]))
        for option in rule.get("anyOf", []):
            add(option)

    for rule in RULES.get(type_, {}).get(family, []):
        add(rule)
    return frozenset(found)


@functools.cache
def readers(type_: str, family: str) -> tuple[tuple[str, frozenset[str]], ...]:
    """The policies of `family` that read `type_`, each with the paths it reads there (dotted)."""
    found: list[tuple[str, frozenset[str]]] = []
    if family in RULES.get(type_, {}):
        found.append((GENERIC[family], generic_reads(type_, family)))
    for name, entry in sorted(policy_families().items()):
        if family not in (entry or {}).get("families", []) or name not in pack_checks():
            continue
        types = types_read(name)
        if types is None or type_ not in types:  # a policy over every type answers no cell
            continue
        found.append((name, frozenset(dotted(p) for p in policy_reads(name, type_))))
    return tuple(found)


def reads_path(read: frozenset[str], path: str) -> bool:
    """A policy reads a hit path when it reads it or an input inside it."""
    return any(r == path or r.startswith(path + ".") for r in read)


# ---------------------------------------------------------------- cells and rows

@dataclass(frozen=True)
class PathAnswer:
    path: str
    policies: tuple[str, ...] = ()
    explanation: Optional[Explanation] = None

    @property
    def answered(self) -> bool:
        return bool(self.policies) or self.explanation is not None


@dataclass(frozen=True)
class Cell:
    type: str
    family: str
    policies: tuple[str, ...]
    """Policies of the family that read the type."""
    paths: tuple[PathAnswer, ...]
    """One answer per hit path."""
    whole: Optional[Explanation]
    auto: Optional[str]

    @property
    def empty(self) -> bool:
        if self.paths:
            return not all(p.answered for p in self.paths)
        return not (self.policies or self.whole or self.auto)

    @property
    def unanswered(self) -> list[str]:
        return [p.path for p in self.paths if not p.answered]

    @property
    def kind(self) -> str:
        """policy | explained | policy+explained | auto | empty"""
        if self.empty:
            return "empty"
        if not self.paths:
            return "policy" if self.policies else ("explained" if self.whole else "auto")
        by_policy = any(p.policies for p in self.paths)
        by_text = any(not p.policies for p in self.paths)
        return "policy+explained" if by_policy and by_text else ("policy" if by_policy else "explained")

    @property
    def explanations(self) -> list[Explanation]:
        used = [p.explanation for p in self.paths if not p.policies and p.explanation]
        if self.whole and (not self.paths or self.whole in used or not self.policies):
            used.append(self.whole)
        return list(dict.fromkeys(used))


@dataclass(frozen=True)
class Row:
    type: str
    group: str
    primary_store: bool
    cells: tuple[Cell, ...] = field(default=())


def _explained() -> dict[tuple[str, str, str], Explanation]:
    return {(e.type, e.family, e.path): e for e in explanations()[0]}


def cell(type_: str, family: str, hit_paths: list[str],
         explained: Mapping[tuple[str, str, str], Explanation]) -> Cell:
    reading = readers(type_, family)
    whole = explained.get((type_, family, WHOLE))
    answers = []
    for path in hit_paths:
        policies = tuple(name for name, read in reading if reads_path(read, path))
        text = None if policies else explained.get((type_, family, path), whole)
        answers.append(PathAnswer(path, policies, text))
    auto = None
    if not hit_paths and not reading and whole is None and not (
            scope.primary_store(type_) and family in EXPLICIT_FOR_STORES):
        auto = f"pulumi-aws {pulumi_aws_version()} has no input for {family} on this type"
    return Cell(type_, family, tuple(name for name, _ in reading), tuple(answers), whole, auto)


@functools.cache
def rows() -> tuple[Row, ...]:
    by_cell: dict[tuple[str, str], list[str]] = {}
    for hit in scope.hits():
        by_cell.setdefault((hit.type, hit.family), []).append(dotted(hit.path))
    explained = _explained()
    return tuple(
        Row(type_, group_of(type_), scope.primary_store(type_),
            tuple(cell(type_, family, sorted(set(by_cell.get((type_, family), []))), explained)
                  for family in FAMILY_KEYS))
        for type_ in scope.in_scope())


# ---------------------------------------------------------------- the contract

def family_problems(table: Mapping[str, Any], pack: set[str]) -> list[str]:
    """policy_families.yaml covers every policy of the pack (`pack`: their names), and only those."""
    found: list[str] = []
    generic = set(GENERIC.values())
    for name in sorted(pack - generic - set(table)):
        found.append(f"policy {name} is missing from docs/coverage/policy_families.yaml")
    for name, entry in sorted(table.items()):
        if name not in pack:
            found.append(f"policy_families.yaml names {name}, which is not a policy of the pack")
            continue
        families = (entry or {}).get("families")
        if not isinstance(families, list):
            found.append(f"policy_families.yaml: {name} needs families: [...]")
            continue
        for family in families:
            if family not in FAMILY_KEYS:
                found.append(f"policy_families.yaml: {name}: unknown family {family!r}")
        if not families and not str((entry or {}).get("why", "")).strip():
            found.append(f"policy_families.yaml: {name} enforces no family: say what it enforces (why)")
    return found


def rule_problems(rule_types: Iterable[str]) -> list[str]:
    """The rule files name types pulumi-aws has."""
    return [f"rule files: pulumi-aws {pulumi_aws_version()} has no resource type {t}"
            for t in sorted(rule_types) if resource_inputs(t) is None]


def explanation_problems(records: Iterable[Explanation]) -> list[str]:
    """Each explanation names a real type in scope, a family, a hit path or "*", a known reason, a
    why and an AWS page; an other-resource explanation names the type (and the policy) that judge it."""
    found: list[str] = []
    pack = {p.name for p in ALL_POLICIES}
    generic = set(GENERIC.values())
    hits = {(h.type, h.family, dotted(h.path)) for h in scope.hits()}
    in_scope = set(scope.in_scope())
    for e in records:
        where = f"not_applicable/{e.file}: {e.type} {e.family} {e.path}"
        if resource_inputs(e.type) is None:
            found.append(f"{where}: pulumi-aws {pulumi_aws_version()} has no resource type {e.type}")
            continue
        if e.type not in in_scope:
            found.append(f"{where}: the type is not in the matrix's scope (no family input, not a store)")
        if e.family not in FAMILY_KEYS:
            found.append(f"{where}: unknown family (known: {', '.join(FAMILY_KEYS)})")
        if e.path != WHOLE and (e.type, e.family, e.path) not in hits:
            found.append(f"{where}: not a hit path of this family (use \"*\" or a path of scope.hits())")
        if e.reason not in REASONS:
            found.append(f"{where}: unknown reason {e.reason!r} (known: {', '.join(REASONS)})")
        if not e.why.strip():
            found.append(f"{where}: says no why")
        if not AWS_PAGE.fullmatch(e.page):
            found.append(f"{where}: page {e.page!r} is not an AWS documentation URL")
        if e.reason != "other-resource":
            continue
        unknown = [t for t in e.other_types if resource_inputs(t) is None]
        if not e.other_types or unknown:
            found.append(f"{where}: other-resource must name the pulumi-aws type carrying the control"
                         + (f" ({', '.join(unknown)} is not one)" if unknown else ""))
        elif e.other_policy is None:
            continue
        elif e.other_policy not in pack:
            found.append(f"{where}: names {e.other_policy}, which is not a policy of the pack")
        elif e.family not in families_of(e.other_policy):
            found.append(f"{where}: {e.other_policy} is not a policy of family {e.family}")
        elif e.other_policy in generic:
            if not any(e.family in RULES.get(t, {}) for t in e.other_types):
                found.append(f"{where}: {e.other_policy} has no rule for {' or '.join(e.other_types)}")
        elif not any(reads_type(e.other_policy, t) for t in e.other_types):
            found.append(f"{where}: {e.other_policy} does not read {' or '.join(e.other_types)}")
    return found


def cell_problems(matrix_rows: Iterable[Row]) -> list[str]:
    """No cell is empty, no hit unanswered (and none by "no-property": a hit is an input), and every
    policy named in a cell reads the row's type."""
    found: list[str] = []
    generic = set(GENERIC.values())
    for row in matrix_rows:
        for c in row.cells:
            for name in c.policies:
                if name not in generic and not reads_type(name, row.type):
                    found.append(f"{row.type} {c.family}: {name} is named but reads nothing of this type")
            for answer in c.paths:
                if not answer.policies and answer.explanation and answer.explanation.reason == "no-property":
                    found.append(f"{row.type} {c.family}: {answer.path} is an input of pulumi-aws: "
                                 "no-property cannot answer it (judge it, or give the real reason)")
            if c.empty:
                what = (f"hit paths {', '.join(c.unanswered)} are answered by no policy of the family "
                        "that reads them and no explanation") if c.paths else "the cell is empty"
                found.append(f"{row.type} {c.family}: {what}")
    return found


def group_problems() -> list[str]:
    """Every module of service_groups.yaml has a type in scope; every store pattern an eligible type."""
    found: list[str] = []
    modules = {module_of(t) for t in scope.in_scope()}
    for title, group_modules in groups():
        for module in group_modules:
            if module not in modules:
                found.append(f"service_groups.yaml: {title}: module {module} has no type in scope")
    eligible_types = [t for t in scope.resource_types() if scope.eligible(t)]
    for pattern in scope.primary_store_patterns():
        if not any(scope.fnmatch.fnmatchcase(t, pattern) for t in eligible_types):
            found.append(f"service_groups.yaml: primary data store {pattern} matches no eligible type")
    return found


def problems() -> list[str]:
    """Everything that keeps the matrix from being a proof: each a sentence naming the fix."""
    records, errors = explanations()
    return (family_problems(policy_families(), {p.name for p in ALL_POLICIES}) + rule_problems(RULES)
            + list(errors) + explanation_problems(records) + cell_problems(rows()) + group_problems())


def counts() -> dict[str, int]:
    all_cells = [c for r in rows() for c in r.cells]
    named = {n for c in all_cells for n in c.policies}
    return {
        "rows": len(rows()),
        "hits": sum(len(c.paths) for c in all_cells),
        "cells": len(all_cells),
        "policy": sum(c.kind == "policy" for c in all_cells),
        "policy+explained": sum(c.kind == "policy+explained" for c in all_cells),
        "explained": sum(c.kind == "explained" for c in all_cells),
        "auto": sum(c.kind == "auto" for c in all_cells),
        "empty": sum(c.kind == "empty" for c in all_cells),
        "hits by policy": sum(bool(p.policies) for c in all_cells for p in c.paths),
        "hits explained": sum(not p.policies and p.explanation is not None
                              for c in all_cells for p in c.paths),
        "hits unanswered": sum(not p.answered for c in all_cells for p in c.paths),
        "policies named": len(named),
        "policies in pack": len(ALL_POLICIES),
    }
