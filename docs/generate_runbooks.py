"""Writes docs/runbooks/<key>.md, one runbook per alarm and per routed finding type, and the index
docs/runbooks/README.md, from docs/runbooks/data.yaml.

    venv/bin/python docs/generate_runbooks.py          # write
    venv/bin/python docs/generate_runbooks.py --check  # exit 1 when a runbook is stale or left over

The repetitive parts (containment steps, evidence sources, who decides, the breach test) are written once
in the data file and referenced by key, so a fix to one reaches every runbook. tests/test_runbooks.py runs
the programs under mocks and fails when an alarm's description does not end with a link to an existing
runbook, or a routed finding type has none.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

import yaml

DOCS = Path(__file__).resolve().parent
RUNBOOKS = DOCS / "runbooks"
DATA = RUNBOOKS / "data.yaml"
INDEX = "README.md"

KINDS = {
    "trail": "CloudWatch alarm on a CloudTrail metric filter",
    "log": "CloudWatch alarm on a log metric filter",
    "metric": "CloudWatch alarm on an AWS service metric",
    "phi": "CloudWatch alarm of the PHI-access kind (opens an OpsCenter OpsItem)",
    "application": "CloudWatch alarm on the application audit log",
    "finding": "Routed finding (EventBridge rule to the security topic and an OpsCenter OpsItem)",
}
BREACH = {
    "no": "Unlikely on its own",
    "possible": "Possible",
    "likely": "Presume a breach until the risk assessment shows otherwise",
}
# 45 CFR 164.402 (HHS, "Breach Notification Rule"; eCFR 45 CFR 164.402): the presumption and its four
# factors, said once and repeated in every runbook.
BREACH_TEST = (
    "Under 45 CFR 164.402 an acquisition, access, use or disclosure of PHI that the Privacy Rule does not "
    "permit is presumed to be a breach unless a documented risk assessment shows a low probability that "
    "the PHI was compromised, considering at least (1) the nature and extent of the PHI, (2) the "
    "unauthorized person, (3) whether the PHI was actually acquired or viewed, and (4) the extent to which "
    "the risk was mitigated. PHI encrypted as HHS's guidance specifies, whose key was not compromised, is "
    "not \"unsecured\". The notification clock starts at discovery, the OpsItem's time stamp, not at the "
    "end of the investigation: see [incident-response.md](../incident-response.md#notification-deadlines)."
)
CLOSE_OUT = (
    "Record in the OpsItem: the timeline, the containment and its reversal, the evidence locations, the "
    "breach determination and who made it (45 CFR 164.308(a)(6)(ii): identify, respond, mitigate, "
    "document). Keep the record six years (164.316(b)(2)). If the program or a threshold should change, "
    "open an issue; reverse any containment through the runbook that applied it."
)
SECTIONS = ("containment", "evidence", "deciders")


@dataclass(frozen=True)
class Runbook:
    key: str
    kind: str
    entry: dict[str, Any]


def load(path: Path = DATA) -> dict[str, Any]:
    """The data file, checked: every reference resolves and every field a runbook needs is there."""
    data = yaml.safe_load(path.read_text())
    problems = []
    for group in ("alarms", "findings"):
        for key, entry in data[group].items():
            for field in ("title", "severity", "means", "checks", "containment", "evidence", "breach", "why",
                          "deciders"):
                if field not in entry:
                    problems.append(f"{group}.{key}: no {field}")
            if entry.get("severity") not in data["severities"]:
                problems.append(f"{group}.{key}: severity {entry.get('severity')!r} is not one of "
                                f"{', '.join(data['severities'])}")
            if entry.get("breach") not in BREACH:
                problems.append(f"{group}.{key}: breach {entry.get('breach')!r} is not one of "
                                f"{', '.join(BREACH)}")
            if group == "alarms" and entry.get("kind") not in KINDS:
                problems.append(f"{group}.{key}: kind {entry.get('kind')!r} is not one of {', '.join(KINDS)}")
            if group == "findings" and not entry.get("routes"):
                problems.append(f"{group}.{key}: no routes (EventBridge source and detail-type)")
            for section in SECTIONS:
                problems += [f"{group}.{key}: {section} {ref!r} is not defined under {section}:"
                             for ref in entry.get(section, []) if ref not in data[section]]
    overlap = set(data["alarms"]) & set(data["findings"])
    problems += [f"{key} is both an alarm and a finding" for key in sorted(overlap)]
    if problems:
        raise ValueError(f"{path}: " + "; ".join(problems))
    return data


def runbooks(data: dict[str, Any]) -> list[Runbook]:
    return ([Runbook(key, entry["kind"], entry) for key, entry in data["alarms"].items()]
            + [Runbook(key, "finding", entry) for key, entry in data["findings"].items()])


def alarm_names(runbook: Runbook) -> list[str]:
    """The names of the alarms this runbook serves, `<stack>` and `<account>` standing for a stack and an
    account label: `names` in the data, else `hipaa-aws-<stack>-<key>`, and with `organization: true` the
    organization trail's copy `hipaa-aws-organization-<key>` (organization_alarms.py)."""
    key, entry = runbook.key, runbook.entry
    names = list(entry.get("names") or [f"hipaa-aws-<stack>-{key}"])
    if entry.get("organization"):
        names.append(f"hipaa-aws-organization-{key}")
    return names


