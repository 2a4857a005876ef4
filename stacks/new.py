"""Add a stack: write its stack file, its pack config and its account's bootstrap stack file from an
existing stack, add its account to the organization, and regenerate what is generated per stack.

    venv/bin/python -m stacks.new dev --from staging --account 345678901234 --region us-west-2 \
        [--cidr 10.30.0.0/16] [--dry-run]

`--from` picks the template, and with it the classification (copy prod for a PHI stack, staging for
a synthetic one). The new stack gets:
- stacks/Pulumi.<name>.yaml: the template's file, its account id, region, stack name and VPC range
  replaced (the first free 10.N.0.0/16 unless --cidr); a backup copy region equal to the new region
  becomes the template's region. Every other value (emails, domains, Identity Center ids) is the
  template's placeholder: placeholders.yaml lists them and `pulumi up` refuses them.
- policy/config/<name>.json: the template's pack config; a synthetic stack's PHI patterns name every
  PHI stack, and a new PHI stack's patterns are added to every synthetic stack's pack config.
- bootstrap/Pulumi.<name>.yaml: the template account's bootstrap file for the new account (its state
  backend and CI roles), the stack being the first one pinned to that account.
- organization/Pulumi.organization.yaml: an accounts.environments entry (id, placeholder email, name).
Then docs/generate_costs.py rewrites the cost tables (docs/costs.md, the README's summary); the
workflows read their stack matrices from stacks/ when they run (.github/scripts/stack_matrix.py).
Nothing is written when any check fails: the name rule, an account another stack already pins, a
region the organization does not allow, an overlapping CIDR.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import re
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Optional

from stacks import catalog

GENERATORS = (("docs/generate_costs.py", ()),)
"""Generators that write per-stack files, run once the stack exists. The workflows' matrices need none:
.github/scripts/stack_matrix.py reads stacks/ when a workflow runs."""


class StackError(Exception):
    """The stack cannot be added; the message says why and what to do."""


# The approver placeholder of placeholders.yaml: an exception nobody has reviewed for this stack.
UNREVIEWED_APPROVER = "hipaa-security-officer"

def _word(name: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![A-Za-z0-9]){re.escape(name)}(?![A-Za-z0-9])")


def _rewrite(text: str, source: catalog.Stack, name: str, account: str, region: str) -> str:
    """The template's text with its stack name, account and region replaced by the new stack's."""
    assert source.account_id and source.region
    text = text.replace(f":{source.region}:{source.account_id}:", f":{region}:{account}:")
    text = text.replace(source.account_id, account)
    text = _word(source.name).sub(name, text)
    capital = source.name[:1].upper() + source.name[1:]
    return _word(capital).sub(name[:1].upper() + name[1:], text)


def _set_key(text: str, key: str, value: str) -> str:
    """Replace the value of a top-level config key (`  key: value`), keeping its comments."""
    pattern = re.compile(rf"^(  {re.escape(key)}:) .*$", re.M)
    if not pattern.search(text):
        raise StackError(f"the template has no {key} line")
    return pattern.sub(lambda m: f"{m.group(1)} {value}", text, count=1)


def stack_text(template: str, source: catalog.Stack, name: str, account: str, region: str,
               cidr: str) -> str:
    assert source.region
    text = _rewrite(template, source, name, account, region)
    text = _set_key(text, "aws:region", region)
    text = _set_key(text, f"{catalog.PROGRAM_NAMESPACE}:vpcCidr", cidr)
    copy = re.search(rf"^  {catalog.PROGRAM_NAMESPACE}:backupCopyRegion: (\S+)$", text, re.M)
    if copy and copy.group(1) == region:  # the copy must be in another region than the stack
        text = _set_key(text, f"{catalog.PROGRAM_NAMESPACE}:backupCopyRegion", source.region)
    header = (f"# {name}: added by `python -m stacks.new` from {source.name} ({source.classification}); "
              f"replace every placeholder\n# (placeholders.yaml) before the first `pulumi up`.\n")
    return header + text


def pack_config_text(template: str, source: catalog.Stack, name: str, account: str, region: str,
                     phi_stacks: Sequence[catalog.Stack]) -> str:
    config = json.loads(_rewrite(template, source, name, account, region))
    policy = config.get("hipaa-no-phi-access-from-synthetic-stack")
    if source.classification == "synthetic" and isinstance(policy, dict):
        patterns = list(policy.get("phiResourcePatterns") or [])
        for phi in phi_stacks:
            patterns += [p for p in catalog.phi_patterns(phi) if p not in patterns]
        policy["phiResourcePatterns"] = patterns
    # The template's exceptions were approved for the template, not for this stack: each keeps its
    # policy, setting, reason and expiry, but its approver becomes the placeholder again, so
    # `preflight.placeholders` lists it and `pulumi up` of the new stack is refused until someone
    # reviews and signs each one (the preview and the tests still pass).
    for exception in (config.get("hipaa-policy-exceptions-approved") or {}).get("exceptions") or []:
        if isinstance(exception, dict) and "approver" in exception:
            exception["approver"] = UNREVIEWED_APPROVER
    return json.dumps(config, indent=2, ensure_ascii=False) + "\n"


def bootstrap_text(template: str, source: catalog.Stack, name: str, account: str, region: str) -> str:
    text = _rewrite(template, source, name, account, region)
    return _set_key(text, "aws:region", region)


def organization_text(text: str, name: str, account: str, email_domain: str) -> str:
    """organization/'s stack file with one more accounts.environments entry after the last one."""
    lines = text.splitlines(keepends=True)
    try:
        start = next(i for i, line in enumerate(lines) if line.rstrip() == "    environments:")
    except StopIteration as err:
        raise StackError(f"{catalog.ORGANIZATION_FILE} has no `    environments:` block") from err
    end = start + 1
    while end < len(lines) and (lines[end].startswith("      ") or not lines[end].strip()):
        end += 1
    while not lines[end - 1].strip():
        end -= 1
    entry = (f"      {name}:\n"
             f"        id: \"{account}\"                # stacks/Pulumi.{name}.yaml pins it\n"
             f"        email: aws-{name}@{email_domain}\n"
             f"        name: hipaa-aws {name}\n")
    return "".join([*lines[:end], entry, *lines[end:]])


