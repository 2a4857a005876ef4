"""Hand a recorded program run to the policy pack as the engine does at preview.

pkg/resource/deploy/step_generator.go: every registration (custom resources, components, the root
stack, default providers) gets Remediate then Analyze when its step is generated, with its checked
inputs, its options and its provider's inputs; Analyze diagnostics are filed under the resource's
URN. At the end (AnalyzeResources) AnalyzeStack gets every resource with its outputs, parent,
dependencies and the property dependencies that name a URN; a stack diagnostic whose URN is not a
resource of the stack is filed under the root stack. The request marshalling follows
sdk/go/common/resource/plugin/analyzer_plugin.go (`__` keys skipped, options, provider).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, Optional

import grpc
from pulumi.runtime.proto import analyzer_pb2

from . import engine
from .call_relay import UNIMPLEMENTED, AnalyzerCallRelay, RelayCallError
from .policy_pack_client import Diagnostic, PolicyPackProcess, Verdict
from .program_runner import ProgramRun, RecordedResource
from .stack_config import StackConfig


@dataclass(frozen=True)
class Judgement:
    resources: list[RecordedResource]
    by_resource: dict[str, Verdict]  # urn -> Remediate + Analyze verdict
    stack: Verdict                   # AnalyzeStack verdict (URNs already filed as the engine does)

    @property
    def diagnostics(self) -> list[Diagnostic]:
        out = []
        for urn, verdict in self.by_resource.items():
            # "For now, we always use the URN we have here rather than a URN specified with the diagnostic."
            out += [Diagnostic(d.policy, d.message, urn, d.enforcement, d.description)
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
    """analyzer_plugin.go marshalResourceOptions: every option, customTimeouts always present."""
    create, update, delete = resource.custom_timeouts
    return analyzer_pb2.AnalyzerResourceOptions(
        protect=bool(resource.protect), ignoreChanges=resource.ignore_changes,
        deleteBeforeReplace=bool(resource.delete_before_replace),
        deleteBeforeReplaceDefined=resource.delete_before_replace is not None,
        additionalSecretOutputs=resource.additional_secret_outputs, aliases=resource.aliases,
        customTimeouts=analyzer_pb2.AnalyzerResourceOptions.CustomTimeouts(
            create=create, update=update, delete=delete),
        parent=resource.parent)


def _provider_resource(provider: RecordedResource) -> analyzer_pb2.AnalyzerProviderResource:
    return analyzer_pb2.AnalyzerProviderResource(
        type=provider.type, urn=provider.urn, name=provider.name,
        properties=engine.skip_internal_keys(provider.properties))


def _provider(resource: RecordedResource, run_stack: str, project: str,
              config: StackConfig | str) -> Optional[analyzer_pb2.AnalyzerProviderResource]:
    """The provider the engine reports with a resource, built from the stack's config (a region
    alone stands for a config of just `aws:region`): the package's default provider with the
    `<package>:*` config and `version` as inputs, or the explicit provider named by its reference.
    Components, the root stack and providers themselves have none."""
    if not resource.custom or engine.is_provider_type(resource.type):
        return None
    if isinstance(config, str):
        config = StackConfig(project=project, stack=run_stack, values={"aws:region": config})
    explicit = resource.provider.rsplit("::", 1)[0] if resource.provider else ""
    if explicit and not explicit.rsplit("::", 1)[-1].startswith("default"):
        return analyzer_pb2.AnalyzerProviderResource(type=engine.qualified_type(explicit).rsplit("$", 1)[-1],
                                                     urn=explicit, name=explicit.rsplit("::", 1)[-1])
    package = resource.type.split(":", 1)[0]
    version = engine.default_plugin_version(package)
    name = engine.default_provider_name(version)
    type_ = f"{engine.PROVIDER_TYPE_PREFIX}{package}"
    return analyzer_pb2.AnalyzerProviderResource(
        type=type_, name=name, urn=engine.generate_urn(run_stack, project, "", type_, name),
        properties=engine.provider_inputs(config.values, config.secret_keys, package, version))


def _request(resource: RecordedResource, provider: Optional[analyzer_pb2.AnalyzerProviderResource],
             remediate: bool) -> analyzer_pb2.AnalyzeRequest:
    # Remediate gets every key (SkipInternalKeys: false); Analyze skips `__` keys.
    properties = resource.properties if remediate else engine.skip_internal_keys(resource.properties)
    request = analyzer_pb2.AnalyzeRequest(type=resource.type, properties=properties, urn=resource.urn,
                                          name=resource.name, options=_options(resource))
    if provider is not None:
        request.provider.CopyFrom(provider)
    return request


class _Providers:
    """step_generator.go getProviderResource: the provider resource sent with a resource (URN, type,
    name, inputs), from the registrations seen so far, one lookup per provider reference."""

    def __init__(self, records: dict[str, RecordedResource], config: Optional[StackConfig]):
        self.records = records
        self.config = config or StackConfig(project="project", stack="stack", values={})
        self._found: dict[str, Optional[analyzer_pb2.AnalyzerProviderResource]] = {}

    def __call__(self, resource: RecordedResource) -> Optional[analyzer_pb2.AnalyzerProviderResource]:
        if not resource.provider:
            return None
        if resource.provider not in self._found:
            provider = self.records.get(resource.provider.rsplit("::", 1)[0])
            self._found[resource.provider] = (
                _provider(resource, self.config.stack, self.config.project, self.config) if provider is None
                else _provider_resource(provider))
        return self._found[resource.provider]


_Requests = list[analyzer_pb2.AnalyzeRequest]


def engine_requests(run: ProgramRun, config: Optional[StackConfig] = None,
                    ) -> tuple[_Requests, _Requests, analyzer_pb2.AnalyzeStackRequest]:
    """Every request a finished run makes the engine send the pack: Remediate's and Analyze's for
    each registration, in order, and AnalyzeStack's (to compare packs or measure one)."""
    resources = run.engine_resources
    records = {r.urn: r for r in resources}
    provider_of = _Providers(records, config)
    return ([_request(r, provider_of(r), remediate=True) for r in resources],
            [_request(r, provider_of(r), remediate=False) for r in resources],
            analyzer_pb2.AnalyzeStackRequest(resources=stack_entries(resources, config, records)))


