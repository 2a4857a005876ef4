"""What the Pulumi engine (v3.259.0) does around a policy pack, reproduced offline.

Each function names the engine source it follows (github.com/pulumi/pulumi; see
/work/shared/ENGINE_FACTS.md for the list): URNs, the default provider, resource options as the
engine derives them from a registration, the stack's tags and config for ConfigureStack, and the
pack config handling of pkg/resource/analyzer/config.go.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import json
import os
import re
import subprocess
import sys
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

import yaml
from google.protobuf import json_format, struct_pb2

if TYPE_CHECKING:  # imported when first used: `python -m preflight` starts the pack before pulumi loads
    import jsonschema

ROOT_STACK_TYPE = "pulumi:pulumi:Stack"
PROVIDER_TYPE_PREFIX = "pulumi:providers:"
# The wire format's sentinels, the engine's and the SDK's alike (pulumi.runtime.rpc).
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"  # a value unknown at preview
SIG_KEY = "4dabf18193072939515e22adb298388d"  # the signature key of a special value
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"  # ... of a secret
ENFORCEMENT_LEVELS = ("advisory", "mandatory", "remediate", "disabled")  # apitype.EnforcementLevel
_LEVEL_NAMES = {0: "advisory", 1: "mandatory", 2: "disabled", 3: "remediate"}  # the proto enum


# --- URNs (pkg/resource/deploy/deployment.go: generateURN, defaultProviderURN) -----------------

def qualified_type(urn: str) -> str:
    """The URN's qualified type: every ancestor's type but the root stack, `$`-joined."""
    return urn.split("::")[2]


def generate_urn(stack: str, project: str, parent: str, type_: str, name: str) -> str:
    """deployment.go generateURN: the parent's full qualified type + `$` + the type; the root stack
    is never part of it."""
    qualified = type_
    if parent:
        parent_type = qualified_type(parent)
        if parent_type != ROOT_STACK_TYPE:
            qualified = f"{parent_type}${type_}"
    return f"urn:pulumi:{stack}::{project}::{qualified}::{name}"


def root_stack_urn(stack: str, project: str) -> str:
    """resource.DefaultRootStackURN: where the engine files stack-level policy diagnostics."""
    return generate_urn(stack, project, "", ROOT_STACK_TYPE, f"{project}-{stack}")


def is_provider_type(type_: str) -> bool:
    return type_.startswith(PROVIDER_TYPE_PREFIX)


# --- the default provider (source_eval.go newRegisterDefaultProviderEvent, providers/reference.go) -

_SEMVER = re.compile(r"^v?(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?(?:\+([0-9A-Za-z.-]+))?$")


def default_provider_name(version: str, plugin_download_url: str = "") -> str:
    """ProviderRequest.DefaultName: `default`, then `_<major>_<minor>_<patch>` and each pre-release
    and build part, then the download URL as a QName."""
    base = "default"
    match = _SEMVER.match(version or "")
    if match:
        major, minor, patch, pre, build = match.groups()
        base += f"_{int(major)}_{int(minor)}_{int(patch)}"
        base += "".join(f"_{p}" for p in (pre.split(".") if pre else []))
        base += "".join(f"_{b}" for b in (build.split(".") if build else []))
    if plugin_download_url:
        base += "_" + re.sub(r"[^A-Za-z0-9_.]", "_", plugin_download_url)
    return base


@functools.cache
def default_plugin_version(package: str) -> str:
    """The version the language host reports for a package the program uses (its SDK's
    pulumi-plugin.json): the default provider's version when a registration names none."""
    try:
        from importlib import resources
        plugin = resources.files(f"pulumi_{package.replace('-', '_')}").joinpath("pulumi-plugin.json")
        return str(json.loads(plugin.read_text())["version"])
    except Exception:  # noqa: BLE001 - a package without plugin metadata has no default version
        return ""


def provider_id(urn: str, preview: bool) -> str:
    """A provider's ID: unknown while previewing a new stack (providers.UnknownID), else a UUID."""
    return UNKNOWN if preview else str(uuid.uuid5(uuid.NAMESPACE_URL, urn))


