"""OrganizationTrail: one trail for every account, created in the management account, writing into
COMPLIANCE-locked, KMS-encrypted storage in the log-archive account that only this trail can write.

Run under the mock runtime with explicit providers for the two accounts, as the organization
project builds them."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from typing import Any

import pulumi
import pulumi_aws as aws
import pytest

from components.tagging import register_tagging
from components.organization.organization_trail import OrganizationTrail, OrganizationTrailArgs, validate
from preflight.judge import judge
from preflight.program_runner import ProgramRun, RecordedResource, run_program
from preflight.stack_config import StackConfig

MANAGEMENT = "111111111111"
LOG_ARCHIVE = "222222222222"
ORG = "o-exampleorg1"
REGION = "eu-west-1"
TRAIL_ARN = f"arn:aws:cloudtrail:{REGION}:{MANAGEMENT}:trail/hipaa-aws-organization"
ARCHIVE_ADMIN = f"arn:aws:iam::{LOG_ARCHIVE}:role/hipaa-aws/ci/hipaa-aws-organization-deploy"
MANAGEMENT_ADMIN = f"arn:aws:iam::{MANAGEMENT}:role/hipaa-aws/ci/hipaa-aws-organization-deploy"
CONFIG = StackConfig(project="hipaa-aws-organization", stack="organization",
                     values={"aws:region": REGION})

TRAIL = "aws:cloudtrail/trail:Trail"
BUCKET = "aws:s3/bucket:Bucket"
KEY = "aws:kms/key:Key"
S3 = "aws:s3/"


def args(management: Any = None, log_archive: Any = None, **changes) -> OrganizationTrailArgs:
    base = OrganizationTrailArgs(
        stack="organization", management_provider=management, log_archive_provider=log_archive,
        management_account_id=MANAGEMENT, log_archive_account_id=LOG_ARCHIVE, organization_id=ORG,
        home_region=REGION, log_archive_key_administrators=[ARCHIVE_ADMIN],
        management_key_administrators=[MANAGEMENT_ADMIN])
    return replace(base, **changes)


def program() -> None:
    # The organization project's stack transform (organization/__main__.py) tags every resource.
    register_tagging({"Environment": "organization", "DataClassification": "internal",
                      "Owner": "security", "CostCenter": "platform", "ManagedBy": "pulumi"})
    management = aws.Provider("management", region=REGION, allowed_account_ids=[MANAGEMENT])
    log_archive = aws.Provider("log-archive", region=REGION, allowed_account_ids=[LOG_ARCHIVE])
    # Stands in for the aws.organizations.Organization that enables CloudTrail's trusted access.
    trusted = aws.organizations.Organization(
        "org", feature_set="ALL", aws_service_access_principals=["cloudtrail.amazonaws.com"],
        opts=pulumi.ResourceOptions(provider=management))
    OrganizationTrail("org-trail", args(management, log_archive, trusted_access=[trusted]))


@pytest.fixture(scope="module")
def run() -> ProgramRun:
    return run_program(program, CONFIG, preview=False)


def provider_of(run: ProgramRun, name: str) -> str:
    provider = run.named(name, "pulumi:providers:aws")
    return f"{provider.urn}::{provider.id}"


def side(run: ProgramRun, bucket: str, kind: str) -> RecordedResource:
    token = f"{S3}{kind[0].lower()}{kind[1:]}:{kind}"
    return run.named(bucket, token)


def statements(document: str) -> dict[str, dict]:
    by_sid = {s["Sid"]: s for s in json.loads(document)["Statement"]}
    assert len(by_sid) == len(json.loads(document)["Statement"]), "Sids are unique"
    return by_sid


def key_policy(run: ProgramRun, key: str) -> dict[str, dict]:
    return statements(run.named(key, KEY).inputs["policy"])


def test_the_trail_records_every_account_and_region_from_the_management_account(run):
    """pulumi-aws `Trail` docstring: an organization trail can only be created in the management
    account; CloudTrail guide, "Creating a trail for an organization"."""
    trail = run.named("org-trail", TRAIL)
    assert trail.provider == provider_of(run, "management")
    inputs = trail.inputs
    assert inputs["isOrganizationTrail"] is True
    assert inputs["isMultiRegionTrail"] is True
    assert inputs["includeGlobalServiceEvents"] is True
    assert inputs["enableLogging"] is True
    assert inputs["name"] == "hipaa-aws-organization"
    assert [s["fieldSelectors"] for s in inputs["advancedEventSelectors"]] == [
        [{"field": "eventCategory", "equals": ["Management"]}]]


def test_the_trail_validates_and_encrypts_with_the_log_archive_key_into_the_log_archive_bucket(run):
    trail = run.named("org-trail", TRAIL).inputs
    assert trail["enableLogFileValidation"] is True
    archive_key = run.named("org-trail-archive-keys-org-trail", KEY)
    assert archive_key.provider == provider_of(run, "log-archive")
    assert trail["kmsKeyId"] == archive_key.outputs["arn"]
    assert trail["s3BucketName"] == run.named("org-trail-logs", BUCKET).outputs["bucket"]


def test_the_bucket_and_its_controls_live_in_the_log_archive_account(run):
    log_archive = provider_of(run, "log-archive")
    bucket = run.named("org-trail-logs", BUCKET)
    assert bucket.inputs["bucket"] == f"hipaa-aws-organization-audit-trail-{LOG_ARCHIVE}"
    in_bucket = [r for r in run.resources if r.custom and r.name == "org-trail-logs"]
    # bucket, ownership, public access, SSE, versioning, lock, logging, lifecycle, policy
    assert len(in_bucket) == 9
    assert {r.provider for r in in_bucket} == {log_archive}


def test_the_bucket_is_compliance_locked_for_six_years(run):
    """S3 Object Lock must be enabled at creation (CreateBucket ObjectLockEnabledForBucket); in
    COMPLIANCE mode nobody, root included, can delete a version before retention ends (S3 user
    guide, "Object Lock"); six years: HIPAA 164.316(b)(2)(i)."""
    bucket = run.named("org-trail-logs", BUCKET)
    assert bucket.inputs["objectLockEnabled"] is True
    assert not bucket.inputs.get("forceDestroy")
    lock = side(run, "org-trail-logs", "BucketObjectLockConfiguration").inputs
    retention = lock["rule"]["defaultRetention"]
    assert retention == {"mode": "COMPLIANCE", "days": 2192}


def test_the_evidence_is_protected_and_kept(run):
    """Pulumi refuses to delete or replace a protected resource; retain_on_delete keeps it in AWS."""
    evidence = [r for r in run.resources if r.custom and (
        r.name.startswith(("org-trail-logs", "org-trail-access-logs", "org-trail-archive-keys",
                           "org-trail-log-keys")) or r.name == "org-trail-trail")]
    assert {r.type for r in evidence} >= {BUCKET, KEY, "aws:cloudwatch/logGroup:LogGroup",
                                         f"{S3}bucketPolicy:BucketPolicy"}
    assert all(r.protect is True for r in evidence), [r.name for r in evidence if not r.protect]
    for name, token in (("org-trail-logs", BUCKET), ("org-trail-archive-keys-org-trail", KEY),
                        ("org-trail-trail", "aws:cloudwatch/logGroup:LogGroup")):
        assert run.named(name, token).retain_on_delete is True


def test_the_bucket_is_versioned_kms_encrypted_private_and_logged(run):
    versioning = side(run, "org-trail-logs", "BucketVersioning").inputs
    assert versioning["versioningConfiguration"]["status"] == "Enabled"
    (rule,) = side(run, "org-trail-logs", "BucketServerSideEncryptionConfiguration").inputs["rules"]
    default = rule["applyServerSideEncryptionByDefault"]
    assert default["sseAlgorithm"] == "aws:kms"
    assert default["kmsMasterKeyId"] == run.named("org-trail-archive-keys-org-trail", KEY).outputs["arn"]
    blocks = side(run, "org-trail-logs", "BucketPublicAccessBlock").inputs
    assert all(blocks[k] is True for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls",
                                           "restrictPublicBuckets"))
    # S3 server access logs cannot go to an SSE-KMS bucket (S3 user guide): an SSE-S3 target, in
    # the same account.
    target = run.named("org-trail-access-logs", BUCKET)
    assert side(run, "org-trail-logs", "BucketLogging").inputs["targetBucket"] == target.outputs["bucket"]
    assert target.provider == provider_of(run, "log-archive")
    target_sse = side(run, "org-trail-access-logs", "BucketServerSideEncryptionConfiguration")
    (target_rule,) = target_sse.inputs["rules"]
    assert target_rule["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == "AES256"


def test_the_bucket_refuses_requests_without_tls(run):
    policy = statements(side(run, "org-trail-logs", "BucketPolicy").inputs["policy"])
    deny = policy["DenyInsecureTransport"]
    assert deny["Effect"] == "Deny" and deny["Principal"] == "*"
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_the_bucket_admits_exactly_the_organization_trail(run):
    """CloudTrail guide, "Create or update an Amazon S3 bucket to use to store the log files for an
    organization trail": the ACL check, the management account's prefix and the organization's
    prefix, each with aws:SourceArn = the trail's ARN in the management account (and the
    bucket-owner-full-control ACL on writes)."""
    bucket_arn = f"arn:aws:s3:::hipaa-aws-organization-audit-trail-{LOG_ARCHIVE}"
    policy = statements(side(run, "org-trail-logs", "BucketPolicy").inputs["policy"])
    allows = {sid: s for sid, s in policy.items() if s["Effect"] == "Allow"}
    assert allows == {
        "CloudTrailAclCheck": {
            "Sid": "CloudTrailAclCheck", "Effect": "Allow",
            "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "s3:GetBucketAcl",
            "Resource": bucket_arn, "Condition": {"StringEquals": {"aws:SourceArn": TRAIL_ARN}}},
        "CloudTrailWrite": {
            "Sid": "CloudTrailWrite", "Effect": "Allow",
            "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "s3:PutObject",
            "Resource": f"{bucket_arn}/AWSLogs/{MANAGEMENT}/*",
            "Condition": {"StringEquals": {"aws:SourceArn": TRAIL_ARN,
                                           "s3:x-amz-acl": "bucket-owner-full-control"}}},
        "CloudTrailOrganizationWrite": {
            "Sid": "CloudTrailOrganizationWrite", "Effect": "Allow",
            "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "s3:PutObject",
            "Resource": f"{bucket_arn}/AWSLogs/{ORG}/*",
            "Condition": {"StringEquals": {"aws:SourceArn": TRAIL_ARN,
                                           "s3:x-amz-acl": "bucket-owner-full-control"}}},
    }


def test_the_log_archive_key_admits_exactly_the_organization_trail(run):
    """CloudTrail guide, "Configure AWS KMS key policies for CloudTrail": GenerateDataKey* with the
    trail's encryption context (the trail ARN carries the management account's id in every member
    account: "Creating a trail for an organization") and aws:SourceArn = the trail; DescribeKey;
    kms:Decrypt because the bucket uses an S3 Bucket Key. Named administrators, never the account."""
    policy = key_policy(run, "org-trail-archive-keys-org-trail")
    assert set(policy) == {"KeyAdministrators", "CloudTrailEncryptLogs", "CloudTrailDescribeKey",
                           "CloudTrailDecryptForBucketKey", "LogArchiveReadsThroughS3"}
    assert policy["KeyAdministrators"]["Principal"] == {"AWS": [ARCHIVE_ADMIN]}
    encrypt = policy["CloudTrailEncryptLogs"]
    assert encrypt["Principal"] == {"Service": "cloudtrail.amazonaws.com"}
    assert encrypt["Action"] == "kms:GenerateDataKey*"
    assert encrypt["Condition"] == {
        "StringEquals": {"aws:SourceArn": TRAIL_ARN},
        "StringLike": {"kms:EncryptionContext:aws:cloudtrail:arn":
                       f"arn:aws:cloudtrail:*:{MANAGEMENT}:trail/*"}}
    assert policy["CloudTrailDescribeKey"]["Condition"] == {"StringEquals": {"aws:SourceArn": TRAIL_ARN}}
    assert policy["CloudTrailDecryptForBucketKey"]["Action"] == "kms:Decrypt"
    reads = policy["LogArchiveReadsThroughS3"]
    assert reads["Principal"] == {"AWS": f"arn:aws:iam::{LOG_ARCHIVE}:root"}
    assert reads["Action"] == ["kms:Decrypt", "kms:DescribeKey"]
    assert reads["Condition"] == {"StringEquals": {"kms:ViaService": f"s3.{REGION}.amazonaws.com",
                                                   "kms:CallerAccount": LOG_ARCHIVE}}
    # Nothing else may encrypt with it or use it: no account-wide grant, no other service.
    principals = [s["Principal"] for s in policy.values()]
    assert {"AWS": f"arn:aws:iam::{MANAGEMENT}:root"} not in principals


def test_the_log_archive_key_rotates(run):
    key = run.named("org-trail-archive-keys-org-trail", KEY).inputs
    assert key["enableKeyRotation"] is True
    assert key["rotationPeriodInDays"] == 365


def test_cloudwatch_delivery_lives_in_the_management_account(run):
    """CloudTrail guide, "Prepare for creating a trail for your organization": the log group and the
    role must be in the account that owns the trail; the log group ARN needs the `:*` suffix."""
    management = provider_of(run, "management")
    group = run.named("org-trail-trail", "aws:cloudwatch/logGroup:LogGroup")
    role = run.named("org-trail-trail-to-logs", "aws:iam/role:Role")
    trail = run.named("org-trail", TRAIL).inputs
    assert group.provider == role.provider == management
    assert trail["cloudWatchLogsGroupArn"] == group.outputs["arn"] + ":*"
    assert trail["cloudWatchLogsRoleArn"] == role.outputs["arn"]
    assert group.inputs["retentionInDays"] == 2192


def test_the_log_group_is_encrypted_with_a_management_account_key_for_that_group_only(run):
    """CloudWatch Logs guide, "Encrypt log data in CloudWatch Logs using AWS KMS": the regional logs
    principal, with kms:EncryptionContext:aws:logs:arn = the log group's ARN."""
    group = run.named("org-trail-trail", "aws:cloudwatch/logGroup:LogGroup")
    key = run.named("org-trail-log-keys-org-trail-logs", KEY)
    assert key.provider == provider_of(run, "management")
    assert group.inputs["kmsKeyId"] == key.outputs["arn"]
    policy = key_policy(run, "org-trail-log-keys-org-trail-logs")
    assert set(policy) == {"KeyAdministrators", "OrganizationTrailLogGroup"}
    assert policy["KeyAdministrators"]["Principal"] == {"AWS": [MANAGEMENT_ADMIN]}
    logs = policy["OrganizationTrailLogGroup"]
    assert logs["Principal"] == {"Service": f"logs.{REGION}.amazonaws.com"}
    assert logs["Condition"] == {"ArnLike": {"kms:EncryptionContext:aws:logs:arn":
                                             f"arn:aws:logs:{REGION}:{MANAGEMENT}:log-group:"
                                             f"/hipaa-aws/organization/organization-trail"}}


