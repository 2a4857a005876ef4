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
