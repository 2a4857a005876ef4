"""How every policy in this pack is built: HIPAA metadata, safe property access, and a
validation wrapper that never lets a policy crash the pack.

A crash in a mandatory pack blocks every deployment, so:
- properties are read through `Props`, which never raises on missing keys or wrong types;
- a value unknown at preview raises the SDK's UnknownValueError (the SDK reports the policy
  as not run for that resource; unknown is never treated as compliant);
- any other exception inside a check becomes a violation on that resource only.
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from numbers import Real
from typing import Any, NoReturn, Optional

from pulumi_policy import (
    EnforcementLevel,
    PolicyComplianceFramework,
    PolicyConfigSchema,
    Severity,
    StackValidationPolicy,
)
from pulumi_policy.policy import _NotApplicableError
from pulumi_policy.proxy import (
    UNKNOWN_ARCHIVE_VALUE, UNKNOWN_ARRAY_VALUE, UNKNOWN_ASSET_VALUE, UNKNOWN_BOOLEAN_VALUE,
    UNKNOWN_NUMBER_VALUE, UNKNOWN_OBJECT_VALUE, UNKNOWN_STRING_VALUE, UnknownValueError,
)

from .analyzer_service import TypedResourcePolicy

FRAMEWORK_NAME = "HIPAA Security Rule"
FRAMEWORK_VERSION = "45 CFR Part 164 Subpart C"
_UNKNOWNS = frozenset({UNKNOWN_BOOLEAN_VALUE, UNKNOWN_NUMBER_VALUE, UNKNOWN_STRING_VALUE,
                       UNKNOWN_ARRAY_VALUE, UNKNOWN_ASSET_VALUE, UNKNOWN_ARCHIVE_VALUE,
                       UNKNOWN_OBJECT_VALUE})


@dataclass(frozen=True)
class Control:
    """A HIPAA Security Rule standard or implementation specification."""

    reference: str
    title: str


ENCRYPTION_AT_REST = Control("164.312(a)(2)(iv)", "Encryption and decryption")
TRANSMISSION_SECURITY = Control("164.312(e)(1)", "Transmission security")
ACCESS_CONTROL = Control("164.312(a)(1)", "Access control")
INFORMATION_ACCESS = Control("164.308(a)(4)", "Information access management")
AUDIT_CONTROLS = Control("164.312(b)", "Audit controls")
INTEGRITY = Control("164.312(c)(1)", "Integrity")
AUTHENTICATION = Control("164.312(d)", "Person or entity authentication")
ACTIVITY_REVIEW = Control("164.308(a)(1)(ii)(D)", "Information system activity review")
INCIDENT_PROCEDURES = Control("164.308(a)(6)", "Security incident procedures")
DATA_BACKUP = Control("164.308(a)(7)(ii)(A)", "Data backup plan")
DISASTER_RECOVERY = Control("164.308(a)(7)(ii)(B)", "Disaster recovery plan")
RETENTION = Control("164.316(b)(2)(i)", "Documentation retention (six years)")
PASSWORD_MANAGEMENT = Control("164.308(a)(5)(ii)(D)", "Password management")


# ---------------------------------------------------------------- property access

class _Missing:
    def __repr__(self) -> str:
        return "<missing>"


MISSING = _Missing()


# An AWS-managed key named by its alias or alias ARN: alias/aws/<service>.
AWS_MANAGED_KEY = re.compile(r"^(arn:aws[a-z-]*:kms:[^:]*:[^:]*:)?alias/aws/", re.IGNORECASE)


def is_unknown(value: Any) -> bool:
    return isinstance(value, str) and value in _UNKNOWNS


_SCALARS = (str, int, float, bool, type(None))


def plain(value: Any) -> Any:
    """The SDK's read-only proxies turned back into plain values (unknowns kept as sentinels)."""
    kind = type(value)
    if kind in _SCALARS:
        return value
    if kind is dict:
        return {k: plain(v) for k, v in value.items()}
    if kind is list:
        return [plain(v) for v in value]
    if kind.__name__ in ("_DictProxy", "_ListProxy"):
        value = value["__target"]
    if isinstance(value, Mapping):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, Sequence) and not isinstance(value, (str, bytes)):
        return [plain(v) for v in value]
    return value