def package_config(values: Mapping[str, str], secret_keys: Iterable[str], package: str) -> dict[str, Any]:
    """target.go GetPackageConfig: the stack's `<package>:*` config, keys without the namespace,
    each value the config string (objects as JSON text), secure values as secrets."""
    secrets = set(secret_keys)
    config: dict[str, Any] = {}
    for key, value in values.items():
        namespace, _, name = key.partition(":")
        if namespace == package and name:
            config[name] = _secret(value) if key in secrets else value
    return config


def _secret(value: Any) -> dict[str, Any]:
    return {SIG_KEY: SECRET_SIG, "value": value}


def provider_inputs(values: Mapping[str, str], secret_keys: Iterable[str], package: str,
                    version: str) -> struct_pb2.Struct:
    """The default provider's inputs: its package's config plus `version` (SetProviderVersion).
    The provider's CheckConfig may reshape them; which way needs the real provider binary."""
    inputs = package_config(values, secret_keys, package)
    if version:
        inputs["version"] = version
    struct = struct_pb2.Struct()
    struct.update(inputs)
    return struct


# --- resource options (source_eval.go RegisterResource) -----------------------------------------

_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)")
_UNIT_SECONDS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def go_duration_seconds(text: str) -> float:
    """Go's time.ParseDuration in seconds (customTimeouts are sent as "5m", "1h30m")."""
    if text in ("", "0"):
        return 0.0
    sign = -1.0 if text.startswith("-") else 1.0
    body = text.lstrip("+-")
    parts = _DURATION_PART.findall(body)
    if not parts or "".join(n + u for n, u in parts) != body:
        raise ValueError(f"time: invalid duration {text!r}")
    return sign * sum(float(n) * _UNIT_SECONDS[u] for n, u in parts)


# --- properties as the analyzer plugin marshals them (analyzer_plugin.go) ------------------------

def skip_internal_keys(struct: struct_pb2.Struct) -> struct_pb2.Struct:
    """MarshalOptions{SkipInternalKeys: true}: keys starting with `__` are dropped, at any depth.
    Returns the same message when there is nothing to drop (the usual case)."""
    if not _has_internal_keys(struct):
        return struct
    cleaned = struct_pb2.Struct()
    cleaned.update(_without_internal(json_value(struct)))
    return cleaned


def _has_internal_keys(struct: struct_pb2.Struct) -> bool:
    for key, value in struct.fields.items():
        if key.startswith("__"):
            return True
        kind = value.WhichOneof("kind")
        if kind == "struct_value" and _has_internal_keys(value.struct_value):
            return True
        if kind == "list_value" and any(
                v.WhichOneof("kind") == "struct_value" and _has_internal_keys(v.struct_value)
                for v in value.list_value.values):
            return True
    return False


def _without_internal(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_internal(v) for k, v in value.items() if not k.startswith("__")}
    if isinstance(value, list):
        return [_without_internal(v) for v in value]
    return value


def json_value(struct: struct_pb2.Struct) -> dict[str, Any]:
    return json_format.MessageToDict(struct)


# --- preview outputs (step.go CreateStep.Apply with Preview: true) --------------------------------

@functools.cache
def computed_outputs(type_token: str) -> tuple[str, ...]:
    """The properties a provider computes for a resource type: `id`, and each output of the
    package's SDK class that is not also an input (e.g. `arn`, `tagsAll`). At preview of a create
    the provider reports them unknown."""
    package, _, rest = type_token.partition(":")
    module, _, class_name = rest.partition(":")
    module = module.split("/", 1)[0]
    names = [f"pulumi_{package.replace('-', '_')}"]
    if module and module != "index":
        names = [f"{names[0]}.{module}", f"{names[0]}.{module}_"]
    cls = None
    for name in names:
        try:
            cls = getattr(importlib.import_module(name), class_name, None)
        except ImportError:
            continue
        if cls is not None:
            break
    if cls is None:
        return ("id",)
    # The inputs are the constructor's keyword arguments (an `<X>Args` class name may be taken by a
    # nested input type); an output that is not an input is computed.
    init = getattr(cls, "_internal_init", None)
    inputs = set(inspect.signature(init).parameters) if init is not None else set()
    computed = []
    for klass in reversed(cls.__mro__):
        for attribute, value in vars(klass).items():
            if not isinstance(value, property):
                continue
            name = getattr(value.fget, "_pulumi_name", None)
            if name and attribute not in inputs and name != "id" and name not in computed:
                computed.append(name)
    return ("id", *computed)


