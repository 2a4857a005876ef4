"""Stack policies (cross-resource rules linked by property dependencies) and the project's own
stacks judged under preview semantics."""

from __future__ import annotations

import json

import pytest
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE as UNKNOWN

from preflight.judge import judge
from preflight.policy_pack_client import POLICY_DIR, stack_resource as res
from tests.conftest import cached_run
from tests.policy_cases import TLS_POLICY

S3 = "aws:s3/"
BLOCKS = {"blockPublicAcls": True, "blockPublicPolicy": True, "ignorePublicAcls": True, "restrictPublicBuckets": True}


def bucket_with(name="docs", purpose="phi-documents", skip=(), sse="aws:kms", extra=()):
    """A bucket and its split side resources, linked the way preview links them."""
    bucket = res(f"{S3}bucket:Bucket", name, {"bucket": f"hipaa-aws-x-{name}", "tags": {"Purpose": purpose}})
    link = {"bucket": [bucket.urn]}
    sides = {
        "sse": res(f"{S3}bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", name,
                   {"bucket": UNKNOWN, "rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": sse}}]},
                   property_dependencies=link),
        "pab": res(f"{S3}bucketPublicAccessBlock:BucketPublicAccessBlock", name, {"bucket": UNKNOWN, **BLOCKS},
                   property_dependencies=link),
        "policy": res(f"{S3}bucketPolicy:BucketPolicy", name, {"bucket": UNKNOWN, "policy": TLS_POLICY},
                      property_dependencies=link),
        "versioning": res(f"{S3}bucketVersioning:BucketVersioning", name,
                          {"bucket": UNKNOWN, "versioningConfiguration": {"status": "Enabled"}}, property_dependencies=link),
        "logging": res(f"{S3}bucketLogging:BucketLogging", name, {"bucket": UNKNOWN, "targetBucket": "logs"},
                       property_dependencies=link),
        "lifecycle": res(f"{S3}bucketLifecycleConfiguration:BucketLifecycleConfiguration", name,
                         {"bucket": UNKNOWN, "rules": []}, property_dependencies=link),
    }
    return [bucket] + [r for k, r in sides.items() if k not in skip] + list(extra)


def messages(verdict, policy):
    return [(d.violation, d.urn.rsplit("::", 1)[-1]) for d in verdict.violations if d.policy == policy]


def test_a_complete_bucket_passes_every_stack_policy(pack):
    pack.configure({})
    verdict = pack.analyze_stack(bucket_with())
    assert [d.policy for d in verdict.violations] == []


@pytest.mark.parametrize("policy,skip,message", [
    ("aws-s3-bucket-encrypted-with-kms", ["sse"], "Attach a BucketServerSideEncryptionConfiguration using aws:kms."),
    ("aws-s3-bucket-has-public-access-block", ["pab"], "Attach a BucketPublicAccessBlock with all four flags true."),
    ("aws-s3-bucket-has-tls-only-policy", ["policy"], "Attach a BucketPolicy that denies requests without TLS."),
    ("aws-s3-bucket-has-versioning", ["versioning"], "Attach a BucketVersioning with status Enabled."),
    ("aws-s3-bucket-has-access-logging", ["logging"], "Attach a BucketLogging that delivers server access logs to the access-log bucket."),
    ("aws-s3-bucket-has-lifecycle", ["lifecycle"], "Attach a BucketLifecycleConfiguration."),
])
def test_a_bucket_missing_a_side_resource_is_flagged_on_the_bucket(pack, policy, skip, message):
    pack.configure({})
    verdict = pack.analyze_stack(bucket_with(skip=skip))
    assert messages(verdict, policy) == [(message, "docs")]


def test_side_resources_of_another_bucket_do_not_count(pack):
    pack.configure({})
    other = bucket_with(name="other", skip=["pab"])
    lonely = res(f"{S3}bucket:Bucket", "lonely", {"tags": {"Purpose": "x"}})
    verdict = pack.analyze_stack(other + [lonely])
    assert ("Attach a BucketPublicAccessBlock with all four flags true.", "lonely") in \
        messages(verdict, "aws-s3-bucket-has-public-access-block")


