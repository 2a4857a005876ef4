"""Elastic Beanstalk: managed platform updates on."""

from __future__ import annotations

from collections.abc import Iterable

from .framework import INTEGRITY, Metadata, Resource, resource_policy

ENVIRONMENT = ("aws:elasticbeanstalk/environment:Environment",)


def _managed_updates(r: Resource) -> Iterable[str]:
    enabled = any(s.get("namespace") == "aws:elasticbeanstalk:managedactions"
                  and s.get("name") == "ManagedActionsEnabled" and str(s.get("value")).lower() == "true"
                  for s in r.props.each("settings"))
    if not enabled:
        yield "Add setting aws:elasticbeanstalk:managedactions ManagedActionsEnabled=true."


POLICIES = [
    resource_policy(Metadata("aws-elasticbeanstalk-managed-updates", "Elastic Beanstalk environments must take managed platform updates.",
                             INTEGRITY, "Enable managed actions with a maintenance window.",
                             config_rules=("elastic-beanstalk-managed-updates-enabled",), service="elasticbeanstalk"),
                    ENVIRONMENT, _managed_updates),
]