def plan(root: Path, name: str, source_name: str, account: str, region: str,
         cidr: Optional[str]) -> dict[Path, str]:
    """Every file to write (relative path -> text). Raises StackError naming every problem."""
    stacks = catalog.stacks(root)
    problems = []
    if (problem := catalog.name_problem(name)) is not None:
        problems.append(problem)
    if name in stacks:
        problems.append(f"stack {name} exists already ({stacks[name].stack_file})")
    source = stacks.get(source_name)
    if source is None:
        problems.append(f"--from {source_name}: no such stack (one of {', '.join(stacks)})")
    elif not (source.account_id and source.region):
        problems.append(f"--from {source_name}: {source.stack_file} pins no single account or region")
    if not re.fullmatch(r"\d{12}", account):
        problems.append(f"--account {account}: an AWS account id has 12 digits")
    pinned = [s.name for s in stacks.values() if s.account_id == account]
    if pinned:
        problems.append(f"--account {account} is pinned by {', '.join(pinned)} already: this command gives "
                        "each stack its own account (its own account layer and bootstrap); to share one, "
                        "write the stack file by hand with hipaa-aws:accountBaseline: external (README, "
                        "\"Accounts\")")
    if not re.fullmatch(r"[a-z]{2}(-[a-z]+)+-\d", region):
        problems.append(f"--region {region}: not a region name like us-west-2")
    regions = catalog.allowed_regions(root)
    if regions is not None and region not in regions:
        problems.append(f"--region {region}: {catalog.ORGANIZATION_FILE} allowedRegions "
                        f"({', '.join(regions)}) does not include it, so the organization's SCP would "
                        f"refuse every call; add it there")
    taken = [s.vpc_cidr for s in stacks.values() if s.vpc_cidr]
    cidr = cidr or catalog.next_free_cidr(taken)
    try:
        network = ipaddress.IPv4Network(cidr)
        clashes = [s.name for s in stacks.values() if s.vpc_cidr
                   and network.overlaps(ipaddress.IPv4Network(s.vpc_cidr))]
        if clashes:
            problems.append(f"--cidr {cidr} overlaps the VPC range of {', '.join(clashes)}")
    except ValueError as err:
        problems.append(f"--cidr {cidr}: {err}")
    if problems or source is None:
        raise StackError("cannot add stack " + name + ":\n  " + "\n  ".join(problems))

    files: dict[Path, str] = {}
    files[catalog.stack_file(name)] = stack_text(
        (root / source.stack_file).read_text(), source, name, account, region, cidr)
    phi = [s for s in stacks.values() if s.holds_phi]
    files[catalog.pack_config(name)] = pack_config_text(
        (root / source.pack_config).read_text(), source, name, account, region, phi)
    if source.holds_phi:  # every synthetic stack must refuse to reach the new PHI stack
        new = catalog.Stack(name=name, classification="phi", account_id=account, region=region,
                            vpc_cidr=cidr, account_baseline=source.account_baseline,
                            stack_file=catalog.stack_file(name), pack_config=catalog.pack_config(name))
        for synthetic in (s for s in stacks.values() if s.classification == "synthetic"):
            path = root / synthetic.pack_config
            config = json.loads(path.read_text())
            policy = config.get("hipaa-no-phi-access-from-synthetic-stack")
            if isinstance(policy, dict):
                patterns = list(policy.get("phiResourcePatterns") or [])
                policy["phiResourcePatterns"] = patterns + [
                    p for p in catalog.phi_patterns(new) if p not in patterns]
                files[synthetic.pack_config] = json.dumps(config, indent=2, ensure_ascii=False) + "\n"
    bootstraps = catalog.bootstrap_stacks(root)
    template = next((b for b, a in bootstraps.items() if a == source.account_id), None)
    if template is not None and name not in bootstraps:
        files[Path("bootstrap") / f"Pulumi.{name}.yaml"] = bootstrap_text(
            (root / "bootstrap" / f"Pulumi.{template}.yaml").read_text(), source, name, account, region)
    organization = root / catalog.ORGANIZATION_FILE
    if organization.exists() and name not in catalog.organization_environments(root):
        text = organization.read_text()
        domain = re.search(r"email: aws-[\w-]+@([\w.-]+)", text)
        files[catalog.ORGANIZATION_FILE] = organization_text(
            text, name, account, domain.group(1) if domain else "example.com")
    return files


