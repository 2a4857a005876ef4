"""Which input paths, of which resource types, a policy of the pack reads: found by running it.

A check runs on `Recorder` property maps that log every key asked for (through
`Props.get/is_set/customer_key/bool/number/str/list/size/map/each/document` and `Resource.tags`,
which all end in `key in mapping` / `mapping[key]`). One run only sees the branches its values lead
to, so the values are explored: each key read is given, in turn, the values its SDK type allows
(and, to catch shape mistakes, an object and a list of objects); strings are `Probe`s that log the
literals a check compares them with, which become values to try next. A run is expanded further
only when it read a key, met a literal or produced a message not seen before.

Resource policies (framework.resource_policy) are explored one declared type at a time. Stack
policies (framework.stack_policy) declare no types: they run on a `RecordingStack` that hands out one
recording resource for every type the check asks for (`Stack.of_type`, `Stack.attached`), links
every resource to every other (so branches behind a link are reached), and records the types asked.

tests/test_policy_property_names.py holds every path read to the SDK's inputs; the coverage matrix
(docs/coverage/matrix.py) asks whether a policy reads a type and a path.
"""

from __future__ import annotations

import functools
import inspect
import json
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Optional

from pulumi_policy import ResourceValidationPolicy, StackValidationPolicy

from docs.coverage.pulumi_aws_inputs import ITEM, Path_, resolve, shape_of

RUN_BUDGET = 3000
"""Runs per (policy, type, config); the exploration stops earlier when nothing new turns up."""


def _framework():
    # Imported late: the policy package is on sys.path only once docs.coverage.scope (or a test) put it there.
    from hipaa_policies import framework
    return framework


# ---------------------------------------------------------------- recording properties

class Log:
    """What one run of a check read and compared."""

    def __init__(self) -> None:
        self.reads: set[Path_] = set()
        self.literals: dict[Path_, set[str]] = {}
        self.types: set[str] = set()
        """Types a stack check asked the stack for."""
        self.options: set[str] = set()
        """Resource options the check read (`protect`)."""

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
"""Values that become a Recorder, or a list holding one, at their path (a dict value becomes a
plain map of Probes)."""


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
        if isinstance(value, dict):  # a map with free keys (tags, environment variables...)
            return {k: Probe(v, path + (k,), self._log) for k, v in value.items()}
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


# ---------------------------------------------------------------- the checks inside policies

@dataclass(frozen=True)
class Check:
    name: str
    types: Optional[frozenset[str]]
    """The types a resource policy declares (None: every type); None for a stack policy."""
    meta: Any
    check: Callable[[Any], Iterable[Any]]
    stack: bool = False


def check_of(policy: Any) -> Check:
    """The check and metadata that `framework.resource_policy` or `framework.stack_policy` closed
    over (and, for a resource policy, the types its TypedResourcePolicy carries)."""
    stack = isinstance(policy, StackValidationPolicy)
    wrapper = getattr(policy, "_StackValidationPolicy__validate" if stack
                      else "_ResourceValidationPolicy__validate", None)
    if stack:
        found = inspect.getclosurevars(wrapper).nonlocals if callable(wrapper) else {}
    else:
        if not (isinstance(policy, ResourceValidationPolicy) and hasattr(policy, "resource_types")):
            raise NotFromFramework(f"{policy.name}: not built by framework.resource_policy")
        inner = inspect.getclosurevars(wrapper).nonlocals.get("validate") if callable(wrapper) else None
        found = inspect.getclosurevars(inner).nonlocals if callable(inner) else {}
    missing = {"check", "meta"} - set(found)
    if missing:
        raise NotFromFramework(f"{policy.name}: not built by the framework (no {missing})")
    types = None if stack else policy.resource_types  # type: ignore[attr-defined]
    return Check(policy.name, types, found["meta"], found["check"], stack)


def configs(meta: Any) -> list[dict]:
    """The policy's config defaults, with holdsPhi both ways when the policy has it."""
    base = _framework()._with_defaults(None, meta.config)
    if "holdsPhi" not in meta.config:
        return [base]
    return [{**base, "holdsPhi": False}, {**base, "holdsPhi": True}]


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
        "map": [{"x": "x"}],  # a non-empty map: checks that only look further when one is set
        "any": [True, False, 0, 100000, *texts, [*texts]],
    }
    containers = [OBJECT, OBJECTS] if kind in ("object", "list", "map", "any") else []
    return by_kind.get(kind, []) + containers


