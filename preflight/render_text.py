"""The report for a terminal."""

from __future__ import annotations

from typing import Any

from .governance import describe


def render_text(report: dict[str, Any]) -> str:
    s = report["summary"]
    verdict = "PASSED" if s["passed"] else "BLOCKED"
    lines = [
        f"preflight {report['project']}/{report['stack']}: {verdict}",
        f"  {s['resources']} resources judged by {s['policies']} policies "
        f"({report['policyPack']['name']} {report['policyPack']['version']}, "
        f"config {report['policyPack']['config']})",
        f"  mandatory violations: {s['mandatoryViolations']}   advisory: {s['advisoryViolations']}   "
        f"not judged at preview: {s['notJudged']}",
    ]
    lines += trace_lines(report.get("trace"))
    for d in report.get("declarations", []):
        lines.append(f"  declared in the pack config (reviewed, relied on): "
                     f"{d['policy']}: {d['key']} = {d['value']}")
    classification = report.get("classification")
    if classification:
        lines.append(f"  classification: stack file {classification['stackFile'] or '(not set)'}, "
                     f"pack config {classification['packConfig'] or '(not set)'}: "
                     f"{'PHI stack' if classification['phi'] else 'not a PHI stack'}")
        if not classification["agree"]:
            lines.append(f"  CLASSIFICATION DISAGREES: {classification['explanation']}")
    deviations = report.get("deviations", [])
    lines.append(f"  deviations from the pack's defaults: {len(deviations) or 'none'}")
    lines += [f"    {describe(d)}" for d in deviations]
    for group in report["violations"]:
        r = group["resource"]
        lines.append("")
        lines.append(f"{r['type']}  {r['name']}")
        for f in group["findings"]:
            lines.append(f"  [{f['enforcement']}] {f['policy']} ({f['hipaa']['reference']}): {f['message']}")
            lines.append(f"      fix: {f['remediation']}")
    if report["notJudged"]:
        lines += ["", "Not judged at preview (values known only after creation):"]
        for n in report["notJudged"]:
            lines.append(f"  {n['policy']}  {n['urn'].rsplit('::', 1)[-1] or '(stack)'}: {n['reason']}")
    return "\n".join(lines) + "\n"


def trace_lines(trace: dict[str, Any] | None) -> list[str]:
    """What the report was made from (preflight/provenance.py)."""
    if not trace:
        return ["  provenance: not recorded"]
    git, ci = trace["git"], trace.get("ci")
    if git["commit"] is None:
        source = git["state"]
    else:
        source = git["commit"] + (" (clean tree)" if git["clean"] else
                                  f" (MODIFIED tree: {len(git['dirtyFiles'])} files differ: "
                                  + ", ".join(git["dirtyFiles"]) + ")")
    return [
        f"  commit: {source}",
        f"  account {trace['account'] or '(not pinned)'}, region {trace['region'] or '(not set)'}",
        f"  sha256 program {trace['program']['sha256']} ({trace['program']['files']} files), "
        f"pack {trace['policyPack']['sha256']} ({trace['policyPack']['files']} files)",
        f"  sha256 pack config {trace['policyPackConfig']['sha256']} ({trace['policyPackConfig']['path']}), "
        f"stack file {trace['stackFile']['sha256']} ({trace['stackFile']['path']})",
        f"  CI run: {ci['url'] or ci['runId']}" if ci else "  CI run: none",
    ]
