"""List the placeholders (placeholders.yaml) left in the stack files and pack configs; exit 1 if any.

    venv/bin/python -m preflight.placeholders               # every stack, bootstrap and organization file
    venv/bin/python -m preflight.placeholders prod          # prod's stack file, pack config and bootstrap
    venv/bin/python -m preflight.placeholders --markdown    # the README's placeholder table

CI's deploy job runs it for the stack it deploys before anything else; the program refuses a real
`pulumi up` on the same register (components/placeholders.py).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Optional

import yaml

from components.placeholders import REGISTER, Left, Placeholder, load_register, placeholders_left

ROOT = Path(__file__).resolve().parent.parent
CONFIG_GLOBS = ("stacks/Pulumi.*.yaml", "policy/config/*.json", "bootstrap/Pulumi.*.yaml",
                "organization/Pulumi.*.yaml")


def file_config(path: Path) -> dict[str, Any]:
    """A stack file's `config` or a pack config's policies, key -> value."""
    if path.suffix == ".json":
        return json.loads(path.read_text())
    return (yaml.safe_load(path.read_text()) or {}).get("config") or {}


def stack_files(root: Path, stacks: Sequence[str]) -> list[Path]:
    """The files a deploy of these program stacks reads: stack file, pack config, and the bootstrap
    stack file of the account each pins (every file there is, when no stack is named)."""
    if not stacks:
        return [p for pattern in CONFIG_GLOBS for p in sorted(root.glob(pattern))]
    files = []
    bootstraps = {p: file_config(p).get("aws:allowedAccountIds") for p in sorted(root.glob(CONFIG_GLOBS[2]))}
    for stack in stacks:
        stack_file = root / "stacks" / f"Pulumi.{stack}.yaml"
        if not stack_file.exists():
            raise FileNotFoundError(f"no stack {stack}: {stack_file.relative_to(root)} does not exist")
        files += [stack_file, root / "policy" / "config" / f"{stack}.json"]
        account = file_config(stack_file).get("aws:allowedAccountIds")
        files += [p for p, a in bootstraps.items() if a == account and p not in files]
    return [f for f in files if f.exists()]


def scan(files: Sequence[Path], register: Sequence[Placeholder], root: Path = ROOT) -> dict[str, list[Left]]:
    """Each file (relative path) with the placeholders left in it."""
    found = {}
    for path in files:
        left = placeholders_left(file_config(path), register)
        if left:
            found[str(path.relative_to(root))] = left
    return found


def markdown(register: Sequence[Placeholder], found: dict[str, list[Left]]) -> str:
    """The README's table: each placeholder, what it stands for, what to put, and where it is."""
    lines = ["| Placeholder | What it is | Replace with | Where (file: key) |", "|---|---|---|---|"]
    for placeholder in register:
        where = sorted({f"`{file}`: `{left.key}`" for file, lefts in found.items()
                        for left in lefts if left.placeholder == placeholder})
        lines.append(f"| `{placeholder.value}` | {placeholder.what} | {placeholder.replace_with} | "
                     f"{'<br>'.join(where) or 'nowhere any more'} |")
    return "\n".join(lines) + "\n"


def main(argv: Optional[Sequence[str]] = None, root: Path = ROOT, register_path: Path = REGISTER) -> int:
    parser = argparse.ArgumentParser(prog="python -m preflight.placeholders",
                                     description=(__doc__ or "").split("\n")[0])
    parser.add_argument("stacks", nargs="*", help="program stacks (default: every config file)")
    parser.add_argument("--markdown", action="store_true", help="print the README table, exit 0")
    args = parser.parse_args(argv)
    register = load_register(register_path)
    try:
        found = scan(stack_files(root, args.stacks), register, root)
    except FileNotFoundError as err:
        print(err, file=sys.stderr)
        return 2
    if args.markdown:
        print(markdown(register, found), end="")
        return 0
    for file, lefts in found.items():
        for left in lefts:
            print(f"{file}: {left.describe()}")
    count = sum(len(lefts) for lefts in found.values())
    if count:
        print(f"{count} placeholder value(s) left in {len(found)} file(s): replace them before `pulumi up` "
              f"(placeholders.yaml says what each is)", file=sys.stderr)
        return 1
    print("no placeholder left")
    return 0


if __name__ == "__main__":
    sys.exit(main())