def test_sse_s3_is_allowed_only_for_the_configured_access_log_purpose(pack):
    pack.configure({})
    ok = pack.analyze_stack(bucket_with(name="logs", purpose="access-logs", sse="AES256", skip=["logging"]))
    assert messages(ok, "aws-s3-bucket-encrypted-with-kms") == []
    assert messages(ok, "aws-s3-bucket-has-access-logging") == []
    bad = pack.analyze_stack(bucket_with(sse="AES256"))
    assert messages(bad, "aws-s3-bucket-encrypted-with-kms") == [(
        "Encrypt this bucket with SSE-KMS; only buckets whose Purpose tag is one of ['access-logs'] "
        "(server access log targets) may use SSE-S3.", "docs")]
    pack.configure({"aws-s3-bucket-encrypted-with-kms": {"sseS3AllowedPurposes": ["phi-documents"]}})
    assert messages(pack.analyze_stack(bucket_with(sse="AES256")), "aws-s3-bucket-encrypted-with-kms") == []
    pack.configure({})


def test_an_unknown_side_resource_property_is_not_judged(pack):
    pack.configure({})
    resources = bucket_with(skip=["versioning"]) + [res(
        f"{S3}bucketVersioning:BucketVersioning", "docs", {"bucket": UNKNOWN, "versioningConfiguration": UNKNOWN},
        property_dependencies={"bucket": ["urn:pulumi:stack::project::aws:s3/bucket:Bucket::docs"]})]
    verdict = pack.analyze_stack(resources)
    assert messages(verdict, "aws-s3-bucket-has-versioning") == []
    assert any(d.policy == "aws-s3-bucket-has-versioning" for d in verdict.not_judged)


def test_audit_buckets_need_compliance_object_lock(pack):
    pack.configure({})
    lock = lambda mode, days: res(  # noqa: E731
        f"{S3}bucketObjectLockConfiguration:BucketObjectLockConfiguration", "trail",
        {"bucket": UNKNOWN, "rule": {"defaultRetention": {"mode": mode, "days": days}}},
        property_dependencies={"bucket": ["urn:pulumi:stack::project::aws:s3/bucket:Bucket::trail"]})
    base = bucket_with(name="trail", purpose="audit-trail")
    base[0].properties.update({"objectLockEnabled": True})
    assert messages(pack.analyze_stack(base + [lock("COMPLIANCE", 2192)]), "aws-s3-audit-bucket-object-lock") == []
    assert messages(pack.analyze_stack(base + [lock("GOVERNANCE", 2192)]), "aws-s3-audit-bucket-object-lock") == [(
        "Attach a BucketObjectLockConfiguration in COMPLIANCE mode with at least 2192 days of default retention.", "trail")]


def vpc_scenario(flow=True, default_sg=True, private_igw_route=False):
    vpc = res("aws:ec2/vpc:Vpc", "vpc", {"cidrBlock": "10.0.0.0/16"})
    link = {"vpcId": [vpc.urn]}
    items = [vpc]
    if flow:
        items.append(res("aws:ec2/flowLog:FlowLog", "flow", {"vpcId": UNKNOWN, "trafficType": "ALL"}, property_dependencies=link))
    if default_sg:
        items.append(res("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup", "default", {"vpcId": UNKNOWN}, property_dependencies=link))
    public = res("aws:ec2/routeTable:RouteTable", "public", {"vpcId": UNKNOWN, "tags": {"Tier": "public"}}, property_dependencies=link)
    app = res("aws:ec2/routeTable:RouteTable", "app", {"vpcId": UNKNOWN, "tags": {"Tier": "app"}}, property_dependencies=link)
    target = app if private_igw_route else public
    items += [public, app, res("aws:ec2/route:Route", "internet",
                               {"routeTableId": UNKNOWN, "destinationCidrBlock": "0.0.0.0/0", "gatewayId": UNKNOWN},
                               property_dependencies={"routeTableId": [target.urn], "gatewayId": []})]
    return items


