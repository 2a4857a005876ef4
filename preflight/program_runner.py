"""Run a Pulumi program under the SDK's mock runtime and record every registration.

The recording monitor sees each full `RegisterResourceRequest` (options, dependencies,
property dependencies) and does what the engine does that the SDK's own MockMonitor
skips: it applies stack transforms to the inputs before the resource is "created".

In preview mode it answers like the engine previewing a new stack: no id, outputs equal
to the inputs as sent (unknowns stay unknown), every other output unknown.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Optional

import pulumi
from google.protobuf import struct_pb2
from pulumi.runtime import mocks as sdk_mocks
from pulumi.runtime import rpc
from pulumi.runtime import settings as sdk_settings
from pulumi.runtime.config import set_all_config
from pulumi.runtime.proto import resource_pb2
from pulumi.runtime.sync_await import _ensure_event_loop, _sync_await

from .aws_mocks import MOCK_ACCOUNT_ID, AwsMocks
from .stack_config import StackConfig


@dataclass
class RecordedResource:
    """One registration, as the engine (and so the policy pack) would see it."""

    urn: str
    type: str
    name: str
    custom: bool
    parent: str
    provider: str
    protect: Optional[bool]
    retain_on_delete: Optional[bool]
    ignore_changes: list[str]
    dependencies: list[str]
    property_dependencies: dict[str, list[str]]
    properties: struct_pb2.Struct  # the inputs after transforms, wire form
    id: str = ""
    outputs: dict[str, Any] = field(default_factory=dict)

    @property
    def inputs(self) -> dict[str, Any]:
        """Inputs as Python values; unknown values (preview) appear as `pulumi.output.Unknown`."""
        return rpc.deserialize_properties(self.properties, keep_unknowns=True)


@dataclass
class ProgramRun:
    stack: str
    resources: list[RecordedResource]
    stack_outputs: dict[str, Any]
    preview: bool

    def of_type(self, type_token: str) -> list[RecordedResource]:
        return [r for r in self.resources if r.type == type_token]

    def named(self, name: str, type_token: Optional[str] = None) -> RecordedResource:
        matches = [r for r in self.resources
                   if r.name == name and (type_token is None or r.type == type_token)]
        if len(matches) != 1:
            raise KeyError(f"{len(matches)} resources named {name!r}")
        return matches[0]

    def by_urn(self, urn: str) -> RecordedResource:
        return next(r for r in self.resources if r.urn == urn)


def _changed_keys(before: dict[str, Any], after: dict[str, Any]) -> set[str]:
    keys = set(before) | set(after)
    return {k for k in keys if k not in before or k not in after or before[k] != after[k]}


class RecordingMonitor(sdk_mocks.MockMonitor):
    def __init__(self, mocks: AwsMocks, preview: bool,
                 on_register: Optional[Callable[[RecordedResource], None]] = None):
        super().__init__(mocks)
        self.preview = preview
        self.on_register = on_register
        self.recorded: list[RecordedResource] = []
        self.stack_urn = ""
        self.stack_outputs: dict[str, Any] = {}

    def _apply_stack_transforms(self, request, struct: struct_pb2.Struct) -> struct_pb2.Struct:
        if not self._stack_transforms:
            return struct
        original = rpc.deserialize_properties(struct, keep_unknowns=True)
        props = dict(original)
        for transform in self._stack_transforms:
            result = transform(pulumi.ResourceTransformArgs(
                custom=request.custom, type_=request.type, name=request.name,
                props=props, opts=pulumi.ResourceOptions(),
            ))
            if inspect.isawaitable(result):
                result = _sync_await(result)
            if result is not None:
                props = dict(result.props)
        changed = _changed_keys(original, props)
        if not changed:
            return struct
        # Re-serialize only what a transform changed, so unknowns elsewhere stay intact.
        updates = _sync_await(rpc.serialize_properties({k: props[k] for k in changed if k in props}, {}))
        merged = struct_pb2.Struct()
        merged.CopyFrom(struct)
        for key in changed:
            if key in merged.fields:
                del merged.fields[key]
        merged.MergeFrom(updates)
        return merged

    def RegisterResource(self, request):
        urn = self.make_urn(request.parent, request.type, request.name)
        if request.type == "pulumi:pulumi:Stack":
            self.stack_urn = urn
            return resource_pb2.RegisterResourceResponse(urn=urn)
        _ensure_event_loop()
        struct = self._apply_stack_transforms(request, request.object)
        record = RecordedResource(
            urn=urn, type=request.type, name=request.name, custom=bool(request.custom),
            parent=request.parent, provider=request.provider,
            protect=request.protect if request.HasField("protect") else None,
            retain_on_delete=request.retainOnDelete if request.HasField("retainOnDelete") else None,
            ignore_changes=list(request.ignoreChanges),
            dependencies=list(request.dependencies),
            property_dependencies={k: list(v.urns) for k, v in request.propertyDependencies.items()},
            properties=struct,
        )
        self.recorded.append(record)
        if self.on_register is not None:
            self.on_register(record)
        if self.preview or not request.custom:
            # A create at preview: inputs echoed, everything else unknown.
            return resource_pb2.RegisterResourceResponse(urn=urn, id="", object=struct)
        inputs = rpc.deserialize_properties(struct)
        resource_id, state = self.mocks.new_resource(sdk_mocks.MockResourceArgs(
            typ=request.type, name=request.name, inputs=inputs,
            provider=request.provider, resource_id=request.importId, custom=True,
        ))
        resource_id = resource_id or ""  # Mocks may answer None: no ID, as at preview
        record.id, record.outputs = resource_id, state
        self.resources[urn] = sdk_mocks.MockMonitor.ResourceRegistration(urn, resource_id, state)
        obj = _sync_await(rpc.serialize_properties(state, {}))
        return resource_pb2.RegisterResourceResponse(urn=urn, id=resource_id, object=obj)

    def RegisterResourceOutputs(self, request):
        if request.urn == self.stack_urn:
            self.stack_outputs = rpc.deserialize_properties(request.outputs, keep_unknowns=True)
        return super().RegisterResourceOutputs(request)


class ProgramError(Exception):
    """The program failed; `run` holds whatever it registered before failing."""

    def __init__(self, cause: BaseException, run: ProgramRun):
        super().__init__(str(cause))
        self.cause = cause
        self.run = run


def run_program(
    program: Callable[[], Any], config: StackConfig, preview: bool = True,
    on_register: Optional[Callable[[RecordedResource], None]] = None,
) -> ProgramRun:
    """Run `program` as the stack described by `config` and return what it registered.

    `on_register` sees each resource as it is registered (the engine analyzes resources as
    their steps happen, so the policy pack can work while the program still runs).

    Raises ProgramError when the program fails (a `pulumi.RunError` from settings, say).
    """
    loop = asyncio.new_event_loop()
    # The SDK binds futures to the current loop when resources are created; it must be ours.
    asyncio.set_event_loop(loop)
    # The real provider refuses credentials of an account not in aws:allowedAccountIds, so the
    # caller identity the mocks answer is the stack's pinned account.
    mocks = AwsMocks(region=config.region, account_id=next(iter(config.allowed_account_ids), MOCK_ACCOUNT_ID))
    monitor = RecordingMonitor(mocks, preview=preview, on_register=on_register)
    try:
        pulumi.runtime.set_mocks(
            mocks, project=config.project, stack=config.stack, preview=preview, monitor=monitor
        )
        set_all_config(dict(config.values), list(config.secret_keys))
        # set_mocks makes a root stack; run_in_stack makes the one that collects exports. Cleared
        # as the SDK's reset_options does (set_root_resource() is annotated to refuse None).
        sdk_settings.ROOT.set(None)
        loop.run_until_complete(pulumi.runtime.run_in_stack(program))
    except Exception as err:
        raise ProgramError(err, ProgramRun(
            stack=config.stack, resources=monitor.recorded, stack_outputs={}, preview=preview,
        )) from err
    finally:
        set_all_config({}, [])
        asyncio.set_event_loop(None)
        loop.close()
    return ProgramRun(
        stack=config.stack, resources=monitor.recorded,
        stack_outputs=monitor.stack_outputs, preview=preview,
    )


def project_program(project_dir) -> Callable[[], Any]:
    """The project's `__main__.py`, run the way the Python language host runs it."""
    import runpy
    import sys

    def program() -> None:
        if str(project_dir) not in sys.path:
            sys.path.insert(0, str(project_dir))
        runpy.run_path(str(project_dir / "__main__.py"), run_name="__main__")

    return program


def script_program(path) -> Callable[[], Any]:
    """A single-file Pulumi program (test fixtures, small experiments)."""
    import runpy

    def program() -> None:
        runpy.run_path(str(path), run_name="__main__")

    return program
