"""S3: encryption, public access, TLS, versioning, logging, object lock."""

from __future__ import annotations

from collections.abc import Iterable

from pulumi_policy import Severity

from . import documents as doc
from .framework import (
    ACCESS_CONTROL, AUDIT_CONTROLS, DATA_BACKUP, ENCRYPTION_AT_REST, INTEGRITY, RETENTION,
    TRANSMISSION_SECURITY, Metadata, Resource, Stack, resource_policy, stack_policy,
)

BUCKET = ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2")
SSE = ("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
       "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2")
PUBLIC_ACCESS_BLOCK = ("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",)
POLICY = ("aws:s3/bucketPolicy:BucketPolicy",)
VERSIONING = ("aws:s3/bucketVersioning:BucketVersioning",
              "aws:s3/bucketVersioningV2:BucketVersioningV2")
LOGGING = ("aws:s3/bucketLogging:BucketLogging", "aws:s3/bucketLoggingV2:BucketLoggingV2")
ACL = ("aws:s3/bucketAcl:BucketAcl", "aws:s3/bucketAclV2:BucketAclV2")
OWNERSHIP = ("aws:s3/bucketOwnershipControls:BucketOwnershipControls",)
LIFECYCLE = ("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
             "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2")
OBJECT_LOCK = ("aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration",
               "aws:s3/bucketObjectLockConfigurationV2:BucketObjectLockConfigurationV2")
ACCOUNT_PUBLIC_ACCESS_BLOCK = ("aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock",)
BLOCKS = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
KMS_ALGORITHMS = ("aws:kms", "aws:kms:dsse")

PURPOSE_EXEMPTION = {
    "type": "array", "items": {"type": "string"}, "default": ["access-logs"],
    "description": "Purpose tag values of S3 server-access-log target buckets (S3 requires SSE-S3 there).",
}


def _meta(name, description, control, remediation, rules=(), **kw) -> Metadata:
    return Metadata(name=name, description=description, control=control,
                    remediation=remediation, config_rules=tuple(rules), service="s3", **kw)


def _no_acls(r: Resource) -> Iterable[str]:
    if r.type in ACL:
        yield "Remove this bucket ACL; access is granted by bucket policy with ACLs disabled."
        return
    acl = r.props.get("acl")
    if acl not in (None, "private"):
        yield "Remove acl; ACLs are disabled (BucketOwnerEnforced) and access is granted by policy."
    if r.props.size("grants"):
        yield "Remove grants; ACLs are disabled (BucketOwnerEnforced) and access is granted by policy."


def _ownership(r: Resource) -> Iterable[str]:
    if r.props.get("rule", "objectOwnership") != "BucketOwnerEnforced":
        yield "Set rule.objectOwnership to BucketOwnerEnforced."


def _all_blocks(r: Resource) -> Iterable[str]:
    for block in BLOCKS:
        if r.props.bool(block) is not True:
            yield f"Set {block} to true."


def _customer_key(r: Resource) -> Iterable[str]:
    for rule in r.props.each("rules"):
        default = rule.map("applyServerSideEncryptionByDefault")
        if default.get("sseAlgorithm") in KMS_ALGORITHMS and not rule.customer_key(
                "applyServerSideEncryptionByDefault", "kmsMasterKeyId"):
            yield ("Set rules[].applyServerSideEncryptionByDefault.kmsMasterKeyId to a "
                   "customer-managed KMS key.")


def _tls_only(r: Resource) -> Iterable[str]:
    # A bucket's inline policy is judged when given; a bucket without one needs a BucketPolicy
    # (aws-s3-bucket-has-tls-only-policy).
    if r.type in BUCKET and not r.props.is_set("policy"):
        return
    if not doc.denies_insecure_transport(r.props.document("policy")):
        yield ("Add a policy statement denying all principals when aws:SecureTransport is false.")


def _not_public(r: Resource) -> Iterable[str]:
    if doc.public_statements(r.props.document("policy")):
        yield 'Remove policy statements that allow Principal "*" without a condition.'


def _versioning(r: Resource) -> Iterable[str]:
    if r.props.get("versioningConfiguration", "status") != "Enabled":
        yield "Set versioningConfiguration.status to Enabled."


def _account_blocks(r: Resource) -> Iterable[str]:
    yield from _all_blocks(r)


