"""The application's own audit trail: who touched which patient record, kept write-once for six years.

CloudTrail records which API call read an S3 object, never which patient's record the application
returned. The application writes one JSON event per PHI access (docs/audit-event.schema.json) to a
dedicated log group named in its AUDIT_LOG_GROUP environment variable; its role may only write there.
Every event is copied, as it arrives, to a bucket with S3 Object Lock:

    log group --(subscription filter, pattern "" = every event)--> Firehose (DirectPut, SSE-KMS)
              --> S3 bucket (SSE-KMS, Object Lock COMPLIANCE for six years in a PHI stack)

CloudWatch Logs delivers to Firehose base64-encoded, gzip-compressed batches (CloudWatch Logs guide,
"Real-time processing of log data with subscriptions"), so Firehose stores them as they come.

S3 refuses a PutObject into a bucket with default Object Lock retention unless it carries Content-MD5
or an x-amz-checksum header (S3 guide, "Object Lock considerations"); Firehose's guide does not say
which it sends, and no AWS page found says Firehose cannot deliver to such a bucket. Delivery is
therefore watched: Firehose logs refusals to its error log, and an alarm fires when the oldest
undelivered event is older than three buffer intervals (Firehose keeps them 24 hours).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi_aws as aws

from components.app_audit_archive import BUCKET_PURPOSE, archive_bucket_arn
from components.aws_context import AwsContext
from components.environment.incident_response import opsitem_action
from components.environment.phi_bucket import PHI_ARCHIVE_STORAGE_CLASS
from components.policy_documents import key_by_alias, policy_json
from components.role_policy import attach_policy, iam_path
from components.runbooks import runbook_link
from components.trail_patterns import object_reads_per_principal_rule
from components.secure_bucket import ObjectLock, SecureBucket, SecureBucketArgs, archive_rule

s3 = aws.s3

# A synthetic stack's archive holds no PHI: a GOVERNANCE lock that `pulumi destroy` may bypass
# (force_destroy, s3:BypassGovernanceRetention) for a day, so the lock path is exercised there too.
SYNTHETIC_LOCK_DAYS = 1
# Firehose buffers up to this much or this long before it writes one object (Firehose API,
# BufferingHints: 1-128 MiB, 0-900 s); five minutes bounds what is only in flight.
BUFFER_MIB = 5
BUFFER_SECONDS = 300
# Read by investigations only: archived like the PHI documents (instant retrieval, and covered by
# AWS Backup, which skips Glacier Flexible Retrieval and Deep Archive objects).
ARCHIVE_AFTER_DAYS = 90
# Where Firehose writes the events; its error prefix takes only records it could not process (a
# transformation or format conversion, none here). S3 delivery failures are retried for 24 hours and
# then lost (Firehose guide, "Handling data delivery failure"): the DataFreshness alarm below.
EVENTS_PREFIX = "events/"
ERRORS_PREFIX = "errors/!{firehose:error-output-type}/"
DELIVERY_ERROR_STREAM = "S3Delivery"
READ_WINDOW_SECONDS = 300
ARCHIVE_READS_RUNBOOK = "app-audit-archive-reads"
DELIVERY_STALLED_RUNBOOK = "app-audit-delivery-stalled"
# Firehose's DeliveryToS3.DataFreshness is the age of the oldest record not yet in S3 (Firehose guide,
# "Monitor with CloudWatch metrics"); above three buffer intervals, delivery has stopped (a refused
# PutObject, a missing permission). Firehose keeps undelivered records for 24 hours only.
STALLED_AFTER_SECONDS = 3 * BUFFER_SECONDS


def audit_log_group_name(stack: str) -> str:
    """The audit log group's name: under the CI deploy role's /hipaa-aws/<stack>/* log-group scope."""
    return f"/hipaa-aws/{stack}/app-audit"


def delivery_log_group_name(stack: str) -> str:
    """Firehose's own error log (delivery failures), beside the audit group."""
    return f"/hipaa-aws/{stack}/app-audit-delivery"


def stream_name(stack: str) -> str:
    return f"hipaa-aws-{stack}-app-audit"


def writer_statements(log_group_arn: str) -> list[dict]:
    """The application's grant on its audit log: create its streams and put events, nothing else.
    Both actions take the log-stream resource type (Service Authorization Reference, CloudWatch
    Logs: `log-group:<name>:log-stream:<stream>`); no Get/Filter/Describe/Delete, so the
    application can neither read back nor erase what it wrote."""
    return [{"Sid": "WriteAuditEvents", "Effect": "Allow",
             "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
             "Resource": f"{log_group_arn}:log-stream:*"}]


def subscription_trust(ctx: AwsContext) -> str:
    """CloudWatch Logs guide, "Subscription filters with Amazon Data Firehose": the role CloudWatch
    Logs assumes to put records, limited to this account's log groups in this region."""
    return policy_json({
        "Effect": "Allow",
        "Principal": {"Service": f"logs.{ctx.dns_suffix}"},
        "Action": "sts:AssumeRole",
        "Condition": {"StringLike": {"aws:SourceArn": ctx.arn("logs", "*")}},
    })


def stream_arn(ctx: AwsContext, stack: str) -> str:
    return ctx.arn("firehose", f"deliverystream/{stream_name(stack)}")


def storage_key(ctx: AwsContext, stack: str) -> tuple[str, dict]:
    """The stack's storage key, named by its alias so the documents are known at preview."""
    return key_by_alias(ctx, f"alias/hipaa-aws-{stack}-storage")


def subscription_statements(ctx: AwsContext, stack: str) -> list[dict]:
    """Put records into the one delivery stream (CloudWatch Logs guide, "Subscription filters with
    Amazon Data Firehose"). The key grant is defensive: Firehose creates its own grant on a customer
    key (DeliveryStreamEncryptionConfigurationInput), and a notice quoted by third parties says
    callers of a stream encrypted with one need kms:GenerateDataKey and kms:Decrypt since 2026-04-20,
    which no AWS page read here states; harmless if not required, through Firehose only."""
    key, by_alias = storage_key(ctx, stack)
    return [
        {"Sid": "PutAuditRecords", "Effect": "Allow",
         "Action": ["firehose:PutRecord", "firehose:PutRecordBatch"], "Resource": stream_arn(ctx, stack)},
        {"Sid": "EncryptThroughFirehose", "Effect": "Allow",
         "Action": ["kms:GenerateDataKey", "kms:Decrypt"], "Resource": key,
         "Condition": {**by_alias, "StringEquals": {"kms:ViaService": ctx.service_host("firehose")}}},
    ]


def firehose_trust(ctx: AwsContext) -> str:
    """Firehose guide, "Grant Firehose access to an Amazon S3 destination": the trust policy names
    this account as the external id."""
    return policy_json({
        "Effect": "Allow",
        "Principal": {"Service": "firehose.amazonaws.com"},
        "Action": "sts:AssumeRole",
        "Condition": {"StringEquals": {"sts:ExternalId": ctx.account_id}},
    })


def delivery_statements(ctx: AwsContext, stack: str) -> list[dict]:
    """Firehose guide, "Grant Firehose access to an Amazon S3 destination": the bucket's S3 actions,
    the key through S3 only for this bucket (its Bucket Key's context), and its error log stream."""
    bucket_arn = archive_bucket_arn(ctx, stack)
    key, by_alias = storage_key(ctx, stack)
    error_log_group_arn = ctx.arn("logs", f"log-group:{delivery_log_group_name(stack)}")
    return [
        {"Sid": "WriteArchive", "Effect": "Allow",
         "Action": ["s3:AbortMultipartUpload", "s3:GetBucketLocation", "s3:GetObject", "s3:ListBucket",
                    "s3:ListBucketMultipartUploads", "s3:PutObject"],
         "Resource": [bucket_arn, f"{bucket_arn}/*"]},
        {"Sid": "EncryptArchiveObjects", "Effect": "Allow",
         "Action": ["kms:Decrypt", "kms:GenerateDataKey"], "Resource": key,
         # The archive has an S3 Bucket Key (SecureBucket), so S3 asks KMS with the bucket's ARN as the
         # encryption context, not the object's (S3 guide, "Configuring your bucket to use an S3
         # Bucket Key with SSE-KMS for new objects": update IAM policies to the bucket ARN).
         "Condition": {**by_alias, "StringEquals": {"kms:ViaService": ctx.service_host("s3"),
                                                    "kms:EncryptionContext:aws:s3:arn": bucket_arn}}},
        {"Sid": "LogDeliveryErrors", "Effect": "Allow", "Action": "logs:PutLogEvents",
         "Resource": f"{error_log_group_arn}:log-stream:*"},
    ]


@dataclass(frozen=True)
class AppAuditTrailArgs:
    stack: str
    aws: AwsContext
    holds_phi: bool
    """COMPLIANCE lock and protection with PHI; otherwise a short GOVERNANCE lock, destroyable."""
    logs_key_arn: pulumi.Input[str]
    """Encrypts the audit log group and Firehose's error log."""
    storage_key_arn: pulumi.Input[str]
    """Encrypts the archive objects (SSE-KMS) and the delivery stream (SSE with a customer key)."""
    access_log_bucket: pulumi.Input[str]
    retention_days: int
    """Log group retention and the COMPLIANCE lock's days (six years or more)."""
    workload_role: aws.iam.Role
    """The application's task role: it gets the write-only grant."""
    trail_log_group_name: pulumi.Input[str]
    """The stack trail's log group, which records the archive's object reads (data events)."""
    alert_topic_arn: pulumi.Input[str]
    read_alarm_threshold: int
    """Object reads of the archive by one principal in five minutes that raise the alarm."""
    backup_plan_id: pulumi.Input[str]
    backup_role_arn: pulumi.Input[str]
    """The environment's AWS Backup plan and role: the archive gets a selection of its own."""
    backup: pulumi.Resource
    """The environment's Backup component: the selection waits for its role's policies."""


class AppAuditTrail(pulumi.ComponentResource):
    log_group_name: pulumi.Output[str]
    """The log group the application writes its audit events to (AUDIT_LOG_GROUP)."""
    stream_arn: pulumi.Output[str]
    """The Firehose delivery stream that copies every event to the archive."""
    bucket: SecureBucket
    """The Object Lock bucket holding every audit event."""

    def __init__(self, name: str, args: AppAuditTrailArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("hipaa:components:AppAuditTrail", name, None, opts)
        ctx, stack = args.aws, args.stack
        child = pulumi.ResourceOptions(parent=self)
        evidence = pulumi.ResourceOptions(parent=self, protect=args.holds_phi)
        path = iam_path(stack)

        group_name = audit_log_group_name(stack)
        group_arn = ctx.arn("logs", f"log-group:{group_name}")  # known at preview
        log_group = aws.cloudwatch.LogGroup(
            name, name=group_name, retention_in_days=args.retention_days,
            kms_key_id=args.logs_key_arn, opts=evidence)
        self.log_group_name = log_group.name
        # Another component's policy on the workload role; its name is this component's.
        attach_policy(f"{name}-writer", args.workload_role,
                      "Write the application's audit events (no read, no delete)",
                      policy_json(*writer_statements(group_arn)),
                      pulumi.ResourceOptions(parent=self, depends_on=[log_group]), path=path)

        self.bucket = SecureBucket(f"{name}-archive", SecureBucketArgs(
            aws=ctx, stack=stack, purpose=BUCKET_PURPOSE, kms_key_arn=args.storage_key_arn,
            access_log_bucket=args.access_log_bucket,
            # COMPLIANCE: nobody, root included, can delete or overwrite an event for six years.
            object_lock=ObjectLock(mode="COMPLIANCE", days=args.retention_days) if args.holds_phi
            else ObjectLock(mode="GOVERNANCE", days=SYNTHETIC_LOCK_DAYS),
            force_destroy=not args.holds_phi,
            lifecycle_rules=[archive_rule(args.retention_days, ARCHIVE_AFTER_DAYS,
                                          PHI_ARCHIVE_STORAGE_CLASS)],
        ), opts=evidence)

        errors_group_name = delivery_log_group_name(stack)
        errors_group = aws.cloudwatch.LogGroup(
            f"{name}-delivery-errors", name=errors_group_name, retention_in_days=args.retention_days,
            kms_key_id=args.logs_key_arn, opts=evidence)  # audit evidence too: why a delivery failed
        errors_stream = aws.cloudwatch.LogStream(
            f"{name}-delivery-errors", name=DELIVERY_ERROR_STREAM, log_group_name=errors_group.name,
            opts=child)

        delivery_role = aws.iam.Role(
            f"{name}-delivery", name=f"hipaa-aws-{stack}-app-audit-delivery", path=path,
            description="Firehose writes the application's audit events to the Object Lock archive",
            assume_role_policy=firehose_trust(ctx), opts=child)
        delivery_policy = attach_policy(
            f"{name}-delivery", delivery_role, "Write the audit archive and its delivery errors",
            policy_json(*delivery_statements(ctx, stack)), child, path=path)

        s3_config = aws.kinesis.FirehoseDeliveryStreamExtendedS3ConfigurationArgs
        stream = aws.kinesis.FirehoseDeliveryStream(
            name, name=stream_name(stack), destination="extended_s3",
            server_side_encryption=aws.kinesis.FirehoseDeliveryStreamServerSideEncryptionArgs(
                enabled=True, key_type="CUSTOMER_MANAGED_CMK", key_arn=args.storage_key_arn),
            extended_s3_configuration=s3_config(
                role_arn=delivery_role.arn, bucket_arn=self.bucket.arn,
                prefix=EVENTS_PREFIX, error_output_prefix=ERRORS_PREFIX,
                buffering_size=BUFFER_MIB, buffering_interval=BUFFER_SECONDS,
                # Already gzip-compressed by CloudWatch Logs.
                compression_format="UNCOMPRESSED",
                kms_key_arn=args.storage_key_arn,
                cloudwatch_logging_options=aws.kinesis.FirehoseDeliveryStreamExtendedS3ConfigurationCloudwatchLoggingOptionsArgs(
                    enabled=True, log_group_name=errors_group.name, log_stream_name=errors_stream.name)),
            # Firehose checks its role when the stream is created and starts writing at once.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[delivery_policy, self.bucket.policy]))
        self.stream_arn = stream.arn

        subscription_role = aws.iam.Role(
            f"{name}-subscription", name=f"hipaa-aws-{stack}-app-audit-subscription", path=path,
            description="CloudWatch Logs puts the application's audit events into their delivery stream",
            assume_role_policy=subscription_trust(ctx), opts=child)
        subscription_policy = attach_policy(
            f"{name}-subscription", subscription_role, "Put audit events into their delivery stream",
            policy_json(*subscription_statements(ctx, stack)), child, path=path)
        aws.cloudwatch.LogSubscriptionFilter(
            name, name="every-event-to-archive", log_group=log_group.name,
            filter_pattern="",  # the empty pattern matches every event
            destination_arn=stream.arn, role_arn=subscription_role.arn,
            # PutSubscriptionFilter tests delivery with the role: it must be able to put records.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[subscription_policy]))

        # Object Lock keeps every version for six years, but not against the loss of the storage key
        # or of the region: AWS Backup copies it into the locked vault (encrypted with the backup key,
        # and to the copy region when set). S3 backups need versioning (AWS Backup guide, "Amazon S3
        # backups"), which Object Lock turns on. Every argument of a selection is create-only.
        aws.backup.Selection(
            f"{name}-archive", name=f"hipaa-aws-{stack}-app-audit", plan_id=args.backup_plan_id,
            iam_role_arn=args.backup_role_arn, resources=[self.bucket.arn],
            opts=pulumi.ResourceOptions(parent=self, delete_before_replace=True, depends_on=[args.backup]))

        self._read_alarm(name, args, child)
        aws.cloudwatch.MetricAlarm(
            f"{name}-delivery-stalled", name=f"hipaa-aws-{stack}-app-audit-delivery-stalled",
            alarm_description=("Audit events have waited more than 15 minutes in Firehose for the write-once "
                               "archive; Firehose drops them after 24 hours. "
                               f"{runbook_link(DELIVERY_STALLED_RUNBOOK)}"),
            namespace="AWS/Firehose", metric_name="DeliveryToS3.DataFreshness",
            dimensions={"DeliveryStreamName": stream.name}, statistic="Maximum", period=READ_WINDOW_SECONDS,
            evaluation_periods=1, threshold=STALLED_AFTER_SECONDS, comparison_operator="GreaterThanThreshold",
            # No events, no data points: nothing is waiting.
            treat_missing_data="notBreaching",
            alarm_actions=[args.alert_topic_arn], insufficient_data_actions=[args.alert_topic_arn],
            opts=child)
        self.register_outputs({"log_group_name": self.log_group_name, "stream_arn": self.stream_arn})

    def _read_alarm(self, name: str, args: AppAuditTrailArgs, child: pulumi.ResourceOptions) -> None:
        """The archive holds patient ids: reads of it, recorded by the stack trail's S3 data events,
        are watched like the PHI bucket's (more than the threshold by one principal in five minutes)."""
        stack, ctx = args.stack, args.aws
        bucket_name = ctx.bucket_name(stack, BUCKET_PURPOSE)
        rule_name = f"hipaa-aws-{stack}-app-audit-reads-per-principal"
        definition = pulumi.Output.from_input(args.trail_log_group_name).apply(
            lambda group: object_reads_per_principal_rule(group, bucket_name))
        rule = aws.cloudwatch.ContributorInsightRule(
            f"{name}-reads", rule_name=rule_name, rule_state="ENABLED", rule_definition=definition,
            opts=child)
        actions = [args.alert_topic_arn, opsitem_action(ctx, "2", "Security")]
        aws.cloudwatch.MetricAlarm(
            f"{name}-reads", name=rule_name,
            alarm_description=(f"A single principal read more than {args.read_alarm_threshold} objects of "
                               "the application audit archive in 5 minutes. "
                               f"{runbook_link(ARCHIVE_READS_RUNBOOK)}"),
            evaluation_periods=1, treat_missing_data="notBreaching",
            alarm_actions=actions, insufficient_data_actions=[args.alert_topic_arn],
            threshold=args.read_alarm_threshold, comparison_operator="GreaterThanThreshold",
            metric_queries=[aws.cloudwatch.MetricAlarmMetricQueryArgs(
                id="reads", return_data=True, period=READ_WINDOW_SECONDS,
                expression=f"INSIGHT_RULE_METRIC('{rule_name}', 'MaxContributorValue')",
                label="Most audit archive object reads by one principal")],
            opts=pulumi.ResourceOptions(parent=self, depends_on=[rule]))
