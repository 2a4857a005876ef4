"""Hand a recorded program run to the policy pack as the engine does at preview: Analyze for
each custom resource as it is registered, then AnalyzeStack once."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import grpc
from pulumi.runtime.proto import analyzer_pb2

from .policy_pack_client import Diagnostic, PolicyPackProcess, Verdict
from .program_runner import ProgramRun, RecordedResource
from .stack_config import StackConfig


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


def _provider(resource: RecordedResource, run_stack: str, project: str, region: str):
    """The provider the engine reports with each resource: the explicit one, or the package's
    default provider (`default_<version>`), which the SDK does not send but the engine creates."""
    if resource.provider:
        urn = resource.provider.rsplit("::", 1)[0]  # a provider reference is "<urn>::<id>"
        return analyzer_pb2.AnalyzerProviderResource(type=urn.split("::")[2], urn=urn,
                                                     name=urn.rsplit("::", 1)[-1])
    package = resource.type.split(":", 1)[0]
    version = _PROVIDER_VERSIONS.get(package, "")
    name = f"default_{version.replace('.', '_')}" if version else "default"
    provider = analyzer_pb2.AnalyzerProviderResource(
        type=f"pulumi:providers:{package}", name=name,
        urn=f"urn:pulumi:{run_stack}::{project}::pulumi:providers:{package}::{name}")
    if package == "aws":
        provider.properties.update({"region": region, "version": version})
    return provider


def _plugin_version(package: str) -> str:
    try:
        import json
        from importlib import resources
        plugin = resources.files(f"pulumi_{package}").joinpath("pulumi-plugin.json")
        return json.loads(plugin.read_text())["version"]
    except Exception:  # noqa: BLE001 - an unknown package simply has no version
        return ""


_PROVIDER_VERSIONS = {"aws": _plugin_version("aws")}


class StreamingJudge:
    """Submits Analyze for each resource as it arrives (the pack works on the other core while
    the program keeps running), then collects the verdicts and runs AnalyzeStack."""

    def __init__(self, pack: PolicyPackProcess, config: Optional[StackConfig] = None):
        self.pack = pack
        self.config = config or StackConfig(project="project", stack="stack", values={})
        self.pending: dict[str, grpc.Future] = {}  # urn -> the Analyze call in flight

    def submit(self, resource: RecordedResource) -> None:
        if not resource.custom:
            return  # the engine does not analyze component resources
        self.pending[resource.urn] = self.pack.stub.Analyze.future(analyzer_pb2.AnalyzeRequest(
            type=resource.type, properties=resource.properties, urn=resource.urn, name=resource.name,
            options=_options(resource),
            provider=_provider(resource, self.config.stack, self.config.project, self.config.region)))

    def finish(self, run: ProgramRun) -> Judgement:
        resources = [r for r in run.resources if r.custom]
        for resource in resources:
            if resource.urn not in self.pending:
                self.submit(resource)
        by_resource = {urn: self.pack._verdict(future.result()) for urn, future in self.pending.items()}
        return Judgement(resources=resources, by_resource=by_resource,
                         stack=self.pack.analyze_stack(stack_entries(resources, self.config)))


def stack_entries(resources: list[RecordedResource],
                  config: Optional[StackConfig] = None) -> list[analyzer_pb2.AnalyzerResource]:
    """The AnalyzeStack request's resources, with parents, dependencies and property dependencies."""
    entries = []
    for resource in resources:
        config = config or StackConfig(project="project", stack="stack", values={})
        entry = analyzer_pb2.AnalyzerResource(
            type=resource.type, properties=resource.properties, urn=resource.urn, name=resource.name,
            options=_options(resource), parent=resource.parent, dependencies=resource.dependencies,
            provider=_provider(resource, config.stack, config.project, config.region))
        for key, urns in resource.property_dependencies.items():
            entry.propertyDependencies[key].urns.extend(urns)
        entries.append(entry)
    return entries


def judge(run: ProgramRun, pack: PolicyPackProcess, config: Optional[StackConfig] = None) -> Judgement:
    """Judge a finished run (all Analyze calls issued now)."""
    return StreamingJudge(pack, config).finish(run)