RESOURCE_POLICIES = [
    resource_policy(_meta(
        "aws-s3-bucket-acl-prohibited", "S3 buckets must not use ACLs.", ACCESS_CONTROL,
        "Remove acl/grants and BucketAcl resources; grant access with a bucket policy.",
        ["s3-bucket-acl-prohibited"]), BUCKET + ACL, _no_acls),
    resource_policy(_meta(
        "aws-s3-bucket-ownership-enforced", "S3 object ownership must be BucketOwnerEnforced (ACLs disabled).",
        ACCESS_CONTROL, "Set BucketOwnershipControls rule.objectOwnership to BucketOwnerEnforced.",
        ["s3-bucket-acl-prohibited"]), OWNERSHIP, _ownership),
    resource_policy(_meta(
        "aws-s3-public-access-block-complete", "S3 public access blocks must all be on.",
        ACCESS_CONTROL, "Set all four BucketPublicAccessBlock flags to true.",
        ["s3-bucket-public-read-prohibited", "s3-bucket-public-write-prohibited"]),
        PUBLIC_ACCESS_BLOCK, _all_blocks),
    resource_policy(_meta(
        "aws-s3-account-public-access-block", "The account-level S3 public access block must be fully on.",
        ACCESS_CONTROL, "Set all four AccountPublicAccessBlock flags to true.",
        ["s3-account-level-public-access-blocks-periodic"]),
        ACCOUNT_PUBLIC_ACCESS_BLOCK, _account_blocks),
    resource_policy(_meta(
        "aws-s3-sse-customer-managed-key", "SSE-KMS on S3 must name a customer-managed key.",
        ENCRYPTION_AT_REST, "Set kmsMasterKeyId to a customer-managed key from the key ring.",
        ["s3-default-encryption-kms"]), SSE, _customer_key),
    resource_policy(_meta(
        "aws-s3-bucket-policy-tls-only", "S3 bucket policies (BucketPolicy or a bucket's inline policy) must refuse requests without TLS.",
        TRANSMISSION_SECURITY, "Add a Deny statement for Principal * with Bool aws:SecureTransport = false.",
        ["s3-bucket-ssl-requests-only"]), POLICY + BUCKET, _tls_only),
    resource_policy(_meta(
        "aws-s3-bucket-policy-not-public", "S3 bucket policies (BucketPolicy or a bucket's inline policy) must not grant access to everyone.",
        ACCESS_CONTROL, "Name specific principals, or add a condition that narrows the principal.",
        ["s3-bucket-public-read-prohibited", "s3-bucket-public-write-prohibited"]),
        POLICY + BUCKET, _not_public),
    resource_policy(_meta(
        "aws-s3-versioning-enabled", "S3 bucket versioning must be enabled.", INTEGRITY,
        "Set versioningConfiguration.status to Enabled.", ["s3-bucket-versioning-enabled"]),
        VERSIONING, _versioning),
]


# ---------------------------------------------------------------- per bucket, across resources

def _bucket_name(bucket: Resource):
    try:
        return bucket.props.get("bucket")
    except Exception:  # unknown name: link by dependency only
        return None


def _attached(stack: Stack, bucket: Resource, types) -> list[Resource]:
    return stack.attached(bucket, types, "bucket", literal=_bucket_name(bucket))


def _purpose(bucket: Resource) -> str:
    return str(bucket.tags.get("Purpose", ""))


def _encryption(stack: Stack) -> Iterable[tuple[str, str]]:
    exempt = set(stack.config.get("sseS3AllowedPurposes") or [])
    for bucket in stack.of_type(*BUCKET):
        def check(bucket=bucket) -> Iterable[str]:
            algorithms = [rule.str("applyServerSideEncryptionByDefault", "sseAlgorithm")
                          for sse in _attached(stack, bucket, SSE) for rule in sse.props.each("rules")]
            algorithms += [bucket.props.str("serverSideEncryptionConfiguration", "rule",
                                            "applyServerSideEncryptionByDefault", "sseAlgorithm")]
            algorithms = [a for a in algorithms if a]
            if any(a in KMS_ALGORITHMS for a in algorithms):
                return
            if "AES256" in algorithms and _purpose(bucket) in exempt:
                return
            if "AES256" in algorithms:
                yield ("Encrypt this bucket with SSE-KMS; only buckets whose Purpose tag is one of "
                       f"{sorted(exempt)} (server access log targets) may use SSE-S3.")
            else:
                yield "Attach a BucketServerSideEncryptionConfiguration using aws:kms."
        yield from stack.judge(bucket, check)


