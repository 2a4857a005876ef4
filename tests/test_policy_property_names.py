"""Every property a resource policy reads must be an input of the resource type it judges.

Input names differ by resource type (Neptune's key is `kmsKeyArn`, RDS's is `kmsKeyId`), and a
policy that reads a name its type does not have judges a value that is never there: it can never
pass, or never fail. This test finds the names each policy really reads by running its check on a
recording property map, for every type the policy claims, and looks each name up among the inputs
of that pulumi-aws resource (its `<Resource>Args` input type, nested input types for nested paths).

How the reads are found: the check runs on `Recorder` maps that log every key asked for (through
`Props.get/is_set/customer_key/bool/number/str/list/size/map/each/document` and `Resource.tags`,
which all end in `key in mapping` / `mapping[key]`). One run only sees the branches its values
lead to, so the values are explored: each key read is given, in turn, the values its SDK type
allows (and, to catch shape mistakes, an object and a list of objects); strings are `Probe`s that
log the literals a check compares them with, which become values to try next. A run is expanded
further only when it read a key, met a literal or produced a message not seen before.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import json
import sys
import typing
from collections import abc, deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import pulumi_aws
import pytest
from pulumi import _types
from pulumi_policy import ResourceValidationPolicy

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "policy"))

from hipaa_policies import ALL_POLICIES  # noqa: E402
from hipaa_policies.analyzer_service import TypedResourcePolicy  # noqa: E402
from hipaa_policies.baa import CATALOG  # noqa: E402
from hipaa_policies.framework import (  # noqa: E402
    ACCESS_CONTROL, Metadata, Props, Resource, _with_defaults, resource_policy,
)

ITEM = "[]"
"""A path part standing for "each element of this list"."""
RUN_BUDGET = 3000
"""Runs per (policy, type, config); the exploration stops earlier when nothing new turns up."""
UNTYPED_READS = {"hipaa-no-phi-in-synthetic-stack": {("tags",), ("tags", "DataClassification")}}
"""Policies claiming every type may read these on a type without them: absent there, never judged."""

Path_ = tuple[str, ...]


# ---------------------------------------------------------------- the inputs of pulumi-aws resources

@functools.cache
def _resource_modules() -> dict[str, tuple[str, str]]:
    """Type token -> (Python module, class name), from the registry pulumi_aws/__init__.py declares."""
    source = Path(pulumi_aws.__file__).read_text(encoding="utf-8")
    start = source.index('resource_modules="""') + len('resource_modules="""')
    entries = json.loads(source[start:source.index('"""', start)])
    return {token: (entry["fqn"], name) for entry in entries for token, name in entry["classes"].items()}


@dataclass(frozen=True)
class Shape:
    """What an input holds: an object with named fields, a list, a map with free keys, or a scalar."""

    kind: str  # "object" | "list" | "map" | "bool" | "number" | "string" | "any"
    fields: Mapping[str, Any] = field(default_factory=dict)
    element: Any = None
    name: str = ""


def _camel(snake: str) -> str:
    head, *rest = snake.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def _input_fields(cls: type) -> dict[str, Any]:
    """Pulumi (camelCase) input name -> type, for an `@pulumi.input_type` class."""
    return dict(_types.input_type_types(cls))


@functools.cache
def resource_inputs(token: str) -> Optional[Shape]:
    """The inputs of a pulumi-aws resource type, or None when pulumi-aws has no such type.

    The names come from the resource's `<Resource>Args` input type (the names the engine and the
    pack see); a resource without one falls back to its `_internal_init` parameters, camelCased."""
    found = _resource_modules().get(token)
    if found is None:
        return None
    cls = getattr(importlib.import_module(found[0]), found[1])
    # The input type defined in the resource's own module: `<Resource>Args`, or `<Resource>InitArgs`
    # when a nested input type of the package has that name (s3's BucketVersioningArgs is a block of
    # Bucket; the BucketVersioning resource's inputs are BucketVersioningInitArgs).
    module = sys.modules[cls.__module__]
    for args in (getattr(module, f"{found[1]}{suffix}", None) for suffix in ("InitArgs", "Args")):
        if isinstance(args, type) and args.__module__ == cls.__module__ and _types.is_input_type(args):
            return Shape("object", _input_fields(args), name=found[1])
    names = [p for p in inspect.signature(cls._internal_init).parameters
             if p not in ("__self__", "resource_name", "opts")]
    return Shape("object", {_camel(p): Any for p in names}, name=found[1])