def test_the_delivery_role_follows_the_cloudtrail_guide_for_organization_trails(run):
    """CloudTrail guide, "Role policy document for CloudTrail to use CloudWatch Logs": no source
    conditions in the trust (unsupported, they break delivery); streams of the management account
    (`<account>_CloudTrail_<region>`) and of the member accounts (`<organization id>_*`)."""
    role = run.named("org-trail-trail-to-logs", "aws:iam/role:Role").inputs
    (trust,) = json.loads(role["assumeRolePolicy"])["Statement"]
    assert trust == {"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
                     "Action": "sts:AssumeRole"}
    policy = statements(run.named("org-trail-trail-to-logs", "aws:iam/policy:Policy").inputs["policy"])
    group = f"arn:aws:logs:{REGION}:{MANAGEMENT}:log-group:/hipaa-aws/organization/organization-trail"
    streams = [f"{group}:log-stream:{MANAGEMENT}_CloudTrail_*", f"{group}:log-stream:{ORG}_*"]
    assert policy == {
        "CreateTrailStreams": {"Sid": "CreateTrailStreams", "Effect": "Allow",
                               "Action": "logs:CreateLogStream", "Resource": streams},
        "PutTrailEvents": {"Sid": "PutTrailEvents", "Effect": "Allow",
                           "Action": "logs:PutLogEvents", "Resource": streams},
    }
    role_policy = run.named("org-trail-trail-to-logs", "aws:iam/policy:Policy")
    assert role_policy.provider == provider_of(run, "management")


