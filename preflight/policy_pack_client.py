"""Drive the policy pack over the Analyzer gRPC protocol, the way the Pulumi CLI does.

The pack runs as its own process (`python __main__.py` in its directory, with the stack's
PULUMI_* environment), prints the port it listens on, and is called as the engine calls it
(sdk/go/common/resource/plugin/analyzer_plugin.go NewPolicyAnalyzer, pkg/engine/update.go
installAndLoadPolicyPlugins): Handshake, ConfigureStack, GetAnalyzerInfo, Configure (the pack config
reconciled and validated as pkg/resource/analyzer/config.go does), then Remediate and Analyze per
resource and AnalyzeStack once. An RPC the pack does not implement is skipped where the engine
skips it.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import grpc
import yaml
from google.protobuf import empty_pb2, struct_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc

from . import engine

POLICY_DIR = Path(__file__).resolve().parent.parent / "policy"
ENFORCEMENT_LEVELS = {"advisory": analyzer_pb2.ADVISORY, "mandatory": analyzer_pb2.MANDATORY,
                      "disabled": analyzer_pb2.DISABLED, "remediate": analyzer_pb2.REMEDIATE}
LEVEL_NAMES = {v: k for k, v in ENFORCEMENT_LEVELS.items()}


class PolicyConfigError(Exception):
    """The pack config file is not valid for this pack (names the policy and the problem)."""


@dataclass(frozen=True)
class Diagnostic:
    policy: str
    message: str
    urn: str
    enforcement: str  # advisory | mandatory | disabled | remediate
    description: str

    @property
    def violation(self) -> str:
        """The violation message without the policy description the SDK prepends."""
        return self.message.removeprefix(self.description).lstrip("\n")

    @property
    def not_judged(self) -> bool:
        """The SDK's report that a policy (or a remediation) could not run because a value is unknown."""
        return "during preview:" in self.message and self.message.startswith(("can't run policy",
                                                                                  "can't run remediation"))


@dataclass(frozen=True)
class Verdict:
    diagnostics: list[Diagnostic]
    not_applicable: list[str]
    reasons: dict[str, str] = field(default_factory=dict)
    """Each not-applicable policy's reason, as the pack gave it (the evidence report shows them)."""

    @property
    def violations(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if not d.not_judged]

    @property
    def not_judged(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.not_judged]

    def messages(self, policy: str) -> list[str]:
        return [d.violation for d in self.violations if d.policy == policy]


def to_struct(properties: Mapping[str, Any] | struct_pb2.Struct) -> struct_pb2.Struct:
    if isinstance(properties, struct_pb2.Struct):
        return properties
    struct = struct_pb2.Struct()
    struct.update(json.loads(json.dumps(properties)))
    return struct


class _CallLog(grpc.UnaryUnaryClientInterceptor):
    """Records each RPC of the pack's channel as it is issued (PolicyPackProcess.record)."""

    def __init__(self, pack: PolicyPackProcess):
        self.pack = pack

    def intercept_unary_unary(self, continuation, client_call_details, request):
        self.pack.record(client_call_details.method.rsplit("/", 1)[-1], request)
        return continuation(client_call_details, request)


