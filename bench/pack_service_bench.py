"""The policy pack's own cost per resource: pulumi-policy's Analyzer service against the pack's
(policy/hipaa_policies/analyzer_service.py), on the same requests, in this process (not a test).

    venv/bin/python bench/pack_service_bench.py [--tenants 10] [--extra 0 100 300] [--rounds 3]

The requests are the ones `python -m preflight prod` sends for bench/tenants_program.py; both
services are configured from policy/config/prod.json as the engine configures them. --extra adds
that many policies written for another resource type, to show how each service's cost per resource
grows with policies that do not apply to it. Rounds alternate between the services; the median is
reported.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "policy"))


def requests(tenants: int):
    import preflight.__main__ as cli
    from preflight.judge import engine_requests
    from preflight.policy_pack_client import PolicyPackProcess
    from preflight.program_runner import run_program, script_program
    from preflight.stack_config import load_stack_config

    os.environ["BENCH_TENANTS"] = str(tenants)
    config = load_stack_config("prod")
    run = run_program(script_program(ROOT / "bench" / "tenants_program.py"), config)
    with PolicyPackProcess(ROOT / "policy", stack=cli.stack_context(config, ROOT), keep_requests=True) as pack:
        pack.configure((ROOT / "policy" / "config" / "prod.json").read_text())
        setup = [(m, r) for m, r in pack.requests if m in ("ConfigureStack", "Configure")]
    return (setup, *engine_requests(run, config))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tenants", type=int, default=10)
    parser.add_argument("--extra", type=int, nargs="+", default=[0, 100, 300])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    import pulumi_policy.policy as sdk
    from pulumi_policy import EnforcementLevel

    from hipaa_policies import ALL_POLICIES
    from hipaa_policies.analyzer_service import TypedResourcePolicy, TypeDispatchingAnalyzer

    setup, remediate, analyze, whole = requests(args.tenants)
    services = {"pulumi-policy": sdk._PolicyAnalyzerServicer, "pack": TypeDispatchingAnalyzer}  # noqa: SLF001
    print(f"{len(analyze)} resources; milliseconds per resource, median of {args.rounds} alternating rounds\n")
    print("| policies not for these types | service | Remediate | Analyze | AnalyzeStack | total |")
    print("|---|---|---|---|---|---|")
    for extra in args.extra:
        policies = ALL_POLICIES + [
            TypedResourcePolicy(frozenset({"test:index/other:Other"}), "applies to test:index/other:Other",
                                name=f"extra-{i}", description="another type's policy",
                                validate=lambda args, report: None)
            for i in range(extra)]
        times: dict[str, list[tuple[float, float, float]]] = {name: [] for name in services}
        for _ in range(args.rounds):
            for name, kind in services.items():
                service = kind("hipaa-aws", "1.0.0", policies, EnforcementLevel.MANDATORY,
                               None, None, None, None, None, None, None)
                for method, request in setup:
                    getattr(service, method)(request, None)
                t0 = time.perf_counter()
                for request in remediate:
                    service.Remediate(request, None)
                t1 = time.perf_counter()
                for request in analyze:
                    service.Analyze(request, None)
                t2 = time.perf_counter()
                service.AnalyzeStack(whole, None)
                t3 = time.perf_counter()
                times[name].append((t1 - t0, t2 - t1, t3 - t2))
        for name in services:
            parts = [statistics.median(run[i] for run in times[name]) * 1000 / len(analyze) for i in range(3)]
            print(f"| {extra} | {name} | {parts[0]:.3f} | {parts[1]:.3f} | {parts[2]:.3f} | {sum(parts):.3f} |")


if __name__ == "__main__":
    main()
