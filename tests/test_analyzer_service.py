"""The pack's Analyzer service (policy/hipaa_policies/analyzer_service.py) answers exactly as
pulumi-policy's own service does, while a resource costs only the policies written for its type.

Both services run in this process on the same requests: every Remediate, Analyze and AnalyzeStack
request the preflight sends for the prod and staging stacks, configured from their pack configs as
the engine configures them, plus odd requests and configurations."""

from __future__ import annotations

import json
import runpy
import sys

import pytest
from pulumi.runtime.proto import analyzer_pb2

import preflight.__main__ as cli
from preflight import engine
from preflight.judge import engine_requests
from preflight.policy_pack_client import PolicyPackProcess, stack_resource, to_struct
from preflight.stack_config import PROJECT_DIR, load_stack_config
from tests.conftest import cached_run

POLICY_DIR = PROJECT_DIR / "policy"
sys.path.insert(0, str(POLICY_DIR))

import pulumi_policy.policy as sdk  # noqa: E402
from pulumi_policy import EnforcementLevel  # noqa: E402

from hipaa_policies import ALL_POLICIES, analyzer_service  # noqa: E402
from hipaa_policies.analyzer_service import TypedResourcePolicy, TypeDispatchingAnalyzer  # noqa: E402

BUCKET = "aws:s3/bucket:Bucket"
OTHER = "test:index/other:Other"


def _servicer(kind: type, policies: list, setup: list[tuple[str, object]]):
    servicer = kind("hipaa-aws", "1.0.0", policies, EnforcementLevel.MANDATORY, None, None, None, None, None,
                    None, None)
    for method, request in setup:
        getattr(servicer, method)(request, None)
    return servicer


def _engine_setup(stack: str, pack_config: str) -> list[tuple[str, object]]:
    """ConfigureStack and Configure exactly as preflight sends them (the pack config reconciled the
    engine's way), taken from a real run of the pack."""
    config = load_stack_config(stack)
    with PolicyPackProcess(POLICY_DIR, stack=cli.stack_context(config, PROJECT_DIR), keep_requests=True) as pack:
        pack.configure(pack_config)
        return [(m, r) for m, r in pack.requests if m in ("ConfigureStack", "Configure")]


def _stack_requests(stack: str) -> tuple[list, list, analyzer_pb2.AnalyzeStackRequest]:
    return engine_requests(cached_run(stack, preview=True), load_stack_config(stack))


class Ungoverned(TypeDispatchingAnalyzer):
    """The pack's service without governance (its one addition, tests/test_policy_exceptions.py)."""

    governed = False


def _assert_same_answers(setup, remediate, analyze, whole, policies=ALL_POLICIES) -> None:
    sdk_service = _servicer(sdk._PolicyAnalyzerServicer, policies, setup)  # noqa: SLF001
    ours = _servicer(Ungoverned, policies, setup)
    for request in remediate:
        assert ours.Remediate(request, None) == sdk_service.Remediate(request, None), request.urn
    for request in analyze:
        assert ours.Analyze(request, None) == sdk_service.Analyze(request, None), request.urn
    assert ours.AnalyzeStack(whole, None) == sdk_service.AnalyzeStack(whole, None)


@pytest.mark.parametrize("stack", ["prod", "staging"])
def test_every_answer_for_the_stacks_is_the_sdks(stack):
    remediate, analyze, whole = _stack_requests(stack)
    setup = _engine_setup(stack, (POLICY_DIR / "config" / f"{stack}.json").read_text())
    _assert_same_answers(setup, remediate, analyze, whole)


def _odd_requests() -> list[analyzer_pb2.AnalyzeRequest]:
    unknown = engine.UNKNOWN
    provider = analyzer_pb2.AnalyzerProviderResource(
        type="pulumi:providers:aws", urn="urn:pulumi:s::p::pulumi:providers:aws::default", name="default",
        properties=to_struct({"region": "us-east-1",
                              "accessKey": {"4dabf18193072939515e22adb298388d":
                                            "1b47061264138c4ac30d75fd1eb44270", "value": "AKIA"}}))
    shapes = [
        (BUCKET, {"bucket": unknown, "tags": unknown}),                      # unknown at preview
        (BUCKET, {"serverSideEncryptionConfiguration": ["not", "an", "object"], "tags": [1, 2]}),
        ("aws:rds/instance:Instance", {"storageEncrypted": "yes", "kmsKeyId": ""}),
        ("aws:iam/policy:Policy", {"policy": json.dumps({"Statement": [{"Effect": "Allow", "Action": "*",
                                                                          "Resource": "*"}]})}),
        ("aws:sagemaker/notebookInstance:NotebookInstance", {}),            # outside the BAA list?
        (OTHER, {"anything": {"nested": [unknown]}}),                        # no policy claims it
        ("hipaa:components:Thing", {}),                                      # a component
        ("pulumi:providers:aws", {"region": "us-east-1"}),
    ]
    requests = []
    for i, (type_, props) in enumerate(shapes):
        request = analyzer_pb2.AnalyzeRequest(type=type_, properties=to_struct(props), name=f"r{i}",
                                              urn=f"urn:pulumi:s::p::{type_}::r{i}",
                                              options=analyzer_pb2.AnalyzerResourceOptions(protect=bool(i % 2)))
        if type_.startswith("aws:"):
            request.provider.CopyFrom(provider)
        requests.append(request)
    return requests


