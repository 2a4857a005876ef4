"""Every PHI bucket's object reads and writes are recorded by a trail and watched by an alarm.

aws-cloudtrail-phi-stack-trail asks for a trail with S3 data events; this policy asks, bucket by
bucket, that the events of each PHI bucket (phi_stores.py says which) are among them, reads and
writes, and that a PHI-read alarm watches that bucket. A bucket added to a PHI stack outside the
project's components is otherwise a PHI store nobody audits.

How a trail covers a bucket (CloudTrail's advanced event selectors, AWS's "Logging data events"):
a selector with eventCategory = Data and resources.type = AWS::S3::Object, whose resources.ARN
field is absent (every bucket) or starts every object of the bucket (a StartsWith value that is a
prefix of `arn:<partition>:s3:::<bucket>/`, known or built from the bucket's output; Equals names
single objects and selectors have no wildcards), and which does not narrow readOnly or eventName (that would drop reads or
writes). Basic event selectors: a dataResources entry of type AWS::S3::Object whose values name all
buckets (`arn:aws:s3`) or this one, with readWriteType All (the default).

How an alarm watches a bucket: a CloudWatch Contributor Insights rule whose filters match S3
GetObject events of this bucket (`$.requestParameters.bucketName`), with a MetricAlarm on the rule's
INSIGHT_RULE_METRIC that has an action; or a log metric filter whose pattern names the bucket and
GetObject, with a MetricAlarm on its metric that has an action.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any, Optional

from .framework import AUDIT_CONTROLS, Metadata, Resource, Stack, is_unknown, stack_policy
from .phi_stores import BUCKETS, PHI_STORE_SCHEMA, holds_phi, phi_stores

TRAIL = ("aws:cloudtrail/trail:Trail",)
INSIGHT_RULE = ("aws:cloudwatch/contributorInsightRule:ContributorInsightRule",)
METRIC_FILTER = ("aws:cloudwatch/logMetricFilter:LogMetricFilter",)
ALARM = ("aws:cloudwatch/metricAlarm:MetricAlarm",)
PARTITIONS = ("aws", "aws-us-gov", "aws-cn")
# Basic event selectors' values for "every bucket" (CloudTrail DataResource.Values).
ALL_BUCKETS = tuple(v for p in PARTITIONS for v in (f"arn:{p}:s3", f"arn:{p}:s3:::"))


def _bucket_name(bucket: Resource) -> Optional[str]:
    return None if bucket.props.is_unknown("bucket") else bucket.props.str("bucket")


def _object_prefixes(name: Optional[str]) -> tuple[str, ...]:
    """The prefix every object ARN of bucket `name` starts with, in each partition."""
    return tuple(f"arn:{p}:s3:::{name}/" for p in PARTITIONS) if name else ()


def _names_bucket(values: list, name: Optional[str]) -> bool:
    """Basic selector values that include every object of bucket `name` (a known value): all
    buckets, or exactly the bucket's object prefix (CloudTrail DataResource.Values)."""
    return any(isinstance(v, str) and not is_unknown(v) and (v in ALL_BUCKETS or v in _object_prefixes(name))
               for v in values)


def _starts_every_object(values: list, name: Optional[str]) -> bool:
    """Advanced selector StartsWith values one of which every object ARN of bucket `name` starts with.
    Selectors match strings and have no wildcards ("*" is a literal character), and Equals names
    single objects, so only StartsWith can cover a whole bucket (CloudTrail AdvancedFieldSelector)."""
    return any(isinstance(v, str) and not is_unknown(v) and v.startswith("arn:")
               and any(prefix.startswith(v) for prefix in _object_prefixes(name)) for v in values)


def _advanced_covers(trail: Resource, bucket: Resource) -> bool:
    name = _bucket_name(bucket)
    linked = trail.depends_on(bucket, "advancedEventSelectors")
    for selector in trail.props.each("advancedEventSelectors"):
        fields = {str(f.get("field")): f for f in selector.each("fieldSelectors")}
        category, kind = fields.get("eventCategory"), fields.get("resources.type")
        if category is None or kind is None or "Data" not in category.list("equals") \
                or "AWS::S3::Object" not in kind.list("equals"):
            continue
        if "readOnly" in fields or "eventName" in fields:
            continue  # narrowed to reads or writes, or to some API calls
        arn = fields.get("resources.ARN")
        if arn is None:
            return True  # every bucket's objects
        if any(arn.size(op) for op in ("notStartsWiths", "notEquals", "notEndsWiths")):
            continue
        if arn.is_unknown("startsWiths") or any(is_unknown(v) for v in arn.get("startsWiths") or []):
            if linked:
                return True  # built from the bucket's own ARN output, unknown until it exists
            continue
        if _starts_every_object(arn.get("startsWiths") or [], name):
            return True
    return False