def preview_outputs(type_token: str, inputs: struct_pb2.Struct,
                    additional_secret_outputs: Iterable[str] = ()) -> struct_pb2.Struct:
    """A custom resource's outputs at preview of a create: its checked inputs plus every computed
    property, unknown; `additionalSecretOutputs` marked secret."""
    outputs = struct_pb2.Struct()
    outputs.CopyFrom(inputs)
    for name in computed_outputs(type_token):
        if name not in outputs.fields:
            outputs.fields[name].string_value = UNKNOWN
    for name in additional_secret_outputs:
        if name in outputs.fields and not _is_secret(outputs.fields[name]):
            wrapped = struct_pb2.Value()
            wrapped.struct_value.fields[SIG_KEY].string_value = SECRET_SIG
            wrapped.struct_value.fields["value"].CopyFrom(outputs.fields[name])
            outputs.fields[name].CopyFrom(wrapped)
    return outputs


def _is_secret(value: struct_pb2.Value) -> bool:
    return (value.WhichOneof("kind") == "struct_value"
            and value.struct_value.fields.get(SIG_KEY, struct_pb2.Value()).string_value == SECRET_SIG)


# --- the stack as ConfigureStack and the pack's environment see it (analyzer_plugin.go) ----------

@dataclass(frozen=True)
class StackContext:
    """plugin.PolicyAnalyzerOptions: what the engine tells a policy pack about the stack."""

    stack: str
    project: str
    organization: str = "organization"  # the DIY (S3/local) backend's organization
    dry_run: bool = True
    config: Mapping[str, str] = field(default_factory=dict)
    secret_keys: tuple[str, ...] = ()
    tags: Mapping[str, str] = field(default_factory=dict)

    def environment(self) -> dict[str, str]:
        """constructEnv: PULUMI_CONFIG (JSON) and the stack's identity for the pack's process."""
        env = {"PULUMI_ORGANIZATION": self.organization, "PULUMI_PROJECT": self.project,
               "PULUMI_STACK": self.stack, "PULUMI_DRY_RUN": "true" if self.dry_run else "false"}
        if self.config:
            env["PULUMI_CONFIG"] = json.dumps(dict(self.config))
        return {k: v for k, v in env.items() if v}


def start_policy_pack(policy_dir: Path, stack: Optional[StackContext] = None,
                      python: Optional[str] = None) -> tuple[subprocess.Popen, dict[str, str]]:
    """Start the pack's process as the engine starts the plugin: in its directory, with the stack's
    environment (constructEnv). It prints the port it serves on."""
    environment = {**os.environ, "PYTHONUNBUFFERED": "1", **(stack.environment() if stack else {})}
    process = subprocess.Popen([python or sys.executable, "__main__.py"], cwd=policy_dir,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=environment)
    return process, environment


def stack_tags(project_file: Path, config: Mapping[str, str]) -> dict[str, str]:
    """backend GetEnvironmentTagsForCurrentStack: pulumi:project, pulumi:runtime, pulumi:description
    from Pulumi.yaml, then the `pulumi:tags` config object (git metadata tags need the repository's
    remote and are left out)."""
    project = yaml.safe_load(project_file.read_text()) or {}
    runtime = project.get("runtime")
    tags = {"pulumi:project": str(project.get("name", "")),
            "pulumi:runtime": str(runtime.get("name", "") if isinstance(runtime, dict) else runtime or "")}
    if project.get("description") is not None:
        tags["pulumi:description"] = str(project["description"])
    raw = config.get("pulumi:tags")
    if raw:
        try:
            extra = json.loads(raw)
        except json.JSONDecodeError:
            extra = None
        if not isinstance(extra, dict) or not all(isinstance(v, str) for v in extra.values()):
            raise ValueError("pulumi:tags must be an object of strings")
        tags.update(extra)
    return tags