class PolicyPackProcess:
    """A running policy pack and a client for it. Use as a context manager.

    With a `stack`, the pack is started and told about it as the engine does for a preview; without
    one (tests that call the pack directly) it is started as for `pulumi policy publish`: no stack."""

    def __init__(self, policy_dir: Path = POLICY_DIR, python: Optional[str] = None,
                 stack: Optional[engine.StackContext] = None, keep_requests: bool = False,
                 started: Optional[tuple[subprocess.Popen, dict[str, str]]] = None):
        """`started`: the process engine.start_policy_pack already started (for this stack).
        `keep_requests` logs every RPC in `calls` and keeps its request in `requests` (tests)."""
        self.policy_dir = Path(policy_dir)
        self.process, self.environment = started or engine.start_policy_pack(self.policy_dir, stack, python)
        stdout, stderr = self.process.stdout, self.process.stderr
        assert stdout is not None and stderr is not None  # both are pipes (PIPE above)
        line = stdout.readline().decode().strip()
        if not line.isdigit():
            self.process.kill()
            raise RuntimeError(f"policy pack did not start: {line!r} "
                               f"{stderr.read().decode()[-2000:]}")
        self.port = line
        self.keep_requests = keep_requests
        self.calls: list[tuple[str, str]] = []  # with keep_requests: each RPC as issued, (method, urn)
        self.requests: list[tuple[str, Any]] = []  # with keep_requests: (method, request)
        self.channel = grpc.insecure_channel(f"127.0.0.1:{line}")
        channel = grpc.intercept_channel(self.channel, _CallLog(self)) if keep_requests else self.channel
        self.stub = analyzer_pb2_grpc.AnalyzerStub(channel)
        self.levels: dict[str, str] = {}
        self.settings: dict[str, dict[str, Any]] = {}
        self.warnings: list[str] = []
        self._handshake()
        if stack is not None:
            self._configure_stack(stack)
        self.info = self.stub.GetAnalyzerInfo(empty_pb2.Empty())

    def record(self, method: str, request: Any) -> None:
        """With keep_requests, log an RPC as it is issued - on this channel or through a relay:
        (method, urn of the request if it has one), and the request."""
        if self.keep_requests:
            self.calls.append((method, getattr(request, "urn", "")))
            self.requests.append((method, request))

    def _handshake(self) -> None:
        """The plugin's handshake; the engine carries on whatever it answers (Unimplemented included)."""
        directory = str(self.policy_dir)
        try:
            self.stub.Handshake(analyzer_pb2.AnalyzerHandshakeRequest(
                engine_address="", root_directory=directory, program_directory=directory))
        except grpc.RpcError:
            pass

    def _configure_stack(self, stack: engine.StackContext) -> None:
        """ConfigureStack: the stack, project, organization, tags, dry run, config and its secret keys.
        Unimplemented is fine (an older pack); any other failure stops the preview."""
        try:
            self.stub.ConfigureStack(analyzer_pb2.AnalyzerStackConfigureRequest(
                stack=stack.stack, project=stack.project, organization=stack.organization,
                dry_run=stack.dry_run, config=dict(stack.config), config_secret_keys=list(stack.secret_keys),
                tags=dict(stack.tags)))
        except grpc.RpcError as err:
            if not (isinstance(err, grpc.Call) and err.code() == grpc.StatusCode.UNIMPLEMENTED):
                raise

    def __enter__(self) -> PolicyPackProcess:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self.channel.close()
        self.process.kill()
        self.process.wait()
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()

    def policy_names(self) -> list[str]:
        return [p.name for p in self.info.policies]

    def configure(self, file_config: Mapping[str, Any] | str | None = None) -> None:
        """Configure as the engine does with `--policy-pack-config`: parse the file's entries, fill
        each policy's schema defaults and level, apply the pack's initial config then the file's
        (`all` sets every level), validate each policy's properties against its schema, and send
        the result. Raises PolicyConfigError with the engine's messages when the engine refuses it;
        what the engine accepts silently (unknown policy names, keys no schema declares) is sent
        too and listed in `warnings`."""
        try:
            given = engine.parse_policy_pack_config(file_config)
        except engine.PackConfigError as err:
            raise PolicyConfigError(str(err)) from None
        if not self.info.supportsConfig:
            if given:
                raise PolicyConfigError(f'policy pack "{self.info.name}" at "{self.policy_dir.name}" '
                                        "does not support config")
            return
        policies = engine.policy_infos(self.info)
        initial = engine.initial_config(self.info)
        result, errors = engine.reconcile_policy_pack_config(policies, initial, given)
        if errors:
            raise PolicyConfigError("\n".join(sorted(
                f"validating policy config: {self.info.name} {self.version}  {e}" for e in errors)))
        invalid = sorted(name for name, c in result.items() if c.level not in engine.ENFORCEMENT_LEVELS)
        if invalid:
            raise PolicyConfigError(f'configuring policy pack "{self.info.name}" at '
                                    f'"{self.policy_dir.name}": invalid enforcement level '
                                    f'"{result[invalid[0]].level}"')
        self.warnings = _warnings(policies, given)
        request = analyzer_pb2.ConfigureAnalyzerRequest()
        for name, config in result.items():
            entry = analyzer_pb2.PolicyConfig(enforcementLevel=ENFORCEMENT_LEVELS[config.level])
            entry.properties.update(config.properties or {})
            request.policyConfig[name].CopyFrom(entry)
        self.stub.Configure(request)
        known = {p.name for p in policies}
        self.levels = {name: config.level for name, config in result.items() if name in known}
        # Each policy's settings as sent (schema defaults filled in): the report lists deviations from them.
        self.settings = {name: dict(config.properties or {})
                         for name, config in result.items() if name in known}

    @property
    def version(self) -> str:
        """The pack's version as the CLI reports it: PulumiPolicy.yaml's, else the pack's own.
        (The Python SDK's GetAnalyzerInfo always answers 0.0.1; pulumi_policy/policy.py: "the CLI
        will use the version specified there".)"""
        try:
            project = yaml.safe_load((self.policy_dir / "PulumiPolicy.yaml").read_text()) or {}
            version = project.get("version")
        except (OSError, ValueError):
            version = None
        return str(version) if version else self.info.version

    @staticmethod
    def _verdict(response) -> Verdict:
        return Verdict(
            diagnostics=[Diagnostic(d.policyName, d.message, d.urn, LEVEL_NAMES[d.enforcementLevel],
                                    d.description) for d in response.diagnostics],
            not_applicable=[n.policy_name for n in response.not_applicable],
            reasons={n.policy_name: n.reason for n in response.not_applicable},
        )

    def analyze(self, type_: str, properties: Mapping[str, Any] | struct_pb2.Struct,
                name: str = "subject", urn: Optional[str] = None, protect: bool = False,
                parent: str = "") -> Verdict:
        urn = urn or f"urn:pulumi:stack::project::{type_}::{name}"
        request = analyzer_pb2.AnalyzeRequest(
            type=type_, properties=to_struct(properties), urn=urn, name=name,
            options=analyzer_pb2.AnalyzerResourceOptions(protect=protect, parent=parent))
        return self._verdict(self.stub.Analyze(request))

    def analyze_stack(self, resources: Iterable[analyzer_pb2.AnalyzerResource]) -> Verdict:
        """AnalyzeStack; a pack that does not implement it has nothing to say (as the engine skips it)."""
        try:
            return self._verdict(self.stub.AnalyzeStack(
                analyzer_pb2.AnalyzeStackRequest(resources=list(resources))))
        except grpc.RpcError as err:
            if isinstance(err, grpc.Call) and err.code() == grpc.StatusCode.UNIMPLEMENTED:
                return Verdict([], [])
            raise