def shape_of(tp: Any) -> Shape:
    tp = _types.unwrap_type(tp)
    origin = typing.get_origin(tp)
    if origin in (abc.Sequence, list, typing.Sequence):  # noqa: UP006 - typing.Sequence may appear
        return Shape("list", element=typing.get_args(tp)[0])
    if origin in (abc.Mapping, dict, typing.Mapping):  # noqa: UP006
        args = typing.get_args(tp)
        return Shape("map", element=args[1] if len(args) == 2 else Any)
    if isinstance(tp, type) and _types.is_input_type(tp):
        return Shape("object", _input_fields(tp), name=tp.__name__.removesuffix("Args"))
    if tp is bool:
        return Shape("bool")
    if tp in (int, float):
        return Shape("number")
    if tp is str or (isinstance(tp, type) and issubclass(tp, str)):
        return Shape("string")
    if typing.get_origin(tp) is typing.Union:  # e.g. str | an enum of str
        kinds = {shape_of(a).kind for a in typing.get_args(tp) if a is not type(None)}
        return Shape(kinds.pop()) if len(kinds) == 1 else Shape("any")
    return Shape("any")


def resolve(token: str, path: Path_) -> tuple[Optional[Shape], Optional[str]]:
    """The shape at `path` of the type's inputs, or an error saying where the path leaves them."""
    shape = resource_inputs(token)
    if shape is None:
        return None, f"pulumi-aws has no resource type {token}"
    walked: list[str] = []
    for part in path:
        where = ".".join(walked) or "the resource"
        if part == ITEM:
            if shape.kind not in ("list", "any"):
                return None, f"{where} is of type {_kind(shape)}, not a list"
            shape = shape_of(shape.element) if shape.kind == "list" else shape
            walked[-1:] = [walked[-1] + "[]"] if walked else []
            continue
        if shape.kind == "object":
            if part not in shape.fields:
                return None, f"{where} has no input {part!r} (its inputs: {', '.join(sorted(shape.fields))})"
            shape = shape_of(shape.fields[part])
        elif shape.kind == "map":
            shape = shape_of(shape.element)
        elif shape.kind != "any":
            return None, f"{where} is of type {_kind(shape)}, which has no field {part!r}"
        walked.append(part)
    return shape, None


def _kind(shape: Shape) -> str:
    if shape.kind == "object":
        return f"object {shape.name}"
    if shape.kind == "list":
        return f"list of {_kind(shape_of(shape.element))}"
    return shape.kind


# ---------------------------------------------------------------- recording properties

class Log:
    """What one run of a check read and compared."""

    def __init__(self) -> None:
        self.reads: set[Path_] = set()
        self.literals: dict[Path_, set[str]] = {}

    def literal(self, path: Path_, value: Any) -> None:
        for item in value if isinstance(value, tuple) else (value,):
            if isinstance(item, str):  # kept as a plain str (a Probe in a set would log itself)
                self.literals.setdefault(path, set()).add(item.encode().decode())


class Probe(str):
    """A string value that logs the literals a check compares it with (==, in, startswith...)."""

    path: Path_
    log: Log

    def __new__(cls, value: str, path: Path_, log: Log) -> Probe:
        probe = super().__new__(cls, value)
        probe.path, probe.log = path, log
        return probe

    def _same(self, value: str) -> Probe:
        return Probe(value, self.path, self.log)

    def __eq__(self, other: object) -> bool:
        self.log.literal(self.path, other)
        return str.__eq__(self, other)

    def __ne__(self, other: object) -> bool:
        return not self.__eq__(other)

    __hash__ = str.__hash__

    def __contains__(self, other: object) -> bool:  # type: ignore[override]
        self.log.literal(self.path, other)
        return str.__contains__(self, other)  # type: ignore[operator]

    def startswith(self, prefix: Any, *args: Any) -> bool:
        self.log.literal(self.path, prefix)
        return str.startswith(self, prefix, *args)

    def endswith(self, suffix: Any, *args: Any) -> bool:
        self.log.literal(self.path, suffix)
        return str.endswith(self, suffix, *args)

    def lower(self) -> Probe:
        return self._same(str.lower(self))

    def upper(self) -> Probe:
        return self._same(str.upper(self))

    def casefold(self) -> Probe:
        return self._same(str.casefold(self))

    def strip(self, chars: Any = None) -> Probe:
        return self._same(str.strip(self, chars))

    def __str__(self) -> Probe:
        return self