@pytest.mark.parametrize("kwargs,policy,message,urn", [
    ({"flow": False}, "aws-ec2-vpc-flow-logs", "Attach a FlowLog with trafficType ALL to this VPC.", "vpc"),
    ({"default_sg": False}, "aws-ec2-vpc-default-security-group-adopted",
     "Adopt this VPC's default security group with a DefaultSecurityGroup that has no rules.", "vpc"),
    ({"private_igw_route": True}, "aws-ec2-internet-routes-only-public-tier",
     "Route 0.0.0.0/0 to an internet gateway only from route tables tagged {'Tier': 'public'}; private tiers leave through NAT or not at all.",
     "internet"),
])
def test_network_stack_policies(pack, kwargs, policy, message, urn):
    pack.configure({})
    assert messages(pack.analyze_stack(vpc_scenario()), policy) == []
    assert messages(pack.analyze_stack(vpc_scenario(**kwargs)), policy) == [(message, urn)]


def test_phi_stack_needs_trail_detection_and_backups(pack):
    rds = res("aws:rds/instance:Instance", "db", {"tags": {"DataClassification": "phi"}})
    pack.configure({p: {"holdsPhi": True} for p in ("aws-cloudtrail-phi-stack-trail",
                                                     "aws-phi-stack-threat-detection", "aws-backup-phi-store-in-plan")})
    verdict = pack.analyze_stack([rds])
    assert messages(verdict, "aws-backup-phi-store-in-plan") == [(
        "Add this PHI data store to an AWS Backup selection (AWS Backup protects RDS), or name it in notPhiStores "
        "with the reason it holds no PHI.", "db")]
    assert [m for m, _ in messages(verdict, "aws-phi-stack-threat-detection")] == [
        "Add a GuardDuty detector (ThreatDetection component).", "Enable Security Hub (ThreatDetection component).",
        "Add an AWS Config recorder for all resource types (ThreatDetection component).",
        "Switch the AWS Config recorder on with a RecorderStatus."]
    assert [m for m, _ in messages(verdict, "aws-cloudtrail-phi-stack-trail")] == [
        "Add a multi-region CloudTrail with global service events that records S3 data events for the PHI buckets."]
    selection = res("aws:backup/selection:Selection", "sel", {"resources": [UNKNOWN]}, property_dependencies={"resources": [rds.urn]})
    assert messages(pack.analyze_stack([rds, selection]), "aws-backup-phi-store-in-plan") == []
    pack.configure({})  # a synthetic stack is not required to back up synthetic data
    assert messages(pack.analyze_stack([res("aws:rds/instance:Instance", "db", {"tags": {"DataClassification": "synthetic"}})]),
                    "aws-backup-phi-store-in-plan") == []


def test_vaults_must_be_locked_and_alarms_named(pack):
    pack.configure({})
    vault = res("aws:backup/vault:Vault", "vault", {"name": "v", "kmsKeyArn": UNKNOWN})
    lock = res("aws:backup/vaultLockConfiguration:VaultLockConfiguration", "lock", {"backupVaultName": UNKNOWN},
               property_dependencies={"backupVaultName": [vault.urn]})
    assert messages(pack.analyze_stack([vault, lock]), "aws-backup-vault-locked") == []
    assert messages(pack.analyze_stack([vault]), "aws-backup-vault-locked") == [
        ("Attach a VaultLockConfiguration so recovery points cannot be deleted early.", "vault")]


@pytest.mark.parametrize("stack", ["prod", "staging"])
def test_the_projects_own_stacks_have_no_mandatory_violation_at_preview(pack, stack):
    pack.configure(json.loads((POLICY_DIR / "config" / f"{stack}.json").read_text()))
    judgement = judge(cached_run(stack, preview=True), pack)
    assert [(d.policy, d.urn, d.violation) for d in judgement.mandatory] == []
    assert len(judgement.resources) > 100
    pack.configure({})


def test_staging_with_a_phi_resource_or_a_restore_is_blocked(pack):
    from tests.conftest import run_stack
    pack.configure(json.loads((POLICY_DIR / "config" / "staging.json").read_text()))
    run = run_stack("staging", preview=True, overrides={"dataClassification": "phi", "availabilityZoneCount": 3,
                                                        "database": {"multiAz": True, "deletionProtection": True},
                                                        "cache": {"nodeCount": 2}})
    blocked = {d.policy for d in judge(run, pack).mandatory}
    assert "hipaa-no-phi-in-synthetic-stack" in blocked  # the pack config, not the tags, decides
    pack.configure({})


