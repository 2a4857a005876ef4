"""The machinery shared by tests/test_data_controls_<group>.py: the seven control-family policies judged
from data (policy/hipaa_policies/data_controls.py, rules in data/controls/<group>.json), driven over the
Analyzer protocol.

A group's test file keeps what is specific to it: the compliant form of every variant of every type with
rules, written by hand (they are the claim that every variant can comply), the defects a rule's own values
cannot express, and its group-specific tests (AWS defaults, hand-written policies). `rule_tests` derives
from the group's rule file, so a new rule is tested, and the group's module takes them with
`globals().update(rule_tests(group, COMPLIANT, hand_defects=...))`:
- every type with rules has compliant forms, and every rule a compliant variant its defect breaks;
- the compliant form of every variant passes every family (not judged nor not applicable either);
- each rule, on a defect, reports its own fix, once;
- an unknown value at a rule's path raises no message, and leaves the family not judged exactly when a
  rule of the family cannot read it: a customerKey or isSet test passes on an unknown value (another
  resource's output: a key the stack creates, judged by aws-kms-key-is-customer-managed, or a destination
  that exists); any other test of it, a `when` switch on it, or a read inside it cannot be judged at
  preview (data_controls.py docstring);
- each rule's inputs left out are judged as the rule's "default" says: its fix is reported exactly when
  the rule has no default or refuses its default (the AWS defaults themselves are pinned, with their
  sources, by each group's own tests).
"""

from __future__ import annotations

import copy
import json
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE as UNKNOWN

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "policy"))

from hipaa_policies.data_controls import FAMILIES, ITEM, RULES_DIR, rule_passes  # noqa: E402

POLICY = {f.key: f.policy for f in FAMILIES}
GENERIC = sorted(set(POLICY.values()))
DELETE = "__delete__"  # a patch value: remove the input
AWS_MANAGED_KEY = "arn:aws:kms:us-east-1:123456789012:alias/aws/kms"  # an AWS managed key, never a customer's
_SELECTOR = re.compile(r"\[(\w+)=([^\]]+)\]")

RuleId = tuple[str, str, int]
Patch = Mapping[Any, Any]  # path (dotted string or list) -> value; DELETE removes


def rules_of(group: str) -> dict[str, dict[str, list[dict]]]:
    """type -> family -> rules, as data/controls/<group>.json writes them."""
    return json.loads((RULES_DIR / f"{group}.json").read_text(encoding="utf-8"))["types"]


def policy_document(principal: Any, action: Any = "*", condition: Mapping | None = None,
                    resource: str = "*") -> str:
    """A resource policy of one Allow statement (JSON, as the inputs take it)."""
    statement = {"Effect": "Allow", "Principal": principal, "Action": action, "Resource": resource}
    if condition:
        statement["Condition"] = condition
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


PUBLIC_POLICY = policy_document("*")
ACCOUNT_POLICY = policy_document({"AWS": "arn:aws:iam::123456789012:root"})


# ---------------------------------------------------------------- setting a value at a rule path


def set_path(props: Any, path: str | list | tuple, value: Any) -> Any:
    """A copy of props with `path` (a dotted string or a list) set to `value` (DELETE removes it).

    "[]" sets it in every element of the list, "[key=value]" in every element whose key is value; a list
    without such an element gets one, and missing objects on the way are created."""
    result = copy.deepcopy(props)
    _assign(result, path.split(".") if isinstance(path, str) else list(path), value)
    return result


def patched(props: Any, patch: Patch) -> Any:
    for path, value in patch.items():
        props = set_path(props, path, value)
    return props


def _assign(target: Any, path: list, value: Any) -> None:
    head, rest = path[0], path[1:]
    selector = _SELECTOR.fullmatch(head) if isinstance(head, str) else None
    if head == ITEM or selector:
        matches = [i for i, item in enumerate(target)
                   if not selector or (isinstance(item, dict) and item.get(selector[1]) == selector[2])]
        if not matches and value == DELETE:
            return  # nothing there to remove
        if not matches:
            target.append({selector[1]: selector[2]} if selector else ({} if rest else None))
            matches = [len(target) - 1]
        for index in matches:
            if rest:
                _assign(target[index], rest, value)
            else:
                target[index] = value
        return
    if not rest:
        if value == DELETE:
            target.pop(head, None)
        else:
            target[head] = value
        return
    if not isinstance(target.get(head), (dict, list)):
        if value == DELETE:
            return
        target[head] = [] if rest[0] == ITEM or _SELECTOR.fullmatch(str(rest[0])) else {}
    _assign(target[head], rest, value)