def _raw_get(value: Any, path: tuple) -> Any:
    """Walk `path`; MISSING if absent; raises UnknownValueError on an unknown hop."""
    walked: list[str] = []
    for part in path:
        if is_unknown(value):
            raise UnknownValueError(value, walked)
        walked.append(str(part))
        if isinstance(part, int):
            if isinstance(value, Sequence) and not isinstance(value, str) and -len(value) <= part < len(value):
                value = value[part]
            else:
                return MISSING
        elif isinstance(value, Mapping) and part in value:
            value = value[part]
        else:
            return MISSING
    if is_unknown(value):
        raise UnknownValueError(value, walked)
    return value


class Props:
    """Safe, typed access to a resource's properties (camelCase keys)."""

    def __init__(self, values: Any):
        self.values = values if isinstance(values, Mapping) else {}

    def get(self, *path: Any) -> Any:
        """The value at `path`, or None when missing. Unknown -> UnknownValueError."""
        value = _raw_get(self.values, path)
        return None if value is MISSING else value

    def is_set(self, *path: Any) -> bool:
        """Present, not null and not an empty or blank string (which AWS treats as absent); a value
        unknown at preview counts as set."""
        try:
            value = _raw_get(self.values, path)
        except UnknownValueError:
            return True
        if isinstance(value, str):
            return bool(value.strip())
        return value not in (MISSING, None)

    def customer_key(self, *path: Any) -> bool:
        """True when `path` names a customer-managed KMS key: set, not blank, and not an AWS-managed
        key (`alias/aws/<service>`, by alias or alias ARN), which a key policy of the customer's
        cannot restrict. A value unknown at preview is another resource's output: a key the stack
        creates or reads, never an AWS-managed alias (those are always literals)."""
        if not self.is_set(*path):
            return False
        if self.is_unknown(*path):
            return True
        value = self.get(*path)
        return isinstance(value, str) and not AWS_MANAGED_KEY.match(value.strip())

    def is_unknown(self, *path: Any) -> bool:
        """True when the value at `path` (or a container on the way) is unknown at preview."""
        try:
            _raw_get(self.values, path)
            return False
        except UnknownValueError:
            return True

    def bool(self, *path: Any) -> Optional[bool]:
        value = self.get(*path)
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        return None

    def number(self, *path: Any) -> Optional[float]:
        """A finite number (numbers may arrive as strings); None otherwise."""
        value = self.get(*path)
        if isinstance(value, str):
            try:
                value = float(value)
            except ValueError:
                return None
        if isinstance(value, Real) and not isinstance(value, bool) and math.isfinite(value):
            return float(value)
        return None

    def str(self, *path: Any) -> Optional[str]:
        value = self.get(*path)
        return value if isinstance(value, str) else None

    def list(self, *path: Any) -> list:
        """The list at `path` ([] when absent); an unknown element makes the value unknown."""
        value = self.get(*path)
        if not isinstance(value, Sequence) or isinstance(value, (str, bytes)):
            return []
        for item in value:
            if is_unknown(item):
                raise UnknownValueError(item, [str(p) for p in path])
        return list(value)

    def size(self, *path: Any) -> int:
        """How many elements the list at `path` has (elements may be unknown; 0 when absent)."""
        value = self.get(*path)
        return len(value) if isinstance(value, Sequence) and not isinstance(value, (str, bytes)) else 0

    def map(self, *path: Any) -> Mapping:
        """The object at `path` ({} when absent); reading an unknown entry raises UnknownValueError."""
        value = self.get(*path)
        return _KnownMap(value, [str(p) for p in path]) if isinstance(value, Mapping) else {}

    def each(self, *path: Any) -> Iterable[Props]:
        """Each element of the list at `path` that is an object."""
        for item in self.list(*path):
            if is_unknown(item):
                raise UnknownValueError(item, [str(p) for p in path])
            if isinstance(item, Mapping):
                yield Props(item)

    def document(self, *path: Any) -> Optional[Mapping]:
        """A JSON policy document (string or object); None when absent or not valid JSON."""
        value = self.get(*path)
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                return None
        if isinstance(value, Mapping):
            if any(is_unknown(v) for v in _walk(value)):
                raise UnknownValueError(UNKNOWN_STRING_VALUE, [str(p) for p in path])
            return value
        return None