# ---------------------------------------------------------------- one run

def run(check: Check, type_: str, config: Mapping[str, Any],
        values: Mapping[Path_, Any]) -> tuple[Log, tuple]:
    """Run a resource policy's check once on a recording resource of `type_`."""
    log = Log()
    resource = _recording_resource_class()(type=type_, name="r", urn=f"urn:pulumi:s::p::{type_}::r",
                                           raw_props={}, protect=None, config=config)
    resource.__dict__["_log"] = log
    resource.__dict__["props"] = _framework().Props(Recorder((), values, log))  # the cached_property's slot
    return log, _messages(lambda: check.check(resource))


@functools.cache
def _recording_resource_class() -> type:
    """framework.Resource whose `protect` option logs that it was read."""
    fw = _framework()

    class OptionsRecordingResource(fw.Resource):
        @property
        def protect(self) -> Any:  # type: ignore[override]
            log = self.__dict__.get("_log")
            if log is not None:
                log.options.add("protect")
            return self.__dict__.get("_protect")

        @protect.setter
        def protect(self, value: Any) -> None:
            self.__dict__["_protect"] = value

    return OptionsRecordingResource


def _messages(produce: Callable[[], Iterable[Any]]) -> tuple:
    messages: list[str] = []
    try:
        for message in produce():
            messages.append(str(message))
    except Exception:  # noqa: BLE001 - the framework turns these into violations; the reads stand
        messages.append("<raised>")
    return tuple(messages)


def _recording_stack(values: Mapping[Path_, Any], log: Log, config: Mapping[str, Any]):
    """A framework.Stack whose resources appear as the check asks for their types: one recording
    resource per type, with properties keyed (type, *path) in `values`, each linked to all others."""
    fw = _framework()

    class RecordingResource(fw.Resource):
        @property
        def property_dependencies(self) -> Mapping[str, list]:  # type: ignore[override]
            return _AllLinks(stack)

        @property
        def dependencies(self) -> list:  # type: ignore[override]
            return list(stack.resources)

        def depends_on(self, other: Any, key: Optional[str] = None) -> bool:
            return True

    class RecordingStack(fw.Stack):
        def of_type(self, *types: str) -> list:
            log.types.update(types)
            for type_ in types:
                if type_ not in self._by_type:
                    resource = RecordingResource(type=type_, name="r", urn=f"urn:pulumi:s::p::{type_}::r",
                                                 raw_props={}, protect=None, config=config)
                    resource.__dict__["props"] = fw.Props(Recorder((type_,), values, log))
                    self._by_type[type_] = [resource]
                    self.resources.append(resource)
            return super().of_type(*types)

        def attached(self, target: Any, types: Iterable[str], key: str, literal: Any = None) -> list:
            return self.of_type(*types)  # every resource of those types is linked to every other

    stack = RecordingStack([], config)
    return stack


class _AllLinks(Mapping):
    """Property dependencies under any key: every resource of the recording stack."""

    def __init__(self, stack: Any):
        self._stack = stack

    def __getitem__(self, key: str) -> list:
        return list(self._stack.resources)

    def get(self, key: str, default: Any = None) -> list:  # type: ignore[override]
        return list(self._stack.resources)

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


def run_stack(check: Check, config: Mapping[str, Any], values: Mapping[Path_, Any]) -> tuple[Log, tuple]:
    """Run a stack policy's check once on a recording stack."""
    log = Log()
    stack = _recording_stack(values, log, config)
    return log, _messages(lambda: check.check(stack))


# ---------------------------------------------------------------- exploring

Runner = Callable[[Mapping[str, Any], Mapping[Path_, Any]], tuple[Log, tuple]]


