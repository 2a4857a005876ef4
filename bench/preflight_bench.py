"""Benchmark the offline preflight end to end (not a test; figures go to bench/RESULTS.md).

    venv/bin/python bench/preflight_bench.py [--tenants 10 50] [--rounds 3] [--baseline REV]

Each measurement is the whole command a user runs, in a fresh process:
`python -m preflight prod --program bench/tenants_program.py --format json --output FILE` with
BENCH_TENANTS tenants (about 97 resources each), plus `python -m preflight prod` itself. Reported per
size: resources judged, wall time of every run and its median, milliseconds per resource, and the peak
resident memory of the preflight process and of the policy pack.

With --baseline, the same commands also run from a checkout of REV (a temporary `git worktree`
sharing this venv), alternating with this tree's run by run, so both see the same machine load; the
table then gives the cut in time per resource. The two must agree on every verdict (checked).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = ROOT / "venv" / "bin" / "python"


class _PeakRss:
    """Samples the peak resident memory (VmHWM) of a process and of its children until it ends."""

    def __init__(self, pid: int):
        self.pid, self.peaks = pid, {}
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        while Path(f"/proc/{self.pid}").exists():
            for pid in [self.pid, *_children(self.pid)]:
                self.peaks[pid] = max(self.peaks.get(pid, 0), _hwm_mb(pid))
            time.sleep(0.05)

    def result(self) -> tuple[float, float]:
        self._thread.join()
        own = self.peaks.get(self.pid, 0.0)
        children = [v for pid, v in self.peaks.items() if pid != self.pid]
        return own, max(children, default=0.0)


def _children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _hwm_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def run_once(tree: Path, tenants: int | None) -> dict:
    """One preflight of the prod stack (tenants None) or of the tenants program, from `tree`."""
    with tempfile.TemporaryDirectory() as tmp:
        output = Path(tmp) / "report.json"
        command = [str(PYTHON), "-m", "preflight", "prod", "--format", "json", "--output", str(output)]
        environment = dict(os.environ)
        if tenants is not None:
            command += ["--program", "bench/tenants_program.py"]
            environment["BENCH_TENANTS"] = str(tenants)
        start = time.perf_counter()
        process = subprocess.Popen(command, cwd=tree, env=environment, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.PIPE)
        memory = _PeakRss(process.pid)
        _, stderr = process.communicate()
        wall = time.perf_counter() - start
        if process.returncode not in (0, 1):
            raise SystemExit(f"preflight failed in {tree}: {stderr.decode()[-2000:]}")
        report = json.loads(output.read_text())
    preflight_mb, pack_mb = memory.result()
    summary = report["summary"]
    verdicts = sorted((entry["resource"]["urn"], finding["policy"], finding["enforcement"], finding["message"])
                      for entry in report.get("violations", []) for finding in entry["findings"])
    return {"wall_s": wall, "resources": summary["resources"], "preflight_mb": preflight_mb,
            "pack_mb": pack_mb, "mandatory": summary["mandatoryViolations"],
            "not_judged": summary["notJudged"], "verdicts": verdicts}


def _checkout(revision: str) -> Path:
    tree = Path(tempfile.mkdtemp(prefix="preflight-baseline-"))
    subprocess.run(["git", "worktree", "add", "--detach", "--force", str(tree), revision], cwd=ROOT,
                   check=True, capture_output=True)
    try:
        (tree / "venv").symlink_to(ROOT / "venv")
    except OSError:
        _remove(tree)
        raise
    return tree


def _remove(tree: Path) -> None:
    subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT, check=False)
    subprocess.run(["git", "worktree", "prune"], cwd=ROOT, check=False)


def _size_label(tenants: int | None) -> str:
    return "prod stack" if tenants is None else f"{tenants} tenants"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--tenants", type=int, nargs="+", default=[10, 50])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--baseline", help="a git revision to compare with, run by run")
    args = parser.parse_args()
    trees = {"this tree": ROOT}
    try:
        if args.baseline:
            trees = {f"baseline {args.baseline}": _checkout(args.baseline), "this tree": ROOT}
        rows = []
        for tenants in [None, *args.tenants]:
            runs: dict[str, list[dict]] = {name: [] for name in trees}
            for _ in range(args.rounds):
                for name, tree in trees.items():  # alternate: baseline, this tree, baseline, ...
                    runs[name].append(run_once(tree, tenants))
                    print(f"{_size_label(tenants)} {name}: {runs[name][-1]['wall_s']:.2f} s", file=sys.stderr)
            rows.append((tenants, runs))
    finally:
        for tree in trees.values():
            if tree != ROOT:
                _remove(tree)
    if not _print(rows, list(trees), args):
        raise SystemExit("the versions disagree on verdicts (see above)")


def _print(rows, names: list[str], args) -> bool:
    """The table; False when the versions disagreed on any verdict."""
    agreed = True
    print(f"Machine: {os.cpu_count()} cores, Python {platform.python_version()}, {platform.platform()}; "
          f"{args.rounds} rounds, alternating.\n")
    print("| size | version | resources | runs (s) | median (s) | ms per resource | cut per resource | "
          "preflight peak RSS (MB) | pack peak RSS (MB) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for tenants, runs in rows:
        current = runs["this tree"]
        resources = current[0]["resources"]
        medians = {name: statistics.median(r["wall_s"] for r in runs[name]) for name in names}
        for name in names:
            own = runs[name]
            # Per resource: this tree's count (a baseline may count a duplicated default provider).
            per_resource = medians[name] / resources * 1000
            cut = (f"{(1 - medians['this tree'] / medians[name]) * 100:.0f}% (this tree)"
                   if name != "this tree" else "")
            walls = ", ".join(f"{r['wall_s']:.2f}" for r in own)
            print(f"| {_size_label(tenants)} | {name} | {own[0]['resources']} | "
                  f"{walls} | {medians[name]:.2f} | {per_resource:.2f} | "
                  f"{cut} | {max(r['preflight_mb'] for r in own):.0f} | {max(r['pack_mb'] for r in own):.0f} |")
        verdicts = {name: (runs[name][0]["verdicts"], runs[name][0]["mandatory"], runs[name][0]["not_judged"])
                    for name in names}
        if len(set(map(repr, verdicts.values()))) > 1:
            print(f"\n**{_size_label(tenants)}: the versions disagree on verdicts.**")
            agreed = False
    return agreed


if __name__ == "__main__":
    main()
