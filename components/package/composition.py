"""What one stack deploys, composed from its settings, in one place for its two callers:

- this project's program (`__main__.py`), where the environment is a root resource;
- the component package (this folder), where it is the child of the package's
  `hipaa-aws:index:HipaaEnvironment`, built in another team's program.

The layers:
- the environment layer (every stack): keys, network, storage, database, trail, alarms, identity, backups;
- the account layer (only the stack that owns its account's region-wide controls: all of them with
  `accountBaseline: owned`, those the AWS Organization does not run with `organization`), kept on delete;
- the application tier (each part when its settings are set).

The account layer and the application tier are children of the environment, as they always were.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import pulumi

from components.account.account_layer import SCOPES, AccountLayer, AccountLayerArgs
from components.account_settings import AccountLayerSettings
from components.application.tier import ApplicationTier
from components.aws_context import AwsContext
from components.environment.environment import HipaaEnvironment
from components.settings import Settings


@dataclass(frozen=True)
class ComposedStack:
    settings: Settings
    environment: HipaaEnvironment
    account_layer: Optional[AccountLayer]
    """The account layer, when this stack owns its account's controls."""
    application: ApplicationTier

    def operator_outputs(self) -> dict[str, pulumi.Input]:
        """What an operator needs after `pulumi up` (the stack's exports)."""
        return {**self.environment.operator_outputs(), **self.application.operator_outputs(),
                "accountBaseline": self.settings.account_baseline}


def compose_stack(name: str, settings: Settings, ctx: AwsContext,
                  opts: Optional[pulumi.ResourceOptions] = None) -> ComposedStack:
    """Build the stack's layers under one `HipaaEnvironment` named `name` (options `opts`)."""
    environment = HipaaEnvironment(name, settings, ctx, opts)
    account_layer = AccountLayer(f"{name}-account", AccountLayerArgs(
        stack=settings.stack, aws=ctx, key_administrators=environment.key_administrators,
        authorized_vpc_id=environment.network.vpc_id, log_retention_days=settings.audit_log_retention_days,
        adoption=settings.account_layer or AccountLayerSettings.model_validate({}),
        scope=SCOPES[settings.account_baseline],
    # What protects the account outlives a PHI stack's careless destroy, like its evidence.
    ), opts=pulumi.ResourceOptions(parent=environment, protect=settings.holds_phi)) \
        if settings.creates_account_layer else None
    application = ApplicationTier(name, environment, settings, ctx)
    return ComposedStack(settings, environment, account_layer, application)
