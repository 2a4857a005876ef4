"""Drive the policy pack over the Analyzer gRPC protocol, the way the Pulumi CLI does.

The pack runs as its own process (`python __main__.py` in its directory), prints the port it
listens on, and is called with GetAnalyzerInfo, Configure, Analyze and AnalyzeStack.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

import grpc
import jsonschema
from google.protobuf import empty_pb2, json_format, struct_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc

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
        """The SDK's report that the policy could not run because a value is unknown."""
        return "during preview:" in self.message and self.message.startswith("can't run policy")


@dataclass(frozen=True)
class Verdict:
    diagnostics: list[Diagnostic]
    not_applicable: list[str]

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


class PolicyPackProcess:
    """A running policy pack and a client for it. Use as a context manager."""

    def __init__(self, policy_dir: Path = POLICY_DIR, python: Optional[str] = None):
        self.process = subprocess.Popen(
            [python or sys.executable, "__main__.py"], cwd=policy_dir,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        stdout, stderr = self.process.stdout, self.process.stderr
        assert stdout is not None and stderr is not None  # both are pipes (PIPE above)
        line = stdout.readline().decode().strip()
        if not line.isdigit():
            self.process.kill()
            raise RuntimeError(f"policy pack did not start: {line!r} "
                               f"{stderr.read().decode()[-2000:]}")
        self.channel = grpc.insecure_channel(f"127.0.0.1:{line}")
        self.stub = analyzer_pb2_grpc.AnalyzerStub(self.channel)
        self.info = self.stub.GetAnalyzerInfo(empty_pb2.Empty())

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

    def configure(self, file_config: Mapping[str, Any] | None = None) -> None:
        """Configure as the CLI does: validate each policy's config against its schema,
        fill schema defaults, and send an enforcement level for every policy."""
        file_config = dict(file_config or {})
        all_level = file_config.pop("all", None)
        unknown = sorted(set(file_config) - set(self.policy_names()))
        if unknown:
            raise PolicyConfigError(f"unknown policies in pack config: {', '.join(unknown)}")
        request = analyzer_pb2.ConfigureAnalyzerRequest()
        levels = {}
        for policy in self.info.policies:
            entry = file_config.get(policy.name, {})
            if isinstance(entry, str):
                entry = {"enforcementLevel": entry}
            entry = dict(entry)
            level = entry.pop("enforcementLevel", None) or all_level or LEVEL_NAMES[policy.enforcementLevel]
            if level not in ENFORCEMENT_LEVELS:
                raise PolicyConfigError(f"{policy.name}: enforcementLevel {level!r} is not one of "
                                        f"{', '.join(ENFORCEMENT_LEVELS)}")
            schema = json_format.MessageToDict(policy.configSchema)
            properties = schema.get("properties", {})
            values = {k: v["default"] for k, v in properties.items() if "default" in v}
            values.update(entry)
            try:
                jsonschema.validate(values, {"type": "object", "properties": properties,
                                             "required": schema.get("required", []),
                                             "additionalProperties": False})
            except jsonschema.ValidationError as err:
                raise PolicyConfigError(f"{policy.name}: {err.message}") from None
            levels[policy.name] = level
            config = analyzer_pb2.PolicyConfig(enforcementLevel=ENFORCEMENT_LEVELS[level])
            config.properties.update(values)
            request.policyConfig[policy.name].CopyFrom(config)
        self.stub.Configure(request)
        self.levels = levels

    @staticmethod
    def _verdict(response) -> Verdict:
        return Verdict(
            diagnostics=[Diagnostic(d.policyName, d.message, d.urn, LEVEL_NAMES[d.enforcementLevel],
                                    d.description) for d in response.diagnostics],
            not_applicable=[n.policy_name for n in response.not_applicable],
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
        return self._verdict(self.stub.AnalyzeStack(
            analyzer_pb2.AnalyzeStackRequest(resources=list(resources))))


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