class _KnownMap(Mapping):
    """A read-only map whose unknown entries raise when read, so they are never judged."""

    def __init__(self, values: Mapping, path: list[str]):
        self._values, self._path = values, path

    def __getitem__(self, key: Any) -> Any:
        value = self._values[key]
        if is_unknown(value):
            raise UnknownValueError(value, self._path + [str(key)])
        return value

    def __iter__(self):
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)


def _walk(value: Any) -> Iterable[Any]:
    if isinstance(value, Mapping):
        for v in value.values():
            yield from _walk(v)
    elif isinstance(value, Sequence) and not isinstance(value, str):
        for v in value:
            yield from _walk(v)
    else:
        yield value


def as_list(value: Any) -> list:
    """A policy field that may be a single value or a list."""
    if value is None:
        return []
    if isinstance(value, Sequence) and not isinstance(value, str):
        return list(value)
    return [value]


# ---------------------------------------------------------------- resources seen by checks

class Resource:
    """One resource as a check sees it. Properties and links are resolved on first use, so a
    stack policy pays only for the resources it looks at."""

    def __init__(self, type: str, name: str, urn: str, raw_props: Any, protect: Optional[bool],
                 config: Mapping[str, Any], raw_property_dependencies: Any = None,
                 raw_dependencies: Any = None, lookup: Optional[Mapping[str, Resource]] = None):
        self.type, self.name, self.urn = type, name, urn
        self.protect, self.config = protect, config
        self._raw_props = raw_props
        self._raw_property_dependencies = raw_property_dependencies
        self._raw_dependencies = raw_dependencies
        # `is not None`, not `or`: the stack's index is still empty when its first resource is
        # built, and `{} or {}` would give that resource a private, forever-empty index.
        self._lookup = lookup if lookup is not None else {}

    @functools.cached_property
    def props(self) -> Props:
        return Props(plain(self._raw_props))

    def _resolve(self, raw: Any) -> list[Resource]:
        return [self._lookup[d.urn] for d in (raw or []) if getattr(d, "urn", None) in self._lookup]

    @functools.cached_property
    def property_dependencies(self) -> dict[str, list[Resource]]:
        raw = self._raw_property_dependencies
        return {k: self._resolve(v) for k, v in raw.items()} if isinstance(raw, Mapping) else {}

    @functools.cached_property
    def dependencies(self) -> list[Resource]:
        return self._resolve(self._raw_dependencies)

    @property
    def tags(self) -> Mapping[str, Any]:
        """The resource's tags; an unknown tag map, or reading an unknown tag, raises
        UnknownValueError so that nothing is judged on a tag preview cannot know."""
        return self.props.map("tags")

    @property
    def holds_phi(self) -> bool:
        """Whether the stack may hold PHI: from the pack config file, never from tags."""
        return self.config.get("holdsPhi") is True

    def depends_on(self, other: Resource, key: Optional[str] = None) -> bool:
        """True when this resource takes `other`'s output in `key` (any key when None)."""
        keys = [key] if key else list(self.property_dependencies)
        if any(other.urn == d.urn for k in keys for d in self.property_dependencies.get(k, [])):
            return True
        return key is None and any(other.urn == d.urn for d in self.dependencies)


