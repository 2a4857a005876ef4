"""SARIF 2.1.0 for code scanning: one rule per policy, one result per violation."""

from __future__ import annotations

from typing import Any

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
LEVELS = {"mandatory": "error", "advisory": "warning"}


def render_sarif(report: dict[str, Any], info, stack_file: str) -> dict[str, Any]:
    rules, index = [], {}
    for policy in info.policies:
        index[policy.name] = len(rules)
        rules.append({
            "id": policy.name,
            "name": "".join(part.capitalize() for part in policy.name.split("-")),
            "shortDescription": {"text": policy.description},
            "fullDescription": {"text": f"{policy.description} HIPAA Security Rule "
                                        f"{policy.framework.reference} ({policy.framework.specification})."},
            "help": {"text": policy.remediation_steps or policy.description},
            "properties": {"tags": list(policy.tags), "hipaa": policy.framework.reference},
        })
    results = []
    for group in report["violations"]:
        urn = group["resource"]["urn"]
        for f in group["findings"]:
            results.append({
                "ruleId": f["policy"],
                "ruleIndex": index.get(f["policy"], 0),
                "level": LEVELS.get(f["enforcement"], "note"),
                "message": {"text": f"{group['resource']['name']} ({group['resource']['type']}): "
                                    f"{f['message']}"},
                "locations": [{
                    "physicalLocation": {"artifactLocation": {"uri": stack_file},
                                         "region": {"startLine": 1}},
                    "logicalLocations": [{"fullyQualifiedName": urn, "kind": "resource"}],
                }],
                "partialFingerprints": {"pulumiUrnPolicy/v1": f"{urn}|{f['policy']}"},
            })
    from .governance import describe

    governance = next((p.name for p in info.policies if p.name == "hipaa-policy-exceptions-approved"), None)
    for d in report.get("deviations", []):
        # A deviation is not itself a violation (the governance policy's result is, when it lacks an
        # exception): an informational result, so code scanning shows every one, approved or not.
        results.append({
            "ruleId": governance or "pack-config-deviation", "ruleIndex": index.get(governance or "", 0),
            "kind": "informational", "level": "none",
            "message": {"text": f"Deviation from the pack's defaults: {describe(d)}"},
            "locations": [{"physicalLocation": {"artifactLocation": {"uri": report["policyPack"]["config"]},
                                                "region": {"startLine": 1}}}],
            "partialFingerprints": {"pulumiPackDeviation/v1": f"{d['policy']}|{d['setting'] or 'level'}"},
        })
    trace = report.get("trace") or {}
    run_properties: dict[str, Any] = {"classification": report.get("classification"),
                                      "deviations": report.get("deviations", []),
                                      "stack": report["stack"], "project": report["project"],
                                      "policyPack": report["policyPack"], "trace": trace or None}
    run: dict[str, Any] = {
        "tool": {"driver": {"name": "hipaa-aws-preflight", "version": report["policyPack"]["version"],
                            "informationUri": "https://www.hhs.gov/hipaa/for-professionals/security/index.html",
                            "rules": rules}},
        "automationDetails": {"id": f"preflight/{report['stack']}/"},
        "invocations": [invocation(report)],
        "properties": run_properties,
        "results": results,
    }
    provenance = version_control(trace)
    if provenance:
        run["versionControlProvenance"] = provenance
    return {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}


def sarif_time(iso: str) -> str:
    """SARIF's date/time form (SARIF 2.1.0 section 3.9, "Date/time properties"): UTC with a `Z`."""
    return iso.replace("+00:00", "Z")


def invocation(report: dict[str, Any]) -> dict[str, Any]:
    """The run of the preflight (SARIF 2.1.0 section 3.20, invocation object): it completed, so
    `executionSuccessful` is true whatever it found (violations are results, not a failed run); its
    exit code, time, and the CI run and trace fields in its property bag."""
    trace = report.get("trace") or {}
    ci = trace.get("ci")
    properties: dict[str, Any] = {"stack": report["stack"], "account": trace.get("account"),
                                  "region": trace.get("region")}
    if ci:
        properties["ciRun"] = ci
    return {"executionSuccessful": True, "exitCode": 0 if report["summary"]["passed"] else 1,
            "startTimeUtc": sarif_time(report["generatedAt"]), "properties": properties}


def version_control(trace: dict[str, Any]) -> list[dict[str, Any]]:
    """versionControlProvenance (SARIF 2.1.0 section 3.14.13, versionControlDetails): needs the
    repository's absolute URI, which only a CI run names (GITHUB_SERVER_URL/GITHUB_REPOSITORY); the
    commit alone is in the run's properties (`trace.git`) either way."""
    ci = (trace or {}).get("ci") or {}
    git = (trace or {}).get("git") or {}
    if not (ci.get("serverUrl") and ci.get("repository")):
        return []
    details: dict[str, Any] = {"repositoryUri": f"{ci['serverUrl']}/{ci['repository']}"}
    revision = git.get("commit") or ci.get("sha")
    if revision:
        details["revisionId"] = revision
    ref = ci.get("ref") or ""
    if ref.startswith("refs/heads/"):
        details["branch"] = ref[len("refs/heads/"):]
    elif ref.startswith("refs/tags/"):
        details["revisionTag"] = ref[len("refs/tags/"):]
    details["properties"] = {"treeClean": git.get("clean"), "gitState": git.get("state")}
    return [details]