OBJECT, OBJECTS = "<object>", "<list of objects>"
"""Values that become a Recorder, or a list holding one, at their path."""


class Recorder(Mapping):
    """A property map (at `path` of the resource) that logs every key asked for. Keys given a value
    in `values` (path -> plain value, Probe text, OBJECT or OBJECTS) are present; others are absent."""

    def __init__(self, path: Path_, values: Mapping[Path_, Any], log: Log):
        self._path, self._values, self._log = path, values, log

    def _materialize(self, path: Path_) -> Any:
        value = self._values[path]
        if value == OBJECT:
            return Recorder(path, self._values, self._log)
        if value == OBJECTS:
            return [Recorder(path + (ITEM,), self._values, self._log)]
        if isinstance(value, list):  # a list of strings
            return [Probe(v, path + (ITEM,), self._log) for v in value]
        if isinstance(value, str):
            return Probe(value, path, self._log)
        return value

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, str):
            return False
        self._log.reads.add(self._path + (key,))
        return self._path + (key,) in self._values

    def __getitem__(self, key: str) -> Any:
        if key not in self:
            raise KeyError(key)
        return self._materialize(self._path + (key,))

    def _keys(self) -> list[str]:
        n = len(self._path)
        return sorted({p[n] for p in self._values if len(p) > n and p[:n] == self._path and p[n] != ITEM})

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys())

    def __len__(self) -> int:
        return len(self._keys())


# ---------------------------------------------------------------- exploring a check

@dataclass(frozen=True)
class Check:
    name: str
    types: Optional[frozenset[str]]
    meta: Metadata
    check: Callable[[Resource], Iterable[str]]


def check_of(policy: ResourceValidationPolicy) -> Check:
    """The check and metadata that `framework.resource_policy` closed over, and the types its
    TypedResourcePolicy carries (whose validation wraps the framework's)."""
    assert isinstance(policy, TypedResourcePolicy), f"{policy.name}: not built by framework.resource_policy"
    wrapper = getattr(policy, "_ResourceValidationPolicy__validate", None)
    inner = inspect.getclosurevars(wrapper).nonlocals.get("validate") if callable(wrapper) else None
    found = inspect.getclosurevars(inner).nonlocals if callable(inner) else {}
    missing = {"check", "meta"} - set(found)
    assert not missing, f"{policy.name}: not built by framework.resource_policy (no {missing})"
    return Check(policy.name, policy.resource_types, found["meta"], found["check"])


def run(check: Check, type_: str, config: Mapping[str, Any],
        values: Mapping[Path_, Any]) -> tuple[Log, tuple]:
    log = Log()
    resource = Resource(type=type_, name="r", urn=f"urn:pulumi:s::p::{type_}::r", raw_props={},
                        protect=None, config=config)
    resource.__dict__["props"] = Props(Recorder((), values, log))  # the cached_property's slot
    messages: list[str] = []
    try:
        for message in check.check(resource):
            messages.append(str(message))
    except Exception:  # noqa: BLE001 - the framework turns these into violations; the reads stand
        messages.append("<raised>")
    return log, tuple(messages)


