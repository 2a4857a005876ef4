"""Hand a recorded program run to the policy pack, resource by resource and then as a stack,
exactly as the engine does at preview."""

from __future__ import annotations

from dataclasses import dataclass

from pulumi.runtime.proto import analyzer_pb2

from .policy_pack_client import Diagnostic, PolicyPackProcess, Verdict
from .program_runner import ProgramRun, RecordedResource


@dataclass(frozen=True)
class Judgement:
    resources: list[RecordedResource]
    by_resource: dict[str, Verdict]  # urn -> Analyze verdict
    stack: Verdict                   # AnalyzeStack verdict

    @property
    def diagnostics(self) -> list[Diagnostic]:
        out = []
        for urn, verdict in self.by_resource.items():
            out += [Diagnostic(d.policy, d.message, d.urn or urn, d.enforcement, d.description)
                    for d in verdict.diagnostics]
        return out + list(self.stack.diagnostics)

    @property
    def violations(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if not d.not_judged]

    @property
    def mandatory(self) -> list[Diagnostic]:
        return [d for d in self.violations if d.enforcement == "mandatory"]

    @property
    def not_judged(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.not_judged]


def _options(resource: RecordedResource) -> analyzer_pb2.AnalyzerResourceOptions:
    return analyzer_pb2.AnalyzerResourceOptions(protect=bool(resource.protect), parent=resource.parent)


def judge(run: ProgramRun, pack: PolicyPackProcess) -> Judgement:
    """Analyze every custom resource, then AnalyzeStack once (the engine skips components)."""
    resources = [r for r in run.resources if r.custom]
    by_resource = {}
    for resource in resources:
        by_resource[resource.urn] = pack._verdict(pack.stub.Analyze(analyzer_pb2.AnalyzeRequest(
            type=resource.type, properties=resource.properties, urn=resource.urn, name=resource.name,
            options=_options(resource))))
    stack_resources = []
    for resource in resources:
        entry = analyzer_pb2.AnalyzerResource(
            type=resource.type, properties=resource.properties, urn=resource.urn, name=resource.name,
            options=_options(resource), parent=resource.parent, dependencies=resource.dependencies)
        for key, urns in resource.property_dependencies.items():
            entry.propertyDependencies[key].urns.extend(urns)
        stack_resources.append(entry)
    stack = pack.analyze_stack(stack_resources)
    return Judgement(resources=resources, by_resource=by_resource, stack=stack)
