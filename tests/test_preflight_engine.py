"""Preflight = the engine: each test pins one behaviour of `pulumi preview --policy-pack` (v3.259.0)
that the offline preflight reproduces, and names the engine source it comes from
(github.com/pulumi/pulumi; /work/shared/ENGINE_FACTS.md)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from google.protobuf import json_format, struct_pb2
from pulumi.runtime.proto import analyzer_pb2

import preflight.__main__ as cli
from preflight import engine, policy_pack_client
from preflight.judge import Judgement, _file_stack_diagnostics, stack_entries
from preflight.policy_pack_client import Diagnostic, PolicyConfigError, PolicyPackProcess, Verdict
from preflight.program_runner import ProgramRun, RecordedResource
from preflight.stack_config import PROJECT_DIR
from tests.conftest import account_of, cached_run

UNKNOWN = engine.UNKNOWN
STACK_URN = "urn:pulumi:staging::hipaa-aws::pulumi:pulumi:Stack::hipaa-aws-staging"
OUTER = "urn:pulumi:staging::hipaa-aws::test:index:Outer::outer"
INNER = "urn:pulumi:staging::hipaa-aws::test:index:Outer$test:index:Inner::outer-inner"
BUCKET = "urn:pulumi:staging::hipaa-aws::test:index:Outer$test:index:Inner$aws:s3/bucket:Bucket::outer-inner"
VERSIONING = ("urn:pulumi:staging::hipaa-aws::test:index:Outer$test:index:Inner"
              "$aws:s3/bucketVersioning:BucketVersioning::outer-inner")
RAW = "urn:pulumi:staging::hipaa-aws::aws:s3/bucketPolicy:BucketPolicy::raw"
AWS_VERSION = engine.default_plugin_version("aws")
PROVIDER = f"urn:pulumi:staging::hipaa-aws::pulumi:providers:aws::default_{AWS_VERSION.replace('.', '_')}"

# Components two deep, every resource option, an output used as an input, a key the engine treats as
# internal, a resource that names no plugin version, and outputs on a component and on the stack.
PROGRAM = textwrap.dedent('''
    import pulumi
    import pulumi_aws as aws


    class Inner(pulumi.ComponentResource):
        def __init__(self, name, opts=None):
            super().__init__("test:index:Inner", name, None, opts)
            self.bucket = aws.s3.Bucket(name, bucket="x-docs", tags={"Purpose": "phi-documents"},
                opts=pulumi.ResourceOptions(
                    parent=self, protect=True, ignore_changes=["tags"], delete_before_replace=False,
                    additional_secret_outputs=["bucket"], aliases=[pulumi.Alias(name="old-docs")],
                    custom_timeouts=pulumi.CustomTimeouts(create="5m", update="1h30m", delete="10s")))
            self.versioning = aws.s3.BucketVersioning(
                name, bucket=self.bucket.id, versioning_configuration={"status": "Enabled"},
                opts=pulumi.ResourceOptions(parent=self))
            self.register_outputs({"bucketName": "x-docs"})


    class Outer(pulumi.ComponentResource):
        def __init__(self, name):
            super().__init__("test:index:Outer", name, None)
            self.inner = Inner(f"{name}-inner", pulumi.ResourceOptions(parent=self))


    outer = Outer("outer")
    pulumi.CustomResource("aws:s3/bucketPolicy:BucketPolicy", "raw",
                          {"bucket": "x-docs", "policy": "{}", "__meta": "internal"})
    pulumi.export("bucket", outer.inner.bucket.bucket)
''')


class _Capturing(PolicyPackProcess):
    """The pack as the CLI starts it, keeping every request it is sent."""

    made: list[_Capturing] = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, keep_requests=True, **kwargs)
        _Capturing.made.append(self)


def run_cli(tmp: Path, program: str = PROGRAM, pack_config: object = None, stack: str = "staging",
            *extra: str) -> tuple[int, str, _Capturing]:
    """`python -m preflight` in this process, on a small program, with the pack's traffic kept."""
    (tmp / "program.py").write_text(program)
    config = tmp / "pack.json"
    config.write_text(json.dumps({} if pack_config is None else pack_config))
    original, policy_pack_client.PolicyPackProcess = policy_pack_client.PolicyPackProcess, _Capturing
    try:
        argv = [stack, "--program", str(tmp / "program.py"), "--policy-pack-config", str(config),
                "--format", "json", *extra]
        code, text = cli.run(cli.parse_args(argv))
    finally:
        policy_pack_client.PolicyPackProcess = original
    return code, text, _Capturing.made[-1]


