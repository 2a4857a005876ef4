"""Deletion protection for every CloudWatch Logs log group of a stack that holds PHI.

A log group of a PHI stack keeps audit evidence (the trail's events, database, flow, WAF and
session logs) that HIPAA asks to keep six years (164.316(b)(2)); CloudWatch Logs' deletion
protection refuses DeleteLogGroup until it is turned off (`deletionProtectionEnabled`, pulumi-aws:
"Once set, switching to false requires explicitly specifying false"). A stack transform sets it on
every log group (components/stack_transforms.py registers it), so a log group added to the
program later is protected too; the pack's rule
(aws-data-deletion-protected, PHI stacks) refuses one that turns it off.

Destroying a PHI stack's log groups is then a deliberate two-step change: set the input to false
in a reviewed change (`pulumi up`), then destroy.
"""

from __future__ import annotations

from typing import Optional

import pulumi

LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"


def protect_log_group(args: pulumi.ResourceTransformArgs) -> Optional[pulumi.ResourceTransformResult]:
    """The transform: deletion protection on a log group unless it explicitly turns it off."""
    # Transforms see the engine's (camelCase) input names.
    if args.type_ != LOG_GROUP or args.props.get("deletionProtectionEnabled") is False:
        return None  # an explicit false is a reviewed decision the pack judges
    return pulumi.ResourceTransformResult(
        props={**args.props, "deletionProtectionEnabled": True}, opts=args.opts)