@pytest.mark.parametrize("pack_config", [
    {},
    {"all": "advisory", "aws-s3-sse-customer-managed-key": "disabled", "aws-s3-bucket-has-versioning": "disabled"},
    # A policy at `remediate` sends Remediate down the SDK's own path (no policy here remediates).
    {"aws-rds-storage-encrypted": "remediate", "aws-s3-bucket-has-lifecycle": "remediate"},
], ids=["defaults", "advisory-and-disabled", "remediate-level"])
def test_odd_requests_and_configurations_get_the_sdks_answers(pack_config):
    requests = _odd_requests()
    policy_names = {p.name for p in ALL_POLICIES}
    assert set(pack_config) - {"all"} <= policy_names  # the configs name real policies
    whole = analyzer_pb2.AnalyzeStackRequest(resources=[
        stack_resource(r.type, r.name, r.properties, urn=r.urn, parent=requests[6].urn,
                       dependencies=[requests[0].urn, "urn:not:in:stack"],
                       property_dependencies={"bucket": [requests[0].urn], "empty": []})
        for r in requests])
    setup = _engine_setup("staging", json.dumps(pack_config))
    _assert_same_answers(setup, requests, requests, whole)


def _counting_policies(count: int, calls: list[str]) -> list[TypedResourcePolicy]:
    def validate(args, report_violation):
        calls.append(args.resource_type)
    return [TypedResourcePolicy(frozenset({OTHER}), f"applies to {OTHER}", name=f"extra-{i}",
                                description="a policy for another type", validate=validate)
            for i in range(count)]


def test_a_resource_costs_only_the_policies_written_for_its_type(monkeypatch):
    """Three hundred more policies for another type: a bucket is still converted once (and its
    provider once), none of them is called, and each is still reported not applicable."""
    conversions: list[object] = []
    real = analyzer_service._proxied

    def counting(struct):
        conversions.append(struct)
        return real(struct)

    monkeypatch.setattr(analyzer_service, "_proxied", counting)
    (bucket,) = [r for r in _odd_requests() if r.type == BUCKET][:1]
    setup = _engine_setup("staging", "{}")
    calls: list[str] = []
    answers = []
    for extra in (0, 300):
        service = _servicer(TypeDispatchingAnalyzer, ALL_POLICIES + _counting_policies(extra, calls), setup)
        conversions.clear()
        answers.append(service.Analyze(bucket, None))
        assert len(conversions) == 2  # the properties and the provider's inputs
    assert calls == []
    extra_entries = [n for n in answers[1].not_applicable if n.policy_name.startswith("extra-")]
    assert len(extra_entries) == 300 and {n.reason for n in extra_entries} == {f"applies to {OTHER}"}
    assert list(answers[1].diagnostics) == list(answers[0].diagnostics)
    # ...and a resource of that type is judged by all of them.
    (other,) = [r for r in _odd_requests() if r.type == OTHER]
    _servicer(TypeDispatchingAnalyzer, ALL_POLICIES + _counting_policies(300, calls), setup).Analyze(other, None)
    assert calls == [OTHER] * 300


def test_analyze_stack_converts_each_resource_once_for_all_stack_policies(monkeypatch):
    views: list[str] = []
    real = TypeDispatchingAnalyzer._view

    def counting(self, request):
        views.append(request.urn)
        return real(self, request)

    monkeypatch.setattr(TypeDispatchingAnalyzer, "_view", counting)
    _, _, whole = _stack_requests("staging")
    service = _servicer(TypeDispatchingAnalyzer, ALL_POLICIES, _engine_setup("staging", "{}"))
    service.AnalyzeStack(whole, None)
    stack_policies = [p for p in ALL_POLICIES if isinstance(p, sdk.StackValidationPolicy)]
    assert len(stack_policies) > 10
    assert sorted(views) == sorted(r.urn for r in whole.resources)


