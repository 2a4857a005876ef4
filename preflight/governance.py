"""The governance facts every report carries: each deviation from the pack's defaults with its
exception, and whether the stack file and the pack config agree on the classification.

The deviations and their status come from the pack's own rules (policy/hipaa_policies/governance.py),
applied to the configuration the engine sent (the reconciled pack config), so the report lists
exactly what the pack judged. When the classifications disagree the pack can only say "one of them
is wrong"; the preflight has a third source, the organization project's account map: the account the
stack's provider is pinned to (`aws:allowedAccountIds`) and the environment of
organization/Pulumi.organization.yaml that owns it, whose OU (Workloads/PHI or Workloads/NonPHI)
follows that environment's classification.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Optional

import yaml

from . import engine
from .stack_config import PROJECT_DIR

POLICY_DIR = PROJECT_DIR / "policy"
ORGANIZATION_STACK_FILE = PROJECT_DIR / "organization" / "Pulumi.organization.yaml"
ORGANIZATION_NAMESPACE = "hipaa-aws-organization"
OU_OF = {"phi": "Workloads/PHI", "synthetic": "Workloads/NonPHI"}


def _rules():
    """The pack's governance module (policy/ is where the CLI imports `hipaa_policies` from)."""
    if str(POLICY_DIR) not in sys.path:
        sys.path.append(str(POLICY_DIR))
    from hipaa_policies import governance

    return governance


def _yaml_config(path: Path) -> Mapping[str, Any]:
    try:
        document = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError):
        return {}
    config = document.get("config") if isinstance(document, Mapping) else None
    return config if isinstance(config, Mapping) else {}


def _value(raw: Any) -> Any:
    """A stack config value as the program reads it (objects and lists may arrive as JSON text)."""
    if isinstance(raw, str):
        try:
            return json.loads(raw)
        except ValueError:
            return raw
    return raw


def evidence(stack: str, stack_values: Mapping[str, Any], stack_says: Optional[str], pack_says: Optional[str],
             organization_file: Path = ORGANIZATION_STACK_FILE, stacks_dir: Optional[Path] = None,
             ) -> tuple[Optional[str], str]:
    """(which side is wrong: "stack file", "pack config" or None when nothing decides, why)."""
    both = (f"the stack file says dataClassification={stack_says}, the pack config says holdsPhi="
            f"{'true' if pack_says == 'phi' else 'false'}")
    accounts = _value(stack_values.get("aws:allowedAccountIds"))
    accounts = [str(a) for a in accounts] if isinstance(accounts, list) else []
    environments = _value(_yaml_config(organization_file).get(f"{ORGANIZATION_NAMESPACE}:accounts"))
    environments = environments.get("environments") if isinstance(environments, Mapping) else None
    owners = {name: entry for name, entry in (environments or {}).items()
              if isinstance(entry, Mapping) and str(entry.get("id", "")) in accounts and len(accounts) == 1}
    if not owners:
        return None, (f"one of them is wrong: {both}; the stack's provider is not pinned to one account of "
                      f"the organization's account map ({_relative(organization_file)}), so nothing decides")
    owner, entry = next(iter(owners.items()))
    owner_file = (stacks_dir or PROJECT_DIR / "stacks") / f"Pulumi.{owner}.yaml"
    if owner == stack:
        # The organization places this account by this very stack file: only an explicit
        # dataClassification in the account map is a second statement.
        third = entry.get("dataClassification")
        source = f"{_relative(organization_file)} accounts.environments.{owner}.dataClassification"
    else:
        third = (_yaml_config(owner_file).get("hipaa-aws:dataClassification")
                 or entry.get("dataClassification"))
        source = (f"account {accounts[0]} is environments.{owner} in {_relative(organization_file)}, "
                  f"placed in its OU by {_relative(owner_file)}")
    if third not in OU_OF:
        return None, (f"one of them is wrong: {both}; the organization places account {accounts[0]} by this "
                      "same stack file, so nothing independent decides")
    wrong = "stack file" if stack_says != third else "pack config"
    return wrong, (f"the {wrong} is wrong: {both}; {source}: {third} (OU {OU_OF[third]})")


def _relative(path: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(PROJECT_DIR))
    except ValueError:
        return str(path)


def governance_report(*, stack: str, project: str, info, levels: Mapping[str, str],
                      settings: Mapping[str, Mapping[str, Any]], stack_values: Mapping[str, Any],
                      organization_file: Path = ORGANIZATION_STACK_FILE) -> dict[str, Any]:
    """{classification{stackFile, packConfig, phi, agree, wrong, explanation}, deviations[...]}."""
    rules = _rules()
    by_name = {p.name: p for p in engine.policy_infos(info)}
    defaults = {}
    for policy in info.policies:  # the pack's order
        schema = {k: v for k, v in by_name[policy.name].properties.items() if k != "enforcementLevel"}
        defaults[policy.name] = (by_name[policy.name].level, schema)
    configured = {name: (levels.get(name, defaults[name][0]), settings.get(name, {})) for name in defaults}
    state = rules.PackState(defaults, configured, {k: str(v) for k, v in stack_values.items()}, project)
    classification = state.classification()
    pack_phi = classification.pack_says_phi
    pack_says = None if pack_phi is None else ("phi" if pack_phi else "synthetic")
    agree = classification.stack_file is None or pack_says is None or classification.stack_file == pack_says
    wrong, explanation = (None, "") if agree else evidence(stack, stack_values, classification.stack_file,
                                                           pack_says, organization_file)
    judged = rules.judge(rules.deviations(defaults, configured), state.exceptions(), classification.phi)
    return {
        "classification": {"stackFile": classification.stack_file, "packConfig": pack_says,
                           "phi": classification.phi, "agree": agree, "wrong": wrong,
                           "explanation": explanation},
        "deviations": [{"policy": j.deviation.policy, "setting": j.deviation.setting,
                        "default": j.deviation.default, "configured": j.deviation.configured,
                        "status": j.status, "exception": j.exception.as_dict() if j.exception else None,
                        "nonLowerable": j.deviation.policy in rules.NON_LOWERABLE}
                       for j in judged],
    }


def describe(deviation: Mapping[str, Any]) -> str:
    """One line for a deviation: what changed, and its exception or "no exception"."""
    if deviation["setting"]:
        change = (f"{deviation['setting']} = {json.dumps(deviation['configured'])} "
                  f"(default {json.dumps(deviation['default'])})")
    else:
        change = f"level {deviation['configured']} (default {deviation['default']})"
    exception = deviation["exception"]
    granted = (f"exception approved by {exception['approver']} until {exception['expires']}: "
               f"{exception['reason']}" if exception else "no exception")
    status = deviation["status"]
    # A status that already says "no exception" is not repeated.
    outcome = status if status.endswith(granted) else f"{status}; {granted}"
    return f"{deviation['policy']}: {change} - {outcome}"
