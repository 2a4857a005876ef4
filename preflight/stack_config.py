"""A stack's configuration as the Pulumi CLI hands it to the program.

The CLI merges the defaults declared in `Pulumi.yaml` with the stack file's values and
passes each value as a string (objects as JSON text). This module does the same.
"""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

PROJECT_DIR = Path(__file__).resolve().parent.parent


class StackConfigError(Exception):
    """The stack's config files cannot be read; the message names the file and the cause."""


@dataclass(frozen=True)
class StackConfig:
    project: str
    stack: str
    values: dict[str, str]
    secret_keys: list[str] = field(default_factory=list)

    @property
    def region(self) -> str:
        return self.values.get("aws:region", "us-east-1")

    @property
    def allowed_account_ids(self) -> list[str]:
        """The provider's `aws:allowedAccountIds` (empty when the stack does not pin one)."""
        raw = self.values.get("aws:allowedAccountIds")
        if not raw:
            return []
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            return [raw]
        return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        document = yaml.safe_load(path.read_text()) or {}
    except FileNotFoundError:
        raise StackConfigError(f"{path} does not exist") from None
    except UnicodeDecodeError as err:
        raise StackConfigError(f"{path} is not UTF-8 text ({err.reason} at byte {err.start})") from None
    except yaml.YAMLError as err:
        raise StackConfigError(f"{path} is not valid YAML: {err}") from None
    except RecursionError:
        raise StackConfigError(f"{path} nests its values too deeply to be read") from None
    if not isinstance(document, dict):
        raise StackConfigError(f"{path} must hold a mapping at the top level, not a {_yaml_kind(document)}")
    return document


def _yaml_kind(value: Any) -> str:
    return {list: "list", str: "string", dict: "mapping"}.get(type(value), type(value).__name__)


def _engine_value(value: Any, where: str, within: tuple[int, ...] = ()) -> Any:
    """A YAML value as JSON can carry it to the program, or StackConfigError naming `where`.

    YAML has values JSON has not (dates, binary, sets, non-string keys, an alias inside the value it
    names) and strings that are no text (a lone surrogate from a `\\udc80` escape, which neither
    the engine's gRPC nor the program can carry). `within`: the containers `value` is inside."""
    if isinstance(value, (list, dict)):
        if id(value) in within:
            raise StackConfigError(f"{where}: a YAML alias (*name) inside the value it names repeats "
                                   "forever; write the value out")
        within = (*within, id(value))
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as err:
            bad = value[err.start:err.end].encode("utf-8", "backslashreplace").decode("ascii")
            raise StackConfigError(f"{where}: the value holds {bad}, a lone surrogate, which is not text; "
                                   "write the character itself or remove the escape") from None
        return value
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, (datetime.date, datetime.datetime)):
        # The CLI's YAML reader (Go yaml.v3) keeps a timestamp-like value a string; ISO form here.
        return value.isoformat()
    if isinstance(value, list):
        return [_engine_value(item, f"{where}[{i}]", within) for i, item in enumerate(value)]
    if isinstance(value, dict):
        converted = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise StackConfigError(f"{where}: key {key!r} must be a string")
            key = _engine_value(key, f"{where}: key {key!r}")
            converted[key] = _engine_value(item, f"{where}.{key if key.isprintable() else repr(key)}", within)
        return converted
    raise StackConfigError(f"{where}: a YAML {type(value).__name__} is not a config value; "
                           "use a string, number, boolean, list or mapping")


def _as_engine_string(value: Any, where: str = "value") -> str:
    """The string the engine passes for a config value: scalars as text, objects as JSON text."""
    try:
        value = _engine_value(value, where)
    except RecursionError:
        raise StackConfigError(f"{where}: the value nests too deeply") from None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return json.dumps(value)


def _full_key(project: str, key: str) -> str:
    return key if ":" in key else f"{project}:{key}"


def stack_names(project_dir: Path = PROJECT_DIR) -> list[str]:
    """Every stack that has a config file in the project's stack config directory."""
    project = _read_yaml(project_dir / "Pulumi.yaml")
    stacks_dir = project_dir / project.get("stackConfigDir", ".")
    return sorted(p.name[len("Pulumi."):-len(".yaml")] for p in stacks_dir.glob("Pulumi.*.yaml"))


def stack_file_path(stack: str, project_dir: Path = PROJECT_DIR) -> Path:
    project = _read_yaml(project_dir / "Pulumi.yaml")
    return project_dir / project.get("stackConfigDir", ".") / f"Pulumi.{stack}.yaml"


def load_stack_config(
    stack: str, project_dir: Path = PROJECT_DIR, stack_file: Path | None = None
) -> StackConfig:
    """Project defaults overlaid with the stack file (or `stack_file` when given)."""
    project = _read_yaml(project_dir / "Pulumi.yaml")
    name = project.get("name")
    if not isinstance(name, str):
        raise StackConfigError(f"{project_dir / 'Pulumi.yaml'} has no project name")
    values: dict[str, str] = {}
    for key, declaration in (project.get("config") or {}).items():
        if isinstance(declaration, dict) and "default" in declaration:
            values[_full_key(name, key)] = _as_engine_string(declaration["default"])
        elif not isinstance(declaration, dict):
            values[_full_key(name, key)] = _as_engine_string(declaration)

    path = stack_file or stack_file_path(stack, project_dir)
    document = _read_yaml(path)
    config = document.get("config") or {}
    if not isinstance(config, dict):
        raise StackConfigError(f"{path}: `config` must be a mapping of `<namespace>:<key>: value` lines, "
                               f"not a {_yaml_kind(config)}")
    secret_keys = []
    for key, value in config.items():
        if not isinstance(key, str) or not key.strip(":"):
            raise StackConfigError(f"{path}: config key {key!r} must be a name such as "
                                   f"{name}:owner or aws:region")
        full = _full_key(name, _engine_value(key, f"{path}: config key {key!r}"))
        if isinstance(value, dict) and set(value) == {"secure"}:
            # Encrypted values cannot be read offline; the program sees a placeholder secret.
            secret_keys.append(full)
            values[full] = "[secret]"
        else:
            values[full] = _as_engine_string(value, f"{path}: {full if full.isprintable() else repr(full)}")
    return StackConfig(project=name, stack=stack, values=values, secret_keys=secret_keys)


def account_layer_owners(project_dir: Path = PROJECT_DIR) -> dict[str, list[str]]:
    """Which stacks create their account's layer (`accountBaseline: owned`, or `organization`, which
    owns what the AWS Organization leaves of it), by the account id they are pinned to.

    One owner per account, whatever its region: the layer holds account-wide settings too (the
    password policy, the S3 account public access block, the Auto Scaling service-linked role,
    the recording of global IAM resources). A stack that pins no account is listed as "unpinned".
    """
    owners: dict[str, list[str]] = {}
    for stack in stack_names(project_dir):
        config = load_stack_config(stack, project_dir)
        if config.values.get(f"{config.project}:accountBaseline") not in ("owned", "organization"):
            continue
        for account in config.allowed_account_ids or ["unpinned"]:
            owners.setdefault(account, []).append(stack)
    return owners
