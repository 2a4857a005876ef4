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
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "hipaa-aws-preflight", "version": report["policyPack"]["version"],
                                "informationUri": "https://www.hhs.gov/hipaa/for-professionals/security/index.html",
                                "rules": rules}},
            "automationDetails": {"id": f"preflight/{report['stack']}/"},
            "properties": {"classification": report.get("classification"),
                           "deviations": report.get("deviations", [])},
            "results": results,
        }],
    }