def test_the_trail_is_created_after_everything_create_trail_checks(run):
    """CreateTrail fails (InsufficientS3BucketPolicyException, InsufficientEncryptionPolicyException,
    InvalidCloudWatchLogsRoleArnException, CloudTrailAccessNotEnabledException: botocore `cloudtrail`
    model) unless the bucket policy, the key policy, the role's policy and trusted access exist."""
    trail = run.named("org-trail", TRAIL)
    needed = {
        run.named("org-trail-logs", f"{S3}bucketPolicy:BucketPolicy").urn,
        run.named("org-trail-archive-keys-org-trail", KEY).urn,
        run.named("org-trail-trail-to-logs", "aws:iam/rolePolicyAttachment:RolePolicyAttachment").urn,
        run.named("org", "aws:organizations/organization:Organization").urn,
        run.named("org-trail-trail", "aws:cloudwatch/logGroup:LogGroup").urn,
    }
    assert needed <= set(trail.dependencies)
    # The role's policy names the log group: created after it.
    role_policy = run.named("org-trail-trail-to-logs", "aws:iam/policy:Policy")
    group = run.named("org-trail-trail", "aws:cloudwatch/logGroup:LogGroup")
    assert group.urn in role_policy.dependencies
    # The log group's key (and its policy) exists before the log group.
    assert run.named("org-trail-log-keys-org-trail-logs", KEY).urn in group.dependencies


