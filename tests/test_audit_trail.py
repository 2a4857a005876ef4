"""AuditTrail: multi-region, validated, encrypted, into WORM storage only this trail can write."""

from __future__ import annotations

import json

from tests.conftest import account_of, arn_of, owned_run, region_of, run_stack
from tests.test_phi_bucket import side

TRAIL = "aws:cloudtrail/trail:Trail"
BUCKET = "aws:s3/bucket:Bucket"


def test_the_account_owners_trail_records_every_region_and_global_events():
    trail = owned_run("prod").named("hipaa-audit", TRAIL).inputs
    assert trail["isMultiRegionTrail"] is True
    assert trail["includeGlobalServiceEvents"] is True
    assert any({"field": "eventCategory", "equals": ["Management"]} in s["fieldSelectors"]
               for s in trail["advancedEventSelectors"])


def test_a_stack_that_does_not_own_the_account_records_only_its_data_events(any_stack):
    """The owner's (or the organization's) multi-region trail already records management events; a
    second copy is billed."""
    trail = any_stack.named("hipaa-audit", TRAIL).inputs
    assert trail["isMultiRegionTrail"] is False and trail["includeGlobalServiceEvents"] is False
    categories = [f["equals"] for s in trail["advancedEventSelectors"] for f in s["fieldSelectors"]
                  if f["field"] == "eventCategory"]
    # The PHI bucket's selector, and the application audit archive's (tests/test_app_audit_trail.py).
    assert categories and all(c == ["Data"] for c in categories)


def test_trail_validates_encrypts_and_logs(any_stack):
    trail = any_stack.named("hipaa-audit", TRAIL).inputs
    assert trail["enableLogFileValidation"] is True
    assert trail["enableLogging"] is True
    assert trail["kmsKeyId"] == arn_of(any_stack, "hipaa-keys-logs", "aws:kms/key:Key")
    assert trail["s3BucketName"] == any_stack.named("hipaa-audit-logs", BUCKET).outputs["bucket"]


def test_trail_delivers_to_an_encrypted_six_year_log_group(any_stack):
    trail = any_stack.named("hipaa-audit", TRAIL).inputs
    group = any_stack.named("hipaa-audit-trail", "aws:cloudwatch/logGroup:LogGroup")
    assert trail["cloudWatchLogsGroupArn"] == group.outputs["arn"] + ":*"
    assert group.inputs["kmsKeyId"] == arn_of(any_stack, "hipaa-keys-logs", "aws:kms/key:Key")
    assert group.inputs["retentionInDays"] >= 2192
    role = any_stack.named("hipaa-audit-trail-to-logs", "aws:iam/role:Role")
    assert trail["cloudWatchLogsRoleArn"] == role.outputs["arn"]


def test_phi_object_reads_and_writes_are_recorded_as_data_events(any_stack):
    selectors = any_stack.named("hipaa-audit", TRAIL).inputs["advancedEventSelectors"]
    phi_arn = any_stack.named("hipaa-phi-documents", BUCKET).outputs["arn"]
    data = next(s for s in selectors if {"field": "eventCategory", "equals": ["Data"]}
                in s["fieldSelectors"])
    fields = {f["field"]: f for f in data["fieldSelectors"]}
    assert fields["resources.type"]["equals"] == ["AWS::S3::Object"]
    assert fields["resources.ARN"]["startsWiths"] == [f"{phi_arn}/"]
    assert "readOnly" not in fields  # reads and writes


def test_the_phi_trail_bucket_is_compliance_locked_for_at_least_six_years(prod):
    assert prod.named("hipaa-audit-logs", BUCKET).inputs["objectLockEnabled"] is True
    assert not prod.named("hipaa-audit-logs", BUCKET).inputs.get("forceDestroy")
    lock = side(prod, "hipaa-audit-logs", "BucketObjectLockConfiguration")
    retention = lock["rule"]["defaultRetention"]
    assert retention["mode"] == "COMPLIANCE"
    assert retention["days"] >= 2192


def test_a_synthetic_trail_bucket_is_governance_locked_so_destroy_can_empty_it(staging):
    """COMPLIANCE would keep every log file, and so the bucket, for six years."""
    assert staging.named("hipaa-audit-logs", BUCKET).inputs["forceDestroy"] is True
    lock = side(staging, "hipaa-audit-logs", "BucketObjectLockConfiguration")
    assert lock["rule"]["defaultRetention"]["mode"] == "GOVERNANCE"


def test_the_delivery_role_follows_the_cloudtrail_guide(any_stack):
    """CloudTrail guide: the CloudWatch Logs role's trust has no source conditions (they are not
    supported and break delivery); it may only create the trail's streams and put events."""
    role = any_stack.named("hipaa-audit-trail-to-logs", "aws:iam/role:Role").inputs
    (trust,) = json.loads(role["assumeRolePolicy"])["Statement"]
    assert trust == {"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
                     "Action": "sts:AssumeRole"}
    policy = json.loads(any_stack.named("hipaa-audit-trail-to-logs", "aws:iam/policy:Policy").inputs["policy"])
    account = account_of(any_stack.stack)
    group = f"arn:aws:logs:{region_of(any_stack.stack)}:{account}:log-group:/hipaa-aws/{any_stack.stack}/cloudtrail"
    assert {(s["Action"], s["Resource"]) for s in policy["Statement"]} == {
        ("logs:CreateLogStream", f"{group}:log-stream:{account}_CloudTrail_*"),
        ("logs:PutLogEvents", f"{group}:log-stream:{account}_CloudTrail_*")}
    assert all("Condition" not in s for s in policy["Statement"])


def test_object_lock_retention_follows_settings():
    run = run_stack("staging", overrides={"auditLogRetentionDays": 2557})
    lock = side(run, "hipaa-audit-logs", "BucketObjectLockConfiguration")
    assert lock["rule"]["defaultRetention"]["days"] == 2557


def test_trail_bucket_is_private_versioned_kms_encrypted_and_archived(any_stack):
    block = side(any_stack, "hipaa-audit-logs", "BucketPublicAccessBlock")
    assert all(block[k] for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls",
                                  "restrictPublicBuckets"))
    assert side(any_stack, "hipaa-audit-logs", "BucketVersioning")["versioningConfiguration"]["status"] == "Enabled"
    (rule,) = side(any_stack, "hipaa-audit-logs", "BucketServerSideEncryptionConfiguration")["rules"]
    assert rule["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == "aws:kms"
    rules = side(any_stack, "hipaa-audit-logs", "BucketLifecycleConfiguration")["rules"]
    assert any(t["storageClass"] == "GLACIER" for r in rules for t in r.get("transitions", []))


def test_only_this_trail_may_write_and_only_over_tls(any_stack):
    policy = json.loads(side(any_stack, "hipaa-audit-logs", "BucketPolicy")["policy"])
    stack = any_stack.stack
    trail_arn = f"arn:aws:cloudtrail:{region_of(stack)}:{account_of(stack)}:trail/hipaa-aws-{stack}"
    allows = [s for s in policy["Statement"] if s["Effect"] == "Allow"]
    assert {s["Principal"]["Service"] for s in allows} == {"cloudtrail.amazonaws.com"}
    for statement in allows:
        assert statement["Condition"]["StringEquals"]["aws:SourceArn"] == trail_arn
    assert any(s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
               for s in policy["Statement"])
    assert any_stack.stack_outputs["trailArn"] == trail_arn


def test_trail_bucket_is_protected_in_prod(prod):
    assert prod.named("hipaa-audit-logs", BUCKET).protect is True
