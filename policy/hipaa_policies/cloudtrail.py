"""CloudTrail: validated, encrypted, delivered to CloudWatch; a PHI stack has a multi-region trail
recording PHI data events."""

from __future__ import annotations

from collections.abc import Iterable

from .framework import (
    ACCOUNT_CONTROLS_SCHEMA, AUDIT_CONTROLS, HOLDS_PHI_SCHEMA, INTEGRITY, Metadata, Resource, Stack,
    account_controls_elsewhere, resource_policy, stack_policy,
)

TRAIL = ("aws:cloudtrail/trail:Trail",)


def _trail(r: Resource) -> Iterable[str]:
    if r.props.bool("enableLogFileValidation") is not True:
        yield "Set enableLogFileValidation to true."
    if not r.props.customer_key("kmsKeyId"):
        yield "Set kmsKeyId to the logs key."
    if not r.props.is_set("cloudWatchLogsGroupArn") or not r.props.is_set("cloudWatchLogsRoleArn"):
        yield "Set cloudWatchLogsGroupArn (with the :* suffix) and cloudWatchLogsRoleArn."
    if r.props.bool("enableLogging") is False:
        yield "Set enableLogging to true."


def _records_s3_data(trail: Resource) -> bool:
    for selector in trail.props.each("advancedEventSelectors"):
        fields = {f.get("field"): f.list("equals") for f in selector.each("fieldSelectors")}
        if "Data" in fields.get("eventCategory", []) and "AWS::S3::Object" in fields.get("resources.type", []):
            return True
    for selector in trail.props.each("eventSelectors"):
        if any(d.get("type") == "AWS::S3::Object" for d in selector.each("dataResources")):
            return True
    return False


def _phi_stack_trail(stack: Stack) -> Iterable[tuple[str, str]]:
    if not stack.holds_phi:
        return
    # Where the account's management events are recorded by its owner (declared in the pack
    # config), this stack's trail records its PHI data events only.
    management_elsewhere = account_controls_elsewhere(stack.config)
    trails = stack.of_type(*TRAIL)
    good = []
    for trail in trails:
        def check(trail=trail) -> Iterable[str]:
            all_regions = trail.props.bool("isMultiRegionTrail") is True and \
                trail.props.bool("includeGlobalServiceEvents") is not False
            if (all_regions or management_elsewhere) and _records_s3_data(trail):
                good.append(trail)
            return []
        list(stack.judge(trail, check))
    if not good and not stack.unjudged:
        anchor = trails[0].urn if trails else ""
        if management_elsewhere:
            yield ("Add a CloudTrail that records S3 data events for the PHI buckets.", anchor)
        else:
            yield ("Add a multi-region CloudTrail with global service events that records S3 data "
                   "events for the PHI buckets.", anchor)


POLICIES = [
    resource_policy(Metadata("aws-cloudtrail-trail-secure", "Trails must validate log files, encrypt with a customer key and deliver to CloudWatch Logs.",
                             INTEGRITY, "Set enableLogFileValidation, kmsKeyId, cloudWatchLogsGroupArn and cloudWatchLogsRoleArn.",
                             config_rules=("cloud-trail-log-file-validation-enabled", "cloud-trail-encryption-enabled",
                                           "cloud-trail-cloud-watch-logs-enabled"), service="cloudtrail"),
                    TRAIL, _trail),
    stack_policy(Metadata("aws-cloudtrail-phi-stack-trail", "A PHI stack must have a trail recording its S3 data events, multi-region with management events unless its account's owner records them.",
                          AUDIT_CONTROLS, "Use the AuditTrail component (multi-region, global events, PHI data events).",
                          config_rules=("cloudtrail-enabled", "multi-region-cloudtrail-enabled",
                                        "cloudtrail-s3-dataevents-enabled"),
                          config={**HOLDS_PHI_SCHEMA, **ACCOUNT_CONTROLS_SCHEMA}, service="cloudtrail"),
                 _phi_stack_trail),
]
