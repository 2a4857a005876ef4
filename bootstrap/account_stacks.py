"""Which of the program's stacks this bootstrap serves: the ones whose stack files pin the account it
runs in.

The bootstrap runs once per workload account. Each program stack file (`stacks/Pulumi.<stack>.yaml`)
pins its one account with `aws:allowedAccountIds` (components/settings.py refuses anything else), so
the stack files, not a hand-kept list, say which stacks' CI roles belong here: a stack pinned to
another account gets no role and no state here, because its deploy role could only ever act in its
own account (the provider refuses any other) and its state belongs with the account's own backend.
The optional `stacks` setting narrows the list; an entry pinned elsewhere is refused, never created.

The account layer (GuardDuty, Security Hub, Config, the account-wide settings) has at most one owner
per account: the stack pinned here whose `hipaa-aws:accountBaseline` is `owned` (it creates the
layer) or `organization` (it creates the layer's account-local part while the organization's
delegated administrator runs the security services). Only that stack's deploy role gets the
account-layer permissions.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

import pulumi
import yaml

from ci_roles import PROGRAM_PROJECT, RESERVED_STACKS, STACK_PATTERN, ProgramFacts, program_facts
from components.settings import ACCOUNT_LAYER_BASELINES

PROGRAM_DIR = Path(__file__).resolve().parent.parent
"""The program's project directory (its Pulumi.yaml names the stack config directory)."""
ACCOUNT_ID = re.compile(r"\d{12}")


@dataclass(frozen=True)
class ProgramStack:
    """What the bootstrap reads from one program stack file."""

    name: str
    file: str
    """The stack file, relative to the program directory (for messages)."""
    account_id: Optional[str]
    """The one account `aws:allowedAccountIds` pins (None: the file does not pin exactly one)."""
    account_baseline: Optional[str]
    facts: ProgramFacts
    classification: Optional[str] = None
    """`hipaa-aws:dataClassification` (phi or synthetic; None: not set): the evidence bucket's lock."""


def pinned_account(config: Mapping[str, Any]) -> Optional[str]:
    """The single 12-digit account id of `aws:allowedAccountIds`, or None."""
    value = config.get("aws:allowedAccountIds")
    if isinstance(value, list) and len(value) == 1 and isinstance(value[0], str) \
            and ACCOUNT_ID.fullmatch(value[0]):
        return value[0]
    return None


def read_program_stacks(program_dir: Path) -> dict[str, ProgramStack]:
    """Every stack file of the program at `program_dir`, by stack name."""
    project = yaml.safe_load((program_dir / "Pulumi.yaml").read_text()) or {}
    stacks_dir = program_dir / project.get("stackConfigDir", ".")
    stacks = {}
    for path in sorted(stacks_dir.glob("Pulumi.*.yaml")):
        name = path.name[len("Pulumi."):-len(".yaml")]
        config = (yaml.safe_load(path.read_text()) or {}).get("config") or {}
        baseline = config.get(f"{PROGRAM_PROJECT}:accountBaseline")
        classification = config.get(f"{PROGRAM_PROJECT}:dataClassification")
        stacks[name] = ProgramStack(
            name=name, file=str(path.relative_to(program_dir)), account_id=pinned_account(config),
            account_baseline=baseline if isinstance(baseline, str) else None, facts=program_facts(config),
            classification=classification if isinstance(classification, str) else None)
    return stacks


@dataclass(frozen=True)
class AccountStacks:
    """The stacks this account's bootstrap creates CI roles for, and the account layer's owner."""

    account_id: str
    stacks: tuple[str, ...]
    account_layer_stack: Optional[str]
    """The stack pinned here that owns the account layer (None: none does, e.g. Control Tower)."""
    programs: Mapping[str, ProgramFacts]
    organization_member: bool = False
    """The owner's accountBaseline is organization (the organization runs the security services)."""


def resolve_account_stacks(bootstrap_stack: str, project: str, account_id: str,
                           program_stacks: Mapping[str, ProgramStack],
                           requested: Optional[Sequence[str]] = None) -> AccountStacks:
    """The stacks pinned to `account_id` (or the `requested` ones, each of which must be pinned here).
    Raises one pulumi.RunError naming the bootstrap stack and every problem."""
    problems = []
    for stack in program_stacks.values():
        if stack.account_id is None:
            problems.append(f"{stack.file} does not pin exactly one account (aws:allowedAccountIds: "
                            f"[\"<12-digit id>\"]), so nobody can tell whether stack {stack.name} runs in "
                            f"this account ({account_id}); pin it")
    here = [name for name, stack in program_stacks.items() if stack.account_id == account_id]
    if requested is None:
        chosen = here
    else:
        chosen = list(requested)
        for name in requested:
            stack = program_stacks.get(name)
            if stack is None:
                problems.append(f"{project}:stacks names {name}, which has no stack file (stacks/Pulumi."
                                f"{name}.yaml): its account is unknown, so it gets no CI roles here")
            elif stack.account_id is not None and stack.account_id != account_id:
                problems.append(f"{project}:stacks names {name}, which is pinned to account "
                                f"{stack.account_id} ({stack.file}), not this account ({account_id}): "
                                f"its CI roles and state belong to the bootstrap of account "
                                f"{stack.account_id}")
    if not chosen:
        problems.append(f"no stack file pins this account ({account_id}) with aws:allowedAccountIds, so "
                        f"this bootstrap would serve no stack: check the account, or pin a stack to it")
    for name in chosen:
        if not re.fullmatch(STACK_PATTERN, name) or name in RESERVED_STACKS:
            problems.append(f"stack {name} cannot get CI roles: a stack name must match {STACK_PATTERN} "
                            f"(no hyphen: its names are prefixes of its roles, buckets and keys) and be "
                            f"none of {', '.join(sorted(RESERVED_STACKS))}")
    owners = [name for name in here if program_stacks[name].account_baseline in ACCOUNT_LAYER_BASELINES]
    if len(owners) > 1:
        problems.append(f"stacks {', '.join(owners)} are all pinned to account {account_id} with "
                        f"accountBaseline {' or '.join(ACCOUNT_LAYER_BASELINES)}: an account's layer has one "
                        f"owner; make all but one external")
    if problems:
        raise pulumi.RunError(f"stack '{bootstrap_stack}': the stacks of account {account_id} cannot be "
                              f"served:\n  " + "\n  ".join(problems))
    owner = owners[0] if owners and owners[0] in chosen else None
    return AccountStacks(account_id=account_id, stacks=tuple(chosen), account_layer_stack=owner,
                         programs={name: program_stacks[name].facts for name in chosen},
                         organization_member=owner is not None
                         and program_stacks[owner].account_baseline == "organization")