def _integral(value: Any) -> Any:
    """Config arrives through protobuf Structs, where every number is a float: 7.0 -> 7."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, Mapping):
        return {k: _integral(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_integral(v) for v in value]
    return value


def _with_defaults(config: Optional[Mapping[str, Any]], schema: Mapping[str, Mapping]) -> dict:
    merged = {k: spec["default"] for k, spec in schema.items() if "default" in spec}
    if isinstance(config, Mapping):
        merged.update({k: v for k, v in config.items() if k != "enforcementLevel"})
    return _integral(merged)


def _protect(opts: Any) -> Optional[bool]:
    value = getattr(opts, "protect", None)
    return value if isinstance(value, bool) else None


# ---------------------------------------------------------------- policy construction

HOLDS_PHI_SCHEMA = {"holdsPhi": {
    "type": "boolean", "default": False,
    "description": "True only for a stack allowed to hold PHI (prod). Default false: PHI is refused.",
}}


# A stack that does not own its account's region-wide controls (accountBaseline: external)
# declares who does, as a reviewed change to its pack config. The preflight evidence report
# repeats the declaration, so an auditor sees it was relied on.
ACCOUNT_CONTROLS_SCHEMA = {"accountControlsProvidedBy": {
    "type": "string", "enum": ["stack", "organization", "control-tower", "owner-stack"],
    "default": "stack",
    "description": "Who runs GuardDuty, Security Hub, AWS Config and the multi-region management-"
                   "event trail for this account and region: this stack (default), the "
                   "organization (delegated administrator), Control Tower, or another stack of "
                   "this project that owns the account (accountBaseline: owned).",
}}


def account_controls_elsewhere(config: Mapping[str, Any]) -> Optional[str]:
    """Who provides the account's controls, when a reviewed declaration says it is not this stack."""
    provider = config.get("accountControlsProvidedBy", "stack")
    return None if provider == "stack" else str(provider)


@dataclass(frozen=True)
class Metadata:
    name: str
    description: str
    control: Control
    remediation: str
    severity: Severity = Severity.HIGH
    config_rules: tuple[str, ...] = ()
    """AWS Config rules of the HIPAA conformance pack this policy prevents."""
    config: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    enforcement: Optional[EnforcementLevel] = None
    service: str = ""

    def kwargs(self) -> dict:
        return dict(
            name=self.name,
            description=self.description,
            enforcement_level=self.enforcement,
            severity=self.severity,
            framework=PolicyComplianceFramework(
                name=FRAMEWORK_NAME, version=FRAMEWORK_VERSION,
                reference=self.control.reference, specification=self.control.title),
            remediation_steps=self.remediation,
            tags=["hipaa", self.service or self.name.split("-")[1]] +
                 [f"config-rule:{r}" for r in self.config_rules],
            # PolicyConfigSchema accepts only plain dicts (it checks isinstance(..., dict) at each level).
            config_schema=PolicyConfigSchema(properties={k: dict(v) for k, v in self.config.items()})
            if self.config else None,
        )


def policy_meta(name: str, description: str, control: Control, remediation: str, service: str,
                rules: Iterable[str] = (), **kw: Any) -> Metadata:
    """Metadata with the AWS Config rules it prevents given positionally."""
    return Metadata(name, description, control, remediation, config_rules=tuple(rules),
                    service=service, **kw)


def not_applicable(reason: str) -> NoReturn:
    """Stop a check for a variant of its resource type that cannot do what the policy asks (an
    engine without IAM database authentication, a gateway listener without a protocol): the
    engine reports the policy as not applicable with `reason`, which should name AWS's source."""
    raise _NotApplicableError(reason)


def _fail_closed(report: Callable, error: Exception, urn: Optional[str] = None) -> None:
    report(f"The policy could not evaluate this resource ({type(error).__name__}: {error}); "
           "fix the property's shape or report a bug in the policy pack.", urn)


def resource_policy(meta: Metadata, types: Optional[Iterable[str]],
                    check: Callable[[Resource], Iterable[str]]) -> TypedResourcePolicy:
    """A policy judging one resource at a time; `check` yields violation messages.

    `types` None means every resource type."""
    types = frozenset(types) if types is not None else None
    reason = "applies to " + ", ".join(sorted(types or ()))

    def validate(args, report_violation) -> None:
        try:
            resource = Resource(
                type=args.resource_type, name=args.name, urn=args.urn,
                raw_props=args.props, protect=_protect(args.opts),
                config=_with_defaults(args.get_config(), meta.config))
            for message in check(resource):
                report_violation(message, None)
        except (UnknownValueError, _NotApplicableError):
            raise
        except Exception as error:  # noqa: BLE001 - a crash would block every deployment
            _fail_closed(report_violation, error)

    # The type list travels with the policy: it says "not applicable" for other types before
    # `validate` runs, and the pack's service says so without calling it (analyzer_service.py).
    return TypedResourcePolicy(types, reason, validate=validate, **meta.kwargs())