@pytest.fixture(scope="module")
def traffic(tmp_path_factory):
    code, text, pack = run_cli(tmp_path_factory.mktemp("engine"))
    assert code in (0, 1), text
    return pack


def sent(pack: _Capturing, method: str) -> list:
    return [request for name, request in pack.requests if name == method]


def by_urn(pack: _Capturing, method: str) -> dict:
    return {request.urn: request for request in sent(pack, method)}


def stack_resources(pack: _Capturing) -> dict[str, analyzer_pb2.AnalyzerResource]:
    (request,) = sent(pack, "AnalyzeStack")
    return {r.urn: r for r in request.resources}


def as_dict(message) -> dict:
    return json_format.MessageToDict(message)


# --- 1. URNs -------------------------------------------------------------------------------------

def test_urns_carry_the_parents_full_qualified_type_without_the_root_stack(traffic):
    """pkg/resource/deploy/deployment.go generateURN: the parent's full qualified type, `$`, the type;
    the root stack never part of it (the SDK mock keeps only the parent's last type, with the stack)."""
    analyzed = set(by_urn(traffic, "Analyze"))
    assert {OUTER, INNER, BUCKET, VERSIONING, RAW} <= analyzed
    assert not any("pulumi:pulumi:Stack$" in urn for urn in analyzed)


def test_the_projects_urns_match_pulumi_stack_export_and_every_reference_uses_them():
    """pkg/resource/deploy/deployment.go generateURN: a bucket inside SecureBucket inside PhiBucket
    inside HipaaEnvironment; parents, dependencies and property dependencies name the same URNs."""
    run = cached_run("staging", preview=True)
    bucket = run.named("hipaa-phi-documents", "aws:s3/bucket:Bucket")
    assert bucket.urn == ("urn:pulumi:staging::hipaa-aws::hipaa:components:HipaaEnvironment"
                          "$hipaa:components:PhiBucket$hipaa:components:SecureBucket"
                          "$aws:s3/bucket:Bucket::hipaa-phi-documents")
    urns = {r.urn for r in run.registrations}
    referenced = {r.parent for r in run.registrations if r.parent}
    referenced |= {u for r in run.registrations for u in r.dependencies}
    referenced |= {u for r in run.registrations for us in r.property_dependencies.values() for u in us}
    assert referenced <= urns


# --- 2. Which resources --------------------------------------------------------------------------

def test_components_the_root_stack_and_the_default_provider_are_analyzed_too(traffic):
    """pkg/resource/deploy/step_generator.go (generateSteps' analyzer pass, AnalyzeResources): every
    registration, not only custom resources, gets Analyze, and AnalyzeStack receives all of them."""
    everything = {STACK_URN, OUTER, INNER, PROVIDER, BUCKET, VERSIONING, RAW}
    assert set(by_urn(traffic, "Analyze")) == everything
    assert set(stack_resources(traffic)) == everything