def _side_resource_check(types, message, accept=None):
    def check_stack(stack: Stack) -> Iterable[tuple[str, str]]:
        for bucket in stack.of_type(*BUCKET):
            def check(bucket=bucket) -> Iterable[str]:
                attached = _attached(stack, bucket, types)
                if not any((accept or (lambda r: True))(r) for r in attached):
                    yield message
            yield from stack.judge(bucket, check)
    return check_stack


def _tls_only_policy(stack: Stack) -> Iterable[tuple[str, str]]:
    """A BucketPolicy of the bucket, or the bucket's own inline policy, denies requests without TLS."""
    for bucket in stack.of_type(*BUCKET):
        def check(bucket=bucket) -> Iterable[str]:
            if any(doc.denies_insecure_transport(p.props.document("policy"))
                   for p in _attached(stack, bucket, POLICY)):
                return
            if not doc.denies_insecure_transport(bucket.props.document("policy")):
                yield "Attach a BucketPolicy that denies requests without TLS."
        yield from stack.judge(bucket, check)


def _public_access_block_complete(r: Resource) -> bool:
    return all(r.props.bool(b) is True for b in BLOCKS)


def _versioning_attached(stack: Stack) -> Iterable[tuple[str, str]]:
    for bucket in stack.of_type(*BUCKET):
        def check(bucket=bucket) -> Iterable[str]:
            if bucket.props.bool("versioning", "enabled") is True:
                return
            if not any(v.props.get("versioningConfiguration", "status") == "Enabled"
                       for v in _attached(stack, bucket, VERSIONING)):
                yield "Attach a BucketVersioning with status Enabled."
        yield from stack.judge(bucket, check)


def _logging_attached(stack: Stack) -> Iterable[tuple[str, str]]:
    exempt = set(stack.config.get("logTargetPurposes") or [])
    for bucket in stack.of_type(*BUCKET):
        def check(bucket=bucket) -> Iterable[str]:
            if _purpose(bucket) in exempt or bucket.props.get("logging", "targetBucket"):
                return
            if not _attached(stack, bucket, LOGGING):
                yield "Attach a BucketLogging that delivers server access logs to the access-log bucket."
        yield from stack.judge(bucket, check)


def _object_lock(stack: Stack) -> Iterable[tuple[str, str]]:
    purposes = set(stack.config.get("lockedPurposes") or [])
    minimum = stack.config.get("minimumRetentionDays", 2192)
    modes = list(stack.config.get("allowedLockModes") or ["COMPLIANCE"])
    for bucket in stack.of_type(*BUCKET):
        def check(bucket=bucket) -> Iterable[str]:
            if _purpose(bucket) not in purposes:
                return
            if bucket.props.bool("objectLockEnabled") is not True:
                yield "Set objectLockEnabled to true when creating this audit bucket."
            locks = _attached(stack, bucket, OBJECT_LOCK)
            good = False
            for lock in locks:
                mode = lock.props.get("rule", "defaultRetention", "mode")
                days = lock.props.number("rule", "defaultRetention", "days") or 0
                years = lock.props.number("rule", "defaultRetention", "years") or 0
                good = good or (mode in modes and max(days, years * 366) >= minimum)
            if not good:
                yield (f"Attach a BucketObjectLockConfiguration in {' or '.join(modes)} mode with at "
                       f"least {minimum} days of default retention.")
        yield from stack.judge(bucket, check)


# Objects in these classes must be restored before GetObject (InvalidObjectState), and AWS Backup
# for S3 does not back them up (AWS Backup guide, "Amazon S3 backups"; S3 guide, "Restoring an
# archived object"). Checked 2026-11-23.
NEEDS_RESTORE = ("GLACIER", "DEEP_ARCHIVE")


def _phi_stays_readable(stack: Stack) -> Iterable[tuple[str, str]]:
    archives = set(stack.config.get("archivePurposes") or [])
    for bucket in stack.of_type(*BUCKET):
        def check(bucket=bucket) -> Iterable[str]:
            if str(bucket.tags.get("DataClassification", "")).lower() != "phi" or _purpose(bucket) in archives:
                return
            for lifecycle in _attached(stack, bucket, LIFECYCLE):
                for rule in lifecycle.props.each("rules"):
                    if rule.get("status") != "Enabled":
                        continue
                    for transition in rule.each("transitions"):
                        if transition.get("storageClass") in NEEDS_RESTORE:
                            yield (f"Transition current PHI documents to GLACIER_IR or INTELLIGENT_TIERING, "
                                   f"not {transition.get('storageClass')}: those need a restore before a read "
                                   f"and AWS Backup does not back them up.")
        yield from stack.judge(bucket, check)


