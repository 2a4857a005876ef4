"""One stack transform that tags every taggable AWS resource explicitly.

Provider default tags only appear in `tagsAll` when the provider runs, which a policy pack
at preview (and the offline preflight) cannot see; explicit `tags` are visible to both.
"""

from __future__ import annotations

import functools
import importlib
import inspect
from collections.abc import Mapping
from typing import Optional

import pulumi


@functools.cache
def takes_tag_map(type_token: str) -> bool:
    """True when the pulumi-aws resource for `type_token` accepts a `tags` map input.

    Some resources have a `tags` list of a different shape (autoscaling Group), and some
    have none; both are left alone.
    """
    package, _, rest = type_token.partition(":")
    module_path, _, class_name = rest.partition(":")
    if package != "aws" or not class_name:
        return False
    module_name = module_path.split("/")[0]
    candidates = ["pulumi_aws"] if module_name == "index" else [
        f"pulumi_aws.{module_name}", f"pulumi_aws.{module_name}_"
    ]
    for candidate in candidates:
        try:
            module = importlib.import_module(candidate)
        except ImportError:
            continue
        cls = getattr(module, class_name, None)
        if cls is None or not hasattr(cls, "_internal_init"):
            continue
        if "tags" not in inspect.signature(cls._internal_init).parameters:
            return False
        getter = getattr(getattr(cls, "tags", None), "fget", None)
        annotation = str(getattr(getter, "__annotations__", {}).get("return", ""))
        return "Mapping" in annotation
    return False


def merged_tags(existing: object, required: Mapping[str, str]) -> Optional[dict]:
    """The resource's own tags plus the required ones; required tags win on conflict.

    Returns None when `existing` is not a plain map (an unknown value at preview): the
    transform then leaves it as is rather than guess.
    """
    if existing is None:
        return dict(required)
    if isinstance(existing, Mapping):
        return {**existing, **required}
    return None


def tagging_transform(required: Mapping[str, str]) -> pulumi.ResourceTransform:
    """The transform that adds `required` tags to every taggable resource it sees."""
    required = dict(required)

    def add_tags(args: pulumi.ResourceTransformArgs) -> Optional[pulumi.ResourceTransformResult]:
        if not args.custom or not takes_tag_map(args.type_):
            return None
        tags = merged_tags(args.props.get("tags"), required)
        if tags is None:
            return None
        return pulumi.ResourceTransformResult(props={**args.props, "tags": tags}, opts=args.opts)

    return add_tags


def register_tagging(required: Mapping[str, str]) -> None:
    """Register the stack transform that adds `required` tags to every taggable resource."""
    pulumi.runtime.register_resource_transform(tagging_transform(required))