# --- pack config (pkg/resource/analyzer/config.go, pkg/engine/update.go) -------------------------

class PackConfigError(Exception):
    """The engine refuses the pack config; the message is the engine's."""


@dataclass
class PolicyConfig:
    """plugin.AnalyzerPolicyConfig: an enforcement level ("" when unset) and properties."""

    level: str = ""
    properties: Optional[dict[str, Any]] = None


@dataclass(frozen=True)
class PolicyInfo:
    """plugin.AnalyzerPolicyInfo as GetAnalyzerInfo converts it: the schema, `enforcementLevel` added."""

    name: str
    level: str
    properties: Mapping[str, Any]
    required: tuple[str, ...]


def parse_policy_pack_config(document: str | Mapping[str, Any] | None) -> dict[str, PolicyConfig]:
    """parsePolicyPackConfig: a policy name -> an enforcement level, or an object whose
    `enforcementLevel` (optional) is a level and whose other keys are properties. Empty content
    is no config; entries with neither are dropped."""
    if document is None:
        return {}
    if isinstance(document, str):
        if not document.strip():
            return {}
        try:
            document = json.loads(document)
        except json.JSONDecodeError as err:
            raise PackConfigError(str(err)) from None
    if not isinstance(document, Mapping):
        raise PackConfigError(f"cannot unmarshal {type(document).__name__} into an object of policy configs")
    result = {}
    for name, value in document.items():
        if isinstance(value, str):
            if value not in ENFORCEMENT_LEVELS:
                raise PackConfigError(f'parsing enforcement level for "{name}": "{value}" is not a valid '
                                      "enforcement level")
            entry = PolicyConfig(level=value)
        elif isinstance(value, Mapping):
            props = dict(value)
            level = ""
            if "enforcementLevel" in props:
                level = props.pop("enforcementLevel")
                if not isinstance(level, str):
                    raise PackConfigError(f'parsing enforcement level for "{name}": {_go_value(level)} '
                                          "is not a valid enforcement level; must be a string")
                if level not in ENFORCEMENT_LEVELS:
                    raise PackConfigError(f'parsing enforcement level for "{name}": "{level}" is not a valid '
                                          "enforcement level")
            entry = PolicyConfig(level=level, properties=props or None)
        else:
            raise PackConfigError(f'parsing "{name}": {_go_value(value)} is not a valid value; '
                                  "must be a string or object")
        if entry.level or entry.properties:
            result[name] = entry
    return result


def _go_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "<nil>"
    return json.dumps(value) if isinstance(value, (dict, list)) else str(value)


def policy_infos(info) -> list[PolicyInfo]:
    """analyzer.GetAnalyzerInfo: each policy's level and config schema, with `enforcementLevel`
    injected into the schema when the pack supports config."""
    result = []
    for policy in info.policies:
        properties = dict(json_format.MessageToDict(policy.configSchema.properties)) \
            if policy.HasField("configSchema") else {}
        properties["enforcementLevel"] = {"type": "string", "enum": list(ENFORCEMENT_LEVELS)}
        result.append(PolicyInfo(policy.name, _LEVEL_NAMES[policy.enforcementLevel], properties,
                                 tuple(policy.configSchema.required)))
    return sorted(result, key=lambda p: p.name)


def initial_config(info) -> dict[str, PolicyConfig]:
    """The pack's programmatic initial config (AnalyzerInfo.initialConfig)."""
    return {name: PolicyConfig(level=_LEVEL_NAMES[c.enforcementLevel],
                               properties=json_format.MessageToDict(c.properties) or None)
            for name, c in info.initialConfig.items()}


def reconcile_policy_pack_config(
    policies: list[PolicyInfo], initial: Mapping[str, PolicyConfig], config: Mapping[str, PolicyConfig],
) -> tuple[dict[str, PolicyConfig], list[str]]:
    """ReconcilePolicyPackConfig: schema defaults and each policy's own level first, then the
    pack's initial config, then the given config; then every policy's properties are validated
    against its schema. Returns the config to send and the validation errors ("policy: error")."""
    result = {p.name: PolicyConfig(
        level=p.level,
        properties={k: v["default"] for k, v in p.properties.items()
                    if isinstance(v, Mapping) and "default" in v} or None) for p in policies}
    for layer in (initial, config):
        _apply_config(result, layer)
    errors = []
    for policy in policies:
        props = (result[policy.name].properties if policy.name in result else None) or {}
        errors += [f"{policy.name}: {e}" for e in validate_policy_config(policy, props)]
    return result, errors


