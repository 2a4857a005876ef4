"""A stack's configuration as the Pulumi CLI hands it to the program.

The CLI merges the defaults declared in `Pulumi.yaml` with the stack file's values and
passes each value as a string (objects as JSON text). This module does the same.
"""

from __future__ import annotations

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
    except yaml.YAMLError as err:
        raise StackConfigError(f"{path} is not valid YAML: {err}") from None
    if not isinstance(document, dict):
        raise StackConfigError(f"{path} must hold a mapping at the top level")
    return document


def _as_engine_string(value: Any) -> str:
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
    secret_keys = []
    for key, value in (document.get("config") or {}).items():
        full = _full_key(name, key)
        if isinstance(value, dict) and set(value) == {"secure"}:
            # Encrypted values cannot be read offline; the program sees a placeholder secret.
            secret_keys.append(full)
            values[full] = "[secret]"
        else:
            values[full] = _as_engine_string(value)
    return StackConfig(project=name, stack=stack, values=values, secret_keys=secret_keys)


def account_layer_owners(project_dir: Path = PROJECT_DIR) -> dict[str, list[str]]:
    """Which stacks say `accountBaseline: owned`, by the account id they are pinned to.

    One owner per account, whatever its region: the layer holds account-wide settings too (the
    password policy, the S3 account public access block, the Auto Scaling service-linked role,
    the recording of global IAM resources). A stack that pins no account is listed as "unpinned".
    """
    owners: dict[str, list[str]] = {}
    for stack in stack_names(project_dir):
        config = load_stack_config(stack, project_dir)
        if config.values.get(f"{config.project}:accountBaseline") != "owned":
            continue
        for account in config.allowed_account_ids or ["unpinned"]:
            owners.setdefault(account, []).append(stack)
    return owners
