"""The evidence report an auditor reads."""

from __future__ import annotations

import json
from collections import defaultdict
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


def urn_parts(urn: str) -> tuple[str, str]:
    """(type, logical name) of a URN: `urn:pulumi:<stack>::<project>::<parent types>$<type>::<name>`
    (Pulumi docs, "Resource names": URNs); "(whole stack)" for a stack policy's entry."""
    parts = urn.split("::")
    if len(parts) < 4:
        return "", urn
    return parts[2].rsplit("$", 1)[-1], "::".join(parts[3:])


def _by_type(urns: list[str]) -> list[str]:
    """Every resource, one bullet per type with all its logical names (none left out)."""
    grouped: dict[str, list[str]] = defaultdict(list)
    for urn in urns:
        type_, name = urn_parts(urn)
        grouped[type_ or "(stack)"].append(name)
    return [f"- `{t}`: " + ", ".join(f"`{n}`" for n in sorted(names)) for t, names in sorted(grouped.items())]


def _trace(report: dict[str, Any]) -> list[str]:
    """What the report was made from (preflight/provenance.py), for an auditor to trace."""
    t = report.get("trace")
    lines = ["", "## Provenance", ""]
    if not t:
        return lines + ["Not recorded."]
    git, ci = t["git"], t.get("ci")
    if git["commit"] is None:
        source = git["state"]
    else:
        dirty = ", ".join(f"`{f}`" for f in git["dirtyFiles"])
        source = f"`{git['commit']}`, " + ("clean tree" if git["clean"] else
                                           f"**modified tree** ({len(git['dirtyFiles'])} files differ "
                                           f"from the commit: {dirty})")
    run = "none (not run in CI)" if not ci else (
        f"[{ci['repository']} run {ci['runId']}]({ci['url']}) (attempt {ci['runAttempt'] or '-'}, "
        f"workflow {_cell(ci['workflow'] or '-')}, ref `{ci['ref'] or '-'}`, commit `{ci['sha'] or '-'}`)")
    lines += ["SHA-256 digests of file sets are over their `sha256sum` manifest, paths sorted bytewise "
              "(docs/preflight-report.md says how to recompute them).", "",
              "| | |", "|---|---|",
              f"| git commit | {source} |",
              f"| program | `{t['program']['sha256']}` ({t['program']['files']} files, project "
              f"`{t['program']['project']}`) |",
              f"| policy pack | `{t['policyPack']['sha256']}` ({t['policyPack']['files']} files under "
              f"`{t['policyPack']['path']}/`, its config/ excluded) |",
              f"| pack config | `{t['policyPackConfig']['sha256']}` (`{t['policyPackConfig']['path']}`) |",
              f"| stack file | `{t['stackFile']['sha256']}` (`{t['stackFile']['path']}`) |",
              f"| account | {t['account'] or '(not pinned)'} |",
              f"| region | {t['region'] or '(not set)'} |",
              f"| CI run | {run} |"]
    return lines


def _violations(report: dict[str, Any]) -> list[str]:
    """Grouped by resource type, then logical name."""
    lines = ["", "## Violations", ""]
    if not report["violations"]:
        return lines + ["None."]
    by_type: dict[str, list[dict]] = defaultdict(list)
    for group in report["violations"]:
        by_type[group["resource"]["type"] or urn_parts(group["resource"]["urn"])[0]].append(group)
    for type_, groups in sorted(by_type.items()):
        lines += [f"### {type_}", ""]
        for group in sorted(groups, key=lambda g: (g["resource"]["name"], g["resource"]["urn"])):
            lines += [f"#### `{group['resource']['name']}`", "", f"URN `{group['resource']['urn']}`", "",
                      "| policy | enforcement | HIPAA | finding | remediation |", "|---|---|---|---|---|"]
            for f in group["findings"]:
                lines.append(f"| `{f['policy']}` | {f['enforcement']} | {f['hipaa']['reference']} | "
                             f"{_cell(f['message'])} | {_cell(f['remediation'])} |")
            lines.append("")
    return lines


def _not_applicable(report: dict[str, Any]) -> list[str]:
    """Policies the pack said do not apply to a resource of their own type, by reason: not "passed"."""
    lines = ["", "## Not applicable", ""]
    entries = [(p["name"], n) for section in report["evidence"] for p in section["policies"]
               for n in p.get("notApplicable", [])]
    if not entries:
        return lines + ["None: every policy applied to every resource of the types it judges."]
    lines += ["The pack judged these resources and found the policy does not apply to them, for the reason "
              "given (resources of types a policy does not judge are not listed). They are not counted "
              "as passed.", ""]
    grouped: dict[tuple[str, str], list[str]] = defaultdict(list)
    for name, n in entries:
        grouped[(name, n["reason"])].append(n["urn"])
    for (name, reason), urns in sorted(grouped.items()):
        lines += [f"### `{name}`: {_cell(reason) or '(no reason given)'}", "", *_by_type(urns), ""]
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
    ]
    lines += _trace(report)
    lines += ["", "## Declarations relied on", ""]
    if not report.get("declarations"):
        lines.append("None: every control the pack requires is judged on this stack's own resources.")
    else:
        lines += ["These come from the stack's pack config, a reviewed change; the pack accepts them "
                  "instead of the resources named, so the controls must be verified where declared.", "",
                  "| policy | declaration | value |", "|---|---|---|"]
        lines += [f"| `{d['policy']}` | `{d['key']}` | {_cell(d['value'])} |" for d in report["declarations"]]
    lines += _governance(report)
    lines += _violations(report)
    lines += ["", "## Not judged at preview", ""]
    if not report["notJudged"]:
        lines.append("None.")
    else:
        lines += ["These values are known only after creation; `pulumi preview` cannot judge them either. "
                  "AWS Config (the deployed HIPAA conformance pack) judges them at run time.", "",
                  "| policy | resource type | resource | reason |", "|---|---|---|---|"]
        rows = sorted(report["notJudged"], key=lambda n: (*urn_parts(n["urn"]), n["policy"]))
        lines += [f"| `{n['policy']}` | {urn_parts(n['urn'])[0] or '(stack)'} | "
                  f"`{urn_parts(n['urn'])[1] or '(stack)'}` | {_cell(n['reason'])} |" for n in rows]
    lines += _not_applicable(report)
    lines += ["", "## Evidence matrix: HIPAA Security Rule section -> policies -> resources judged compliant",
              "", "Passed: the policy applied, could judge the resource and found nothing. Every such "
              "resource is listed under its policy, by type.", ""]
    for section in report["evidence"]:
        lines += [f"### {section['reference']} {section['specification']}", "",
                  "| policy | scope | passed | not applicable | violations | not judged |",
                  "|---|---|---|---|---|---|"]
        for p in section["policies"]:
            lines.append(f"| `{p['name']}` | {p['scope']} | {len(p['compliantResources'])} | "
                         f"{len(p.get('notApplicable', []))} | {p['violations']} | {p['notJudged']} |")
        lines.append("")
        for p in section["policies"]:
            if p["compliantResources"]:
                lines += [f"`{p['name']}` passed:", "", *_by_type(p["compliantResources"]), ""]
    return "\n".join(lines)