def _warnings(policies: list[engine.PolicyInfo], given: Mapping[str, engine.PolicyConfig]) -> list[str]:
    """What the engine accepts without a word but is most likely a typo: a policy the pack does not
    have, a key its schema does not declare."""
    by_name = {p.name: p for p in policies}
    warnings = []
    for name, entry in sorted(given.items()):
        policy = by_name.get(name)
        if policy is None:
            if name != "all":
                warnings.append(f"no policy named {name!r} in the pack; the engine ignores its entry")
            continue
        for key in sorted(set(entry.properties or {}) - set(policy.properties)):
            warnings.append(f"{name}: {key!r} is not in the policy's config schema; "
                            "the engine passes it on unchecked")
    return warnings


def stack_resource(type_: str, name: str, properties: Mapping[str, Any] | struct_pb2.Struct,
                   urn: Optional[str] = None, protect: bool = False, parent: str = "",
                   dependencies: Iterable[str] = (),
                   property_dependencies: Mapping[str, Iterable[str]] | None = None,
                   ) -> analyzer_pb2.AnalyzerResource:
    """One resource as the engine sends it in AnalyzeStack."""
    urn = urn or f"urn:pulumi:stack::project::{type_}::{name}"
    resource = analyzer_pb2.AnalyzerResource(
        type=type_, properties=to_struct(properties), urn=urn, name=name, parent=parent,
        options=analyzer_pb2.AnalyzerResourceOptions(protect=protect, parent=parent),
        dependencies=list(dependencies))
    for key, urns in (property_dependencies or {}).items():
        resource.propertyDependencies[key].urns.extend(list(urns))
    return resource
