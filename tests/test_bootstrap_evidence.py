"""The evidence bucket each account's bootstrap creates: CI's preflight reports are kept six years where
nobody can delete them (COMPLIANCE when the account may hold PHI), and each stack's deploy role may only
add its own stack's reports.

Sources: S3 user guide "Object Lock retention modes" (COMPLIANCE: no user, root included, can shorten
retention or delete a version; GOVERNANCE: s3:BypassGovernanceRetention can); botocore s3 model
(PutObjectLockConfiguration DefaultRetention: Mode, Days or Years; PutObject ContentMD5: "The
Content-MD5 or x-amz-sdk-checksum-algorithm header is required for any request to upload an object
with a retention period configured using Amazon S3 Object Lock"); S3 user guide "Using server-side
encryption with AWS KMS keys" (uploading needs kms:GenerateDataKey); HIPAA 45 CFR 164.316(b)(2)(i)
(six years).
"""

from __future__ import annotations

import json
from fnmatch import fnmatchcase

import botocore.session
import pytest

from tests.test_bootstrap_ci_roles import (
    BOOTSTRAP_STACKS,
    PROGRAM_STACKS,
    STACKS,
    account_of,
    allows,
    bootstrap,
    bootstrap_account,
    bootstrap_for,
    deploy_documents,
    grants,
    preview_documents,
)

import evidence_bucket  # noqa: E402  (bootstrap/ is on sys.path: tests.test_bootstrap_ci_roles puts it there)

LOCK = "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration"
BUCKET = "aws:s3/bucket:Bucket"


def evidence_resources(run, type_: str) -> list:
    return [r for r in run.of_type(type_) if r.name == "evidence"]


def classifications(bootstrap_stack: str) -> list:
    account = bootstrap_account(bootstrap_stack)
    return [s.classification for s in PROGRAM_STACKS.values() if s.account_id == account]


@pytest.mark.parametrize("bootstrap_stack", BOOTSTRAP_STACKS)
def test_each_account_keeps_its_reports_six_years_locked_compliance_where_phi_may_be(bootstrap_stack):
    run = bootstrap(bootstrap_stack)
    account = bootstrap_account(bootstrap_stack)
    (bucket,) = evidence_resources(run, BUCKET)
    assert bucket.inputs["bucket"] == evidence_bucket.evidence_bucket_name(account)
    assert run.stack_outputs["evidenceBucket"] == evidence_bucket.evidence_bucket_name(account)
    # Object Lock is enabled when the bucket is created, and the bucket outlives the stack.
    assert bucket.inputs["objectLockEnabled"] is True
    (lock,) = evidence_resources(run, LOCK)
    retention = lock.inputs["rule"]["defaultRetention"]
    phi = any(c != "synthetic" for c in classifications(bootstrap_stack))
    assert retention == {"mode": "COMPLIANCE" if phi else "GOVERNANCE", "days": 2192}
    component = next(r for r in run.resources if r.type == "hipaa:components:SecureBucket" and r.name == "evidence")
    assert component.protect is True
    assert all(r.retain_on_delete for r in run.resources if r.parent == component.urn)