def _basic_covers(trail: Resource, bucket: Resource) -> bool:
    name = _bucket_name(bucket)
    linked = trail.depends_on(bucket, "eventSelectors")
    for selector in trail.props.each("eventSelectors"):
        if (selector.str("readWriteType") or "All") != "All":
            continue
        for resource in selector.each("dataResources"):
            if resource.get("type") != "AWS::S3::Object":
                continue
            values = resource.get("values") or []
            if _names_bucket(values, name) or (linked and any(is_unknown(v) for v in values)):
                return True
    return False


def _filters_match_bucket(definition: Any, bucket: Resource, rule: Resource) -> bool:
    if isinstance(definition, str):
        try:
            definition = json.loads(definition)
        except ValueError:
            return False
    if not isinstance(definition, Mapping):
        return False
    filters = (definition.get("Contribution") or {}).get("Filters") or []
    matches = {str(f.get("Match")): f.get("In") or [] for f in filters if isinstance(f, Mapping)}
    reads = "GetObject" in matches.get("$.eventName", [])
    names = matches.get("$.requestParameters.bucketName", [])
    name = _bucket_name(bucket)
    return reads and ((name is not None and name in names) or rule.depends_on(bucket, "ruleDefinition"))


def _alarmed(stack: Stack, metric_of: str, source: Resource) -> bool:
    """A MetricAlarm with an action watches `metric_of` (an insight rule name or a metric name)."""
    for alarm in stack.of_type(*ALARM):
        if not alarm.props.size("alarmActions"):  # unknown ARNs still count: the topic is an output
            continue
        if alarm.props.get("metricName") == metric_of or any(
                metric_of in str(q.get("expression") or "") for q in alarm.props.each("metricQueries")) \
                or (alarm.depends_on(source) and any(q.is_set("expression") for q in alarm.props.each("metricQueries"))):
            return True
    return False


def _watched(stack: Stack, bucket: Resource) -> bool:
    for rule in stack.of_type(*INSIGHT_RULE):
        if rule.props.get("ruleState") not in (None, "ENABLED"):
            continue
        if _filters_match_bucket(rule.props.get("ruleDefinition"), bucket, rule) and \
                _alarmed(stack, str(rule.props.get("ruleName")), rule):
            return True
    name = _bucket_name(bucket)
    for metric_filter in stack.of_type(*METRIC_FILTER):
        pattern = str(metric_filter.props.get("pattern") or "")
        if "GetObject" in pattern and ((name and name in pattern) or metric_filter.depends_on(bucket, "pattern")):
            for transformation in metric_filter.props.each("metricTransformation"):
                if _alarmed(stack, str(transformation.get("name")), metric_filter):
                    return True
            transformation = metric_filter.props.map("metricTransformation")
            if transformation and _alarmed(stack, str(transformation.get("name")), metric_filter):
                return True
    return False


def _audited(stack: Stack) -> Iterable[tuple[str, str]]:
    trails = stack.of_type(*TRAIL)
    for bucket in phi_stores(stack, BUCKETS):
        def check(bucket=bucket) -> Iterable[str]:
            if not holds_phi(stack, bucket):
                return
            if not any(_advanced_covers(t, bucket) or _basic_covers(t, bucket) for t in trails):
                yield ("Record this PHI bucket's object reads and writes: add its ARN to a trail's S3 data-event "
                       "selector (the AuditTrail component's phi_bucket_arns), or name it in notPhiStores with "
                       "the reason it holds no PHI.")
            if not _watched(stack, bucket):
                yield ("Watch this PHI bucket's object reads with an alarm: a Contributor Insights rule (or log "
                       "metric filter) on the trail's log group that matches its GetObject events, with a "
                       "MetricAlarm that has an action.")
        yield from stack.judge(bucket, check)


POLICIES = [
    stack_policy(Metadata(
        "aws-phi-bucket-access-audited",
        "Every PHI bucket's object reads and writes must be in a trail's data events and watched by a PHI-read alarm.",
        AUDIT_CONTROLS,
        "Pass every PHI bucket to the AuditTrail and SecurityAlarms components, or declare it in notPhiStores.",
        config_rules=("cloudtrail-s3-dataevents-enabled",),
        config=PHI_STORE_SCHEMA, service="cloudtrail"), _audited),
]