@dataclass
class _Calls:
    """One resource's Remediate and Analyze calls: relay call numbers, or answers already in hand."""

    remediation: Any = None  # a relay call number, or the remediation diagnostics when already applied
    analysis: Any = None     # a relay call number, or the Analyze response


class StreamingJudge:
    """Remediate then Analyze for each resource as it arrives, then the verdicts and AnalyzeStack.

    The calls go through a relay process (call_relay.py), one at a time in registration order, so
    the pack works on the other core while the program keeps its process to itself. With a policy
    at `remediate`, both calls are made at once, before the program goes on, as in the engine's
    step: the remediation is the resource's input for Analyze and for the program. Call `finish`
    with the run, or `abandon` when the program failed."""

    def __init__(self, pack: PolicyPackProcess, config: Optional[StackConfig] = None):
        self.pack = pack
        self.config = config
        self.records: dict[str, RecordedResource] = {}
        self.pending: dict[str, _Calls] = {}
        self._provider_of = _Providers(self.records, config)
        self.remediating = "remediate" in getattr(pack, "levels", {}).values()
        self._lock = threading.Lock()  # the program registers from several threads
        self._relay = None if self.remediating else AnalyzerCallRelay(pack.port)

    def submit(self, resource: RecordedResource) -> None:
        with self._lock:
            self.records[resource.urn] = resource
            provider = self._provider_of(resource)
            calls = self.pending[resource.urn] = _Calls()
            if self._relay is None:
                answer = _call(self.pack.stub.Remediate, _request(resource, provider, remediate=True))
                calls.remediation = _remediations(resource, answer)
                calls.analysis = self.pack.stub.Analyze(_request(resource, provider, remediate=False))
                return
            calls.remediation = self._send("Remediate", _request(resource, provider, remediate=True))
            calls.analysis = self._send("Analyze", _request(resource, provider, remediate=False))

    def _send(self, method: str, request) -> int:
        """Through the relay, logged as the pack's channel logs its own calls."""
        assert self._relay is not None
        self.pack.record(method, request)
        return self._relay.send(method, request)

    def stop(self) -> None:
        """No more resources: the relay answers what it was sent and ends."""
        if self._relay is not None:
            self._relay.close()

    def abandon(self) -> None:
        """The program failed: drop the calls not yet answered."""
        if self._relay is not None:
            self._relay.kill()

    def _verdict(self, urn: str) -> Verdict:
        calls = self.pending[urn]
        if self._relay is None:
            remediation, analysis = calls.remediation, calls.analysis
        else:
            resource = self.records[urn]
            before = resource.properties
            answer = _call(self._relay.answer, calls.remediation, analyzer_pb2.RemediateResponse)
            remediation = _remediations(resource, answer)
            analysis = self._relay.answer(calls.analysis, analyzer_pb2.AnalyzeResponse)
            if resource.properties is not before:  # remediated after all: analyze what it became
                provider = self._provider_of(resource)
                analysis = self.pack.stub.Analyze(_request(resource, provider, remediate=False))
        result = self.pack._verdict(analysis)
        return Verdict(remediation + result.diagnostics, result.not_applicable, result.reasons)

    def finish(self, run: ProgramRun) -> Judgement:
        resources = run.engine_resources
        for resource in resources:
            if resource.urn not in self.pending:
                self.submit(resource)
        self.stop()
        by_resource = {urn: self._verdict(urn) for urn in self.pending}
        verdict = self.pack.analyze_stack(stack_entries(resources, self.config, self.records))
        return Judgement(resources=resources, by_resource=by_resource,
                         stack=_file_stack_diagnostics(verdict, resources, run, self.config))


