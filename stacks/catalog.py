"""The program's stacks as data: every `stacks/Pulumi.<stack>.yaml` and its pack config
`policy/config/<stack>.json`, with the facts tests, generators and the bootstrap derive from.

A stack exists because its stack file exists; nothing else lists stacks. `stacks()` reads them,
`problems()` says what would stop one from deploying or from being served (its pack config, its
bootstrap stack, its organization account entry, the name rule, the CIDR plan), one sentence each.

    venv/bin/python -m stacks.catalog          # one line per stack; exit 1 and the problems if any
"""

from __future__ import annotations

import ipaddress
import json
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

import yaml

from bootstrap.ci_roles import RESERVED_STACKS, STACK_PATTERN

ROOT = Path(__file__).resolve().parent.parent
"""The program's project directory (its Pulumi.yaml names `stacks` as the stack config directory)."""
PROGRAM_NAMESPACE = "hipaa-aws"
ORGANIZATION_NAMESPACE = "hipaa-aws-organization"
ORGANIZATION_FILE = Path("organization") / "Pulumi.organization.yaml"

NAME_RULE = (f"a stack name matches {STACK_PATTERN} (2 to 12 characters: a lower-case letter, then "
             f"lower-case letters or digits) and is none of {', '.join(sorted(RESERVED_STACKS))}: the "
             "bootstrap prefixes its CI roles, IAM path and state objects with it (bootstrap/ci_roles.py, "
             "no hyphen so one stack's prefix never matches another's), and the program builds names "
             "like the Identity Center permission set hipaa-<stack>-phi-operator, which AWS limits to "
             "32 characters (components/settings.py)")


@dataclass(frozen=True)
class Stack:
    """One program stack, as its files describe it."""

    name: str
    classification: Optional[str]
    """hipaa-aws:dataClassification: phi or synthetic (None: not set)."""
    account_id: Optional[str]
    """The one account `aws:allowedAccountIds` pins (None: it does not pin exactly one)."""
    region: Optional[str]
    vpc_cidr: Optional[str]
    account_baseline: Optional[str]
    stack_file: Path
    """Relative to the project directory."""
    pack_config: Path
    """`policy/config/<stack>.json`, relative to the project directory (it may be missing)."""

    @property
    def holds_phi(self) -> bool:
        return self.classification == "phi"


def stack_file(name: str) -> Path:
    return Path("stacks") / f"Pulumi.{name}.yaml"


def pack_config(name: str) -> Path:
    return Path("policy") / "config" / f"{name}.json"


def _config(path: Path) -> dict[str, Any]:
    return (yaml.safe_load(path.read_text()) or {}).get("config") or {}


def _pinned(config: Mapping[str, Any]) -> Optional[str]:
    value = config.get("aws:allowedAccountIds")
    if isinstance(value, list) and len(value) == 1 and re.fullmatch(r"\d{12}", str(value[0])):
        return str(value[0])
    return None


def _text(value: Any) -> Optional[str]:
    return value if isinstance(value, str) else None


def stacks(root: Path = ROOT) -> dict[str, Stack]:
    """Every program stack, by name, in name order."""
    found = {}
    for path in sorted((root / "stacks").glob("Pulumi.*.yaml")):
        name = path.name[len("Pulumi."):-len(".yaml")]
        config = _config(path)
        found[name] = Stack(
            name=name, classification=_text(config.get(f"{PROGRAM_NAMESPACE}:dataClassification")),
            account_id=_pinned(config), region=_text(config.get("aws:region")),
            vpc_cidr=_text(config.get(f"{PROGRAM_NAMESPACE}:vpcCidr")),
            account_baseline=_text(config.get(f"{PROGRAM_NAMESPACE}:accountBaseline")),
            stack_file=stack_file(name), pack_config=pack_config(name))
    return found


def names(root: Path = ROOT) -> list[str]:
    return list(stacks(root))


def of_classification(classification: str, root: Path = ROOT) -> list[str]:
    return [s.name for s in stacks(root).values() if s.classification == classification]


def bootstrap_stacks(root: Path = ROOT) -> dict[str, Optional[str]]:
    """Every bootstrap stack file's stack (bootstrap/Pulumi.<name>.yaml) and the account it pins."""
    return {path.name[len("Pulumi."):-len(".yaml")]: _pinned(_config(path))
            for path in sorted((root / "bootstrap").glob("Pulumi.*.yaml"))}


def organization_config(root: Path = ROOT) -> dict[str, Any]:
    path = root / ORGANIZATION_FILE
    return _config(path) if path.exists() else {}


def organization_environments(root: Path = ROOT) -> dict[str, Mapping[str, Any]]:
    """organization/'s `accounts.environments`: the member account of each environment stack."""
    accounts = organization_config(root).get(f"{ORGANIZATION_NAMESPACE}:accounts") or {}
    environments = accounts.get("environments") if isinstance(accounts, Mapping) else None
    return dict(environments) if isinstance(environments, Mapping) else {}


