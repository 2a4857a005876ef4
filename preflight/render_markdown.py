"""The evidence report an auditor reads."""

from __future__ import annotations

import json
from typing import Any


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _governance(report: dict[str, Any]) -> list[str]:
    """The classification and every deviation from the pack's defaults, with its exception."""
    lines = ["", "## Classification", ""]
    c = report.get("classification")
    if c:
        lines.append(f"Stack file: `{c['stackFile'] or '(not set)'}`; "
                     f"pack config: `{c['packConfig'] or '(not set)'}`; "
                     f"judged as {'a PHI stack' if c['phi'] else 'not a PHI stack'}.")
        if not c["agree"]:
            lines += ["", f"**They disagree:** {_cell(c['explanation'])}"]
    lines += ["", "## Deviations from the pack's defaults", ""]
    deviations = report.get("deviations", [])
    if not deviations:
        lines.append("None: every policy runs at its default level with its default settings.")
        return lines
    lines += ["Every policy lowered or setting changed in the pack config, and the exception that "
              "approves it.", "",
              "| policy | change | default | configured | status | exception |", "|---|---|---|---|---|---|"]
    for d in deviations:
        e = d["exception"]
        granted = f"approved by {e['approver']} until {e['expires']}: {e['reason']}" if e else "no exception"
        lines.append(f"| `{d['policy']}` | {d['setting'] or 'enforcement level'} | "
                     f"{_cell(json.dumps(d['default']))} | {_cell(json.dumps(d['configured']))} | "
                     f"{d['status']} | {_cell(granted)} |")
    return lines


def render_markdown(report: dict[str, Any]) -> str:
    s = report["summary"]
    pack = report["policyPack"]
    lines = [
        f"# HIPAA preflight evidence: {report['project']} / {report['stack']}",
        "",
        f"Generated {report['generatedAt']} by the offline preflight: the Pulumi program ran under "
        "Pulumi's mock runtime with preview semantics, and every resource was judged by the policy "
        f"pack `{pack['name']}` over the Analyzer protocol with config `{pack['config']}`.",
        "",
        "| | |", "|---|---|",
        f"| result | **{'PASSED' if s['passed'] else 'BLOCKED'}** |",
        f"| policy pack | {pack['name']} {pack['version']} |",
        f"| resources judged | {s['resources']} |",
        f"| policies | {s['policies']} |",
        f"| mandatory violations | {s['mandatoryViolations']} |",
        f"| advisory violations | {s['advisoryViolations']} |",
        f"| not judged at preview | {s['notJudged']} |",
        "",
        "## Declarations relied on",
        "",
    ]
    if not report.get("declarations"):
        lines.append("None: every control the pack requires is judged on this stack's own resources.")
    else:
        lines += ["These come from the stack's pack config, a reviewed change; the pack accepts them "
                  "instead of the resources named, so the controls must be verified where declared.", "",
                  "| policy | declaration | value |", "|---|---|---|"]
        lines += [f"| `{d['policy']}` | `{d['key']}` | {_cell(d['value'])} |" for d in report["declarations"]]
    lines += _governance(report)
    lines += ["", "## Violations", ""]
    if not report["violations"]:
        lines.append("None.")
    for group in report["violations"]:
        r = group["resource"]
        lines += [f"### `{r['name']}` ({r['type']})", "",
                  "| policy | enforcement | HIPAA | finding | remediation |", "|---|---|---|---|---|"]
        for f in group["findings"]:
            lines.append(f"| `{f['policy']}` | {f['enforcement']} | {f['hipaa']['reference']} | "
                         f"{_cell(f['message'])} | {_cell(f['remediation'])} |")
        lines.append("")
    lines += ["", "## Not judged at preview", ""]
    if not report["notJudged"]:
        lines.append("None.")
    else:
        lines += ["These values are known only after creation; `pulumi preview` cannot judge them either. "
                  "AWS Config (the deployed HIPAA conformance pack) judges them at run time.", "",
                  "| policy | resource | reason |", "|---|---|---|"]
        lines += [f"| `{n['policy']}` | `{n['urn'].rsplit('::', 1)[-1] or '(stack)'}` | "
                  f"{_cell(n['reason'])} |" for n in report["notJudged"]]
    lines += ["", "## Evidence matrix: HIPAA Security Rule section -> policies -> resources judged compliant",
              ""]
    for section in report["evidence"]:
        lines += [f"### {section['reference']} {section['specification']}", "",
                  "| policy | scope | compliant resources | violations | not judged |",
                  "|---|---|---|---|---|"]
        for p in section["policies"]:
            names = [u.rsplit("::", 1)[-1] for u in p["compliantResources"]]
            shown = ", ".join(f"`{n}`" for n in names[:12])
            if len(names) > 12:
                shown += f" and {len(names) - 12} more"
            lines.append(f"| `{p['name']}` | {p['scope']} | {shown or '-'} | {p['violations']} | "
                         f"{p['notJudged']} |")
        lines.append("")
    return "\n".join(lines)
