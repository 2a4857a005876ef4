"""Benchmark the offline preflight at growing sizes (not a test; figures go to bench/RESULTS.md).

    venv/bin/python bench/preflight_bench.py [--tenants 1 10 50]

Each size runs in a fresh process so peak memory is its own. Reported per size: resources,
end-to-end wall time, time in the program (mock runtime), time in the policy pack (Analyze for
every resource + AnalyzeStack), per-resource Analyze latency (median, p99), peak RSS of the
preflight process and of the policy pack process.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def measure(tenants: int) -> dict:
    from pulumi.runtime.proto import analyzer_pb2

    from preflight.judge import StreamingJudge, stack_entries
    from preflight.policy_pack_client import PolicyPackProcess
    from preflight.program_runner import run_program, script_program
    from preflight.stack_config import load_stack_config

    os.environ["BENCH_TENANTS"] = str(tenants)
    start = time.perf_counter()
    # Exactly what `python -m preflight` does: the pack starts first and analyzes each resource
    # as the program registers it, then AnalyzeStack runs once.
    with PolicyPackProcess() as pack:
        pack.configure(json.loads((ROOT / "policy" / "config" / "prod.json").read_text()))
        startup_s = time.perf_counter() - start
        streaming = StreamingJudge(pack, load_stack_config("prod"))
        t = time.perf_counter()
        run = run_program(script_program(ROOT / "bench" / "tenants_program.py"), load_stack_config("prod"),
                          on_register=streaming.submit)
        program_s = time.perf_counter() - t
        t = time.perf_counter()
        judgement = streaming.finish(run)
        drain_s = time.perf_counter() - t
        pack_rss = _rss_of(pack.process.pid)
        # Per-resource Analyze latency, measured separately one call at a time (no queueing).
        latencies = []
        for recorded in judgement.resources:
            request = analyzer_pb2.AnalyzeRequest(type=recorded.type, properties=recorded.properties,
                                                  urn=recorded.urn, name=recorded.name)
            t = time.perf_counter()
            pack.stub.Analyze(request)
            latencies.append(time.perf_counter() - t)
        t = time.perf_counter()
        pack.analyze_stack(stack_entries(judgement.resources))
        analyze_stack_s = time.perf_counter() - t
    wall = program_s + drain_s + startup_s
    latencies.sort()
    return {
        "tenants": tenants, "resources": len(judgement.resources), "wall_s": wall, "program_s": program_s,
        "startup_s": startup_s, "drain_s": drain_s, "analyze_total_s": sum(latencies),
        "analyze_stack_s": analyze_stack_s,
        "analyze_median_ms": statistics.median(latencies) * 1000,
        "analyze_p99_ms": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000,
        "preflight_peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "pack_peak_mb": pack_rss, "mandatory": len(judgement.mandatory),
    }


def _rss_of(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tenants", type=int, nargs="+", default=[1, 10, 50])
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one is not None:
        print(json.dumps(measure(args.one)))
        return
    rows = []
    for tenants in args.tenants:
        out = subprocess.run([sys.executable, __file__, "--one", str(tenants)], cwd=ROOT,
                             capture_output=True, text=True, check=True)
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
    print("| resources | end to end (s) | pack start + configure (s) | program, Analyze overlapped (s) | "
          "drain + AnalyzeStack (s) | Analyze alone, all resources (s) | AnalyzeStack alone (s) | "
          "Analyze median (ms) | Analyze p99 (ms) | preflight peak RSS (MB) | pack peak RSS (MB) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['resources']} | {r['wall_s']:.2f} | {r['startup_s']:.2f} | {r['program_s']:.2f} | "
              f"{r['drain_s']:.2f} | {r['analyze_total_s']:.2f} | {r['analyze_stack_s']:.2f} | "
              f"{r['analyze_median_ms']:.2f} | {r['analyze_p99_ms']:.2f} | "
              f"{r['preflight_peak_mb']:.0f} | {r['pack_peak_mb']:.0f} |")


if __name__ == "__main__":
    main()