def test_the_policy_pack_passes_the_component(pack):
    """The project's policy pack (defaults) over the component at preview, as `pulumi preview
    --policy-pack policy` would judge it."""
    pack.configure({})
    preview = run_program(program, CONFIG, preview=True)
    judgement = judge(preview, pack, CONFIG)
    assert [(d.policy, d.message) for d in judgement.violations] == []


@pytest.mark.parametrize("change,message", [
    ({"organization_id": "r-abcd"}, "organization_id 'r-abcd' is not an organization id"),
    ({"log_archive_account_id": MANAGEMENT}, "log_archive_account_id must not be the management account"),
    ({"management_account_id": "1234"}, "management_account_id '1234' is not a 12-digit AWS account id"),
    ({"retention_days": 2190}, "retention_days 2190 must be a CloudWatch Logs retention of at least six"),
    ({"retention_days": 731}, "retention_days 731 must be a CloudWatch Logs retention of at least six"),
    ({"log_archive_key_administrators": []}, "log_archive_key_administrators must name at least one role"),
    ({"log_archive_key_administrators": [MANAGEMENT_ADMIN]},
     f"is a role of account {MANAGEMENT}, not of the key's account {LOG_ARCHIVE}"),
    ({"management_key_administrators": [f"arn:aws:iam::{MANAGEMENT}:root"]}, "is not an IAM role ARN"),
    ({"trail_name": "-bad"}, "does not meet CloudTrail's naming requirements"),
    ({"stack": "a-very-long-organization-stack-name"}, "longer than S3's 63 characters"),
])
def test_arguments_aws_would_refuse_are_refused_before_anything_is_created(change, message):
    with pytest.raises(pulumi.RunError, match="organization trail: .*" + re.escape(message)):
        validate(args(**change))


def test_every_problem_is_reported_at_once():
    with pytest.raises(pulumi.RunError) as raised:
        validate(args(organization_id="bad", retention_days=1))
    assert "organization_id" in str(raised.value) and "retention_days" in str(raised.value)


def test_valid_arguments_pass():
    validate(args())
    validate(args(retention_days=3653))
