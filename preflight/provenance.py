"""What a report was made from, so an auditor can trace it: the commit and whether the tree was clean,
SHA-256 digests of the program, the pack and its config, the stack's account and region, the time and
the CI run.

A digest over a set of files is the SHA-256 of its manifest: one line `<file sha256>  <path>\\n` per
file, paths relative to the project directory, sorted bytewise (as `LC_ALL=C sort` does). That is
`sha256sum`'s output format, so anyone can recompute it without this code:

    find components __main__.py Pulumi.yaml requirements.txt requirements.lock -type f ! -name '*.pyc' \\
        ! -path '*/__pycache__/*' | LC_ALL=C sort | xargs sha256sum | sha256sum

Outside a git checkout (a release tarball, a copied tree) the report says so and the run goes on:
the digests still identify what ran.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Optional

NOT_A_CHECKOUT = "not a git checkout"
# Directories never part of what ran: virtualenvs, caches, and the pack's per-stack config (digested
# on its own, so one stack's config change does not change every stack's pack digest).
SKIPPED_DIRS = frozenset({"venv", ".venv", "__pycache__", ".pytest_cache", ".hypothesis", "node_modules"})
SKIPPED_SUFFIXES = (".pyc", ".pyo")
# The GitHub Actions default variables that identify a run (GitHub docs, "Variables reference":
# "Default environment variables").
CI_VARIABLES = ("GITHUB_RUN_ID", "GITHUB_RUN_ATTEMPT", "GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_SHA",
                "GITHUB_REF", "GITHUB_WORKFLOW", "GITHUB_ACTOR")


def _file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def files_under(root: Path, path: Path, skip: Iterable[Path] = ()) -> list[Path]:
    """Every file of `path` (a file or a directory) relative to `root`, without caches, virtualenvs,
    compiled files and anything under `skip`."""
    skipped = {(root / s).resolve() for s in skip}
    path = root / path
    if path.is_file():
        return [path.relative_to(root)]
    found = []
    for dirpath, dirnames, filenames in os.walk(path):
        here = Path(dirpath)
        dirnames[:] = [d for d in dirnames if d not in SKIPPED_DIRS and (here / d).resolve() not in skipped]
        found += [(here / f).relative_to(root) for f in filenames
                  if not f.endswith(SKIPPED_SUFFIXES) and (here / f).resolve() not in skipped]
    return found


def digest(root: Path, paths: Iterable[Path], skip: Iterable[Path] = ()) -> dict[str, Any]:
    """{sha256, files}: the manifest digest (module docstring) of every file under `paths`."""
    files = sorted({f.as_posix() for p in paths if (root / p).exists() for f in files_under(root, p, skip)},
                   key=lambda s: s.encode())
    manifest = "".join(f"{_file_digest(root / f)}  {f}\n" for f in files)
    return {"sha256": hashlib.sha256(manifest.encode()).hexdigest(), "files": len(files)}


def program_paths(root: Path, project_dir: Path) -> list[Path]:
    """The files that define a project's program: its Pulumi.yaml and top-level Python files, the shared
    components/ and the program's dependency lists (requirements*, not the development ones)."""
    project = project_dir.resolve().relative_to(root.resolve()) if project_dir.resolve() != root.resolve() \
        else Path()
    paths = [project / "Pulumi.yaml", *(project / p.name for p in sorted(project_dir.glob("*.py"))),
             Path("components")]
    paths += [Path(p.name) for p in sorted(root.glob("requirements*")) if "dev" not in p.name and p.is_file()]
    return paths


def _git(root: Path, *args: str) -> Optional[str]:
    """A read-only git query; None when git is missing or this is not a checkout. No optional locks:
    `git status` would otherwise refresh the index and could collide with a commit in progress (git
    docs, "git --no-optional-locks")."""
    try:
        result = subprocess.run(["git", "--no-optional-locks", "-C", str(root), *args], capture_output=True,
                                text=True, timeout=30, check=False,
                                env={**os.environ, "GIT_OPTIONAL_LOCKS": "0", "LC_ALL": "C"})
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout if result.returncode == 0 else None


def git_state(root: Path) -> dict[str, Any]:
    """{commit, clean, dirtyFiles, state}. `clean`: no tracked file differs from the commit and no file is
    untracked (ignored ones, such as venv/ and reports/, do not count). Outside a checkout: commit and
    clean are null and state is "not a git checkout"."""
    commit = _git(root, "rev-parse", "--verify", "HEAD")
    status = _git(root, "status", "--porcelain") if commit else None
    if commit is None or status is None:
        return {"commit": None, "clean": None, "dirtyFiles": [], "state": NOT_A_CHECKOUT}
    dirty = sorted(line[3:] for line in status.splitlines() if line.strip())
    return {"commit": commit.strip(), "clean": not dirty, "dirtyFiles": dirty,
            "state": "clean" if not dirty else "modified"}


def ci_run(environ: Mapping[str, str]) -> Optional[dict[str, Any]]:
    """The GitHub Actions run that made the report (None outside one): its id, attempt, URL, repository,
    the commit the workflow ran for, ref, workflow and actor."""
    if not environ.get("GITHUB_RUN_ID"):
        return None
    run = {name: environ.get(name) or None for name in CI_VARIABLES}
    server, repository = run["GITHUB_SERVER_URL"], run["GITHUB_REPOSITORY"]
    url = f"{server}/{repository}/actions/runs/{run['GITHUB_RUN_ID']}" if server and repository else None
    if url and run["GITHUB_RUN_ATTEMPT"]:
        url += f"/attempts/{run['GITHUB_RUN_ATTEMPT']}"
    return {"provider": "github-actions", "runId": run["GITHUB_RUN_ID"],
            "runAttempt": run["GITHUB_RUN_ATTEMPT"], "url": url, "serverUrl": server,
            "repository": repository, "sha": run["GITHUB_SHA"],
            "ref": run["GITHUB_REF"], "workflow": run["GITHUB_WORKFLOW"], "actor": run["GITHUB_ACTOR"]}


def trace(*, root: Path, project_dir: Path, stack_file: Path, pack_dir: Path, pack_config: Path,
          account_ids: list[str], region: Optional[str],
          environ: Optional[Mapping[str, str]] = None) -> dict[str, Any]:
    """The report's `trace` object (docs/preflight-report.md)."""
    environ = os.environ if environ is None else environ

    def relative(path: Path) -> str:
        try:
            return Path(path).resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            return str(path)

    def one_file(path: Path) -> dict[str, Any]:
        path = Path(path)
        return {"path": relative(path), "sha256": _file_digest(path) if path.is_file() else None}

    pack_rel = Path(relative(pack_dir))
    return {
        "git": git_state(root),
        "program": {**digest(root, program_paths(root, project_dir)), "project": relative(project_dir)},
        "policyPack": {**digest(root, [pack_rel], skip=[pack_rel / "config"]), "path": pack_rel.as_posix()},
        "policyPackConfig": one_file(pack_config),
        "stackFile": one_file(stack_file),
        "account": account_ids[0] if len(account_ids) == 1 else None,
        "region": region,
        "ci": ci_run(environ),
    }