def allowed_regions(root: Path = ROOT) -> Optional[list[str]]:
    """The regions the organization's SCP allows (None: no organization stack file)."""
    regions = organization_config(root).get(f"{ORGANIZATION_NAMESPACE}:allowedRegions")
    return [str(r) for r in regions] if isinstance(regions, list) else None


def name_problem(name: str) -> Optional[str]:
    if re.fullmatch(STACK_PATTERN, name) and name not in RESERVED_STACKS:
        return None
    return f"stack name {name!r}: {NAME_RULE}"


def phi_patterns(stack: Stack) -> list[str]:
    """What a synthetic stack's pack config must refuse to reach of a PHI stack (the names the PHI
    stack's resources carry, and its account): hipaa-no-phi-access-from-synthetic-stack."""
    patterns = [f"arn:aws:s3:::hipaa-aws-{stack.name}-*", f"arn:aws:*:*:*:*hipaa-aws-{stack.name}*"]
    if stack.account_id:
        patterns.append(f"arn:aws:*:*:{stack.account_id}:*")
    return patterns


def _synthetic_patterns(root: Path, stack: Stack) -> list[str]:
    config = json.loads((root / stack.pack_config).read_text())
    policy = config.get("hipaa-no-phi-access-from-synthetic-stack") or {}
    return list(policy.get("phiResourcePatterns") or [])


def problems(root: Path = ROOT) -> list[str]:
    """Everything that keeps the stack files from being deployable as a set, one sentence each."""
    found: list[str] = []
    catalog = stacks(root)
    bootstraps = bootstrap_stacks(root)
    environments = organization_environments(root)
    regions = allowed_regions(root)
    for stack in catalog.values():
        where = str(stack.stack_file)
        if (problem := name_problem(stack.name)) is not None:
            found.append(f"{where}: {problem}")
        if not (root / stack.pack_config).exists():
            found.append(f"{where} has no pack config {stack.pack_config} (python -m stacks.new writes both)")
        if stack.account_id is None:
            found.append(f"{where} does not pin exactly one account (aws:allowedAccountIds: [\"<id>\"])")
            continue
        if stack.account_id not in bootstraps.values():
            found.append(f"no bootstrap stack file (bootstrap/Pulumi.<name>.yaml) pins account "
                         f"{stack.account_id} of {where}: nothing creates its state bucket and CI roles")
        if environments:
            ids = {str(e.get("id")) for e in environments.values() if isinstance(e, Mapping)}
            if stack.name not in environments and stack.account_id not in ids:
                found.append(f"{ORGANIZATION_FILE} has no accounts.environments entry for {stack.name} "
                             f"(account {stack.account_id}): the organization neither creates nor "
                             f"places that account in its OU")
        if regions is not None and stack.region not in regions:
            found.append(f"{where} runs in {stack.region}, which {ORGANIZATION_FILE} allowedRegions "
                         f"({', '.join(regions)}) does not allow: the organization's SCP refuses it")
        if stack.classification == "synthetic" and (root / stack.pack_config).exists():
            patterns = _synthetic_patterns(root, stack)
            for phi in (s for s in catalog.values() if s.holds_phi):
                missing = [p for p in phi_patterns(phi) if p not in patterns]
                if missing:
                    found.append(f"{stack.pack_config}: hipaa-no-phi-access-from-synthetic-stack's "
                                 f"phiResourcePatterns lack PHI stack {phi.name}'s {', '.join(missing)}")
    found += cidr_problems(catalog.values())
    return found


def cidr_problems(catalog: Sequence[Stack] | Any) -> list[str]:
    """The project's CIDR plan: every stack its own VPC range, none overlapping another's, so any two
    environments can later be connected (peering, Transit Gateway) without renumbering."""
    found = []
    seen: list[tuple[str, ipaddress.IPv4Network]] = []
    for stack in catalog:
        try:
            network = ipaddress.IPv4Network(stack.vpc_cidr or "10.0.0.0/16")
        except ValueError:
            continue  # components/settings.py names the bad value
        for other, taken in seen:
            if network.overlaps(taken):
                found.append(f"{stack.stack_file}: vpcCidr {network} overlaps {other}'s {taken}")
        seen.append((stack.name, network))
    return found


def next_free_cidr(taken: Sequence[str], prefix: int = 16) -> str:
    """The first 10.N.0.0/16 (N a multiple of 10, as the shipped stacks number them, then any N) that
    overlaps no range in `taken`."""
    used = [ipaddress.IPv4Network(c) for c in taken]
    for second in [*range(10, 256, 10), *range(0, 256)]:
        candidate = ipaddress.IPv4Network(f"10.{second}.0.0/{prefix}")
        if not any(candidate.overlaps(u) for u in used):
            return str(candidate)
    raise ValueError("no free /16 in 10.0.0.0/8")


def main(argv: Optional[Sequence[str]] = None) -> int:
    del argv
    for stack in stacks().values():
        print(f"{stack.name}: {stack.classification}, account {stack.account_id}, {stack.region}, "
              f"VPC {stack.vpc_cidr}, {stack.stack_file} + {stack.pack_config}")
    found = problems()
    for problem in found:
        print(f"problem: {problem}", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
