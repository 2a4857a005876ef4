"""One explicit AWS provider per member account the organization project deploys into.

Each assumes the account's organization access role from the management account (the role
Organizations creates in an account it creates, or Control Tower's `AWSControlTowerExecution`),
runs in the home region and refuses any other account (`allowed_account_ids`), so a wrong id or a
wrong role can never write into another account. No `default_tags`: the program tags every
resource explicitly (components.tagging), which is what the policy pack sees at preview.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi_aws as aws


def access_role_arn(partition: str, account_id: pulumi.Input[str], role_name: str) -> pulumi.Output[str]:
    """arn:<partition>:iam::<account>:role/<role_name>."""
    return pulumi.Output.concat("arn:", partition, ":iam::", account_id, ":role/", role_name)


@dataclass(frozen=True)
class MemberAccountProvidersArgs:
    account_ids: Mapping[str, pulumi.Input[str]]
    """Member account key (logArchive, audit, environment stack) -> its id."""
    role_name: str
    partition: str
    region: str
    session_name: str = "hipaa-aws-organization"


class MemberAccountProviders(pulumi.ComponentResource):
    providers: dict[str, aws.Provider]
    """Member account key -> the provider that deploys into it."""
    role_arns: dict[str, pulumi.Output[str]]
    """Member account key -> the role its provider assumes."""

    def __init__(self, name: str, args: MemberAccountProvidersArgs,
                 opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("hipaa:components:MemberAccountProviders", name, None, opts)
        self.providers, self.role_arns = {}, {}
        for key, account_id in args.account_ids.items():
            role_arn = access_role_arn(args.partition, account_id, args.role_name)
            self.role_arns[key] = role_arn
            self.providers[key] = aws.Provider(
                f"{name}-{key}", region=args.region,
                allowed_account_ids=[account_id],
                assume_roles=[aws.ProviderAssumeRoleArgs(role_arn=role_arn, session_name=args.session_name)],
                opts=pulumi.ResourceOptions(parent=self))
        self.register_outputs({"roleArns": self.role_arns})


def management_provider(name: str, account_id: str, region: str,
                        opts: Optional[pulumi.ResourceOptions] = None) -> aws.Provider:
    """The management account itself (the credentials that run the project), in the home region,
    refusing any other account: what the guardrails, the trail and the delegated-administrator
    registrations are created with."""
    return aws.Provider(name, region=region, allowed_account_ids=[account_id], opts=opts)