def _call(method, *args):
    """An RPC the engine skips when the analyzer does not implement it (codes.Unimplemented), made
    on the pack's channel or through the relay."""
    try:
        return method(*args)
    except RelayCallError as err:
        if err.code != UNIMPLEMENTED:
            raise
        return None
    except grpc.RpcError as err:
        return _unimplemented_or_raise(err)


def _remediations(resource: RecordedResource, response) -> list[Diagnostic]:
    """step_generator.go: a remediation's diagnostic is an advisory violation of the resource; its
    properties become the resource's inputs (and so, at preview, its planned outputs)."""
    diagnostics = []
    for r in getattr(response, "remediations", ()):
        if r.diagnostic:
            diagnostics.append(Diagnostic(r.policyName, r.diagnostic, resource.urn, "advisory",
                                          r.description))
        elif r.HasField("properties"):
            resource.properties = r.properties
            if resource.custom and not engine.is_provider_type(resource.type):
                resource.state = engine.preview_outputs(resource.type, r.properties,
                                                        resource.additional_secret_outputs)
            elif engine.is_provider_type(resource.type):
                resource.state = r.properties
    return diagnostics


def _unimplemented_or_raise(err: grpc.RpcError):
    """The engine skips an RPC the analyzer does not implement (codes.Unimplemented)."""
    if isinstance(err, grpc.Call) and err.code() == grpc.StatusCode.UNIMPLEMENTED:
        return None
    raise err


def _file_stack_diagnostics(verdict: Verdict, resources: list[RecordedResource], run: ProgramRun,
                            config: Optional[StackConfig]) -> Verdict:
    """AnalyzeResources: a diagnostic's URN if it is a resource of the stack, else the root stack's;
    `remediate` becomes `mandatory` (stack policies cannot remediate)."""
    urns = {r.urn for r in resources}
    stack = next((r.urn for r in resources if r.type == engine.ROOT_STACK_TYPE), "") or engine.root_stack_urn(
        run.stack, run.project or (config.project if config else "project"))
    return Verdict([Diagnostic(d.policy, d.message, d.urn if d.urn in urns else stack,
                               "mandatory" if d.enforcement == "remediate" else d.enforcement, d.description)
                    for d in verdict.diagnostics], verdict.not_applicable, verdict.reasons)


def stack_entries(
    resources: list[RecordedResource], config: Optional[StackConfig] = None,
    records: Optional[dict[str, RecordedResource]] = None,
) -> list[analyzer_pb2.AnalyzerResource]:
    """The AnalyzeStack request's resources: outputs, options, provider, parent, dependencies and the
    property dependencies that name at least one URN."""
    by_urn = records if records is not None else {r.urn: r for r in resources}
    config = config or StackConfig(project="project", stack="stack", values={})
    entries = []
    for resource in resources:
        entry = analyzer_pb2.AnalyzerResource(
            type=resource.type, properties=engine.skip_internal_keys(_stack_properties(resource)),
            urn=resource.urn, name=resource.name, options=_options(resource), parent=resource.parent,
            dependencies=resource.dependencies)
        provider = by_urn.get(resource.provider.rsplit("::", 1)[0]) if resource.provider else None
        described = (_provider_resource(provider) if provider is not None
                     else _provider(resource, config.stack, config.project, config) if resource.provider
                     else None)
        if described is not None:
            entry.provider.CopyFrom(described)
        for key, urns in resource.property_dependencies.items():
            if urns:  # "Skip properties that have no dependencies."
                entry.propertyDependencies[key].urns.extend(urns)
        entries.append(entry)
    return entries


def _stack_properties(resource: RecordedResource):
    """Unlike Analyze, AnalyzeStack is called on each resource's outputs (a run recorded before
    outputs were kept falls back to its inputs)."""
    if resource.state.fields or not resource.custom:
        return resource.state
    return resource.properties


def judge(run: ProgramRun, pack: PolicyPackProcess, config: Optional[StackConfig] = None) -> Judgement:
    """Judge a finished run (all calls issued now)."""
    return StreamingJudge(pack, config).finish(run)