STACK_POLICIES = [
    stack_policy(_meta(
        "aws-s3-phi-documents-stay-readable", "Current PHI objects must stay readable at once and backed up: no lifecycle transition to Glacier Flexible Retrieval or Deep Archive.",
        DATA_BACKUP, "Use GLACIER_IR (or INTELLIGENT_TIERING without its archive tiers) for current versions of PHI objects.",
        config={"archivePurposes": {
            "type": "array", "items": {"type": "string"},
            "default": ["audit-trail", "config-delivery", "access-logs"],
            "description": "Purpose tag values of PHI-classified buckets that hold archives (logs, "
                           "evidence), not documents the application reads."}}),
        _phi_stays_readable),
    stack_policy(_meta(
        "aws-s3-bucket-encrypted-with-kms", "Every S3 bucket must use SSE-KMS (access-log targets excepted by configuration).",
        ENCRYPTION_AT_REST, "Attach BucketServerSideEncryptionConfiguration with sseAlgorithm aws:kms and a customer key.",
        ["s3-bucket-server-side-encryption-enabled", "s3-default-encryption-kms"],
        config={"sseS3AllowedPurposes": PURPOSE_EXEMPTION}), _encryption),
    stack_policy(_meta(
        "aws-s3-bucket-has-public-access-block", "Every S3 bucket must have all four public access blocks.",
        ACCESS_CONTROL, "Attach a BucketPublicAccessBlock with all four flags true.",
        ["s3-bucket-public-read-prohibited", "s3-bucket-public-write-prohibited"]),
        _side_resource_check(PUBLIC_ACCESS_BLOCK, "Attach a BucketPublicAccessBlock with all four flags true.",
                             _public_access_block_complete)),
    stack_policy(_meta(
        "aws-s3-bucket-has-tls-only-policy", "Every S3 bucket must have a policy refusing requests without TLS.",
        TRANSMISSION_SECURITY, "Attach a BucketPolicy with a Deny for aws:SecureTransport = false.",
        ["s3-bucket-ssl-requests-only"]), _tls_only_policy),
    stack_policy(_meta(
        "aws-s3-bucket-has-versioning", "Every S3 bucket must have versioning enabled.", INTEGRITY,
        "Attach a BucketVersioning with status Enabled.", ["s3-bucket-versioning-enabled"]),
        _versioning_attached),
    stack_policy(_meta(
        "aws-s3-bucket-has-access-logging", "Every S3 bucket must log requests (the access-log target excepted by configuration).",
        AUDIT_CONTROLS, "Attach a BucketLogging targeting the access-log bucket.",
        ["s3-bucket-logging-enabled"], config={"logTargetPurposes": PURPOSE_EXEMPTION}),
        _logging_attached),
    stack_policy(_meta(
        "aws-s3-bucket-has-lifecycle", "Every versioned S3 bucket must have a lifecycle configuration for old versions.",
        INTEGRITY, "Attach a BucketLifecycleConfiguration expiring or archiving noncurrent versions.",
        ["s3-version-lifecycle-policy-check"], severity=Severity.LOW),
        _side_resource_check(LIFECYCLE, "Attach a BucketLifecycleConfiguration.")),
    stack_policy(_meta(
        "aws-s3-audit-bucket-object-lock", "Audit-log buckets must be WORM: Object Lock in COMPLIANCE mode for six years.",
        RETENTION, "Create the bucket with objectLockEnabled and attach a COMPLIANCE-mode lock configuration.",
        ["s3-bucket-default-lock-enabled"],
        config={"lockedPurposes": {"type": "array", "items": {"type": "string"}, "default": ["audit-trail"],
                                   "description": "Purpose tag values of buckets that must be WORM."},
                "minimumRetentionDays": {"type": "integer", "minimum": 1, "default": 2192,
                                         "description": "Minimum default retention in days."},
                "allowedLockModes": {
                    "type": "array", "items": {"type": "string", "enum": ["COMPLIANCE", "GOVERNANCE"]},
                    "minItems": 1, "default": ["COMPLIANCE"],
                    "description": "Object Lock modes accepted. COMPLIANCE keeps evidence from everyone, "
                                   "root included, so the bucket cannot be deleted for years; a stack "
                                   "without PHI that must be destroyable uses GOVERNANCE."}}),
        _object_lock),
]

POLICIES = RESOURCE_POLICIES + STACK_POLICIES
