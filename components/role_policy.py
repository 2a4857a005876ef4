"""Customer-managed policies attached to roles, and the IAM path every role and policy lives under.

AWS's HIPAA conformance pack flags inline role policies (iam-no-inline-policy-check), so
every permission this program grants is a managed policy, attached.
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws


def iam_path(stack: str) -> str:
    """The IAM path of every role and policy a stack creates: the stack's CI deploy role may
    manage `role/hipaa-aws/<stack>/*` and nothing else (bootstrap/ci_roles.py)."""
    return f"/hipaa-aws/{stack}/"


def attach_policy(name: str, role: aws.iam.Role | pulumi.Input[str], description: str,
                  document: pulumi.Input[str], opts: pulumi.ResourceOptions,
                  path: str) -> aws.iam.RolePolicyAttachment:
    """A customer-managed policy attached to `role` (the role, or its name as another resource's
    output, which carries the dependency on the role)."""
    policy = aws.iam.Policy(name, description=description, policy=document, path=path, opts=opts)
    role_name = role.name if isinstance(role, aws.iam.Role) else role
    return aws.iam.RolePolicyAttachment(name, role=role_name, policy_arn=policy.arn, opts=opts)
