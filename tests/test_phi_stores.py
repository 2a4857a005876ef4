"""Every PHI store of a stack, not only the ones the program ships, is backed up and audited.

Over the Analyzer protocol (AnalyzeStack, as the engine sends it) with the pack process:
- aws-backup-phi-store-in-plan: every store AWS Backup can protect (GetSupportedResourceTypes,
  https://docs.aws.amazon.com/aws-backup/latest/devguide/API_GetSupportedResourceTypes.html) is in a
  selection, in a PHI stack unless declared by name in notPhiStores;
- aws-phi-bucket-access-audited: every PHI bucket is in a trail's S3 data-event selector (reads and
  writes) and watched by a PHI-read alarm (CloudTrail "Logging data events with advanced event
  selectors": resources.ARN StartsWith/Equals, readOnly, eventName fields).
A tag (Purpose, DataClassification) never exempts a store of a PHI stack.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE as UNKNOWN

from preflight.policy_pack_client import stack_resource as res

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "policy"))
from hipaa_policies.phi_stores import BACKUP_SUPPORTED  # noqa: E402

BACKUP = "aws-backup-phi-store-in-plan"
AUDIT = "aws-phi-bucket-access-audited"
PHI = {"holdsPhi": True}


def _run(pack, resources, config=None, policies=(BACKUP, AUDIT)):
    pack.configure({p: dict(config if config is not None else PHI) for p in policies})
    try:
        verdict = pack.analyze_stack(resources)
    finally:
        pack.configure({})
    return ({(d.policy, d.urn.rsplit("::", 1)[-1]) for d in verdict.violations if d.policy in policies},
            {d.policy for d in verdict.diagnostics if "can't run policy" in d.violation})


def _selection(*stores, resources=None, tags=None):
    deps = {"resources": [s.urn for s in stores]} if stores else None
    props = {"resources": resources if resources is not None else [UNKNOWN] * len(stores)}
    if tags:
        props["selectionTags"] = [{"type": "STRINGEQUALS", "key": k, "value": v} for k, v in tags.items()]
    return res("aws:backup/selection:Selection", "sel", props, property_dependencies=deps)


@pytest.mark.parametrize("type_", sorted(BACKUP_SUPPORTED))
def test_every_backup_supported_store_of_a_phi_stack_must_be_selected(pack, type_):
    store = res(type_, "store", {"arn": UNKNOWN, "tags": {}})
    assert (BACKUP, "store") in _run(pack, [store], policies=(BACKUP,))[0]
    assert _run(pack, [store, _selection(store)], policies=(BACKUP,))[0] == set()


def test_a_selection_of_everything_or_by_tag_or_by_known_arn_covers_the_store(pack):
    arn = "arn:aws:dynamodb:us-east-1:123456789012:table/notes"
    table = res("aws:dynamodb/table:Table", "store", {"arn": arn, "tags": {"Backup": "daily"}})
    for selection in (_selection(resources=["*"]), _selection(resources=[], tags={"Backup": "daily"}),
                      _selection(resources=[arn])):
        assert _run(pack, [table, selection], policies=(BACKUP,))[0] == set()
    assert _run(pack, [table, _selection(resources=[], tags={"Backup": "weekly"})], policies=(BACKUP,))[0] == {(BACKUP, "store")}


def test_a_purpose_tag_does_not_exempt_a_store_only_a_declared_name_does(pack):
    bucket = res("aws:s3/bucket:Bucket", "logs", {"bucket": "b-logs", "arn": UNKNOWN, "tags": {"Purpose": "access-logs"}})
    assert {(BACKUP, "logs"), (AUDIT, "logs")} <= _run(pack, [bucket])[0]
    declared = {**PHI, "notPhiStores": [{"name": "logs", "reason": "server access logs"}]}
    assert _run(pack, [bucket], declared)[0] == set()


def test_outside_a_phi_stack_only_stores_tagged_phi_are_judged(pack):
    plain = res("aws:efs/fileSystem:FileSystem", "plain", {"arn": UNKNOWN, "tags": {"DataClassification": "synthetic"}})
    tagged = res("aws:efs/fileSystem:FileSystem", "tagged", {"arn": UNKNOWN, "tags": {"DataClassification": "phi"}})
    unknown = res("aws:efs/fileSystem:FileSystem", "unknown", {"arn": UNKNOWN, "tags": UNKNOWN})
    violations, unjudged = _run(pack, [plain, tagged, unknown], {"holdsPhi": False}, policies=(BACKUP,))
    assert violations == {(BACKUP, "tagged")} and unjudged == {BACKUP}


# ---------------------------------------------------------------- trail data events and the alarm

BUCKET_NAME = "hipaa-aws-prod-records"


def _bucket():
    return res("aws:s3/bucket:Bucket", "records", {"bucket": BUCKET_NAME, "arn": UNKNOWN, "tags": {}})


def _field(name, **ops):
    return {"field": name, **ops}


def _trail(bucket, arn_field=None, extra=(), linked=True, selectors=None):
    fields = [_field("eventCategory", equals=["Data"]), _field("resources.type", equals=["AWS::S3::Object"])]
    fields += ([arn_field] if arn_field else []) + list(extra)
    props = {"advancedEventSelectors": selectors if selectors is not None else [{"fieldSelectors": fields}]}
    deps = {"advancedEventSelectors": [bucket.urn]} if linked else None
    return res("aws:cloudtrail/trail:Trail", "trail", props, property_dependencies=deps)


def _watch(bucket, with_alarm=True, actions=(UNKNOWN,)):
    definition = json.dumps({"Contribution": {"Keys": ["$.userIdentity.arn"], "Filters": [
        {"Match": "$.eventSource", "In": ["s3.amazonaws.com"]}, {"Match": "$.eventName", "In": ["GetObject"]},
        {"Match": "$.requestParameters.bucketName", "In": [BUCKET_NAME]}]}})
    rule = res("aws:cloudwatch/contributorInsightRule:ContributorInsightRule", "reads",
               {"ruleName": "phi-reads", "ruleState": "ENABLED", "ruleDefinition": definition})
    alarm = res("aws:cloudwatch/metricAlarm:MetricAlarm", "reads", {
        "alarmActions": list(actions),
        "metricQueries": [{"id": "r", "expression": "INSIGHT_RULE_METRIC('phi-reads', 'MaxContributorValue')"}]},
        dependencies=[rule.urn])
    return [rule, alarm] if with_alarm else [rule]


def _audit(pack, resources):
    return _run(pack, resources, policies=(AUDIT,))


@pytest.mark.parametrize("arn_field", [
    None,  # every bucket's objects
    _field("resources.ARN", startsWiths=[UNKNOWN]),  # the bucket's ARN output, at first preview
    _field("resources.ARN", startsWiths=[f"arn:aws:s3:::{BUCKET_NAME}/"]),
    _field("resources.ARN", startsWiths=["arn:aws:s3:::"]),  # every bucket's objects
])
def test_a_trail_recording_the_bucket_objects_reads_and_writes_passes(pack, arn_field):
    bucket = _bucket()
    assert _audit(pack, [bucket, _trail(bucket, arn_field), *_watch(bucket)]) == (set(), set())


@pytest.mark.parametrize("arn_field,extra,linked", [
    (_field("resources.ARN", startsWiths=["arn:aws:s3:::another-bucket/"]), (), False),
    (None, [_field("readOnly", equals=["true"])], True),  # reads only
    (None, [_field("eventName", equals=["PutObject"])], True),  # some calls only
    (_field("resources.ARN", notStartsWiths=[f"arn:aws:s3:::{BUCKET_NAME}/"]), (), True),
    # Equals names one object; "*" is a literal character in selectors (no wildcards).
    (_field("resources.ARN", equals=[f"arn:aws:s3:::{BUCKET_NAME}/"]), (), False),
    (_field("resources.ARN", startsWiths=[f"arn:aws:s3:::{BUCKET_NAME}/*"]), (), False),
])
def test_a_trail_that_misses_the_bucket_or_narrows_its_events_fails(pack, arn_field, extra, linked):
    bucket = _bucket()
    assert _audit(pack, [bucket, _trail(bucket, arn_field, extra, linked), *_watch(bucket)])[0] == {(AUDIT, "records")}


def test_basic_event_selectors_count_when_they_record_all_operations(pack):
    bucket = _bucket()
    def basic(kind):
        return res("aws:cloudtrail/trail:Trail", "trail", {"eventSelectors": [{"readWriteType": kind, "dataResources": [
            {"type": "AWS::S3::Object", "values": [f"arn:aws:s3:::{BUCKET_NAME}/"]}]}]})
    assert _audit(pack, [bucket, basic("All"), *_watch(bucket)])[0] == set()
    assert _audit(pack, [bucket, basic("WriteOnly"), *_watch(bucket)])[0] == {(AUDIT, "records")}


def test_a_phi_bucket_without_a_read_alarm_with_an_action_fails(pack):
    bucket = _bucket()
    assert _audit(pack, [bucket, _trail(bucket), *_watch(bucket, with_alarm=False)])[0] == {(AUDIT, "records")}
    assert _audit(pack, [bucket, _trail(bucket), *_watch(bucket, actions=())])[0] == {(AUDIT, "records")}


def test_an_unknown_selector_block_is_not_judged(pack):
    bucket = _bucket()
    trail = res("aws:cloudtrail/trail:Trail", "trail", {"advancedEventSelectors": UNKNOWN})
    assert _audit(pack, [bucket, trail, *_watch(bucket)]) == (set(), {AUDIT})