def candidates(token: str, path: Path_, literals: Iterable[str]) -> list[Any]:
    """Values to try at `path`: those its SDK type allows; for an object, a list, or a path the
    type lacks, also an object and a list of objects, so that reading a list as an object (or the
    reverse) shows up as a read of a path the type does not have. A string input is only ever a
    string (a JSON document in one is parsed by the check, and what it reads inside is not an input)."""
    shape, _ = resolve(token, path)
    kind = shape.kind if shape else "any"
    texts = sorted(set(literals) | {"", "x"})
    by_kind: dict[str, list[Any]] = {
        "bool": [True, False],
        "number": [0, 1, 100000],
        "string": texts,
        "list": [[t] for t in texts] if shape and shape_of(shape.element).kind == "string" else [],
        "any": [True, False, 0, 100000, *texts, [*texts]],
    }
    containers = [OBJECT, OBJECTS] if kind in ("object", "list", "map", "any") else []
    return by_kind.get(kind, []) + containers


def configs(meta: Metadata) -> list[dict]:
    """The policy's config defaults, with holdsPhi both ways when the policy has it."""
    base = _with_defaults(None, meta.config)
    if "holdsPhi" not in meta.config:
        return [base]
    return [{**base, "holdsPhi": False}, {**base, "holdsPhi": True}]


def reads(check: Check, type_: str) -> frozenset[Path_]:
    """Every property path the policy's check reads on a resource of `type_`."""
    found: set[Path_] = set()
    for config in configs(check.meta):
        seen: set[Any] = set()
        tried: set[frozenset] = set()
        queue: deque[dict[Path_, Any]] = deque([{}])
        runs = 0
        while queue and runs < RUN_BUDGET:
            values = queue.popleft()
            runs += 1
            log, messages = run(check, type_, config, values)
            news = ({("read", p) for p in log.reads} | {("message", m) for m in messages}
                    | {("literal", p, v) for p, vs in log.literals.items() for v in vs}) - seen
            if values and not news:
                continue
            seen |= news
            found |= log.reads
            for path in sorted(log.reads | set(log.literals)):
                literals = log.literals.get(path, set()) | log.literals.get(path + (ITEM,), set())
                for value in candidates(type_, path, literals):
                    changed = {**values, path: value}
                    key = frozenset((k, json.dumps(v, sort_keys=True)) for k, v in changed.items())
                    if key not in tried:
                        tried.add(key)
                        queue.append(changed)
    return frozenset(found)


# ---------------------------------------------------------------- the registry under test

CHECKS = {c.name: c for c in (check_of(p) for p in ALL_POLICIES if isinstance(p, ResourceValidationPolicy))}


def claimed_types(check: Check) -> list[str]:
    """The types a policy claims; a policy over every type is exercised on the types whose
    properties it names (the BAA exclusions) and on every type another policy claims."""
    if check.types is not None:
        return sorted(check.types)
    named = set(CATALOG.exclusions) if check.name == "hipaa-baa-eligible-services" else set()
    others = {t for c in CHECKS.values() if c.types for t in c.types}
    return sorted(named | others)


def mismatches(check: Check) -> list[str]:
    found = []
    for type_ in claimed_types(check):
        if resource_inputs(type_) is None:
            found.append(f"{type_}: pulumi-aws {pulumi_aws_version()} has no such resource type")
            continue
        for path in sorted(reads(check, type_)):
            if check.types is None and path in UNTYPED_READS.get(check.name, ()):
                continue
            _, error = resolve(type_, path)
            if error:
                found.append(f"{type_}: reads {'.'.join(path).replace('.' + ITEM, '[]')}: {error}")
    return found


@functools.cache
def pulumi_aws_version() -> str:
    from importlib.metadata import version
    return version("pulumi_aws")


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_policy_reads_only_inputs_of_the_types_it_claims(name):
    assert mismatches(CHECKS[name]) == []


# ---------------------------------------------------------------- the detector itself

def _synthetic(types: Optional[tuple[str, ...]], check: Callable[[Resource], Iterable[str]]) -> Check:
    meta = Metadata("test-synthetic", "A test policy.", ACCESS_CONTROL, "None.")
    return check_of(resource_policy(meta, types, check))