def _bullets(items: list[str]) -> list[str]:
    return [f"- {item}" for item in items]


def render(runbook: Runbook, data: dict[str, Any]) -> str:
    e = runbook.entry
    lines = [
        f"# {e['title']}",
        "",
        "<!-- Generated by docs/generate_runbooks.py from docs/runbooks/data.yaml: edit those. -->",
        "",
        f"- Runbook key: `{runbook.key}`",
        f"- Source: {KINDS[runbook.kind]}",
        f"- Starting severity: **{e['severity']}**: {data['severities'][e['severity']]}",
    ]
    if runbook.kind == "finding":
        routes = ", ".join(f"`{r['source']}` / `{r['detail-type']}`" for r in e["routes"])
        lines.append(f"- EventBridge source / detail-type: {routes}")
        lines.append(f"- In Security Hub, `ProductName`: {', '.join(e.get('products', []))}")
    else:
        lines.append(f"- Alarm names: {', '.join(f'`{n}`' for n in alarm_names(runbook))}")
    lines += ["", "## What it means", "", e["means"], "",
              "## First checks", "",
              "Write each step's result and time into the OpsItem (or open one: "
              "`aws ssm create-ops-item --title ... --description ... --source hipaa-aws --category Security "
              "--severity <1-4>`).",
              ""]
    lines += [f"{i}. {step}" for i, step in enumerate(e["checks"], 1)]
    lines += ["", "## Containment", ""]
    lines += _bullets([f"**{ref}**: {data['containment'][ref]}" for ref in e["containment"]])
    lines += ["", "Containment changes production: the security officer approves it unless the incident "
              "commander judges that waiting lets PHI leave.", "",
              "## Evidence to preserve", "",
              "Preserve before you contain where you can; never delete or overwrite. Chain of custody: "
              "[incident-response.md](../incident-response.md#evidence-handling).", ""]
    lines += _bullets([data["evidence"][ref] for ref in e["evidence"]])
    lines += ["", "## Can it be a breach?", "",
              f"**{BREACH[e['breach']]}.** {e['why']}", "", BREACH_TEST, "",
              "## Who decides", ""]
    lines += _bullets([data["deciders"][ref] for ref in e["deciders"]])
    lines += ["", "## Close-out", "", CLOSE_OUT, ""]
    return "\n".join(lines)


def render_index(data: dict[str, Any]) -> str:
    lines = [
        "# Runbooks",
        "",
        "<!-- Generated by docs/generate_runbooks.py from docs/runbooks/data.yaml: edit those. -->",
        "",
        "One runbook per alarm and per routed finding type. Every alarm's description ends with "
        "`Runbook: docs/runbooks/<key>.md`; tests/test_runbooks.py fails when one is missing. The incident "
        "process, roles, severities and notification deadlines are in "
        "[incident-response.md](../incident-response.md).",
        "",
        "| Runbook | Source | Starting severity | Breach? |",
        "|---|---|---|---|",
    ]
    for runbook in runbooks(data):
        e = runbook.entry
        lines.append(f"| [{e['title']}]({runbook.key}.md) | {KINDS[runbook.kind]} | {e['severity']} | "
                     f"{BREACH[e['breach']]} |")
    return "\n".join(lines) + "\n"


def expected(data: Optional[dict[str, Any]] = None) -> dict[str, str]:
    """File name under docs/runbooks/ -> content."""
    data = data or load()
    files = {f"{runbook.key}.md": render(runbook, data) for runbook in runbooks(data)}
    files[INDEX] = render_index(data)
    return files


def main(argv: Optional[list[str]] = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    files = expected()
    present = {p.name for p in RUNBOOKS.glob("*.md")}
    if "--check" in argv:
        stale = sorted(name for name, text in files.items()
                       if not (RUNBOOKS / name).exists() or (RUNBOOKS / name).read_text() != text)
        extra = sorted(present - set(files))
        for name in stale:
            print(f"stale or missing: docs/runbooks/{name}", file=sys.stderr)
        for name in extra:
            print(f"not in data.yaml: docs/runbooks/{name}", file=sys.stderr)
        return 1 if stale or extra else 0
    for name in sorted(present - set(files)):
        (RUNBOOKS / name).unlink()
    for name, text in files.items():
        (RUNBOOKS / name).write_text(text)
    print(f"wrote {len(files)} files under docs/runbooks/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