def _phi_bucket_with_transition(storage_class, purpose="phi-documents", status="Enabled"):
    resources = bucket_with(name="docs", purpose=purpose, skip=["lifecycle"])
    bucket = res(f"{S3}bucket:Bucket", "docs", {"bucket": "hipaa-aws-x-docs",
                                                "tags": {"Purpose": purpose, "DataClassification": "phi"}})
    resources[0] = bucket
    lifecycle = res(f"{S3}bucketLifecycleConfiguration:BucketLifecycleConfiguration", "docs", {
        "bucket": UNKNOWN, "rules": [{"id": "archive", "status": status,
                                      "transitions": [{"days": 90, "storageClass": storage_class}]}]},
        property_dependencies={"bucket": [bucket.urn]})
    return resources + [lifecycle]


POLICY_READABLE = "aws-s3-phi-documents-stay-readable"


@pytest.mark.parametrize("storage_class", ["GLACIER", "DEEP_ARCHIVE"])
def test_current_phi_documents_moved_to_a_class_that_needs_a_restore_are_blocked(pack, storage_class):
    pack.configure({})
    verdict = pack.analyze_stack(_phi_bucket_with_transition(storage_class))
    assert messages(verdict, POLICY_READABLE) == [(
        f"Transition current PHI documents to GLACIER_IR or INTELLIGENT_TIERING, not {storage_class}: "
        "those need a restore before a read and AWS Backup does not back them up.", "docs")]


@pytest.mark.parametrize("storage_class,purpose,status", [
    ("GLACIER_IR", "phi-documents", "Enabled"),        # read in milliseconds, backed up
    ("INTELLIGENT_TIERING", "phi-documents", "Enabled"),
    ("GLACIER", "audit-trail", "Enabled"),             # evidence archive, not a document
    ("GLACIER", "phi-documents", "Disabled"),          # a rule that is off moves nothing
])
def test_readable_classes_archives_and_disabled_rules_pass(pack, storage_class, purpose, status):
    pack.configure({})
    verdict = pack.analyze_stack(_phi_bucket_with_transition(storage_class, purpose, status))
    assert messages(verdict, POLICY_READABLE) == []


def test_an_unknown_storage_class_is_not_judged(pack):
    pack.configure({})
    verdict = pack.analyze_stack(_phi_bucket_with_transition(UNKNOWN))
    assert messages(verdict, POLICY_READABLE) == []
    assert [d.policy for d in verdict.not_judged] == [POLICY_READABLE]


def _listener(certificate, linked_to=None):
    listener = res("aws:lb/listener:Listener", "https", {
        "protocol": "HTTPS", "sslPolicy": "ELBSecurityPolicy-TLS13-1-2-2021-06", "certificateArn": certificate},
        property_dependencies={"certificateArn": [linked_to.urn]} if linked_to else None)
    return [listener] + ([linked_to] if linked_to else [])


ACM_POLICY = "aws-lb-listener-acm-certificate"


@pytest.mark.parametrize("resources,expected", [
    (_listener("arn:aws:acm:us-east-1:123456789012:certificate/abc"), []),
    (_listener("arn:aws:iam::123456789012:server-certificate/x"), [("Set certificateArn to an ACM certificate.", "https")]),
    # issued in the same stack: unknown at preview, but provably ACM through its dependency
    (_listener(UNKNOWN, res("aws:acm/certificateValidation:CertificateValidation", "cert", {"certificateArn": UNKNOWN})), []),
], ids=["acm", "iam-server-certificate", "issued-in-stack"])
def test_https_listeners_use_acm_certificates(pack, resources, expected):
    pack.configure({})
    assert messages(pack.analyze_stack(resources), ACM_POLICY) == expected


def test_an_unknown_certificate_from_anything_else_is_not_judged(pack):
    pack.configure({})
    verdict = pack.analyze_stack(_listener(UNKNOWN, res("aws:iam/serverCertificate:ServerCertificate", "iam", {})))
    assert messages(verdict, ACM_POLICY) == []
    assert [d.policy for d in verdict.not_judged] == [ACM_POLICY]