def run_generators(root: Path, python: str = sys.executable) -> list[str]:
    """Run every per-stack generator that exists; the names of those that failed."""
    failed = []
    for script, args in GENERATORS:
        if (root / script).exists():
            result = subprocess.run([python, script, *args], cwd=root, check=False)
            if result.returncode != 0:
                failed.append(script)
    return failed


def main(argv: Optional[Sequence[str]] = None, root: Path = catalog.ROOT) -> int:
    parser = argparse.ArgumentParser(prog="python -m stacks.new", description=(__doc__ or "").split("\n")[0])
    parser.add_argument("name", help=catalog.NAME_RULE)
    parser.add_argument("--from", dest="source", required=True,
                        help="the stack to copy: prod for a PHI stack, staging for a synthetic one")
    parser.add_argument("--account", required=True, help="the new stack's own 12-digit AWS account id")
    parser.add_argument("--region", required=True)
    parser.add_argument("--cidr", help="its VPC range (default: the first free 10.N.0.0/16)")
    parser.add_argument("--dry-run", action="store_true", help="print the files, write nothing")
    parser.add_argument("--no-generate", action="store_true", help="do not run the per-stack generators")
    args = parser.parse_args(argv)
    try:
        files = plan(root, args.name, args.source, args.account, args.region, args.cidr)
    except StackError as err:
        print(err, file=sys.stderr)
        return 2
    for path, text in files.items():
        if args.dry_run:
            print(f"--- {path}\n{text}")
            continue
        (root / path).write_text(text)
        print(f"wrote {path}")
    if args.dry_run:
        return 0
    failed = [] if args.no_generate else run_generators(root)
    problems = catalog.problems(root)
    for problem in problems:
        print(f"problem: {problem}", file=sys.stderr)
    for script in failed:
        print(f"problem: {script} failed", file=sys.stderr)
    print(f"next: replace the placeholders `venv/bin/python -m preflight.placeholders {args.name}` lists, "
          f"then `make preflight`")
    return 1 if problems or failed else 0


if __name__ == "__main__":
    sys.exit(main())
