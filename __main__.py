"""A HIPAA-ready AWS environment for this stack (see README.md), composed layer by layer:

- the environment layer (every stack): keys, network, storage, database, trail, alarms, identity, backups;
- the account layer (only the stack that owns its account's region-wide controls: all of them with
  `accountBaseline: owned`, those the AWS Organization does not run with `organization`), kept on delete;
- the application tier (each part when its settings are set).

The account layer and the application tier are children of the environment, as they always were.
"""

import pulumi

from components.account.account_layer import SCOPES, AccountLayer, AccountLayerArgs
from components.account_settings import AccountLayerSettings
from components.application.tier import ApplicationTier
from components.aws_context import lookup_aws_context
from components.environment.environment import HipaaEnvironment
from components.settings import load_settings
from components.stack_transforms import register_stack_transforms

settings = load_settings()  # raises before anything is registered if the stack config is bad
register_stack_transforms(settings)  # tags; PHI stacks: log groups' deletion protection
ctx = lookup_aws_context()
NAME = "hipaa"

environment = HipaaEnvironment(NAME, settings, ctx)
if settings.creates_account_layer:
    AccountLayer(f"{NAME}-account", AccountLayerArgs(
        stack=settings.stack, aws=ctx, key_administrators=environment.key_administrators,
        authorized_vpc_id=environment.network.vpc_id, log_retention_days=settings.audit_log_retention_days,
        adoption=settings.account_layer or AccountLayerSettings.model_validate({}),
        scope=SCOPES[settings.account_baseline],
    # What protects the account outlives a PHI stack's careless destroy, like its evidence.
    ), opts=pulumi.ResourceOptions(parent=environment, protect=settings.holds_phi))
application = ApplicationTier(NAME, environment, settings, ctx)

for output_name, value in {**environment.operator_outputs(), **application.operator_outputs(),
                           "accountBaseline": settings.account_baseline}.items():
    pulumi.export(output_name, value)
