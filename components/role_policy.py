"""Customer-managed policies attached to roles.

AWS's HIPAA conformance pack flags inline role policies (iam-no-inline-policy-check), so
every permission this program grants is a managed policy, attached.
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws


def attach_policy(name: str, role: aws.iam.Role, description: str,
                  document: pulumi.Input[str], opts: pulumi.ResourceOptions) -> aws.iam.RolePolicyAttachment:
    policy = aws.iam.Policy(name, description=description, policy=document, opts=opts)
    return aws.iam.RolePolicyAttachment(name, role=role.name, policy_arn=policy.arn, opts=opts)