# ---------------------------------------------------------------- a defect derived from a rule


def options(rule: Mapping) -> list[Mapping]:
    """The tests a rule makes: its anyOf options, or itself."""
    return list(rule["anyOf"]) if "anyOf" in rule else [rule]


def first_path(rule: Mapping) -> list:
    return list(options(rule)[0]["path"])


def bad_value(option: Mapping) -> Any:
    """A value the test refuses: an AWS managed key, a public document, the value forbidden or missed."""
    if "customerKey" in option:
        return AWS_MANAGED_KEY
    if "notPublicDocument" in option:
        return PUBLIC_POLICY
    if "isSet" in option:
        return DELETE
    if "atLeast" in option:
        return option["atLeast"] - 1
    if "noneOf" in option:
        return option["noneOf"][0]
    if "oneOf" in option:
        return "NOT-AN-ALLOWED-VALUE"
    expected = option["equals"]
    if isinstance(expected, bool):
        return not expected
    return expected - 100 if isinstance(expected, (int, float)) else f"NOT-{expected}"


def derived_defect(rule: Mapping) -> dict[tuple, Any]:
    """Every test of the rule broken at once; an option that only says whether a block is there (its path
    leads to another option's) is left alone: the defect is inside the block."""
    paths = [tuple(o["path"]) for o in options(rule)]
    return {path: bad_value(o) for o, path in zip(options(rule), paths, strict=True)
            if not any(len(other) > len(path) and other[:len(path)] == path for other in paths)}


def absent_defect(rule: Mapping) -> dict[tuple, Any]:
    """Every input the rule reads left out (a list the rule reads the elements of: the whole list)."""
    return {tuple(o["path"][:-1] if o["path"][-1] == ITEM else o["path"]): DELETE for o in options(rule)}


def refuses_absence(rule: Mapping, props: Any) -> bool:
    """Whether the rule refuses its inputs left out of props: an absent input is judged as its "default",
    and without one it fails; a document left out grants nothing; a list left out, or without elements,
    has no element to judge."""
    def refused(option: Mapping) -> bool:
        path = list(option["path"])
        if "notPublicDocument" in option or path[-1] == ITEM or (ITEM in path and not reaches(props, path)):
            return False
        if "default" not in option:
            return True
        test = {key: value for key, value in option.items() if key != "when"}
        return not rule_passes({**test, "path": ["input"]}, {"input": option["default"]})

    return all(refused(o) for o in options(rule))


def reaches(props: Any, path: list) -> bool:
    """Whether every block and list element on the way to the path's last input is there."""
    nodes = [props]
    for part in path[:-1]:
        selector = _SELECTOR.fullmatch(part) if isinstance(part, str) else None
        if part == ITEM or selector:
            nodes = [item for node in nodes if isinstance(node, list) for item in node
                     if not selector or (isinstance(item, dict) and item.get(selector[1]) == selector[2])]
        else:
            nodes = [node[part] for node in nodes if isinstance(node, dict) and node.get(part) is not None]
        if not nodes:
            return False
    return True


def unjudgeable(family_rules: Sequence[Mapping], path: list) -> bool:
    """Whether an unknown value at `path` leaves a rule of the family unable to judge (module docstring)."""
    def reads(read: list) -> bool:  # the rule reads the unknown value itself or something inside it
        return read[:len(path)] == path

    for rule in family_rules:
        when = rule.get("when")
        if when and reads(list(when["path"])):
            return True
        for option in options(rule):
            read = list(option["path"])
            if reads(read) and (len(read) > len(path) or read[-1] == ITEM
                                or not ("customerKey" in option or "isSet" in option)):
                return True
    return False


# ---------------------------------------------------------------- the generic checks of a group


