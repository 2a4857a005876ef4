"""The example values a user must replace before the first `pulumi up` (placeholders.yaml), found in
a stack's config, and the refusal to deploy while one is left.

The register lists values, not places: a value that contains a registered one (an account id inside
a key administrator's ARN, the example domain inside an email) is a placeholder left, wherever it
sits, so a stack added later (`python -m stacks.new`) is covered with no edit to the register.

`refuse_placeholders_on_update()` runs at the top of a program: on a real update (`pulumi up`,
`pulumi destroy` has no program run) it raises one `pulumi.RunError` naming every key that still holds
a placeholder. `pulumi preview` and the offline preflight (Pulumi's mock runtime) still run, so the
shipped examples stay previewable; the CI deploy job runs `python -m preflight.placeholders <stack>`
first, so the refusal comes before any credentials are used.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

import pulumi
import pulumi.runtime.config as runtime_config
import pulumi.runtime.mocks as runtime_mocks
import pulumi.runtime.settings as runtime_settings
import yaml

REGISTER = Path(__file__).resolve().parent.parent / "placeholders.yaml"


@dataclass(frozen=True)
class Placeholder:
    value: str
    what: str
    replace_with: str


@dataclass(frozen=True)
class Left:
    """One config value still holding a placeholder."""

    key: str
    """The config key, with the path inside a structured value (`hipaa-aws:app.domainName`)."""
    placeholder: Placeholder

    def describe(self) -> str:
        return (f"{self.key} holds {self.placeholder.value} ({self.placeholder.what}): replace it with "
                f"{self.placeholder.replace_with}")


def load_register(path: Path = REGISTER) -> tuple[Placeholder, ...]:
    entries = (yaml.safe_load(path.read_text()) or {}).get("placeholders") or []
    return tuple(Placeholder(value=str(e["value"]), what=str(e["what"]), replace_with=str(e["replace_with"]))
                 for e in entries)


def _leaves(value: Any, path: str) -> Iterator[tuple[str, str]]:
    """Every scalar of a config value with its path; a JSON text (how the engine passes an object
    or list value to a program) is read as the structure it encodes."""
    if isinstance(value, str) and value[:1] in "[{":
        try:
            value = json.loads(value)
        except ValueError:
            pass
    if isinstance(value, Mapping):
        for key, item in value.items():
            yield from _leaves(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _leaves(item, f"{path}[{index}]")
    elif value is not None:
        yield path, str(value)


def placeholders_left(config: Mapping[str, Any],
                      register: Optional[Sequence[Placeholder]] = None) -> list[Left]:
    """Every key of `config` (key -> value, as a stack file or the engine holds it) whose value
    contains a registered placeholder, in key order."""
    register = load_register() if register is None else register
    found = []
    for key in sorted(config):
        for path, text in _leaves(config[key], key):
            found += [Left(path, p) for p in register if p.value in text]
    return found


def _under_mocks() -> bool:
    """Pulumi's mock runtime (unit tests, the offline preflight) deploys nothing."""
    return isinstance(runtime_settings.get_monitor(), runtime_mocks.MockMonitor)


def _runtime_config() -> dict[str, Any]:
    """The stack's config as the engine gave it to the program (the language host passes it in
    PULUMI_CONFIG; a test or provider host sets it directly)."""
    return {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}


def refuse_placeholders_on_update(register_path: Path = REGISTER) -> None:
    """Raise one RunError naming every placeholder left in the stack's config, on a real update only."""
    if pulumi.runtime.is_dry_run() or _under_mocks():
        return
    left = placeholders_left(_runtime_config(), load_register(register_path))
    if left:
        raise pulumi.RunError(
            f"stack '{pulumi.get_stack()}': {len(left)} placeholder value(s) left in its config, so "
            f"`pulumi up` will not deploy it (placeholders.yaml; `python -m preflight.placeholders` lists "
            f"them all):\n  " + "\n  ".join(item.describe() for item in left))