def test_remediate_converts_nothing_when_no_policy_remediates(monkeypatch):
    converted: list[object] = []
    monkeypatch.setattr(analyzer_service, "_proxied", lambda struct: converted.append(struct))
    monkeypatch.setattr(sdk, "deserialize_properties", lambda *a, **k: converted.append(a))
    service = _servicer(TypeDispatchingAnalyzer, ALL_POLICIES, _engine_setup("staging", "{}"))
    answer = service.Remediate(_odd_requests()[0], None)
    assert answer == analyzer_pb2.RemediateResponse() and converted == []


def test_the_pack_process_serves_every_policy_through_this_service(monkeypatch):
    """policy/__main__.py, as the CLI runs it, builds pulumi-policy's PolicyPack with this service."""
    served: dict[str, object] = {}

    def fake_pack(**arguments):
        served.update(arguments, service=sdk._PolicyAnalyzerServicer)  # noqa: SLF001

    monkeypatch.setattr(sdk, "_PolicyAnalyzerServicer", sdk._PolicyAnalyzerServicer)  # restored after
    monkeypatch.setattr(analyzer_service, "PolicyPack", fake_pack)
    monkeypatch.chdir(POLICY_DIR)
    runpy.run_path(str(POLICY_DIR / "__main__.py"), run_name="__main__")
    assert served["service"] is TypeDispatchingAnalyzer
    assert served["policies"] == ALL_POLICIES and served["name"] == "hipaa-aws"
    assert served["enforcement_level"] == EnforcementLevel.MANDATORY


def test_every_resource_policy_of_the_pack_declares_its_types():
    """A resource policy built another way would be called for every resource again."""
    resource_policies = [p for p in ALL_POLICIES if isinstance(p, sdk.ResourceValidationPolicy)]
    assert resource_policies and all(isinstance(p, TypedResourcePolicy) for p in resource_policies)
    assert all(p.resource_types is None or p.resource_types for p in resource_policies)


@pytest.mark.parametrize("later", [
    {"all": "advisory", "aws-s3-sse-customer-managed-key": "disabled"},
    {"aws-rds-storage-encrypted": "remediate"},
], ids=["levels", "remediate"])
def test_a_later_configuration_replaces_what_analyze_and_remediate_planned(later):
    """Levels come from Configure; a pack configured again (say, by a long-lived host) answers by the new levels."""
    first = _engine_setup("staging", "{}")
    second = [(m, r) for m, r in _engine_setup("staging", json.dumps(later)) if m == "Configure"]
    services = [_servicer(kind, ALL_POLICIES, first) for kind in (sdk._PolicyAnalyzerServicer,  # noqa: SLF001
                                                                    TypeDispatchingAnalyzer)]
    requests = _odd_requests()

    def answers(service):
        return [service.Analyze(r, None) for r in requests] + [service.Remediate(r, None) for r in requests]

    before = [answers(s) for s in services]
    for service in services:
        service.Configure(second[0][1], None)
    after = [answers(s) for s in services]
    assert before[0] == before[1] and after[0] == after[1] and before[1] != after[1]


def test_a_policy_that_finds_itself_not_applicable_is_listed_where_the_sdk_lists_it():
    """A policy written for buckets may still decide a bucket is not its business; its entry sits
    between the skipped policies' entries in the pack's order, as the SDK puts it."""
    def only_phi(args, report_violation):
        args.not_applicable("only PHI buckets")

    middle = len(ALL_POLICIES) // 2
    policies = (ALL_POLICIES[:middle]
                + [TypedResourcePolicy(frozenset({BUCKET}), f"applies to {BUCKET}", name="phi-buckets-only",
                                       description="a policy that excuses itself", validate=only_phi)]
                + ALL_POLICIES[middle:])
    requests = _odd_requests()
    whole = analyzer_pb2.AnalyzeStackRequest(resources=[stack_resource(r.type, r.name, r.properties, urn=r.urn)
                                                        for r in requests])
    _assert_same_answers(_engine_setup("staging", "{}"), requests, requests, whole, policies)
    answer = _servicer(TypeDispatchingAnalyzer, policies, _engine_setup("staging", "{}")).Analyze(requests[0], None)
    assert "phi-buckets-only" in [n.policy_name for n in answer.not_applicable]
