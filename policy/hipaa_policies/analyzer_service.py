"""The pack's Analyzer gRPC service: pulumi-policy's own, doing each resource's work once.

pulumi-policy (1.21) answers Analyze by looping over every resource policy and, for each one,
converting the request's properties (protobuf Struct -> dict -> unknown-checking proxy) and its
provider's inputs before calling the policy, which for most policies only says "not applicable
to this type". With about a hundred resource policies, a resource cost a hundred conversions,
and AnalyzeStack converted every resource once per stack policy. That made the pack's cost per
resource grow with the number of policies, whatever the resource's type.

This service gives the engine the same answers (tests/test_analyzer_service.py compares it with
the SDK's service on every request both stacks send, and on odd ones), but:
- a policy built by `framework.resource_policy` declares the types it judges; for any other type
  it is answered "not applicable" with the reason the policy itself gives, without being called;
- a resource's properties, options and provider are converted once per request and shared by
  the policies that apply (the SDK's proxy could be written to, but every policy of this pack
  reads it through `framework.plain`, which copies it, and builds its own views per call);
- AnalyzeStack converts each resource once for all stack policies;
- Remediate converts nothing when no policy is configured to `remediate` (the SDK then answers
  with an empty response after converting the resource).

One difference remains, for malformed input only: properties the SDK cannot convert (an unknown
signature) fail the SDK's RPC whenever any policy is active, but fail ours only when a policy applies
to the type (or, for Remediate, when a policy is at `remediate`).

Governance (hipaa_policies/governance.py) is this service's one addition to what the SDK decides:
- in a PHI stack (the stack's config from ConfigureStack OR the pack config's holdsPhi says so),
  the policies of governance.NON_LOWERABLE run at `mandatory` whatever the pack config says;
- the governance policy receives every policy's default and configured level and settings and the
  stack's config (GovernanceArgs), which a policy of the SDK's service cannot see.
A subclass with `governed = False` answers exactly as the SDK's service (tests compare the two).

Everything else - configuration, enforcement levels, the diagnostics' wording, GetAnalyzerInfo,
the server itself - is the SDK's. The SDK offers no hook for its service class, so `serve` puts
this class in its place before `PolicyPack` builds the server.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from inspect import isawaitable
from typing import Any, NamedTuple, Optional

import pulumi_policy.policy as sdk
from google.protobuf import json_format
from pulumi.runtime.proto import analyzer_pb2 as proto
from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyPack,
    PolicyResource,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.deserialize import deserialize_properties
from pulumi_policy.policy import _NotApplicableError
from pulumi_policy.proxy import UnknownValueError, unknown_checking_proxy


class TypedResourcePolicy(ResourceValidationPolicy):
    """A resource policy that judges only `resource_types` (None: every type). For any other type its
    validation says `not_applicable_reason` before anything else - under the SDK's own service too -
    which is what lets TypeDispatchingAnalyzer answer that without calling it."""

    def __init__(self, resource_types: Optional[frozenset[str]], not_applicable_reason: str,
                 validate: Optional[Callable[[ResourceValidationArgs, Any], Any]] = None,
                 **kwargs: Any) -> None:
        def validate_if_applicable(args: ResourceValidationArgs, report_violation: Any) -> Any:
            if not self.applies_to(args.resource_type):
                args.not_applicable(not_applicable_reason)
            assert validate is not None
            return validate(args, report_violation)

        # A policy without a validation (remediation only) stays one: the SDK reports it so.
        super().__init__(validate=validate_if_applicable if callable(validate) else validate, **kwargs)
        self.resource_types = resource_types
        self.not_applicable_reason = not_applicable_reason

    def applies_to(self, resource_type: str) -> bool:
        return self.resource_types is None or resource_type in self.resource_types


class _TypePlan(NamedTuple):
    """Analyze for one resource type: the policies to call, with their levels, in the pack's order;
    the other policies' "not applicable" answers, ready made, as one message to copy into each
    response (`skipped`), and split where each call falls in the pack's order (`between`: the answers
    before the first call, between the first and the second, ..., after the last)."""

    calls: list[tuple[ResourceValidationPolicy, EnforcementLevel]]
    skipped: proto.AnalyzeResponse
    between: list[proto.AnalyzeResponse]


class _ResourceView(NamedTuple):
    """One request's resource as policies receive it, built once per request."""

    props: Any
    opts: sdk.PolicyResourceOptions
    provider: Optional[sdk.PolicyProviderResource]


def _proxied(struct) -> Any:
    return unknown_checking_proxy(deserialize_properties(json_format.MessageToDict(struct)))


