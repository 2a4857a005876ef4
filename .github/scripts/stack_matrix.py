"""The workflows' stack matrices and infrastructure paths, read from `stacks/` at run time.

A stack exists because `stacks/Pulumi.<stack>.yaml` exists (stacks/catalog.py); the workflows read
the same files here, so adding a stack needs no workflow edit and no generated file. This script uses
the standard library only: the job that runs it has no virtualenv, and the runner's Python has no
PyYAML. It reads the one key it needs, `hipaa-aws:dataClassification`, with a line pattern;
tests/test_workflows.py checks that it agrees with stacks.catalog for the shipped stacks and for a
stack added by copying a file.

    python3 .github/scripts/stack_matrix.py  # JSON: {"all": [...], "synthetic": [...], "phi": [...]}
    python3 .github/scripts/stack_matrix.py --github-output  # the same, as job outputs
    git diff --name-only BASE HEAD | python3 .github/scripts/stack_matrix.py --changed
        # prints true when a path that can change infrastructure changed (deploy.yml's paths filter)
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from pathlib import Path
from collections.abc import Sequence
from typing import Optional

ROOT = Path(__file__).resolve().parents[2]

INFRASTRUCTURE_PATHS = (
    # What `pulumi up` of the program reads: the program, its stacks, the pack and its config, and the
    # dependencies both are installed from. deploy.yml's `on.push.paths` is this list (a test checks).
    "__main__.py",
    "Pulumi.yaml",
    "components/**",
    "stacks/**",
    "policy/**",
    "requirements.txt",
    "requirements.lock",
    "placeholders.yaml",  # the programs refuse `up` while one is left (components/placeholders.py)
)



def setting(stack_file: Path, key: str) -> Optional[str]:
    """A plain scalar of the stack file's `config:` block (`  <key>: value`, quoted or not)."""
    pattern = re.compile(
        rf"""^\s+{re.escape(key)}:\s*(?P<q>["']?)(?P<value>[A-Za-z0-9._-]+)(?P=q)\s*(?:\#.*)?$""")
    for line in stack_file.read_text().splitlines():
        match = pattern.match(line)
        if match:
            return match.group("value")
    return None


def stacks(root: Path = ROOT) -> list[dict[str, str]]:
    """One matrix entry per stack file, in name order (the order of stacks.catalog.stacks())."""
    entries = []
    for path in sorted((root / "stacks").glob("Pulumi.*.yaml")):
        name = path.name[len("Pulumi."):-len(".yaml")]
        entries.append({
            "stack": name,
            "classification": setting(path, "hipaa-aws:dataClassification") or "unset",
            "region": setting(path, "aws:region") or "",
            # Repository variables the preview and drift jobs read (bootstrap/ci_roles.py names them).
            "preview_role": f"AWS_PREVIEW_ROLE_ARN_{name.upper()}",
            "drift_role": f"AWS_DRIFT_ROLE_ARN_{name.upper()}",
            "backend": f"PULUMI_BACKEND_URL_{name.upper()}",
        })
    return entries


def matrices(root: Path = ROOT) -> dict[str, list[dict[str, str]]]:
    """`phi` is every stack that is not explicitly synthetic: an unset classification deploys only
    like a PHI stack (from a reviewed, saved plan), never like a test stack."""
    found = stacks(root)
    return {"all": found,
            "synthetic": [s for s in found if s["classification"] == "synthetic"],
            "phi": [s for s in found if s["classification"] != "synthetic"]}


def matches(path: str, pattern: str) -> bool:
    if pattern.endswith("/**"):
        return path.startswith(pattern[:-2])
    return path == pattern


def infrastructure_changed(paths: Sequence[str]) -> bool:
    return any(matches(p, pattern) for p in paths for pattern in INFRASTRUCTURE_PATHS)


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=ROOT)
    parser.add_argument("--github-output", action="store_true",
                        help="append all=, synthetic=, phi= (JSON lists) to $GITHUB_OUTPUT")
    parser.add_argument("--changed", action="store_true",
                        help="read changed paths on stdin; print true if one can change infrastructure")
    args = parser.parse_args(argv)
    if args.changed:
        print("true" if infrastructure_changed([line.strip() for line in sys.stdin if line.strip()])
              else "false")
        return 0
    found = matrices(args.root)
    if not found["all"]:
        print(f"no stack file in {args.root / 'stacks'}", file=sys.stderr)
        return 1
    if args.github_output:
        with open(os.environ["GITHUB_OUTPUT"], "a", encoding="utf-8") as output:
            for key, entries in found.items():
                output.write(f"{key}={json.dumps(entries, separators=(',', ':'))}\n")
    print(json.dumps(found, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