class Stack:
    """All resources of the stack, linked by their dependencies (ids are unknown at preview)."""

    def __init__(self, resources: list[Resource], config: Mapping[str, Any]):
        self.resources = resources
        self.config = config
        self.unjudged: list[str] = []
        # Indexes, so linking stays linear in the size of the stack.
        self._by_type: dict[str, list[Resource]] = {}
        for resource in resources:
            self._by_type.setdefault(resource.type, []).append(resource)
        self._dependents: dict[tuple[str, str, str], list[Resource]] = {}
        self._indexed_types: set[str] = set()

    def _dependents_of(self, urn: str, key: str, types: set[str]) -> list[Resource]:
        for type_ in types - self._indexed_types:  # index a type the first time it is asked for
            self._indexed_types.add(type_)
            for resource in self._by_type.get(type_, []):
                for dep_key, deps in resource.property_dependencies.items():
                    for dep in deps:
                        self._dependents.setdefault((dep.urn, dep_key, type_), []).append(resource)
        return [r for t in types for r in self._dependents.get((urn, key, t), [])]

    @property
    def holds_phi(self) -> bool:
        return self.config.get("holdsPhi") is True

    def of_type(self, *types: str) -> list[Resource]:
        return [r for t in types for r in self._by_type.get(t, [])]

    def attached(self, target: Resource, types: Iterable[str], key: str,
                 literal: Optional[Any] = None) -> list[Resource]:
        """Resources of `types` whose `key` refers to `target` (by property dependency, or by
        a known literal equal to `literal`, e.g. an existing bucket's name)."""
        types = set(types)
        found = self._dependents_of(target.urn, key, types)
        if literal is None:
            return found
        for candidate in self.of_type(*types):
            if candidate in found:
                continue
            try:
                value = candidate.props.get(key)
            except UnknownValueError:
                continue
            if value == literal:
                found.append(candidate)
        return found

    def judge(self, resource: Resource, check: Callable[[], Iterable[str]]) -> Iterable[tuple[str, str]]:
        """Run one resource's part of a stack check; unknowns mark it unjudged, not compliant."""
        try:
            for message in check():
                yield message, resource.urn
        except UnknownValueError as unknown:
            self.unjudged.append(f"{resource.urn}: {unknown.message}")


def stack_policy(meta: Metadata, check: Callable[[Stack], Iterable[tuple[str, str]]]) -> StackValidationPolicy:
    """A policy over the whole stack; `check` yields (message, urn) pairs."""

    def validate(args, report_violation) -> None:
        config = _with_defaults(args.get_config(), meta.config)
        try:
            by_urn: dict[str, Resource] = {}
            for r in args.resources:
                by_urn[r.urn] = Resource(
                    type=r.resource_type, name=r.name, urn=r.urn, raw_props=r.props,
                    protect=_protect(r.opts), config=config,
                    raw_property_dependencies=r.property_dependencies,
                    raw_dependencies=r.dependencies, lookup=by_urn)
            stack = Stack(list(by_urn.values()), config)
            for message, urn in check(stack):
                report_violation(message, urn)
        except _NotApplicableError:
            raise
        except UnknownValueError:
            raise
        except Exception as error:  # noqa: BLE001 - a crash would block every deployment
            _fail_closed(report_violation, error)
            return
        if stack.unjudged:
            unknown = UnknownValueError(UNKNOWN_STRING_VALUE, [])
            unknown.message = (f"{len(stack.unjudged)} resource(s) could not be judged at preview: "
                               + "; ".join(sorted(stack.unjudged)[:5]))
            raise unknown

    return StackValidationPolicy(validate=validate, **meta.kwargs())