def _apply_config(result: dict[str, PolicyConfig], layer: Mapping[str, PolicyConfig]) -> None:
    """applyConfig: `all` sets every policy's level, then each entry (unknown names included) merges."""
    everything = layer.get("all")
    if everything is not None and everything.level in ENFORCEMENT_LEVELS:
        for name, entry in result.items():
            result[name] = PolicyConfig(everything.level, entry.properties)
    for name, given in layer.items():
        current = result.get(name, PolicyConfig())
        properties = dict(current.properties) if current.properties is not None else None
        if given.properties:
            properties = {**(properties or {}), **given.properties}
        level = given.level if given.level in ENFORCEMENT_LEVELS else current.level
        result[name] = PolicyConfig(level, properties)


def convert_schema(policy: PolicyInfo) -> dict[str, Any]:
    """convertSchema: the object wrapper. No additionalProperties, so unknown keys pass."""
    schema: dict[str, Any] = {"type": "object"}
    if policy.properties:
        schema["properties"] = dict(policy.properties)
    if policy.required:
        schema["required"] = list(policy.required)
    return schema


def validate_policy_config(policy: PolicyInfo, props: Mapping[str, Any]) -> list[str]:
    """validatePolicyConfig with gojsonschema's messages ("field: description", the root's
    "(root): " prefix trimmed). gojsonschema checks formats; so does this."""
    import jsonschema

    validator = jsonschema.Draft7Validator(convert_schema(policy),
                                           format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)
    messages = []
    for error in validator.iter_errors(dict(props)):
        for leaf in _leaves(error):
            text = f"{_field(leaf)}: {_description(leaf)}"
            messages.append(text.removeprefix("(root): "))
    return messages


def _leaves(error: jsonschema.ValidationError) -> list[jsonschema.ValidationError]:
    return [error] if not error.context else [e for sub in error.context for e in _leaves(sub)]


def _field(error: jsonschema.ValidationError) -> str:
    path = [str(p) for p in error.absolute_path]
    return ".".join(path) if path else "(root)"


def _go_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer()):
        return "integer"
    if isinstance(value, float):
        return "number"
    return {str: "string", list: "array", dict: "object", type(None): "null"}.get(type(value), "unknown")


def _number(value: Any) -> str:
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


def _description(error: jsonschema.ValidationError) -> str:
    """gojsonschema's default locale for the common keywords; jsonschema's text otherwise."""
    v: Any = error.validator_value
    kind: Any = error.validator
    instance: Any = error.instance
    if kind == "type":
        expected = v if isinstance(v, str) else ",".join(v)
        return f"Invalid type. Expected: {expected}, given: {_go_type(instance)}"
    if kind == "required":
        missing = next((k for k in v if isinstance(instance, dict) and k not in instance), v[0] if v else "")
        return f"{missing} is required"
    if kind == "enum":
        return f"{_field(error)} must be one of the following: " + ", ".join(json.dumps(x) for x in v)
    if kind == "const":
        return f"{_field(error)} does not match: {json.dumps(v)}"
    simple = {
        "minimum": f"Must be greater than or equal to {_number(v)}",
        "maximum": f"Must be less than or equal to {_number(v)}",
        "exclusiveMinimum": f"Must be greater than {_number(v)}",
        "exclusiveMaximum": f"Must be less than {_number(v)}",
        "multipleOf": f"Must be a multiple of {_number(v)}",
        "minLength": f"String length must be greater than or equal to {v}",
        "maxLength": f"String length must be less than or equal to {v}",
        "pattern": f"Does not match pattern '{v}'",
        "format": f"Does not match format '{v}'",
        "minItems": f"Array must have at least {v} items",
        "maxItems": f"Array must have at most {v} items",
        "uniqueItems": "array items must be unique",
        "additionalProperties": error.message,
    }
    return simple.get(kind, error.message)
