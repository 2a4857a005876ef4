"""The preflight report: one JSON-ready structure every output format is rendered from.

Shape (schemaVersion 2), documented in docs/preflight-report.md:
    stack, project, policyPack{name, version, config}, generatedAt, declarations[{policy, key, value}],
    trace{git{commit, clean, dirtyFiles, state}, program{sha256, files, project}, policyPack{sha256, files,
          path}, policyPackConfig{path, sha256}, stackFile{path, sha256}, account, region, ci{...} | null}
          (preflight/provenance.py),
    summary{resources, policies, mandatoryViolations, advisoryViolations, notJudged, deviations, passed},
    classification{stackFile, packConfig, phi, agree, wrong, explanation},
    deviations[ {policy, setting, default, configured, status, exception{policy, setting, reason, approver,
                 expires} | null, nonLowerable} ]  (every deviation from the pack's defaults, PASSED or not),
    violations[ {resource{urn, type, name}, findings[{policy, enforcement, severity, message,
                 remediation, hipaa{reference, specification}}]} ],
    notJudged[ {policy, urn, reason} ],
    evidence[ {reference, specification, policies[{name, description, scope, compliantResources[],
               notApplicable[{urn, reason}], violations, notJudged}]} ]
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

from pulumi.runtime.proto import analyzer_pb2

from .judge import Judgement

SCHEMA_VERSION = 2  # 2: trace, and evidence's notApplicable
SEVERITIES = {analyzer_pb2.POLICY_SEVERITY_LOW: "low", analyzer_pb2.POLICY_SEVERITY_MEDIUM: "medium",
              analyzer_pb2.POLICY_SEVERITY_HIGH: "high", analyzer_pb2.POLICY_SEVERITY_CRITICAL: "critical"}


def _policy_info(info) -> dict[str, Any]:
    return {p.name: p for p in info.policies}


# The reasons the pack gives for a resource of a type a policy does not judge (policy/hipaa_policies/
# framework.py's resource_policy, baa.py for non-AWS types): no statement about the resource itself.
OTHER_TYPE_REASONS = ("applies to ", "judges the resources of AWS services")

# Pack config keys that record a reviewed decision the pack relies on instead of a resource.
DECLARATION_KEYS = ("accountControlsProvidedBy",)


def declarations(pack_config: dict[str, Any]) -> list[dict[str, str]]:
    """Reviewed declarations in the stack's pack config (e.g. who runs the account's GuardDuty)."""
    found = []
    for policy, entry in sorted(pack_config.items()):
        if not isinstance(entry, dict):
            continue
        for key in DECLARATION_KEYS:
            value = entry.get(key)
            if value not in (None, "stack"):
                found.append({"policy": policy, "key": key, "value": str(value)})
    return found


def build_report(*, stack: str, project: str, info, levels: dict[str, str], config_path: str,
                 judgement: Judgement, pack_config: dict[str, Any] | None = None,
                 version: str | None = None, governance: dict[str, Any] | None = None,
                 trace: dict[str, Any] | None = None) -> dict[str, Any]:
    """`version`: the pack's version as the CLI reports it (PulumiPolicy.yaml's); default the pack's.
    `governance`: preflight/governance.py's classification and deviations.
    `trace`: preflight/provenance.py's trace (commit, digests, account, region, CI run)."""
    governance = governance or {"classification": None, "deviations": []}
    policies = _policy_info(info)
    resources = {r.urn: r for r in judgement.resources}

    def hipaa(name: str) -> dict[str, str]:
        framework = policies[name].framework if name in policies else None
        return {"reference": getattr(framework, "reference", ""),
                "specification": getattr(framework, "specification", "")}

    grouped: dict[str, list[dict]] = defaultdict(list)
    for d in judgement.violations:
        meta = policies.get(d.policy)
        grouped[d.urn].append({
            "policy": d.policy, "enforcement": d.enforcement,
            "severity": SEVERITIES.get(meta.severity, "unspecified") if meta is not None else "unspecified",
            "message": d.violation, "remediation": meta.remediation_steps if meta is not None else "",
            "hipaa": hipaa(d.policy)})
    violations = []
    for urn, findings in sorted(grouped.items()):
        resource = resources.get(urn)
        violations.append({
            "resource": {"urn": urn, "type": resource.type if resource else "",
                         "name": resource.name if resource else urn.rsplit("::", 1)[-1]},
            "findings": sorted(findings, key=lambda f: (f["enforcement"] != "mandatory", f["policy"]))})

    not_judged = [{"policy": d.policy, "urn": d.urn, "reason": d.message.split("during preview: ", 1)[-1]}
                  for d in judgement.not_judged]

    # Evidence: which resources each enabled policy judged and found compliant.
    compliant: dict[str, list[str]] = defaultdict(list)
    # A policy the pack says does not apply to a resource of its own type (an asymmetric KMS key, a
    # TCP listener), with the pack's reason; "applies to <types>" only says the resource is of
    # another type, which is no statement about the resource, so it is left out.
    inapplicable: dict[str, list[dict[str, str]]] = defaultdict(list)
    flagged = defaultdict(int)
    unjudged = defaultdict(int)
    for d in judgement.violations:
        flagged[d.policy] += 1
    for d in judgement.not_judged:
        unjudged[d.policy] += 1
    resource_policies = [n for n, p in policies.items() if p.policy_type == analyzer_pb2.POLICY_TYPE_RESOURCE]
    for urn, verdict in judgement.by_resource.items():
        touched = set(verdict.not_applicable) | {d.policy for d in verdict.diagnostics}
        for name in verdict.not_applicable:
            reason = verdict.reasons.get(name, "")
            if not reason.startswith(OTHER_TYPE_REASONS):
                inapplicable[name].append({"urn": urn, "reason": reason})
        for name in resource_policies:
            if levels.get(name) != "disabled" and name not in touched:
                compliant[name].append(urn)
    stack_touched = {d.policy for d in judgement.stack.diagnostics} | set(judgement.stack.not_applicable)
    for name in judgement.stack.not_applicable:
        inapplicable[name].append({"urn": "(whole stack)", "reason": judgement.stack.reasons.get(name, "")})
    sections: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for name, policy in sorted(policies.items()):
        if levels.get(name) == "disabled":
            continue
        is_stack = policy.policy_type == analyzer_pb2.POLICY_TYPE_STACK
        entry = {"name": name, "description": policy.description,
                 "scope": "stack" if is_stack else "resource",
                 "compliantResources": (["(whole stack)"] if is_stack and name not in stack_touched
                                        else sorted(compliant.get(name, []))),
                 "notApplicable": sorted(inapplicable.get(name, []), key=lambda n: n["urn"]),
                 "violations": flagged[name], "notJudged": unjudged[name]}
        sections[(policy.framework.reference, policy.framework.specification)].append(entry)
    evidence = [{"reference": ref, "specification": spec, "policies": entries}
                for (ref, spec), entries in sorted(sections.items())]

    mandatory = sum(1 for d in judgement.violations if d.enforcement == "mandatory")
    advisory = sum(1 for d in judgement.violations if d.enforcement == "advisory")
    return {
        "schemaVersion": SCHEMA_VERSION,
        "stack": stack,
        "project": project,
        "policyPack": {"name": info.name, "version": version or info.version, "config": config_path},
        "generatedAt": datetime.now(UTC).replace(microsecond=0).isoformat(),
        "summary": {"resources": len(judgement.resources), "policies": len(policies),
                    "mandatoryViolations": mandatory, "advisoryViolations": advisory,
                    "notJudged": len(not_judged), "deviations": len(governance["deviations"]),
                    "passed": mandatory == 0},
        "trace": trace,
        "declarations": declarations(pack_config or {}),
        "classification": governance["classification"],
        "deviations": governance["deviations"],
        "violations": violations,
        "notJudged": not_judged,
        "evidence": evidence,
    }