def rule_tests(group: str, compliant: Mapping[str, list[tuple[str, dict]]], *,
               hand_defects: Mapping[RuleId, Patch] | None = None) -> dict[str, Callable]:
    """The parametrized tests of a group's rules, to put in its test module's namespace
    (`globals().update(rule_tests(...))`). `hand_defects` (type, family, rule index) -> patch: the defect
    for a rule whose derived one (derived_defect) would not be deployable or would not break it."""
    rules = rules_of(group)
    hand = dict(hand_defects or {})
    rule_ids = [(t, f, i) for t, families in rules.items() for f, rs in families.items()
                for i in range(len(rs))]
    rule_labels = [f"{t.split(':')[1]}-{f}-{i}" for t, f, i in rule_ids]
    variants = [(t, name, props) for t in sorted(compliant) for name, props in compliant[t]]
    # Not for a rule whose `when` switch reads an input the rule reads: leaving it out changes the variant.
    absent_ids = [(t, f, i) for t, f, i in rule_ids if not any(
        list(rules[t][f][i].get("when", {}).get("path", ["-"]))[:len(path)] == list(path)
        for path in absent_defect(rules[t][f][i]))]
    absent_labels = [f"{t.split(':')[1]}-{f}-{i}" for t, f, i in absent_ids]

    def defect(type_: str, family: str, index: int) -> Patch:
        return hand.get((type_, family, index)) or derived_defect(rules[type_][family][index])

    def subject(type_: str, family: str, index: int) -> dict:
        """The first compliant variant the defect breaks the rule on (its `when` holds), one that holds the
        blocks and list elements on the rule's path first (a block the defect creates may break others)."""
        rule = rules[type_][family][index]
        breakable = [props for _, props in compliant[type_]
                     if not rule_passes(rule, patched(props, defect(type_, family, index)))]
        if not breakable:
            raise AssertionError(f"no compliant variant of {type_} on which {family}[{index}] can fail: "
                                 "add the variant, or a hand-made defect")
        return min(breakable, key=lambda props: not reaches(props, first_path(rule)))

    def test_every_type_with_rules_has_compliant_forms():
        assert sorted(compliant) == sorted(rules)
        assert set(hand) <= set(rule_ids)

    def test_every_rule_has_a_compliant_variant_its_defect_breaks():
        for rule_id in rule_ids:
            subject(*rule_id)

    @pytest.mark.parametrize("type_,variant,props", variants,
                             ids=[f"{t.split(':')[1]}-{n}" for t, n, _ in variants])
    def test_compliant_form_of_each_variant_passes(pack, type_, variant, props):
        verdict = pack.analyze(type_, props)
        assert {p: verdict.messages(p) for p in GENERIC if verdict.messages(p)} == {}
        assert [d.policy for d in verdict.not_judged if d.policy in GENERIC] == []
        for family in rules[type_]:
            assert POLICY[family] not in verdict.not_applicable

    @pytest.mark.parametrize("type_,family,index", rule_ids, ids=rule_labels)
    def test_each_rule_reports_its_fix_on_a_defect(pack, type_, family, index):
        fix = rules[type_][family][index]["fix"]
        verdict = pack.analyze(type_, patched(subject(type_, family, index), defect(type_, family, index)))
        assert fix in verdict.messages(POLICY[family])
        (diagnostic,) = [d for d in verdict.violations if d.policy == POLICY[family] and d.violation == fix]
        assert diagnostic.enforcement in ("mandatory", "advisory")

    @pytest.mark.parametrize("type_,family,index", rule_ids, ids=rule_labels)
    def test_an_unknown_value_at_the_rule_path_is_not_judged(pack, type_, family, index):
        path = first_path(rules[type_][family][index])
        verdict = pack.analyze(type_, set_path(subject(type_, family, index), path, UNKNOWN))
        assert verdict.messages(POLICY[family]) == []
        expected = [POLICY[family]] if unjudgeable(rules[type_][family], path) else []
        assert [d.policy for d in verdict.not_judged if d.policy == POLICY[family]] == expected

    @pytest.mark.parametrize("type_,family,index", absent_ids, ids=absent_labels)
    def test_an_absent_input_is_judged_as_the_rule_default(pack, type_, family, index):
        rule = rules[type_][family][index]
        props = subject(type_, family, index)
        verdict = pack.analyze(type_, patched(props, absent_defect(rule)))
        assert (rule["fix"] in verdict.messages(POLICY[family])) is refuses_absence(rule, props)

    return {name: test for name, test in locals().items() if name.startswith("test_")}
