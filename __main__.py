"""A HIPAA-ready AWS environment for this stack (see README.md)."""

import pulumi

from components.aws_context import lookup_aws_context
from components.environment import HipaaEnvironment
from components.settings import load_settings
from components.tagging import register_tagging

settings = load_settings()  # raises before anything is registered if the stack config is bad
register_tagging(settings.tags())
environment = HipaaEnvironment("hipaa", settings, lookup_aws_context())
for output_name, value in environment.operator_outputs().items():
    pulumi.export(output_name, value)