@pytest.mark.parametrize("bootstrap_stack", BOOTSTRAP_STACKS)
def test_the_evidence_bucket_has_every_control_of_a_secure_bucket_and_its_own_key(bootstrap_stack):
    run = bootstrap(bootstrap_stack)
    encryption = evidence_resources(run, "aws:s3/bucketServerSideEncryptionConfiguration:"
                                         "BucketServerSideEncryptionConfiguration")[0]
    (rule,) = encryption.inputs["rules"]
    assert rule["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == "aws:kms"
    (versioning,) = evidence_resources(run, "aws:s3/bucketVersioning:BucketVersioning")
    assert versioning.inputs["versioningConfiguration"]["status"] == "Enabled"
    (block,) = evidence_resources(run, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")
    assert all(block.inputs[k] is True for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls",
                                                 "restrictPublicBuckets"))
    (policy,) = evidence_resources(run, "aws:s3/bucketPolicy:BucketPolicy")
    denies = [s for s in json.loads(policy.inputs["policy"])["Statement"] if s["Effect"] == "Deny"]
    assert any(s.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport") == "false" for s in denies)
    assert evidence_resources(run, "aws:s3/bucketLogging:BucketLogging")
    (alias,) = [a for a in run.of_type("aws:kms/alias:Alias") if a.inputs["name"] == "alias/hipaa-aws-evidence"]
    assert alias.inputs["name"] == f"alias/{evidence_bucket.EVIDENCE_KEY}"


def evidence_arn(stack: str) -> str:
    return f"arn:aws:s3:::{evidence_bucket.evidence_bucket_name(account_of(stack))}"


@pytest.mark.parametrize("stack", STACKS)
def test_a_deploy_role_may_only_add_its_own_stacks_reports(stack):
    statements = list(allows(deploy_documents(stack)))
    bucket = evidence_arn(stack)
    touching = [s for s in statements if any(bucket in r for r in ([s["Resource"]] if isinstance(s["Resource"], str)
                                                                  else s["Resource"]))]
    assert [(s["Action"], s["Resource"]) for s in touching] == [(["s3:PutObject"], [f"{bucket}/{stack}/*"])]
    # Nothing may read, delete, re-lock or bypass the lock anywhere (wildcard resources included).
    for action in ("s3:DeleteObject", "s3:DeleteObjectVersion", "s3:PutObjectRetention", "s3:BypassGovernanceRetention",
                   "s3:PutObjectLegalHold", "s3:PutBucketObjectLockConfiguration", "s3:GetObject"):
        assert not [s for s in statements if grants(s, action) and any(
            fnmatchcase(f"{bucket}/{stack}/1-1/{stack}.json", r) for r in
            ([s["Resource"]] if isinstance(s["Resource"], str) else s["Resource"]))], action
    own, other = f"{bucket}/{stack}/42-1/{stack}.json", f"{bucket}/{'x' + stack}/42-1/x.json"
    (upload,) = touching
    assert fnmatchcase(own, upload["Resource"][0]) and not fnmatchcase(other, upload["Resource"][0])
    (key,) = [s for s in statements if s.get("Sid") == "EvidenceKeyThroughS3"]
    assert key["Action"] == ["kms:GenerateDataKey"]
    assert key["Condition"]["ForAnyValue:StringEquals"]["kms:ResourceAliases"] == "alias/hipaa-aws-evidence"
    assert key["Condition"]["StringEquals"]["kms:ViaService"].startswith("s3.")


@pytest.mark.parametrize("stack", STACKS)
def test_pull_request_previews_cannot_write_evidence(stack):
    """A pull request from any branch must not add undeletable objects to a COMPLIANCE-locked bucket."""
    documents = json.dumps(preview_documents(stack))
    assert evidence_bucket.PURPOSE not in documents and "hipaa-aws-evidence" not in documents


def test_the_lock_is_compliance_unless_every_stack_of_the_account_is_synthetic():
    assert evidence_bucket.lock_mode([]) == "COMPLIANCE"
    assert evidence_bucket.lock_mode(["synthetic"]) == "GOVERNANCE"
    assert evidence_bucket.lock_mode(["synthetic", None]) == "COMPLIANCE"
    assert evidence_bucket.lock_mode(["synthetic", "phi"]) == "COMPLIANCE"


def test_the_s3_api_takes_these_lock_modes_and_day_retention():
    """botocore's S3 model: DefaultRetention Mode is GOVERNANCE or COMPLIANCE, with Days or Years."""
    model = botocore.session.get_session().get_service_model("s3")
    retention = model.shape_for("DefaultRetention")
    assert set(retention.members["Mode"].enum) == {evidence_bucket.PHI_MODE, evidence_bucket.NO_PHI_MODE}
    assert "Days" in retention.members
    documentation = model.operation_model("PutObject").input_shape.members["ContentMD5"].documentation
    assert "x-amz-sdk-checksum-algorithm" in documentation and "Object Lock" in documentation


@pytest.mark.parametrize("stack", STACKS)
def test_the_upload_command_targets_the_stacks_prefix_with_a_checksum(stack):
    command = evidence_bucket.upload_command(stack, account_of(stack))
    bucket = evidence_bucket.evidence_bucket_name(account_of(stack))
    assert f"s3://{bucket}/{stack}/${{GITHUB_RUN_ID}}-${{GITHUB_RUN_ATTEMPT}}/" in command
    assert "--checksum-algorithm SHA256" in command and f"--include '{stack}.*'" in command
    assert len(bucket) <= 63  # S3 bucket naming rules
    assert bootstrap_for(stack).stack_outputs["evidenceBucket"] == bucket
