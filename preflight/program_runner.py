"""Run a Pulumi program under the SDK's mock runtime and record every registration.

The recording monitor sees each full `RegisterResourceRequest` (options, dependencies,
property dependencies) and does what the engine does that the SDK's own MockMonitor
skips: it builds URNs as the engine does (pkg/resource/deploy/deployment.go generateURN),
applies stack transforms to the inputs before the resource is "created", records the root
stack and registers the default provider of each package before its first resource
(source_eval.go), with the stack's `<package>:*` config and `version` as its inputs.

In preview mode it answers like the engine previewing a new stack: no id, outputs equal
to the inputs as sent (unknowns stay unknown), every other output unknown.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import inspect
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Optional, cast

import pulumi
from google.protobuf import struct_pb2
from pulumi.runtime import mocks as sdk_mocks
from pulumi.runtime import resource as sdk_resource
from pulumi.runtime import rpc
from pulumi.runtime import settings as sdk_settings
from pulumi.runtime.config import set_all_config
from pulumi.runtime.proto import resource_pb2, source_pb2
from pulumi.runtime.sync_await import _ensure_event_loop, _sync_await

from . import engine
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
    provider: str  # the provider reference "<urn>::<id>" (the default provider's when none given)
    protect: Optional[bool]
    retain_on_delete: Optional[bool]
    ignore_changes: list[str]
    dependencies: list[str]
    property_dependencies: dict[str, list[str]]
    properties: struct_pb2.Struct  # the inputs after transforms, wire form
    id: str = ""
    outputs: dict[str, Any] = field(default_factory=dict)
    delete_before_replace: Optional[bool] = None  # None: not set
    additional_secret_outputs: list[str] = field(default_factory=list)
    # The alias through which an old resource was found (step_generator.go generateSteps): none when
    # previewing a new stack, whatever aliases the program declares.
    aliases: list[str] = field(default_factory=list)
    custom_timeouts: tuple[float, float, float] = (0.0, 0.0, 0.0)  # create, update, delete (s)
    # What AnalyzeStack sees: a custom resource's outputs (at preview the planned ones), a
    # component's registered outputs, the stack's exports, a provider's inputs. Wire form.
    state: struct_pb2.Struct = field(default_factory=struct_pb2.Struct)

    @property
    def inputs(self) -> dict[str, Any]:
        """Inputs as Python values; unknown values (preview) appear as `pulumi.output.Unknown`."""
        return rpc.deserialize_properties(self.properties, keep_unknowns=True)


@dataclass
class ProgramRun:
    stack: str
    resources: list[RecordedResource]  # what the program registered (custom and components)
    stack_outputs: dict[str, Any]
    preview: bool
    # Every registration the engine sees, in its order: the root stack, the program's resources,
    # and each default provider just before the first resource that uses it.
    registrations: list[RecordedResource] = field(default_factory=list)
    project: str = ""

    @property
    def engine_resources(self) -> list[RecordedResource]:
        return self.registrations or self.resources

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
                 on_register: Optional[Callable[[RecordedResource], None]] = None,
                 config: Optional[StackConfig] = None):
        super().__init__(mocks)
        self.preview = preview
        self.on_register = on_register
        self.config = config
        self.recorded: list[RecordedResource] = []  # the program's registrations
        self.registrations: list[RecordedResource] = []  # everything the engine would see
        self.by_urn: dict[str, RecordedResource] = {}
        self.default_providers: dict[tuple[str, str, str], str] = {}  # (package, version, url) -> ref
        self.stack_urn = ""
        self.stack_outputs: dict[str, Any] = {}
        # The SDK registers from a pool of threads; two first resources of a package must not both
        # register its default provider (the engine registers it once).
        self._provider_lock = threading.Lock()

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        """The engine's URN (deployment.go generateURN), not the SDK mock's."""
        return engine.generate_urn(sdk_settings.get_stack(), sdk_settings.get_project(), parent, type_, name)

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

    def _record(self, record: RecordedResource, program: bool = True) -> None:
        self.registrations.append(record)
        self.by_urn[record.urn] = record
        if program:
            self.recorded.append(record)
        if self.on_register is not None:
            self.on_register(record)

    def _default_provider(self, request) -> str:
        """The reference to the package's default provider, registered first if this is its first
        use (source_eval.go: newRegisterDefaultProviderEvent; the root stack is not its parent)."""
        package = request.type.split(":", 1)[0]
        # Without a version, the engine asks for the one the language host reported for the package.
        version = request.version or engine.default_plugin_version(package)
        key = (package, version, request.pluginDownloadURL)
        with self._provider_lock:
            if key not in self.default_providers:
                self.default_providers[key] = self._register_default_provider(request, package, version)
            return self.default_providers[key]

    def _register_default_provider(self, request, package: str, version: str) -> str:
        type_ = f"{engine.PROVIDER_TYPE_PREFIX}{package}"
        urn = self.make_urn("", type_, engine.default_provider_name(version, request.pluginDownloadURL))
        config = self.config
        inputs = engine.provider_inputs(config.values if config else {}, config.secret_keys if config else (),
                                        package, version)
        if request.pluginDownloadURL:
            inputs.fields["pluginDownloadURL"].string_value = request.pluginDownloadURL
        provider_id = engine.provider_id(urn, self.preview)
        self._record(RecordedResource(
            urn=urn, type=type_, name=urn.rsplit("::", 1)[-1], custom=True, parent="", provider="",
            protect=None, retain_on_delete=None, ignore_changes=[], dependencies=[],
            property_dependencies={}, properties=inputs, state=inputs,
            id="" if self.preview else provider_id), program=False)
        return f"{urn}::{provider_id}"

    def RegisterResource(self, request):
        urn = self.make_urn(request.parent, request.type, request.name)
        if request.type == engine.ROOT_STACK_TYPE:
            self.stack_urn = urn
            self._record(RecordedResource(
                urn=urn, type=request.type, name=request.name, custom=False, parent=request.parent,
                provider="", protect=request.protect if request.HasField("protect") else None,
                retain_on_delete=None, ignore_changes=[], dependencies=list(request.dependencies),
                property_dependencies={}, properties=request.object), program=False)
            return resource_pb2.RegisterResourceResponse(urn=urn)
        _ensure_event_loop()
        struct = self._apply_stack_transforms(request, request.object)
        provider = request.provider
        if request.custom and not provider and not engine.is_provider_type(request.type):
            provider = self._default_provider(request)
        if engine.is_provider_type(request.type) and request.version and "version" not in struct.fields:
            # source_eval.go: an explicit provider's inputs carry the plugin version it asks for.
            with_version = struct_pb2.Struct()
            with_version.CopyFrom(struct)
            with_version.fields["version"].string_value = request.version
            struct = with_version
        timeouts = request.customTimeouts
        record = RecordedResource(
            urn=urn, type=request.type, name=request.name, custom=bool(request.custom),
            parent=request.parent, provider=provider,
            protect=request.protect if request.HasField("protect") else None,
            retain_on_delete=request.retainOnDelete if request.HasField("retainOnDelete") else None,
            ignore_changes=list(request.ignoreChanges),
            dependencies=list(request.dependencies),
            property_dependencies={k: list(v.urns) for k, v in request.propertyDependencies.items()},
            properties=struct,
            delete_before_replace=request.deleteBeforeReplace if request.deleteBeforeReplaceDefined else None,
            additional_secret_outputs=list(request.additionalSecretOutputs),
            custom_timeouts=(engine.go_duration_seconds(timeouts.create),
                             engine.go_duration_seconds(timeouts.update),
                             engine.go_duration_seconds(timeouts.delete)),
        )
        # The pack sees the resource before the provider does (and may remediate its inputs).
        self._record(record)
        struct = record.properties
        if self.preview or not request.custom:
            # A create at preview: inputs echoed, everything else unknown.
            if not request.custom:
                record.state = struct_pb2.Struct()  # a component's outputs are what it registers
            elif engine.is_provider_type(request.type):
                record.state = struct
            else:
                record.state = engine.preview_outputs(request.type, struct, record.additional_secret_outputs)
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
        record.state = obj
        return resource_pb2.RegisterResourceResponse(urn=urn, id=resource_id, object=obj)

    def RegisterResourceOutputs(self, request):
        if request.urn == self.stack_urn:
            self.stack_outputs = rpc.deserialize_properties(request.outputs, keep_unknowns=True)
        record = self.by_urn.get(request.urn)
        if record is not None:
            record.state = request.outputs
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
    monitor = RecordingMonitor(mocks, preview=preview, on_register=on_register, config=config)
    # The SDK walks the Python stack for each registration's source position and stack trace; the
    # engine shows them in its display and never sends them to a policy pack, so none are taken.
    stack_trace = sdk_resource._get_stack_trace  # noqa: SLF001 - the SDK's own hook, restored below
    sdk_resource._get_stack_trace = _no_stack_trace  # noqa: SLF001
    try:
        # One root stack, as the language host registers it: set_mocks makes one only when there
        # is none yet, so a placeholder stands in until run_in_stack makes the stack that collects
        # exports (set_root_resource() is annotated to refuse None; reset_options clears it so).
        sdk_settings.ROOT.set(cast(Any, _NO_ROOT_YET))
        pulumi.runtime.set_mocks(
            mocks, project=config.project, stack=config.stack, preview=preview, monitor=monitor
        )
        set_all_config(dict(config.values), list(config.secret_keys))
        sdk_settings.ROOT.set(None)
        with few_collections():
            loop.run_until_complete(pulumi.runtime.run_in_stack(program))
    except Exception as err:
        raise ProgramError(err, _program_run(config, monitor, preview, stack_outputs={})) from err
    finally:
        sdk_resource._get_stack_trace = stack_trace  # noqa: SLF001
        set_all_config({}, [])
        asyncio.set_event_loop(None)
        loop.close()
    return _program_run(config, monitor, preview, stack_outputs=monitor.stack_outputs)


_NO_ROOT_YET = object()


# The cyclic garbage collector's thresholds while a program runs (Python's defaults: 700, 10, 10).
SELDOM = (50_000, 20, 100)
_running = False         # inside few_collections()
_for_the_process = False  # collect_seldom() was called: never restore


@contextlib.contextmanager
def few_collections():
    """Run with the cyclic garbage collector seldom awake. With Python's default thresholds it ran
    every 700 allocations and scanned the whole growing heap of resources, Outputs and futures
    again and again: half the program's time (10 tenants of bench/tenants_program.py, 972
    resources: 3.05 s with the defaults, 2.0 s like this; 4,852 resources: 12.4 s and 6.1 s), for a
    peak memory within 10 MB. What exists before (imports, settings) is set aside (`gc.freeze`) so
    it is not scanned at all; the run's own cycles are still collected, just less often. Afterwards
    the caller's thresholds come back (and what it had frozen stays frozen)."""
    global _running
    if _running:
        yield
        return
    _running = True
    thresholds, frozen_before = gc.get_threshold(), gc.get_freeze_count()
    gc.freeze()
    gc.set_threshold(*SELDOM)
    try:
        yield
    finally:
        _running = False
        if not _for_the_process:
            gc.set_threshold(*thresholds)
            if not frozen_before:
                gc.unfreeze()


def collect_seldom() -> None:
    """Keep few_collections()'s settings once a program has run, for the rest of this process: for
    `python -m preflight`, which ends after its report and would otherwise pay full collections of
    the run's heap while judging and reporting."""
    global _for_the_process
    _for_the_process = True


def _no_stack_trace():
    return source_pb2.StackTrace()


def _program_run(config: StackConfig, monitor: RecordingMonitor, preview: bool,
                 stack_outputs: dict[str, Any]) -> ProgramRun:
    return ProgramRun(stack=config.stack, resources=monitor.recorded, stack_outputs=stack_outputs,
                      preview=preview, registrations=monitor.registrations, project=config.project)


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