def test_the_default_provider_is_registered_once_however_many_threads_register_at_once(monkeypatch):
    """pkg/resource/deploy/source_eval.go (defaultProviders): one default provider per package and
    version, registered before the first resource that uses it - also when the SDK's pool of threads
    registers several first resources of the package at the same moment (a slow provider set-up
    widens the window; before the monitor took a lock, a large program got three of them)."""
    import threading
    import time

    from pulumi.runtime.proto import resource_pb2

    from preflight.aws_mocks import AwsMocks
    from preflight.program_runner import RecordingMonitor
    from tests.conftest import stack_config

    real_inputs = engine.provider_inputs

    def slow_inputs(*args):
        time.sleep(0.05)
        return real_inputs(*args)

    monkeypatch.setattr(engine, "provider_inputs", slow_inputs)
    monitor = RecordingMonitor(AwsMocks(), preview=True, config=stack_config("staging"))
    request = resource_pb2.RegisterResourceRequest(type="aws:s3/bucket:Bucket", name="b", custom=True)
    barrier = threading.Barrier(8)
    references: list[str] = []

    def first_use() -> None:
        barrier.wait()
        references.append(monitor._default_provider(request))

    threads = [threading.Thread(target=first_use) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(references) == 8 and len(set(references)) == 1
    assert [r.type for r in monitor.registrations] == ["pulumi:providers:aws"]


# --- 3. Analyze properties -----------------------------------------------------------------------

def test_analyze_skips_internal_keys_that_remediate_still_gets(traffic):
    """sdk/go/common/resource/plugin/analyzer_plugin.go: Analyze and AnalyzeStack marshal with
    SkipInternalKeys (keys starting with `__` dropped), Remediate without."""
    assert "__meta" in by_urn(traffic, "Remediate")[RAW].properties.fields
    assert "__meta" not in by_urn(traffic, "Analyze")[RAW].properties.fields
    assert "__meta" not in stack_resources(traffic)[RAW].properties.fields
    assert as_dict(by_urn(traffic, "Analyze")[RAW].properties) == {"bucket": "x-docs", "policy": "{}"}


# --- 4. AnalyzeStack properties ------------------------------------------------------------------

def test_analyze_stack_gets_planned_outputs_registered_outputs_and_exports(traffic):
    """pkg/resource/deploy/step.go CreateStep.Apply (Preview: the provider's planned outputs) and
    step_generator.go AnalyzeResources ("AnalyzeStack is called on the final outputs"): a custom
    resource's inputs plus its computed properties, unknown; a component's registered outputs; the
    root stack's exports; additionalSecretOutputs secret."""
    resources = stack_resources(traffic)
    bucket = as_dict(resources[BUCKET].properties)
    assert bucket["arn"] == UNKNOWN and bucket["id"] == UNKNOWN and bucket["tagsAll"] == UNKNOWN
    assert bucket["tags"] == {"Purpose": "phi-documents"}
    assert bucket["bucket"] == {engine.SIG_KEY: engine.SECRET_SIG, "value": "x-docs"}
    assert "arn" not in by_urn(traffic, "Analyze")[BUCKET].properties.fields  # Analyze: inputs only
    assert as_dict(resources[INNER].properties) == {"bucketName": "x-docs"}
    assert as_dict(resources[OUTER].properties) == {}
    assert as_dict(resources[STACK_URN].properties) == {"bucket": "x-docs"}


# --- 5. Options ----------------------------------------------------------------------------------

def test_every_resource_option_is_sent_as_the_engine_marshals_it(traffic):
    """analyzer_plugin.go marshalResourceOptions with step_generator.go's state: protect, parent,
    ignoreChanges, deleteBeforeReplace and whether it was set, additionalSecretOutputs, customTimeouts
    in seconds (always present), and aliases: only an alias that matched an old resource, so none
    when previewing a new stack whatever the program declares."""
    expected = {"protect": True, "ignoreChanges": ["tags"], "deleteBeforeReplaceDefined": True,
                "additionalSecretOutputs": ["bucket"], "parent": INNER,
                "customTimeouts": {"create": 300.0, "update": 5400.0, "delete": 10.0}}
    assert as_dict(by_urn(traffic, "Analyze")[BUCKET].options) == expected
    assert as_dict(stack_resources(traffic)[BUCKET].options) == expected
    plain = by_urn(traffic, "Analyze")[VERSIONING].options
    assert plain.HasField("customTimeouts") and not plain.deleteBeforeReplaceDefined and not plain.protect
    assert list(plain.aliases) == []


# --- 6. Provider ---------------------------------------------------------------------------------

def test_the_default_provider_has_the_stacks_aws_config_and_version(traffic):
    """deployment.go / source_eval.go default providers and step_generator.go getProviderResource:
    `pulumi:providers:aws::default_<version>`, no parent, its inputs the stack's `aws:*` config (as
    strings) plus `version`; sent with each aws resource (also one naming no version: the language
    host's version applies) and analyzed itself, with no provider of its own."""
    inputs = {"region": "us-east-1", "allowedAccountIds": f'["{account_of("staging")}"]',
              "version": AWS_VERSION}
    analyzed = by_urn(traffic, "Analyze")
    assert as_dict(analyzed[PROVIDER].properties) == inputs
    assert not analyzed[PROVIDER].HasField("provider") and not analyzed[PROVIDER].options.parent
    for urn in (BUCKET, VERSIONING, RAW):
        provider = analyzed[urn].provider
        assert (provider.urn, provider.type, provider.name) == (
            PROVIDER, "pulumi:providers:aws", PROVIDER.rsplit("::", 1)[-1])
        assert as_dict(provider.properties) == inputs
    for urn in (STACK_URN, OUTER, INNER):
        assert not analyzed[urn].HasField("provider")


# --- 7. Property dependencies --------------------------------------------------------------------

def test_property_dependencies_without_urns_are_dropped(traffic):
    """analyzer_plugin.go AnalyzeStack: "Skip properties that have no dependencies"."""
    versioning = stack_resources(traffic)[VERSIONING]
    assert {k: list(v.urns) for k, v in versioning.propertyDependencies.items()} == {"bucket": [BUCKET]}
    resource = RecordedResource(
        urn="urn:pulumi:s::p::t:m:T::r", type="t:m:T", name="r", custom=False, parent="", provider="",
        protect=None, retain_on_delete=None, ignore_changes=[], dependencies=[],
        property_dependencies={"a": [], "b": [BUCKET]}, properties=struct_pb2.Struct())
    (entry,) = stack_entries([resource])
    assert list(entry.propertyDependencies) == ["b"]


# --- 8. Call order -------------------------------------------------------------------------------

def test_the_pack_is_called_in_the_engines_order(traffic):
    """analyzer_plugin.go NewPolicyAnalyzer (Handshake at plugin start, then ConfigureStack),
    pkg/engine/update.go installAndLoadPolicyPlugins (GetAnalyzerInfo, Configure), step_generator.go
    (Remediate then Analyze per resource) and AnalyzeResources (AnalyzeStack once, last). The pack does
    not implement Handshake; the engine carries on, and so does preflight."""
    methods = [method for method, _ in traffic.calls]
    assert methods[:4] == ["Handshake", "ConfigureStack", "GetAnalyzerInfo", "Configure"]
    assert methods[-1] == "AnalyzeStack" and methods.count("AnalyzeStack") == 1
    per_resource = traffic.calls[4:-1]
    for urn in by_urn(traffic, "Analyze"):
        mine = [method for method, u in per_resource if u == urn]
        assert mine == ["Remediate", "Analyze"], urn


def test_configure_stack_and_the_packs_environment_describe_the_stack(traffic):
    """analyzer_plugin.go NewPolicyAnalyzer (AnalyzerStackConfigureRequest) and constructEnv
    (PULUMI_CONFIG, PULUMI_PROJECT, PULUMI_STACK, PULUMI_ORGANIZATION, PULUMI_DRY_RUN); stack tags as
    backend GetEnvironmentTagsForCurrentStack derives them from Pulumi.yaml."""
    (request,) = sent(traffic, "ConfigureStack")
    assert (request.stack, request.project, request.organization, request.dry_run) == (
        "staging", "hipaa-aws", "organization", True)
    assert request.config["aws:region"] == "us-east-1"
    assert request.config["hipaa-aws:dataClassification"] == "synthetic"
    assert dict(request.tags) == {"pulumi:project": "hipaa-aws", "pulumi:runtime": "python",
                                  "pulumi:description": engine.yaml.safe_load(
                                      (PROJECT_DIR / "Pulumi.yaml").read_text())["description"]}
    environ = traffic.environment  # what the pack's process was started with
    assert environ["PULUMI_STACK"] == "staging" and environ["PULUMI_PROJECT"] == "hipaa-aws"
    assert environ["PULUMI_DRY_RUN"] == "true" and environ["PULUMI_ORGANIZATION"] == "organization"
    assert json.loads(environ["PULUMI_CONFIG"])["aws:region"] == "us-east-1"


def test_stack_diagnostics_are_filed_under_a_stack_resource_or_the_root_stack():
    """step_generator.go AnalyzeResources: a stack diagnostic's URN is kept when it is a resource of
    the stack, else (empty, or unknown) it is the root stack's; `remediate` reports as mandatory. Analyze
    diagnostics always carry the analyzed resource's URN."""
    run = cached_run("staging", preview=True)
    bucket = run.named("hipaa-phi-documents", "aws:s3/bucket:Bucket")
    verdict = Verdict([Diagnostic("p", "m", "", "mandatory", "d"),
                       Diagnostic("p", "m", "urn:pulumi:staging::hipaa-aws::x:y:Z::gone", "advisory", "d"),
                       Diagnostic("p", "m", bucket.urn, "remediate", "d")], [])
    filed = _file_stack_diagnostics(verdict, run.registrations, run, None)
    assert [(d.urn, d.enforcement) for d in filed.diagnostics] == [
        (STACK_URN, "mandatory"), (STACK_URN, "advisory"), (bucket.urn, "mandatory")]
    judged = Judgement(resources=[bucket], stack=Verdict([], []), by_resource={
        bucket.urn: Verdict([Diagnostic("p", "m", "urn:elsewhere", "mandatory", "d")], [])})
    assert [d.urn for d in judged.diagnostics] == [bucket.urn]


# --- 9. Pack config ------------------------------------------------------------------------------

def test_schema_defaults_are_filled_and_unknown_keys_pass_with_a_warning(tmp_path):
    """pkg/resource/analyzer/config.go createConfigWithDefaults and convertSchema (type, properties,
    required; no additionalProperties): a key no schema declares passes; preflight warns about it."""
    policy = "aws-ec2-sg-internet-ingress-authorized-ports"
    config = {policy: {"allowedPublicPorts": [443], "typo": 1}}
    code, text, pack = run_cli(tmp_path, "import pulumi\n", config)
    assert code == 0, text
    (configure,) = sent(pack, "Configure")
    assert as_dict(configure.policyConfig[policy].properties) == {"allowedPublicPorts": [443], "typo": 1}
    defaults = as_dict(configure.policyConfig["aws-phi-stack-threat-detection"].properties)
    assert defaults["accountControlsProvidedBy"] == "stack"  # a schema default, though not configured
    assert any(policy in w and "'typo'" in w for w in pack.warnings)


def test_each_property_is_validated_against_its_full_schema(tmp_path):
    """config.go validatePolicyConfig (gojsonschema: enum, type, minimum, pattern...) and update.go's
    "validating policy config: <pack> <version>  <error>" lines: the preview stops (exit 2)."""
    code, text, _ = run_cli(tmp_path, "import pulumi\n", {
        "aws-phi-stack-threat-detection": {"accountControlsProvidedBy": "nobody"},
        "aws-ec2-sg-internet-ingress-authorized-ports": {"allowedPublicPorts": "443"}})
    assert code == 2
    lines = text.splitlines()
    assert len(lines) == 2
    head = "validating policy config: hipaa-aws 1.0.0  "
    assert lines[0].endswith(f"{head}aws-ec2-sg-internet-ingress-authorized-ports: "
                             "allowedPublicPorts: Invalid type. Expected: array, given: string")
    assert lines[1].endswith(f"{head}aws-phi-stack-threat-detection: accountControlsProvidedBy: "
                             "accountControlsProvidedBy must be one of the following: "
                             '"stack", "organization", "control-tower", "owner-stack"')


def test_all_sets_every_level_and_a_policys_own_entry_wins(pack):
    """config.go applyConfig: `all` (a valid level) sets every policy's enforcement level, then each
    policy's entry applies."""
    pack.configure({"all": "advisory", "aws-rds-multi-az": "disabled"})
    try:
        assert pack.levels["aws-rds-multi-az"] == "disabled"
        assert {level for name, level in pack.levels.items() if name != "aws-rds-multi-az"} == {"advisory"}
        verdict = pack.analyze("aws:rds/instance:Instance", {"deletionProtection": False})
        assert {d.enforcement for d in verdict.violations} == {"advisory"}
    finally:
        pack.configure({})


def test_the_packs_initial_config_applies_before_the_files():
    """config.go ReconcilePolicyPackConfig: defaults and each policy's level, then the pack's initial
    config, then the given config."""
    policies = [engine.PolicyInfo("a", "mandatory", {"n": {"type": "integer", "default": 1, "minimum": 0},
                                                     "enforcementLevel": {"type": "string"}}, ()),
                engine.PolicyInfo("b", "mandatory", {}, ())]
    initial = {"a": engine.PolicyConfig("advisory", {"n": 2}), "b": engine.PolicyConfig("disabled")}
    given = {"a": engine.PolicyConfig("", {"n": 3})}
    result, errors = engine.reconcile_policy_pack_config(policies, initial, given)
    assert errors == []
    assert (result["a"].level, result["a"].properties) == ("advisory", {"n": 3})
    assert result["b"].level == "disabled"
    given = {"a": engine.PolicyConfig("", {"n": -1})}
    _, errors = engine.reconcile_policy_pack_config(policies, initial, given)
    assert errors == ["a: n: Must be greater than or equal to 0"]


def test_unknown_policies_pass_as_the_engine_lets_them_but_a_bare_setting_does_not(pack):
    """config.go parsePolicyPackConfig / applyConfig and analyzer_plugin.go Configure: an unknown
    policy name with a level is passed on (preflight warns), an empty entry is dropped, and one with
    only settings has no valid enforcement level, which Configure refuses."""
    try:
        pack.configure({"aws-made-up": "advisory", "aws-also-made-up": {}})
        assert any("aws-made-up" in w for w in pack.warnings)
        with pytest.raises(PolicyConfigError, match='invalid enforcement level ""'):
            pack.configure({"aws-made-up": {"x": 1}})
        with pytest.raises(PolicyConfigError, match='"loud" is not a valid enforcement level'):
            pack.configure({"aws-rds-multi-az": "loud"})
    finally:
        pack.configure({})


def test_a_stack_without_a_pack_config_file_is_told_which_file_to_create():
    """pkg/resource/analyzer/config.go LoadPolicyPackConfigFromFile: the engine fails when the config
    file cannot be read; preflight says so in one line naming the file to create."""
    result = subprocess.run([sys.executable, "-m", "preflight", "qa", "--stack-file",
                             str(PROJECT_DIR / "stacks" / "Pulumi.staging.yaml")],
                            cwd=PROJECT_DIR, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and result.stdout == ""
    assert len(result.stderr.splitlines()) == 1
    assert "create policy/config/qa.json" in result.stderr and "Traceback" not in result.stderr


def test_a_run_without_a_stack_registration_still_files_to_the_root_stack_urn():
    """resource.DefaultRootStackURN (step_generator.go AnalyzeResources): `<project>-<stack>`."""
    run = ProgramRun(stack="dev", resources=[], stack_outputs={}, preview=True, project="proj")
    filed = _file_stack_diagnostics(Verdict([Diagnostic("p", "m", "", "advisory", "d")], []), [], run, None)
    assert filed.diagnostics[0].urn == "urn:pulumi:dev::proj::pulumi:pulumi:Stack::proj-dev"


REMEDIATING_PACK = textwrap.dedent('''
    from pulumi_policy import EnforcementLevel, PolicyPack, ResourceValidationPolicy


    def remediate(args):
        if args.resource_type == "aws:s3/bucket:Bucket":
            return {**args.props, "tags": {"Remediated": "yes"}}
        return None


    def validate(args, report_violation):
        if args.resource_type == "aws:s3/bucket:Bucket" and args.props.get("tags") != {"Remediated": "yes"}:
            report_violation("not remediated")


    PolicyPack(name="remediating", enforcement_level=EnforcementLevel.MANDATORY, policies=[
        ResourceValidationPolicy(name="tagger", description="tags buckets", remediate=remediate,
                                 enforcement_level=EnforcementLevel.REMEDIATE),
        ResourceValidationPolicy(name="tagged", description="buckets are tagged", validate=validate),
    ])
''')


def test_a_remediation_becomes_the_inputs_that_analyze_and_the_program_see(tmp_path):
    """step_generator.go (generateSteps, the analyzer passes): Remediate first; its properties replace
    the inputs for Analyze, for the provider (so the planned outputs the program and AnalyzeStack see)."""
    from tests.conftest import judge_program

    run, judgement, pack = judge_program(tmp_path, REMEDIATING_PACK, textwrap.dedent('''
        import pulumi
        import pulumi_aws as aws
        bucket = aws.s3.Bucket("docs", tags={"Purpose": "x"})
        pulumi.export("tags", bucket.tags)
    '''))
    assert judgement.violations == []
    (bucket,) = [r for r in run.resources if r.type == "aws:s3/bucket:Bucket"]
    (analyzed,) = [r for r in sent(pack, "Analyze") if r.urn == bucket.urn]
    assert as_dict(analyzed.properties)["tags"] == {"Remediated": "yes"}
    assert as_dict(bucket.state)["tags"] == {"Remediated": "yes"}
    assert run.stack_outputs["tags"] == {"Remediated": "yes"}