def test_a_key_input_named_for_another_type_is_found():
    def encrypted(r: Resource) -> Iterable[str]:
        if not r.props.customer_key("kmsKeyId"):
            yield "Set kmsKeyId."
    (problem,) = mismatches(_synthetic(("aws:rds/cluster:Cluster", "aws:neptune/cluster:Cluster"), encrypted))
    assert problem.startswith(
        "aws:neptune/cluster:Cluster: reads kmsKeyId: the resource has no input 'kmsKeyId'")
    assert "kmsKeyArn" in problem


def test_every_props_accessor_is_recorded():
    def everything(r: Resource) -> Iterable[str]:
        r.props.get("a1")
        r.props.is_set("a2")
        r.props.customer_key("a3")
        r.props.is_unknown("a4")
        r.props.bool("a5")
        r.props.number("a6")
        r.props.str("a7")
        r.props.list("a8")
        r.props.size("a9")
        r.props.map("b1").get("inner")
        list(r.props.each("b2"))
        r.props.document("b3")
        r.tags.get("Owner")
        yield from ()
    found = reads(_synthetic(("aws:s3/bucket:Bucket",), everything), "aws:s3/bucket:Bucket")
    assert {p[0] for p in found} == {f"a{i}" for i in range(1, 10)} | {"b1", "b2", "b3", "tags"}
    assert {("b1", "inner"), ("tags", "Owner")} <= found


def test_reads_behind_values_and_nested_shapes_are_found():
    def deep(r: Resource) -> Iterable[str]:
        family = r.props.str("family") or ""
        if family.startswith("postgres"):
            for parameter in r.props.each("parameters"):
                if parameter.get("name") == "rds.force_ssl" and parameter.bool("applyMethod") is True:
                    yield "seen"
        if r.props.bool("storageEncrypted") is True and r.props.get("notAnInput", "deeper"):
            yield "never"
    check = _synthetic(("aws:rds/parameterGroup:ParameterGroup",), deep)
    found = reads(check, "aws:rds/parameterGroup:ParameterGroup")
    assert {("family",), ("parameters",), ("parameters", ITEM, "name"),
            ("parameters", ITEM, "applyMethod"), ("storageEncrypted",)} <= found
    assert [p.split(": ", 2)[1] for p in mismatches(check)] == [
        "reads notAnInput", "reads notAnInput.deeper", "reads storageEncrypted"]


def test_reading_a_list_as_an_object_is_found():
    def root_device(r: Resource) -> Iterable[str]:
        if r.props.bool("ebsBlockDevices", "encrypted") is not True:  # a list of devices
            yield "Set ebsBlockDevices.encrypted."
    problems = mismatches(_synthetic(("aws:ec2/instance:Instance",), root_device))
    assert [p.split(": ", 2)[1] for p in problems] == ["reads ebsBlockDevices.encrypted"]
    assert problems[0].endswith("ebsBlockDevices is of type list of object InstanceEbsBlockDevice, "
                                "which has no field 'encrypted'")


def test_the_sdk_inputs_are_the_names_the_pack_sees():
    neptune = resource_inputs("aws:neptune/cluster:Cluster")
    cluster = resource_inputs("aws:rds/cluster:Cluster")
    assert neptune is not None and cluster is not None
    assert {"kmsKeyArn", "storageEncrypted", "enableCloudwatchLogsExports"} <= set(neptune.fields)
    assert "kmsKeyArn" not in cluster.fields and "kmsKeyId" in cluster.fields
    # a resource whose Args class name is taken by a nested input type of its package
    versioning = resource_inputs("aws:s3/bucketVersioning:BucketVersioning")
    assert versioning is not None and "versioningConfiguration" in versioning.fields
    shape, error = resolve("aws:ec2/securityGroup:SecurityGroup", ("ingress", ITEM, "cidrBlocks", ITEM))
    assert error is None and shape is not None and shape.kind == "string"
    assert resolve("aws:ec2/instance:Instance", ("rootBlockDevice", ITEM, "encrypted"))[1] == (
        "rootBlockDevice is of type object InstanceRootBlockDevice, not a list")
    assert resolve("aws:s3/bucket:Bucket", ("tags", "anything"))[1] is None
    assert resolve("aws:made/up:Thing", ("x",))[1] == "pulumi-aws has no resource type aws:made/up:Thing"
