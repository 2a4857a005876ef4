"""A HIPAA-ready AWS environment for this stack (see README.md), composed layer by layer
(components/package/composition.py, shared with the component package): the environment layer, the
account layer where this stack owns its account's controls, and the application tier.
"""

import pulumi

from components.aws_context import lookup_aws_context
from components.placeholders import refuse_placeholders_on_update
from components.settings import load_settings
from components.package.composition import compose_stack
from components.stack_transforms import register_stack_transforms

refuse_placeholders_on_update()  # `pulumi up` (not preview) with an example value left: placeholders.yaml
settings = load_settings()  # raises before anything is registered if the stack config is bad
register_stack_transforms(settings)  # tags; PHI stacks: log groups' deletion protection
ctx = lookup_aws_context()
NAME = "hipaa"

stack = compose_stack(NAME, settings, ctx)

for output_name, value in stack.operator_outputs().items():
    pulumi.export(output_name, value)