class TypeDispatchingAnalyzer(sdk._PolicyAnalyzerServicer):  # noqa: SLF001 - see the module docstring
    """The SDK's Analyzer service with Analyze, AnalyzeStack and Remediate doing per-resource work once."""

    governed = True  # False: no governance, the SDK's answers exactly (see the module docstring)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._plans: dict[str, _TypePlan] = {}
        self._stack_config: dict[str, str] = {}
        self._project = ""
        self._floor: frozenset[str] = self._mandatory_floor()
        self._remediating = self._any_remediating()  # any resource policy at `remediate`; per Configure

    # The SDK keeps these in name-mangled attributes of its class.
    @property
    def _policies(self) -> list[Policy]:
        return self._PolicyAnalyzerServicer__policies  # type: ignore[attr-defined]

    @property
    def _pack_name(self) -> str:
        return self._PolicyAnalyzerServicer__policy_pack_name  # type: ignore[attr-defined]

    @property
    def _pack_version(self) -> str:
        return self._PolicyAnalyzerServicer__policy_pack_version  # type: ignore[attr-defined]

    @property
    def _stack_tags(self):
        return self._PolicyAnalyzerServicer__stack_tags  # type: ignore[attr-defined]

    def _pack_state(self):
        """What governance judges: each policy's default level and schema, its configured level and
        settings (the engine sends every policy, defaults and `all` applied), the stack's config."""
        from .governance import PackState  # governance imports framework, which imports this module

        pack_level = self._PolicyAnalyzerServicer__policy_pack_enforcement_level  # type: ignore[attr-defined]
        settings = self._PolicyAnalyzerServicer__policy_pack_config  # type: ignore[attr-defined]
        defaults, configured = {}, {}
        for policy in self._policies:
            schema = policy.config_schema.properties if policy.config_schema is not None else {}
            defaults[policy.name] = ((policy.enforcement_level or pack_level).value, dict(schema or {}))
            configured[policy.name] = (super()._get_enforcement_level(policy).value,
                                       dict(settings.get(policy.name) or {}))
        return PackState(defaults, configured, dict(self._stack_config), self._project)

    def _mandatory_floor(self) -> frozenset[str]:
        """The policies kept at `mandatory` at least: governance's non-lowerable ones, in a PHI stack."""
        from .governance import NON_LOWERABLE

        if not self.governed or not self._pack_state().classification().phi:
            return frozenset()
        return frozenset(NON_LOWERABLE)

    def _get_enforcement_level(self, policy: Policy) -> EnforcementLevel:
        level = super()._get_enforcement_level(policy)
        if policy.name in self._floor and level in (EnforcementLevel.ADVISORY, EnforcementLevel.DISABLED):
            return EnforcementLevel.MANDATORY
        return level

    def _active(self, kind: type) -> Iterable[tuple[Policy, EnforcementLevel]]:
        """The policies of `kind` that are not disabled, in the pack's order, each with the level
        its violations are reported at (`remediate` reports as `mandatory`, as in the SDK)."""
        for policy in self._policies:
            level = self._get_enforcement_level(policy)
            if level == EnforcementLevel.DISABLED or not isinstance(policy, kind):
                continue
            yield policy, (EnforcementLevel.MANDATORY if level == EnforcementLevel.REMEDIATE else level)

    def _view(self, request) -> _ResourceView:
        provider = None
        if request.HasField("provider"):
            given = request.provider
            provider = sdk.PolicyProviderResource(given.type, _proxied(given.properties), given.urn, given.name)
        return _ResourceView(_proxied(request.properties), self._get_resource_options(request), provider)

    def _call(self, policy: ResourceValidationPolicy | StackValidationPolicy, level: EnforcementLevel,
              response: proto.AnalyzeResponse, args: ResourceValidationArgs | StackValidationArgs) -> None:
        """Run one policy's validation; a value unknown at preview becomes the SDK's advisory
        "can't run policy ... during preview" diagnostic, not-applicable its entry."""
        report = self._create_report_violation(response, policy.name, policy.description, level,
                                               policy.severity)
        try:
            result = policy.validate(args, report)  # type: ignore[arg-type]
            if isawaitable(result):
                loop = asyncio.new_event_loop()
                try:
                    loop.run_until_complete(asyncio.ensure_future(result, loop=loop))
                finally:
                    loop.close()
        except UnknownValueError as unknown:
            response.diagnostics.append(proto.AnalyzeDiagnostic(
                policyName=policy.name, policyPackName=self._pack_name,
                policyPackVersion=self._pack_version,
                message=(f"can't run policy '{policy.name}' from policy pack "
                         f"'{self._pack_name}@v{self._pack_version}' during preview: {unknown.message}"),
                urn="", description=policy.description,
                enforcementLevel=self._map_enforcement_level(EnforcementLevel.ADVISORY)))
        except _NotApplicableError as not_applicable:
            response.not_applicable.append(proto.PolicyNotApplicable(
                policy_name=policy.name, reason=not_applicable.reason or ""))

    def Configure(self, request, context):
        response = super().Configure(request, context)
        self._floor = self._mandatory_floor()
        self._plans = {}  # enforcement levels may have changed
        self._remediating = self._any_remediating()
        return response

    def ConfigureStack(self, request, context):
        response = super().ConfigureStack(request, context)
        self._stack_config = dict(request.config)  # the classification (`<project>:dataClassification`)
        self._project = request.project
        self._floor = self._mandatory_floor()
        self._plans = {}
        return response

    def _any_remediating(self) -> bool:
        return any(self._get_enforcement_level(policy) == EnforcementLevel.REMEDIATE
                   for policy in self._policies if isinstance(policy, ResourceValidationPolicy))

    def _plan(self, resource_type: str) -> _TypePlan:
        """What Analyze does for a type, built once per type and configuration, so that a resource
        costs only the policies written for its type."""
        plans = self._plans  # Configure may replace the dict meanwhile; use one
        if (known := plans.get(resource_type)) is not None:
            return known
        calls: list[tuple[ResourceValidationPolicy, EnforcementLevel]] = []
        between = [proto.AnalyzeResponse()]
        for policy, level in self._active(ResourceValidationPolicy):
            assert isinstance(policy, ResourceValidationPolicy)
            reason = ("Policy does not implement validate" if not policy.has_validation()
                      else policy.not_applicable_reason
                      if isinstance(policy, TypedResourcePolicy) and not policy.applies_to(resource_type)
                      else None)
            if reason is None:
                calls.append((policy, level))
                between.append(proto.AnalyzeResponse())
            else:
                between[-1].not_applicable.add(policy_name=policy.name, reason=reason)
        skipped = proto.AnalyzeResponse()
        for part in between:
            skipped.MergeFrom(part)
        plan = _TypePlan(calls, skipped, between)
        plans[resource_type] = plan
        return plan

    def Analyze(self, request, context):
        self._configure_runtime_settings()
        response = proto.AnalyzeResponse()
        plan = self._plan(request.type)
        view: Optional[_ResourceView] = None
        raised: dict[int, list[proto.PolicyNotApplicable]] = {}
        for index, (policy, level) in enumerate(plan.calls):
            view = view or self._view(request)
            args = ResourceValidationArgs(request.type, view.props, request.urn, request.name, view.opts,
                                          view.provider, self._get_policy_config(policy.name),
                                          self._stack_tags)
            before = len(response.not_applicable)
            self._call(policy, level, response, args)
            if len(response.not_applicable) > before:
                raised[index] = list(response.not_applicable[before:])
        if not raised:  # the usual case: the skipped policies' answers, copied at once
            response.MergeFrom(plan.skipped)
            return response
        # A called policy said "not applicable" itself: its entry goes where the SDK would put it.
        del response.not_applicable[:]
        for index, part in enumerate(plan.between):
            response.MergeFrom(part)
            response.not_applicable.extend(raised.get(index, []))
        return response

    def _stack_resources(self, request) -> list[PolicyResource]:
        """Every resource of the request, converted once, linked to its parent and dependencies."""
        resources = [PolicyResource(r.type, view.props, r.urn, r.name, view.opts, view.provider, None, [], {})
                     for r in request.resources for view in (self._view(r),)]
        by_urn = {resource.urn: resource for resource in resources}
        for given, resource in zip(request.resources, resources, strict=True):
            resource.parent = by_urn.get(given.parent)
            resource.dependencies = [by_urn[urn] for urn in given.dependencies if urn in by_urn]
            resource.property_dependencies = {
                key: [by_urn[urn] for urn in urns.urns if urn in by_urn]
                for key, urns in given.propertyDependencies.items()}
        return resources

    def AnalyzeStack(self, request, context):
        self._configure_runtime_settings()
        response = proto.AnalyzeResponse()
        resources: Optional[list[PolicyResource]] = None
        for policy, level in self._active(StackValidationPolicy):
            assert isinstance(policy, StackValidationPolicy)
            resources = resources if resources is not None else self._stack_resources(request)
            args = StackValidationArgs(resources, self._get_policy_config(policy.name), self._stack_tags)
            if self.governed and policy.name == self._governance_policy():
                from .governance import GovernanceArgs

                args = GovernanceArgs(args, self._pack_state())
            self._call(policy, level, response, args)
        return response

    @staticmethod
    def _governance_policy() -> str:
        from .governance import GOVERNANCE_POLICY

        return GOVERNANCE_POLICY

    def Remediate(self, request, context):
        if self._remediating:
            return super().Remediate(request, context)
        return proto.RemediateResponse()  # no policy code runs, so no runtime settings to refresh


def serve(**pack_arguments: Any) -> None:
    """Serve the pack as `PolicyPack(**pack_arguments)` does, with TypeDispatchingAnalyzer."""
    sdk._PolicyAnalyzerServicer = TypeDispatchingAnalyzer  # noqa: SLF001
    PolicyPack(**pack_arguments)