def _explore(runner: Runner, typed: Callable[[Path_], tuple[str, Path_]],
             meta: Any) -> tuple[frozenset[Path_], frozenset[str]]:
    """Every path the runs read (as the runner keys them) and every type a stack asked for."""
    found: set[Path_] = set()
    types: set[str] = set()
    for config in configs(meta):
        seen: set[Any] = set()
        tried: set[frozenset] = set()
        queue: deque[dict[Path_, Any]] = deque([{}])
        runs = 0
        while queue and runs < RUN_BUDGET:
            values = queue.popleft()
            runs += 1
            log, messages = runner(config, values)
            news = ({("read", p) for p in log.reads} | {("message", m) for m in messages}
                    | {("type", t) for t in log.types}
                    | {("literal", p, v) for p, vs in log.literals.items() for v in vs}) - seen
            if values and not news:
                continue
            seen |= news
            found |= log.reads
            types |= log.types
            for path in sorted(log.reads | set(log.literals)):
                literals = log.literals.get(path, set()) | log.literals.get(path + (ITEM,), set())
                token, inner = typed(path)
                for value in candidates(token, inner, literals):
                    changed = {**values, path: value}
                    key = frozenset((k, json.dumps(v, sort_keys=True)) for k, v in changed.items())
                    if key not in tried:
                        tried.add(key)
                        queue.append(changed)
    return frozenset(found), frozenset(types)


def reads(check: Check, type_: str) -> frozenset[Path_]:
    """Every property path the check reads on a resource of `type_`."""
    if check.stack:
        return stack_reads(check).get(type_, frozenset())
    found, _ = _explore(lambda config, values: run(check, type_, config, values),
                        lambda path: (type_, path), check.meta)
    return found


def stack_reads(check: Check) -> dict[str, frozenset[Path_]]:
    """Type -> the paths a stack policy reads on it, for every type it asks the stack for."""
    found, types = _explore(lambda config, values: run_stack(check, config, values),
                            lambda path: (path[0], path[1:]), check.meta)
    by_type: dict[str, set[Path_]] = {t: set() for t in types}
    for path in found:
        by_type.setdefault(path[0], set()).add(path[1:])
    return {t: frozenset(paths) for t, paths in by_type.items()}


# ---------------------------------------------------------------- the pack's policies, cached

class NotFromFramework(AssertionError):
    """The policy was not built by framework.resource_policy or framework.stack_policy."""


@functools.cache
def pack_checks() -> dict[str, Check]:
    """The checks of the pack's policies built by the framework (others read no resource)."""
    from hipaa_policies import ALL_POLICIES
    found = {}
    for policy in ALL_POLICIES:
        try:
            found[policy.name] = check_of(policy)
        except NotFromFramework:
            continue
    return found


@functools.cache
def _stack_reads_of(name: str) -> dict[str, frozenset[Path_]]:
    return stack_reads(pack_checks()[name])


def types_read(name: str) -> Optional[frozenset[str]]:
    """The types a policy of the pack reads: a resource policy's declared types (None: every
    type), a stack policy's types found by running it; none for a policy the framework did not build."""
    check = pack_checks().get(name)
    if check is None:
        return frozenset()
    return frozenset(_stack_reads_of(name)) if check.stack else check.types


@functools.cache
def policy_reads(name: str, type_: str) -> frozenset[Path_]:
    """The paths policy `name` of the pack reads on `type_` (cached per policy and type)."""
    check = pack_checks().get(name)
    if check is None:
        return frozenset()
    if check.stack:
        return _stack_reads_of(name).get(type_, frozenset())
    if check.types is not None and type_ not in check.types:
        return frozenset()  # the pack never calls it for this type, whatever its check would read
    return reads(check, type_)


@functools.cache
def reads_type(name: str, type_: str) -> bool:
    """Whether policy `name` judges resources of `type_`: it reads an input of theirs, or (for a
    resource policy that declares the type) their resource options, e.g. Pulumi's `protect`, or
    (for a stack policy) asks the stack for them, e.g. to require that one is attached."""
    if policy_reads(name, type_):
        return True
    check = pack_checks().get(name)
    if check is not None and check.stack:  # asking the stack for the type is judging it (e.g. "has one")
        return type_ in _stack_reads_of(name)
    if check is None or (check.types is not None and type_ not in check.types):
        return False
    return any("protect" in run(check, type_, config, {})[0].options for config in configs(check.meta))
