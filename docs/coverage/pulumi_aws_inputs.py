"""The inputs of pulumi-aws resource types, read from the installed SDK.

Every name here is what the engine and the policy pack see: a resource's `<Resource>Args` input type
(camelCase names, nested input types for nested blocks). The coverage matrix enumerates its scope
from these inputs, and tests/test_policy_property_names.py holds every path a policy reads to them.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import json
import sys
import typing
from collections import abc
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any, Optional

import pulumi_aws
from pulumi import _types

ITEM = "[]"
"""A path part standing for "each element of this list"."""

Path_ = tuple[str, ...]


@functools.cache
def _resource_modules() -> dict[str, tuple[str, str]]:
    """Type token -> (Python module, class name), from the registry pulumi_aws/__init__.py declares."""
    source = Path(pulumi_aws.__file__).read_text(encoding="utf-8")
    start = source.index('resource_modules="""') + len('resource_modules="""')
    entries = json.loads(source[start:source.index('"""', start)])
    return {token: (entry["fqn"], name) for entry in entries for token, name in entry["classes"].items()}


def resource_types() -> list[str]:
    """Every resource type token of the installed pulumi-aws (aliases of renamed types included)."""
    return sorted(_resource_modules())


@functools.cache
def pulumi_aws_version() -> str:
    return version("pulumi_aws")


@dataclass(frozen=True)
class Shape:
    """What an input holds: an object with named fields, a list, a map with free keys, or a scalar."""

    kind: str  # "object" | "list" | "map" | "bool" | "number" | "string" | "any"
    fields: Mapping[str, Any] = field(default_factory=dict)
    element: Any = None
    name: str = ""


def _camel(snake: str) -> str:
    head, *rest = snake.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def _input_fields(cls: type) -> dict[str, Any]:
    """Pulumi (camelCase) input name -> type, for an `@pulumi.input_type` class."""
    return dict(_types.input_type_types(cls))


@functools.cache
def resource_inputs(token: str) -> Optional[Shape]:
    """The inputs of a pulumi-aws resource type, or None when pulumi-aws has no such type.

    The names come from the resource's `<Resource>Args` input type (the names the engine and the
    pack see); a resource without one falls back to its `_internal_init` parameters, camelCased."""
    found = _resource_modules().get(token)
    if found is None:
        return None
    cls = getattr(importlib.import_module(found[0]), found[1])
    # The input type defined in the resource's own module: `<Resource>Args`, or `<Resource>InitArgs`
    # when a nested input type of the package has that name (s3's BucketVersioningArgs is a block of
    # Bucket; the BucketVersioning resource's inputs are BucketVersioningInitArgs).
    module = sys.modules[cls.__module__]
    for args in (getattr(module, f"{found[1]}{suffix}", None) for suffix in ("InitArgs", "Args")):
        if isinstance(args, type) and args.__module__ == cls.__module__ and _types.is_input_type(args):
            return Shape("object", _input_fields(args), name=found[1])
    names = [p for p in inspect.signature(cls._internal_init).parameters
             if p not in ("__self__", "resource_name", "opts")]
    return Shape("object", {_camel(p): Any for p in names}, name=found[1])


def shape_of(tp: Any) -> Shape:
    tp = _types.unwrap_type(tp)
    origin = typing.get_origin(tp)
    if origin in (abc.Sequence, list, typing.Sequence):  # noqa: UP006 - typing.Sequence may appear
        return Shape("list", element=typing.get_args(tp)[0])
    if origin in (abc.Mapping, dict, typing.Mapping):  # noqa: UP006
        args = typing.get_args(tp)
        return Shape("map", element=args[1] if len(args) == 2 else Any)
    if isinstance(tp, type) and _types.is_input_type(tp):
        return Shape("object", _input_fields(tp), name=tp.__name__.removesuffix("Args"))
    if tp is bool:
        return Shape("bool")
    if tp in (int, float):
        return Shape("number")
    if tp is str or (isinstance(tp, type) and issubclass(tp, str)):
        return Shape("string")
    if typing.get_origin(tp) is typing.Union:  # e.g. str | an enum of str
        kinds = {shape_of(a).kind for a in typing.get_args(tp) if a is not type(None)}
        return Shape(kinds.pop()) if len(kinds) == 1 else Shape("any")
    return Shape("any")


def resolve(token: str, path: Path_) -> tuple[Optional[Shape], Optional[str]]:
    """The shape at `path` of the type's inputs, or an error saying where the path leaves them."""
    shape = resource_inputs(token)
    if shape is None:
        return None, f"pulumi-aws has no resource type {token}"
    walked: list[str] = []
    for part in path:
        where = ".".join(walked) or "the resource"
        if part == ITEM:
            if shape.kind not in ("list", "any"):
                return None, f"{where} is of type {_kind(shape)}, not a list"
            shape = shape_of(shape.element) if shape.kind == "list" else shape
            walked[-1:] = [walked[-1] + "[]"] if walked else []
            continue
        if shape.kind == "object":
            if part not in shape.fields:
                return None, f"{where} has no input {part!r} (its inputs: {', '.join(sorted(shape.fields))})"
            shape = shape_of(shape.fields[part])
        elif shape.kind == "map":
            shape = shape_of(shape.element)
        elif shape.kind != "any":
            return None, f"{where} is of type {_kind(shape)}, which has no field {part!r}"
        walked.append(part)
    return shape, None


def _kind(shape: Shape) -> str:
    if shape.kind == "object":
        return f"object {shape.name}"
    if shape.kind == "list":
        return f"list of {_kind(shape_of(shape.element))}"
    return shape.kind
