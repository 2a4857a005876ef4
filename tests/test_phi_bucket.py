"""PhiBucket: KMS-encrypted, private, TLS-only, versioned, access-logged, archived."""

from __future__ import annotations

import json

import pytest

from tests.conftest import account_of, arn_of

BUCKET = "aws:s3/bucket:Bucket"
DOCS, LOGS = "hipaa-phi-documents", "hipaa-phi-access-logs"


def side(run, bucket_name, kind):
    """The split S3 resource of `kind` attached to the bucket component `bucket_name`."""
    bucket_id = run.named(bucket_name, BUCKET).id
    matches = [r for r in run.of_type(f"aws:s3/{kind[0].lower()}{kind[1:]}:{kind}")
               if r.inputs["bucket"] == bucket_id]
    assert len(matches) == 1, (bucket_name, kind, matches)
    return matches[0].inputs


def test_phi_documents_use_sse_kms_with_the_storage_key_and_a_bucket_key(any_stack):
    (rule,) = side(any_stack, DOCS, "BucketServerSideEncryptionConfiguration")["rules"]
    default = rule["applyServerSideEncryptionByDefault"]
    assert default["sseAlgorithm"] == "aws:kms"
    assert default["kmsMasterKeyId"] == arn_of(any_stack, "hipaa-keys-storage", "aws:kms/key:Key")
    assert rule["bucketKeyEnabled"] is True


def test_access_log_bucket_uses_sse_s3_because_s3_log_delivery_requires_it(any_stack):
    (rule,) = side(any_stack, LOGS, "BucketServerSideEncryptionConfiguration")["rules"]
    assert rule["applyServerSideEncryptionByDefault"] == {"sseAlgorithm": "AES256"}
    assert any_stack.named(LOGS, BUCKET).inputs["tags"]["Purpose"] == "access-logs"


@pytest.mark.parametrize("bucket", [DOCS, LOGS])
def test_both_buckets_are_private_versioned_and_acl_free(any_stack, bucket):
    block = side(any_stack, bucket, "BucketPublicAccessBlock")
    assert all(block[k] is True for k in ("blockPublicAcls", "blockPublicPolicy",
                                          "ignorePublicAcls", "restrictPublicBuckets"))
    assert side(any_stack, bucket, "BucketVersioning")["versioningConfiguration"]["status"] == "Enabled"
    ownership = side(any_stack, bucket, "BucketOwnershipControls")
    assert ownership["rule"]["objectOwnership"] == "BucketOwnerEnforced"


@pytest.mark.parametrize("bucket", [DOCS, LOGS])
def test_both_buckets_refuse_requests_without_tls_1_2(any_stack, bucket):
    policy = json.loads(side(any_stack, bucket, "BucketPolicy")["policy"])
    arn = any_stack.named(bucket, BUCKET).outputs["arn"]
    denies = {json.dumps(s["Condition"], sort_keys=True): s for s in policy["Statement"]
              if s["Effect"] == "Deny"}
    no_tls = denies[json.dumps({"Bool": {"aws:SecureTransport": "false"}})]
    old_tls = denies[json.dumps({"NumericLessThan": {"s3:TlsVersion": "1.2"}})]
    for statement in (no_tls, old_tls):
        assert statement["Principal"] == "*" and statement["Action"] == "s3:*"
        assert statement["Resource"] == [arn, f"{arn}/*"]


def test_phi_bucket_logs_every_request_to_the_access_log_bucket(any_stack):
    logging = side(any_stack, DOCS, "BucketLogging")
    assert logging["targetBucket"] == any_stack.named(LOGS, BUCKET).outputs["bucket"]
    policy = json.loads(side(any_stack, LOGS, "BucketPolicy")["policy"])
    delivery = next(s for s in policy["Statement"] if s["Effect"] == "Allow")
    assert delivery["Principal"] == {"Service": "logging.s3.amazonaws.com"}
    assert delivery["Condition"] == {"StringEquals": {"aws:SourceAccount": account_of(any_stack.stack)}}


def test_lifecycle_archives_after_90_days_and_expires_old_versions_per_settings(any_stack):
    rules = {r["id"]: r for r in side(any_stack, DOCS, "BucketLifecycleConfiguration")["rules"]}
    archive = rules["archive-and-expire-old-versions"]
    assert archive["status"] == "Enabled"
    assert archive["transitions"] == [{"days": 90, "storageClass": "GLACIER_IR"}]
    expected = 2192 if any_stack.stack == "prod" else 365
    assert archive["noncurrentVersionExpiration"]["noncurrentDays"] == expected
    log_rules = side(any_stack, LOGS, "BucketLifecycleConfiguration")["rules"]
    assert any(r.get("expiration", {}).get("days") == 2192 for r in log_rules)


# S3 classes whose objects are read at once and that AWS Backup for S3 backs up (AWS Backup guide,
# "Amazon S3 backups": Standard, Standard-IA, One Zone-IA, Glacier Instant Retrieval,
# Intelligent-Tiering; S3 guide, "Restoring an archived object": GLACIER and DEEP_ARCHIVE need a
# restore before GetObject). Checked 2026-11-23.
READABLE_AND_BACKED_UP = {"STANDARD_IA", "ONEZONE_IA", "GLACIER_IR", "INTELLIGENT_TIERING"}


def test_current_phi_documents_never_move_to_a_class_that_needs_a_restore(any_stack):
    """A PHI document must stay readable by the application and covered by AWS Backup."""
    rules = side(any_stack, DOCS, "BucketLifecycleConfiguration")["rules"]
    classes = {t["storageClass"] for r in rules for t in r.get("transitions", [])}
    assert classes and classes <= READABLE_AND_BACKED_UP


def test_prod_buckets_are_protected_and_staging_buckets_are_not(prod, staging):
    assert prod.named(DOCS, BUCKET).protect is True
    assert prod.named(LOGS, BUCKET).protect is True
    assert not staging.named(DOCS, BUCKET).protect
