"""IAM Identity Center workforce access (issue 11), read as an auditor reads it: what each permission
set may do in this account, for how long, and who hears about break-glass use.

The component runs alone under the mock runtime (tests/fixtures/programs/workforce_access.py), with
a test Identity Center configuration; the environment wires it too (its own grants are checked
against the keys, database and bucket the stack creates). Each permission set's effective grants are
evaluated with a small IAM evaluator over the policies actually registered, AWS's ViewOnlyAccess
included (moto's copy of AWS's managed-policy list), on request contexts the tests supply: every
document is known at preview, so keys are named by alias, the master secret by the tag RDS puts on
it and the database by its user name, and only conditions tell a grant on this stack's key, secret or
database from a grant on another's."""

from __future__ import annotations

import functools
import json
import re
from dataclasses import replace
from pathlib import Path
from collections.abc import Callable
from typing import Any, Optional, cast

import botocore.session
from policyuniverse import all_permissions
from policyuniverse.arn import ARN
from policyuniverse.expander_minimizer import _expand_wildcard_action
import pulumi
import pulumi_aws as aws
import pytest

from components.app_settings import IdentityCenterSettings
from components.aws_context import AwsContext
from components.environment.break_glass import break_glass_statements
from components.application.workforce_access import (
    BREAK_GLASS, PERMISSION_SETS, PHI_OPERATOR, READ_ONLY, WorkforceAccess, WorkforceAccessArgs, validate,
)
from preflight.judge import judge
from preflight.policy_pack_client import POLICY_DIR
from preflight.program_runner import ProgramRun, RecordedResource, run_program, script_program
from preflight.stack_config import StackConfig, load_stack_config, stack_names
from tests import aws_reference as ref
from tests.conftest import cached_run, owned_run, stack_config
from tests.test_aws_api_models import (
    as_checked, check_botocore_constraints, check_enum_inputs, check_managed_policy_arns, check_prose_inputs,
)

PROGRAM = Path(__file__).parent / "fixtures" / "programs" / "workforce_access.py"
ACCOUNT, REGION = "123456789012", "us-east-1"
INSTANCE = "arn:aws:sso:::instance/ssoins-1234567890abcdef"
GROUPS = {"readOnly": "a1b2c3d4-1111-2222-3333-444455556666",
          "breakGlass": "9a8b7c6d5e-a1b2c3d4-1111-2222-3333-777755556666"}
IDENTITY_CENTER = {"instanceArn": INSTANCE, "groups": GROUPS, "managedBy": "stack"}

# What the fixture passes in (the values the environment's outputs resolve to).
PHI_BUCKET = f"arn:aws:s3:::hipaa-aws-prod-phi-documents-{ACCOUNT}"
TOPIC = f"arn:aws:sns:{REGION}:{ACCOUNT}:hipaa-aws-prod-security-alerts"
TRAIL_LOG_GROUP = "/hipaa-aws/prod/cloudtrail"

# What requests name once the stack exists: key ARNs and the secret's and database's random ids,
# none of which the policies may depend on (they are unknown at preview).
STORAGE_KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/11111111-1111-1111-1111-111111111111"
SECRETS_KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/22222222-2222-2222-2222-222222222222"
STORAGE_ALIAS, SECRETS_ALIAS = "alias/hipaa-aws-prod-storage", "alias/hipaa-aws-prod-secrets"
MASTER_SECRET = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:rds!db-0123abcd-AbCdEf"
THIS_DATABASE = f"arn:aws:rds:{REGION}:{ACCOUNT}:db:hipaa-aws-prod"
DB_RESOURCE_ID = "db-ABCDEFGHIJKLMNOPQRSTUVWXYZ"
PHI_OPERATOR_USER = "phi_operator_prod"
PORT_FORWARD_DOCUMENT = f"arn:aws:ssm:{REGION}::document/AWS-StartPortForwardingSessionToRemoteHost"
SHELL_DOCUMENT = f"arn:aws:ssm:{REGION}:{ACCOUNT}:document/SSM-SessionManagerRunShell"
CLUSTER = f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/hipaa-aws-prod"
ECS_TASK = f"arn:aws:ecs:{REGION}:{ACCOUNT}:task/hipaa-aws-prod/0123456789abcdef0123456789abcdef"
# ECS task definition ARNs: task-definition/<family>:<revision> (Service Authorization Reference, ECS).
TASK_DEFINITIONS = f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition"
DB_ACCESS_FAMILY = "hipaa-aws-prod-db-access"
# IAM role ARNs carry the role's path (IAM user guide, "IAM identifiers").
STACK_ROLES = f"arn:aws:iam::{ACCOUNT}:role/hipaa-aws/prod"
BREAK_GLASS_ROLE = f"{STACK_ROLES}/hipaa-aws-prod-db-break-glass"
DB_ACCESS_ROLES = (f"{STACK_ROLES}/hipaa-aws-prod-db-access-task",
                   f"{STACK_ROLES}/hipaa-aws-prod-db-access-execution")
# What RunTask is authorized with when an operator runs the db-access task as the README says.
LAUNCH = {"ecs:cluster": CLUSTER, "ecs:enable-execute-command": "true"}
TO_ECS = {"iam:PassedToService": "ecs-tasks.amazonaws.com"}
# An Identity Center session's aws:userid (role id:session name), and the tag it puts on its task.
ALICE, BOB = "AROAEXAMPLEROLEID1234:alice@example.com", "AROAEXAMPLEROLEID1234:bob@example.com"
OWN_TASK = {"aws:ResourceTag/Operator": ALICE, "aws:userid": ALICE, "ssm:SessionDocumentAccessCheck": "true"}

T = "aws:ssoadmin/"
PERMISSION_SET = f"{T}permissionSet:PermissionSet"
CUSTOMER_POLICY_ATTACHMENT = f"{T}customerManagedPolicyAttachment:CustomerManagedPolicyAttachment"
MANAGED_POLICY_ATTACHMENT = f"{T}managedPolicyAttachment:ManagedPolicyAttachment"
ASSIGNMENT = f"{T}accountAssignment:AccountAssignment"
IAM_POLICY = "aws:iam/policy:Policy"
METRIC_FILTER = "aws:cloudwatch/logMetricFilter:LogMetricFilter"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
KMS_KEY, KMS_ALIAS = "aws:kms/key:Key", "aws:kms/alias:Alias"
DB_INSTANCE = "aws:rds/instance:Instance"
ROLE, ECS_CLUSTER = "aws:iam/role:Role", "aws:ecs/cluster:Cluster"
TASK_DEFINITION = "aws:ecs/taskDefinition:TaskDefinition"
BUCKET_ENCRYPTION = ("aws:s3/bucketServerSideEncryptionConfiguration:"
                     "BucketServerSideEncryptionConfiguration")


# Stack mode is the single-account team's (identityCenter.managedBy: stack): prod owns the account and
# its trail, staging shares prod's account, whatever the stack files say today (each environment in a
# member account of the organization: tests/test_organization_identity_center.py).
SINGLE_ACCOUNT_BASELINE = {"prod": "owned", "staging": "external"}


def workforce_config(stack: str) -> StackConfig:
    """The stack's config moved into the one account (its account id replaced everywhere: provider,
    key administrators, certificate)."""
    config = stack_config(stack, {"identityCenter": IDENTITY_CENTER,
                                  "accountBaseline": SINGLE_ACCOUNT_BASELINE[stack]})
    [own] = config.allowed_account_ids
    return replace(config, values={key: value.replace(own, ACCOUNT) for key, value in config.values.items()})


@functools.cache
def workforce_run(stack: str = "prod", preview: bool = False) -> ProgramRun:
    return run_program(script_program(PROGRAM), workforce_config(stack), preview)


def of(run: ProgramRun, type_token: str) -> list[RecordedResource]:
    return run.of_type(type_token)


# ---------------------------------------------------------------------------------------------
# Request contexts
# ---------------------------------------------------------------------------------------------


def key_use(aliases: str | list[str], via: Optional[str] = None) -> dict:
    """A request on a KMS key: the aliases the key carries (kms:ResourceAliases, multivalued) and,
    when a service calls KMS on the caller's behalf, that service's endpoint (kms:ViaService)."""
    context: dict[str, Any] = {"kms:ResourceAliases": _listed(aliases)}
    if via:
        context["kms:ViaService"] = f"{via}.{REGION}.amazonaws.com"
    return context


def master_secret_of(database_arn: Optional[str]) -> dict:
    """A request on a secret RDS manages: RDS tags it with its instance's ARN (None: no such tag)."""
    return {} if database_arn is None else {"aws:ResourceTag/aws:rds:primaryDBInstanceArn": database_arn}


def db_user(user: str, resource_id: str = DB_RESOURCE_ID, account: str = ACCOUNT,
            region: str = REGION) -> str:
    """What rds-db:connect authorizes: the instance's DbiResourceId and the database user."""
    return f"arn:aws:rds-db:{region}:{account}:dbuser:{resource_id}/{user}"


# ---------------------------------------------------------------------------------------------
# A small IAM evaluator: explicit Deny wins, then any Allow. Actions match through policyuniverse's
# list of every IAM action (a statement's wildcards expanded there; an action asked about must be in
# it, so no "cannot" holds of a misspelt action), resources and ARN conditions component by
# component as policyuniverse's ARN parser splits them (`*` and `?` never cross a colon), condition
# keys case-insensitively and string values case-sensitively; policy variables (`${aws:userid}`)
# come from the request context. A missing key fails every operator but the ...IfExists ones, and
# `ForAnyValue:` fails on a missing or empty set. Anything else (another operator, a set operator
# other than ForAnyValue, a single-valued operator on a multivalued key, NotAction/NotResource)
# stops the test: reading it as a match or as a non-match would each let some assertion pass on a
# policy the evaluator cannot read.
# ---------------------------------------------------------------------------------------------


class UnsupportedPolicy(NotImplementedError):
    """A policy element this evaluator does not evaluate."""


def _listed(value: Any) -> list:
    return value if isinstance(value, list) else [value]


def _glob(pattern: str, value: str, ignore_case: bool = False) -> bool:
    """IAM wildcards: `*` any run of characters, `?` one character, nothing else special."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, re.DOTALL | (re.IGNORECASE if ignore_case else 0)) is not None


def _arn_like(pattern: str, value: str) -> bool:
    """ArnLike/ArnEquals and Resource: partition, service, region, account and resource, as
    policyuniverse parses an ARN, each matched on its own (a value that is no ARN matches nothing)."""
    wanted, actual = ARN(pattern), ARN(value)
    if wanted.error:
        raise UnsupportedPolicy(f"{pattern} is not an ARN policyuniverse can parse")
    parts = ("partition", "tech", "region", "account_number", "name")
    return not actual.error and all(_glob(getattr(wanted, p) or "", getattr(actual, p) or "") for p in parts)


def _action_matches(patterns: Any, action: str) -> bool:
    if action.lower() not in all_permissions:
        raise UnsupportedPolicy(f"{action} is not an IAM action (policyuniverse's list)")
    return action.lower() in _expand_wildcard_action(_listed(patterns))


def _resolve(value: str, context: dict) -> Optional[str]:
    """Policy variables replaced from the context; None when one is missing (nothing matches)."""
    missing = False

    def variable(match: re.Match) -> str:
        nonlocal missing
        if match[1].lower() not in context:
            missing = True
            return ""
        return str(context[match[1].lower()])
    resolved = re.sub(r"\$\{([^}]+)\}", variable, value)
    return None if missing else resolved


_MATCHERS: dict[str, Callable[[str, str], bool]] = {
    "StringEquals": lambda wanted, actual: wanted == actual,
    "StringLike": _glob,
    "ArnEquals": _arn_like,  # IAM treats ArnEquals as ArnLike
    "ArnLike": _arn_like,
    "Bool": lambda wanted, actual: wanted.lower() == actual.lower(),
}
_SET_OPERATORS = ("", "ForAnyValue")


def _operator(operator: str) -> tuple[str, str, bool]:
    """(set operator, base operator, IfExists), or UnsupportedPolicy."""
    qualifier, _, base = operator.rpartition(":")
    if_exists = base.endswith("IfExists")
    base = base.removesuffix("IfExists")
    if qualifier not in _SET_OPERATORS or base not in _MATCHERS:
        raise UnsupportedPolicy(f"condition operator {operator}")
    return qualifier, base, if_exists


def _check_supported(statement: dict) -> None:
    unsupported = {"NotAction", "NotResource", "NotPrincipal"} & set(statement)
    if unsupported or statement.get("Effect") not in ("Allow", "Deny"):
        raise UnsupportedPolicy(f"statement {statement}")
    for operator in statement.get("Condition", {}):
        _operator(operator)


def _condition_holds(condition: dict, context: dict) -> bool:
    context = {key.lower(): value for key, value in context.items()}
    for operator, pairs in condition.items():
        qualifier, base, if_exists = _operator(operator)
        match = _MATCHERS[base]
        for key, wanted in pairs.items():
            values = [v for v in (_resolve(str(w), context) for w in _listed(wanted)) if v is not None]
            if key.lower() not in context:
                if if_exists:
                    continue
                return False
            actual = context[key.lower()]
            if qualifier == "ForAnyValue":
                ok = any(match(v, str(a)) for a in _listed(actual) for v in values)
            elif isinstance(actual, list):
                raise UnsupportedPolicy(f"single-valued {operator} on the multivalued key {key}")
            else:
                ok = any(match(v, str(actual)) for v in values)
            if not ok:
                return False
    return True


def _applies(statement: dict, action: str, resource: str, context: dict) -> bool:
    if not _action_matches(statement["Action"], action):
        return False
    # A resource-based policy (a role's trust) has no Resource: it applies to its own resource.
    if not any(r == "*" or _arn_like(r, resource) for r in _listed(statement.get("Resource", "*"))):
        return False
    return _condition_holds(statement.get("Condition", {}), context)


def allowed(documents: list[dict], action: str, resource: str, context: Optional[dict] = None) -> bool:
    statements = [s for d in documents for s in _listed(d["Statement"])]
    for statement in statements:
        _check_supported(statement)
    context = context or {}
    if any(s["Effect"] == "Deny" and _applies(s, action, resource, context) for s in statements):
        return False
    return any(s["Effect"] == "Allow" and _applies(s, action, resource, context) for s in statements)


DO = "s3:GetObject"  # the action of the evaluator's own cases


def statement(condition: Optional[dict] = None, action: str = DO, resource: str = "*") -> list[dict]:
    return [{"Statement": [{"Effect": "Allow", "Action": action, "Resource": resource,
                            **({"Condition": condition} if condition else {})}]}]


def test_the_evaluator_reads_the_conditions_these_policies_use_as_iam_does():
    """The evaluator is what every assertion below stands on: its own negative cases."""
    aliases = statement({"ForAnyValue:StringEquals": {"kms:ResourceAliases": STORAGE_ALIAS}})
    assert allowed(aliases, DO, "*", key_use(STORAGE_ALIAS))
    assert allowed(aliases, DO, "*", key_use(["alias/other", STORAGE_ALIAS]))  # any of the key's aliases
    assert allowed(aliases, DO, "*", {"KMS:resourcealiases": [STORAGE_ALIAS]})  # key names: any case
    for context in (key_use("alias/other"), key_use([]), key_use(STORAGE_ALIAS.upper()), {}):
        assert not allowed(aliases, DO, "*", context), context

    tag = statement({"StringEquals": {"aws:ResourceTag/aws:rds:primaryDBInstanceArn": THIS_DATABASE}})
    assert allowed(tag, DO, "*", master_secret_of(THIS_DATABASE))
    for database in (THIS_DATABASE + "-2", THIS_DATABASE.replace("prod", "staging"), None):
        assert not allowed(tag, DO, "*", master_secret_of(database)), database
    with pytest.raises(UnsupportedPolicy, match="multivalued"):  # StringEquals on a set: not IAM's reading
        allowed(statement({"StringEquals": {"kms:ResourceAliases": STORAGE_ALIAS}}), DO, "*",
                key_use(STORAGE_ALIAS))

    via = statement({"ForAnyValue:StringEquals": {"kms:ResourceAliases": STORAGE_ALIAS},
                     "StringEquals": {"kms:ViaService": f"s3.{REGION}.amazonaws.com"}})
    assert allowed(via, DO, "*", key_use(STORAGE_ALIAS, "s3"))  # every operator must hold
    assert not allowed(via, DO, "*", key_use(STORAGE_ALIAS, "secretsmanager"))
    assert not allowed(via, DO, "*", key_use(STORAGE_ALIAS))
    assert not allowed(via, DO, "*", key_use("alias/other", "s3"))

    arn = statement({"ArnEquals": {"ecs:cluster": f"arn:aws:ecs:*:{ACCOUNT}:cluster/c"}})
    assert allowed(arn, DO, "*", {"ecs:cluster": f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/c"})
    for other in (f"arn:aws:ecs:{REGION}:999999999999:cluster/c",
                  f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/c2",
                  f"arn:aws:ecs:{REGION}:x:{ACCOUNT}:cluster/c", "c"):
        assert not allowed(arn, DO, "*", {"ecs:cluster": other}), other
    # A wildcard in one part of an ARN never reaches into the next.
    tasks = statement(resource=f"arn:aws:ecs:*:{ACCOUNT}:task/c/*")
    assert allowed(tasks, DO, f"arn:aws:ecs:{REGION}:{ACCOUNT}:task/c/t")
    assert not allowed(tasks, DO, f"arn:aws:ecs:{REGION}:999999999999:x:{ACCOUNT}:task/c/t")
    assert allowed(statement(resource="arn:aws:s3:::b/*"), "S3:GETOBJECT", "arn:aws:s3:::b/k:with:colons")
    assert not allowed(statement(resource="arn:aws:s3:::b/*"), DO, "arn:aws:s3:::B/k")
    # Action wildcards expand over policyuniverse's list of IAM actions; an action that is not on it
    # (misspelt) stops the test rather than being "not allowed".
    assert allowed(statement(action="s3:GetObject*"), "s3:GetObjectVersion", "*")
    assert not allowed(statement(action="s3:GetObject*"), "s3:PutObject", "*")
    assert allowed(statement(action="iam:Pass*"), "iam:PassRole", "*")
    with pytest.raises(UnsupportedPolicy, match="not an IAM action"):
        allowed(statement(), "s3:GetObjekt", "*")

    own = statement({"StringLike": {"ssm:resourceTag/aws:ssmmessages:session-id": "${aws:userid}"}})
    alice = {"ssm:resourceTag/aws:ssmmessages:session-id": "AROAEXAMPLE:alice",
             "aws:userid": "AROAEXAMPLE:alice"}
    assert allowed(own, DO, "*", alice)
    assert not allowed(own, DO, "*", {**alice, "aws:userid": "AROAEXAMPLE:bob"})
    assert not allowed(own, DO, "*", {"ssm:resourceTag/aws:ssmmessages:session-id": "${aws:userid}"})
    like = statement({"StringLike": {"k": "a?c*"}})
    assert allowed(like, DO, "*", {"k": "abcdef"}) and not allowed(like, DO, "*", {"k": "ac"})

    checked = statement({"BoolIfExists": {"ssm:SessionDocumentAccessCheck": "true"}})
    assert allowed(checked, DO, "*", {"ssm:SessionDocumentAccessCheck": "TRUE"})
    assert allowed(checked, DO, "*")  # ...IfExists: an absent key does not fail
    assert not allowed(checked, DO, "*", {"ssm:SessionDocumentAccessCheck": "false"})

    # Deny wins; unknown operators and elements stop the test wherever they are.
    deny = {"Statement": [{"Effect": "Deny", "Action": "s3:*", "Resource": "*"}]}
    assert not allowed([*statement(), deny], DO, "*")
    for operator in ("StringNotEquals", "ForAllValues:StringEquals", "Null", "NumericLessThan",
                     "StringEqualsIgnoreCase", "ArnNotLike", "ForAnyValue:StringNotLike"):
        with pytest.raises(UnsupportedPolicy, match="condition operator"):
            allowed([*statement(), *statement({operator: {"k": "v"}}, action="s3:PutObject")], DO, "*")
    with pytest.raises(UnsupportedPolicy):
        allowed([{"Statement": [{"Effect": "Allow", "NotAction": DO, "Resource": "*"}]}], "s3:PutObject", "*")


@functools.cache
def view_only_access() -> dict:
    data = json.loads(ref.moto_data_module("iam/aws_managed_policies.py").aws_managed_policies_data)
    return data["ViewOnlyAccess"]["Document"]


def grants(run: ProgramRun, stack: str = "prod") -> dict[str, list[dict]]:
    """Each permission set's policy documents, followed from the set through its attachments to the
    customer-managed policy of that name and path (and to AWS managed policies by ARN)."""
    sets = {r.inputs["name"]: r for r in of(run, PERMISSION_SET)}
    by_reference = {(p.inputs["name"], p.inputs["path"]): json.loads(p.inputs["policy"])
                    for p in of(run, IAM_POLICY) if "name" in p.inputs}  # others are not referenced by name
    arns = {r.outputs["arn"]: name for name, r in sets.items()}
    out: dict[str, list[dict]] = {name: [] for name in sets}
    for attachment in of(run, CUSTOMER_POLICY_ATTACHMENT):
        reference = attachment.inputs["customerManagedPolicyReference"]
        out[arns[attachment.inputs["permissionSetArn"]]].append(
            by_reference[(reference["name"], reference.get("path", "/"))])
    for attachment in of(run, MANAGED_POLICY_ATTACHMENT):
        assert attachment.inputs["managedPolicyArn"] == "arn:aws:iam::aws:policy/job-function/ViewOnlyAccess"
        out[arns[attachment.inputs["permissionSetArn"]]].append(view_only_access())
    return {key: out[f"hipaa-{stack}-{key}"] for key in PERMISSION_SETS}


def allowed_grants(documents: list[dict]) -> set[tuple[str, str, Optional[str]]]:
    """Every (action, resource, condition) an Allow names: the condition is part of the grant, since
    resources named before creation are wildcards that only the condition narrows."""
    return {grant(action, resource, s.get("Condition"))
            for d in documents for s in d["Statement"] if s["Effect"] == "Allow"
            for action in _listed(s["Action"]) for resource in _listed(s["Resource"])}


def grant(action: str, resource: str, condition: Optional[dict] = None) -> tuple[str, str, Optional[str]]:
    return action, resource, json.dumps(condition, sort_keys=True) if condition else None


# ---------------------------------------------------------------------------------------------
# Sessions
# ---------------------------------------------------------------------------------------------


def hours(duration: str) -> float:
    match = re.fullmatch(r"PT(?:(\d+)H)?(?:(\d+)M)?", duration)
    assert match, duration
    return int(match[1] or 0) + int(match[2] or 0) / 60


def test_every_session_lasts_four_hours_at_most_and_break_glass_one_hour():
    durations = {r.inputs["name"]: hours(r.inputs["sessionDuration"])
                 for r in of(workforce_run(), PERMISSION_SET)}
    assert durations == {"hipaa-prod-read-only": 4, "hipaa-prod-phi-operator": 4, "hipaa-prod-break-glass": 1}
    assert all(1 <= h <= 12 for h in durations.values())  # Identity Center's PT1H..PT12H


def test_permission_set_names_carry_the_stack_and_fit_identity_center():
    model = botocore.session.get_session().get_service_model("sso-admin")
    name = cast(Any, model.operation_model("CreatePermissionSet").input_shape).members["Name"].metadata
    names = {stack: sorted(r.inputs["name"] for r in of(workforce_run(stack), PERMISSION_SET))
             for stack in ("prod", "staging")}
    assert names["prod"] == ["hipaa-prod-break-glass", "hipaa-prod-phi-operator", "hipaa-prod-read-only"]
    assert not set(names["prod"]) & set(names["staging"])  # one Identity Center instance, many stacks
    for value in names["prod"] + names["staging"]:
        assert len(value) <= name["max"] and re.fullmatch(name["pattern"], value), value


def test_ssoadmin_inputs_fit_the_sso_admin_api_model():
    """sso-admin is not in aws_reference.API_MODELS yet: check its inputs against botocore here."""
    model = botocore.session.get_session().get_service_model("sso-admin")

    def member(operation: str, name: str):
        return cast(Any, model.operation_model(operation).input_shape).members[name]

    checks = {
        PERMISSION_SET: {"name": member("CreatePermissionSet", "Name"),
                         "description": member("CreatePermissionSet", "Description"),
                         "sessionDuration": member("CreatePermissionSet", "SessionDuration"),
                         "instanceArn": member("CreatePermissionSet", "InstanceArn")},
        ASSIGNMENT: {"principalId": member("CreateAccountAssignment", "PrincipalId"),
                     "targetId": member("CreateAccountAssignment", "TargetId"),
                     "targetType": member("CreateAccountAssignment", "TargetType"),
                     "principalType": member("CreateAccountAssignment", "PrincipalType")},
        MANAGED_POLICY_ATTACHMENT: {
            "managedPolicyArn": member("AttachManagedPolicyToPermissionSet", "ManagedPolicyArn")},
    }
    reference = cast(Any, model.shape_for("CustomerManagedPolicyReference")).members
    seen = 0
    for resource in workforce_run().resources:
        fields = dict(checks.get(resource.type, {}))
        values = dict(resource.inputs)
        if resource.type == CUSTOMER_POLICY_ATTACHMENT:
            fields, values = dict(reference), {k.capitalize(): v for k, v in
                                               resource.inputs["customerManagedPolicyReference"].items()}
        for key, shape in fields.items():
            value = values[key]
            seen += 1
            if getattr(shape, "enum", None):
                assert value in shape.enum, (resource.name, key, value)
                continue
            meta = shape.metadata
            assert meta.get("min", 0) <= len(value) <= meta.get("max", 10**6), (resource.name, key, value)
            assert re.fullmatch(meta["pattern"], value), (resource.name, key, value, meta["pattern"])
    assert seen >= 20


# ---------------------------------------------------------------------------------------------
# What each permission set may do
# ---------------------------------------------------------------------------------------------


def test_no_permission_set_reads_the_master_secret_break_glass_assumes_the_role_that_does():
    """The break-glass set's only grant on the secret is assuming the break-glass role: the role's
    trust names the account, which still needs sts:AssumeRole on the caller's identity (IAM "Policy
    elements: Principal"), so without this grant nobody could assume it. The role's assumption,
    which SecurityAlarms alarms on, is then the one path to the secret."""
    sets = grants(workforce_run())
    this = master_secret_of(THIS_DATABASE)
    for key, docs in sets.items():
        for action in ("secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"):
            assert not allowed(docs, action, MASTER_SECRET, this), (key, action)
        assert not allowed(docs, "kms:Decrypt", SECRETS_KEY, key_use(SECRETS_ALIAS, "secretsmanager")), key
    assumers = {key for key, docs in sets.items() if allowed(docs, "sts:AssumeRole", BREAK_GLASS_ROLE)}
    assert assumers == {BREAK_GLASS}
    # That role only: not another stack's or account's break-glass role, not a look-alike name, not the
    # stack's other roles; and nothing else on it.
    roles = f"arn:aws:iam::{ACCOUNT}:role/hipaa-aws"
    for role in (f"{roles}/staging/hipaa-aws-staging-db-break-glass", f"{BREAK_GLASS_ROLE}2",
                 f"{roles}/prod/x-hipaa-aws-prod-db-break-glass",
                 f"{roles}/prod/hipaa-aws-prod-db-access-task",
                 f"{roles}/ci/hipaa-aws-prod-deploy", BREAK_GLASS_ROLE.replace(ACCOUNT, "999999999999")):
        assert not allowed(sets[BREAK_GLASS], "sts:AssumeRole", role), role
    for action in ("sts:TagSession", "iam:UpdateAssumeRolePolicy", "iam:PassRole", "iam:AttachRolePolicy"):
        assert not allowed(sets[BREAK_GLASS], action, BREAK_GLASS_ROLE), action


def test_the_break_glass_role_reads_only_this_stacks_master_secret():
    """What the role the set assumes may do (BreakGlassAccess's policy, built from the same names)."""
    docs = [{"Statement": break_glass_statements(context(), "prod")}]
    this = master_secret_of(THIS_DATABASE)
    assert allowed(docs, "secretsmanager:GetSecretValue", MASTER_SECRET, this)
    assert allowed(docs, "secretsmanager:DescribeSecret", MASTER_SECRET, this)
    # The secret of THIS stack's database only: RDS's tag names the instance, and the secret's name
    # (rds!db-<random>) does not. Another stack's, account's or region's instance, a look-alike
    # identifier, or a secret without the tag: refused.
    for database in (THIS_DATABASE.replace("hipaa-aws-prod", "hipaa-aws-staging"),
                     THIS_DATABASE + "-restored", THIS_DATABASE.replace(ACCOUNT, "999999999999"),
                     THIS_DATABASE.replace(REGION, "us-west-2"),
                     f"arn:aws:rds:{REGION}:{ACCOUNT}:cluster:hipaa-aws-prod", None):
        for action in ("secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"):
            assert not allowed(docs, action, MASTER_SECRET, master_secret_of(database)), (action, database)
    # No other secret, whatever its tags; no other secret operation.
    app_secret = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:hipaa-aws-prod-app-AbCdEf"
    assert not allowed(docs, "secretsmanager:GetSecretValue", app_secret, this)
    for action in ("secretsmanager:PutSecretValue", "secretsmanager:UpdateSecret",
                   "secretsmanager:DeleteSecret", "secretsmanager:RotateSecret",
                   "secretsmanager:PutResourcePolicy"):
        assert not allowed(docs, action, MASTER_SECRET, this), action
    # Secrets Manager decrypts with the caller's permission on the secrets key, and only that way:
    # not directly, not through another service, not another key (another stack's, or unaliased).
    assert allowed(docs, "kms:Decrypt", SECRETS_KEY, key_use(SECRETS_ALIAS, "secretsmanager"))
    assert not allowed(docs, "kms:Decrypt", SECRETS_KEY, key_use(SECRETS_ALIAS))
    assert not allowed(docs, "kms:Decrypt", SECRETS_KEY, key_use(SECRETS_ALIAS, "s3"))
    for aliases in (STORAGE_ALIAS, "alias/hipaa-aws-staging-secrets", "alias/aws/secretsmanager", []):
        assert not allowed(docs, "kms:Decrypt", SECRETS_KEY, key_use(aliases, "secretsmanager")), aliases


def test_phi_operator_reads_only_the_phi_bucket_and_connects_only_as_phi_operator():
    docs = grants(workforce_run())[PHI_OPERATOR]
    assert allowed(docs, "s3:GetObject", f"{PHI_BUCKET}/patients/0001.pdf")
    assert allowed(docs, "s3:GetObjectVersion", f"{PHI_BUCKET}/patients/0001.pdf")
    assert allowed(docs, "s3:ListBucket", PHI_BUCKET)
    for action in ("s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion", "s3:PutBucketPolicy"):
        assert not allowed(docs, action, f"{PHI_BUCKET}/patients/0001.pdf")
        assert not allowed(docs, action, PHI_BUCKET)
    other = f"arn:aws:s3:::hipaa-aws-staging-phi-documents-{ACCOUNT}"
    assert not allowed(docs, "s3:GetObject", f"{other}/x") and not allowed(docs, "s3:ListBucket", other)
    # This stack's storage key, through S3 only: not directly, not through another service, not the
    # secrets key, not another stack's storage key, not a key without aliases; decrypt only.
    assert allowed(docs, "kms:Decrypt", STORAGE_KEY, key_use(STORAGE_ALIAS, "s3"))
    assert not allowed(docs, "kms:Decrypt", STORAGE_KEY, key_use(STORAGE_ALIAS))
    assert not allowed(docs, "kms:Decrypt", STORAGE_KEY, key_use(STORAGE_ALIAS, "secretsmanager"))
    for aliases in (SECRETS_ALIAS, "alias/hipaa-aws-staging-storage", "alias/hipaa-aws-prod-database", []):
        assert not allowed(docs, "kms:Decrypt", STORAGE_KEY, key_use(aliases, "s3")), aliases
    for action in ("kms:Encrypt", "kms:GenerateDataKey", "kms:ReEncryptFrom", "kms:CreateGrant"):
        assert not allowed(docs, action, STORAGE_KEY, key_use(STORAGE_ALIAS, "s3")), action
    # The database as phi_operator_prod only. The instance's DbiResourceId is unknown before it
    # exists, so the user name, which carries the stack, is what confines the grant to this stack's
    # database: any resource id connects as phi_operator_prod, no user name but it connects anywhere.
    assert allowed(docs, "rds-db:connect", db_user(PHI_OPERATOR_USER))
    assert allowed(docs, "rds-db:connect", db_user(PHI_OPERATOR_USER, "db-RESTOREDFROMSNAPSHOT"))
    for user in ("phi_operator_staging", "phi_operator", "app_prod", "app_staging", "app_admin", "postgres",
                 "rds_superuser", "*", "phi_operator_prod2", "x_phi_operator_prod", "PHI_OPERATOR_PROD"):
        assert not allowed(docs, "rds-db:connect", db_user(user)), user
    assert not allowed(docs, "rds-db:connect", db_user("phi_operator_staging", "db-OTHER"))
    assert not allowed(docs, "rds-db:connect", db_user(PHI_OPERATOR_USER, account="999999999999"))
    assert not allowed(docs, "rds-db:connect", db_user(PHI_OPERATOR_USER, region="us-west-2"))
    assert not allowed(docs, "secretsmanager:GetSecretValue", MASTER_SECRET, master_secret_of(THIS_DATABASE))


def test_the_staging_sets_name_staging_keys_database_and_user():
    """The names in the policies follow the stack: staging's sets reach staging's, not prod's."""
    sets = grants(workforce_run("staging"), "staging")
    operator, break_glass = sets[PHI_OPERATOR], sets[BREAK_GLASS]
    assert allowed(operator, "rds-db:connect", db_user("phi_operator_staging"))
    assert not allowed(operator, "rds-db:connect", db_user(PHI_OPERATOR_USER))
    assert allowed(operator, "kms:Decrypt", STORAGE_KEY, key_use("alias/hipaa-aws-staging-storage", "s3"))
    assert not allowed(operator, "kms:Decrypt", STORAGE_KEY, key_use(STORAGE_ALIAS, "s3"))
    staging_role = BREAK_GLASS_ROLE.replace("prod", "staging")
    assert allowed(break_glass, "sts:AssumeRole", staging_role)
    assert not allowed(break_glass, "sts:AssumeRole", BREAK_GLASS_ROLE)
    # Staging's db-access task in staging's cluster, with staging's roles.
    staging_launch = {**LAUNCH, "ecs:cluster": CLUSTER.replace("prod", "staging")}
    staging_task = f"{TASK_DEFINITIONS}/hipaa-aws-staging-db-access:1"
    for docs in (operator, break_glass):
        assert allowed(docs, "ecs:RunTask", staging_task, staging_launch)
        assert not allowed(docs, "ecs:RunTask", f"{TASK_DEFINITIONS}/{DB_ACCESS_FAMILY}:1", LAUNCH)
        assert not allowed(docs, "ecs:RunTask", staging_task, LAUNCH)
        for role in DB_ACCESS_ROLES:
            assert allowed(docs, "iam:PassRole", role.replace("prod", "staging"), TO_ECS)
            assert not allowed(docs, "iam:PassRole", role, TO_ECS)


def test_the_names_the_policies_use_are_the_names_the_stack_creates():
    """In the stack's own program (the environment wires the component): the PHI bucket's key carries
    the alias the phi-operator set names, the master secret's key the alias break-glass names, and
    the database is the instance the secret's tag names. Every other key of the stack stays shut.
    (The single-account shape, where the stack creates its own sets.)"""
    run = owned_run("prod")
    sets = grants(run)
    key_ids = {k.outputs["arn"]: k.outputs["keyId"] for k in of(run, KMS_KEY)}

    def aliases(key_arn: str) -> list[str]:
        return [a.inputs["name"] for a in of(run, KMS_ALIAS)
                if a.inputs["targetKeyId"] in (key_arn, key_ids[key_arn])]

    encryption = run.named("hipaa-phi-documents", BUCKET_ENCRYPTION).inputs["rules"]
    storage_key = encryption[0]["applyServerSideEncryptionByDefault"]["kmsMasterKeyId"]
    [database] = of(run, DB_INSTANCE)
    secrets_key = database.inputs["masterUserSecretKmsKeyId"]
    database_arn = f"arn:aws:rds:{REGION}:{ACCOUNT}:db:{database.inputs['identifier']}"
    assert aliases(storage_key) and aliases(secrets_key)

    this_secret = master_secret_of(database_arn)
    assert not any(allowed(docs, "secretsmanager:GetSecretValue", MASTER_SECRET, this_secret)
                   for docs in sets.values())
    for key_arn in key_ids:
        for via in ("s3", "secretsmanager", "rds", "logs"):
            context = key_use(aliases(key_arn), via)
            for key, docs in sets.items():
                expected = (key, key_arn, via) == (PHI_OPERATOR, storage_key, "s3")
                assert allowed(docs, "kms:Decrypt", key_arn, context) == expected, (key, key_arn, via)
    # The role the break-glass set may assume is the stack's break-glass role.
    assumable = [role_arn(r) for r in of(run, ROLE)
                 if allowed(sets[BREAK_GLASS], "sts:AssumeRole", role_arn(r))]
    assert assumable == [role_arn(run.named("hipaa-break-glass", ROLE))]


def role_arn(role: RecordedResource) -> str:
    """A role's real ARN, `arn:aws:iam::<account>:role/<path><name>` (IAM user guide, "IAM identifiers";
    the mocks' ARNs leave the path out; an auto-named role's name is the provider's, as the mocks make it)."""
    return f"arn:aws:iam::{ACCOUNT}:role{role.outputs.get('path') or '/'}{role.outputs['name']}"


def test_operators_run_exactly_the_db_access_task_and_pass_exactly_its_roles():
    """In the stack's own program: of every task definition the stack registers, the operator sets may
    run the db-access one only (any revision), in the stack's cluster; of every role the stack
    creates, they may pass to ECS the db-access task's task role and execution role only. RunTask
    checks iam:PassRole on both (and on any role override), so passing exactly these keeps an
    operator from running the db-access task as the application (`overrides.taskRoleArn`)."""
    run = owned_run("prod")
    sets = grants(run)
    roles = {r.outputs["arn"]: r for r in of(run, ROLE)}
    families = {t.inputs["family"]: t for t in of(run, TASK_DEFINITION)}
    db_access = families[DB_ACCESS_FAMILY]
    its_roles = {role_arn(roles[db_access.inputs[key]]) for key in ("taskRoleArn", "executionRoleArn")}
    assert its_roles == set(DB_ACCESS_ROLES)
    [cluster] = of(run, ECS_CLUSTER)
    launch = {**LAUNCH, "ecs:cluster": f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/{cluster.inputs['name']}"}
    assert len(families) >= 2 and len(roles) >= 5  # the application's task and roles are candidates too
    for key, docs in sets.items():
        runnable = {f for f in families if allowed(docs, "ecs:RunTask", f"{TASK_DEFINITIONS}/{f}:7", launch)}
        passable = {role_arn(r) for r in roles.values() if allowed(docs, "iam:PassRole", role_arn(r), TO_ECS)}
        if key == READ_ONLY:
            assert runnable == set() and passable == set(), key
        else:
            assert runnable == {DB_ACCESS_FAMILY}, key
            assert passable == its_roles, key


def test_phi_operator_may_do_nothing_else():
    """The complete list of grants, conditions included, so any new one is a reviewed change."""
    sessions = f"arn:aws:ssm:{REGION}:{ACCOUNT}:session/*"
    tasks = f"arn:aws:ecs:{REGION}:{ACCOUNT}:task/hipaa-aws-prod/*"
    checked = {"BoolIfExists": {"ssm:SessionDocumentAccessCheck": "true"}}
    own = {"StringLike": {"ssm:resourceTag/aws:ssmmessages:session-id": "${aws:userid}"}}
    own_task = {"StringEquals": {"aws:ResourceTag/Operator": "${aws:userid}"}}
    tunnel = {
        grant("ecs:RunTask", f"{TASK_DEFINITIONS}/{DB_ACCESS_FAMILY}:*",
              {"ArnEquals": {"ecs:cluster": CLUSTER},
               "StringEquals": {"ecs:enable-execute-command": "true"}}),
        grant("ecs:TagResource", "*",
              {"StringEquals": {"ecs:CreateAction": "RunTask", "aws:RequestTag/Operator": "${aws:userid}"}}),
        *(grant("iam:PassRole", role, {"StringEquals": TO_ECS}) for role in DB_ACCESS_ROLES),
        grant("ecs:StopTask", tasks, own_task),
        grant("ssm:StartSession", tasks, {**checked, **own_task}),
        grant("ssm:StartSession", PORT_FORWARD_DOCUMENT, checked),
        grant("ssm:TerminateSession", sessions, own),
        grant("ssm:ResumeSession", sessions, own),
        grant("ssmmessages:OpenDataChannel", sessions),
        grant("ecs:ListTasks", "*", {"ArnEquals": {"ecs:cluster": CLUSTER}}),
        grant("ecs:DescribeTasks", tasks),
        grant("rds:DescribeDBInstances", f"arn:aws:rds:{REGION}:{ACCOUNT}:db:*"),
        grant("ec2:DescribeSubnets", "*"),
        grant("ec2:DescribeSecurityGroups", "*"),
    }
    keys = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/*"

    def through(alias: str, service: str) -> dict:
        return {"ForAnyValue:StringEquals": {"kms:ResourceAliases": alias},
                "StringEquals": {"kms:ViaService": f"{service}.{REGION}.amazonaws.com"}}

    sets = grants(workforce_run())
    assert allowed_grants(sets[PHI_OPERATOR]) == tunnel | {
        grant("s3:ListBucket", PHI_BUCKET),
        grant("s3:GetObject", f"{PHI_BUCKET}/*"),
        grant("s3:GetObjectVersion", f"{PHI_BUCKET}/*"),
        grant("kms:Decrypt", keys, through(STORAGE_ALIAS, "s3")),
        grant("rds-db:connect", f"arn:aws:rds-db:{REGION}:{ACCOUNT}:dbuser:*/{PHI_OPERATOR_USER}"),
    }
    assert allowed_grants(sets[BREAK_GLASS]) == tunnel | {grant("sts:AssumeRole", BREAK_GLASS_ROLE)}


@pytest.mark.parametrize("key", [PHI_OPERATOR, BREAK_GLASS])
def test_the_tunnel_is_port_forwarding_only_never_a_shell(key):
    docs = grants(workforce_run())[key]
    checked = {"ssm:SessionDocumentAccessCheck": "true"}
    assert allowed(docs, "ssm:StartSession", ECS_TASK, OWN_TASK)
    assert allowed(docs, "ssm:StartSession", PORT_FORWARD_DOCUMENT, checked)
    # Without the document access check, Session Manager would open the default shell document.
    unchecked = {**OWN_TASK, "ssm:SessionDocumentAccessCheck": "false"}
    assert not allowed(docs, "ssm:StartSession", ECS_TASK, unchecked)
    for document in (SHELL_DOCUMENT, f"arn:aws:ssm:{REGION}::document/AWS-StartInteractiveCommand",
                     f"arn:aws:ssm:{REGION}::document/AWS-StartSSHSession",
                     f"arn:aws:ssm:{REGION}::document/AWS-StartPortForwardingSession"):
        assert not allowed(docs, "ssm:StartSession", document, checked), document
    instance = f"arn:aws:ec2:{REGION}:{ACCOUNT}:instance/i-0123456789abcdef0"
    assert not allowed(docs, "ssm:StartSession", instance, checked)
    for task in (f"arn:aws:ecs:{REGION}:999999999999:task/hipaa-aws-prod/t",
                 f"arn:aws:ecs:{REGION}:{ACCOUNT}:task/hipaa-aws-staging/t",
                 f"arn:aws:ecs:{REGION}:{ACCOUNT}:task/t"):
        assert not allowed(docs, "ssm:StartSession", task, OWN_TASK), task  # only the stack's cluster
    assert allowed(docs, "ecs:ListTasks", "*", {"ecs:cluster": CLUSTER})
    assert not allowed(docs, "ecs:ListTasks", "*", {"ecs:cluster": CLUSTER.replace("prod", "staging")})
    assert not allowed(docs, "ecs:ListTasks", "*")  # no cluster named: not every cluster's tasks
    assert not allowed(docs, "ecs:ExecuteCommand", ECS_TASK, OWN_TASK)
    assert not allowed(docs, "ssm:SendCommand", ECS_TASK, OWN_TASK)
    # Others' sessions: the session-id tag is the starter's aws:userid.
    session = f"arn:aws:ssm:{REGION}:{ACCOUNT}:session/alice@example.com-0123456789abcdef0"
    alice = "AROAEXAMPLEROLEID1234:alice@example.com"
    mine = {"ssm:resourceTag/aws:ssmmessages:session-id": alice, "aws:userid": alice}
    theirs = {**mine, "aws:userid": "AROAEXAMPLEROLEID1234:bob@example.com"}
    for action in ("ssm:TerminateSession", "ssm:ResumeSession"):
        assert allowed(docs, action, session, mine), action
        assert not allowed(docs, action, session, theirs), action
        assert not allowed(docs, action, session, {"aws:userid": alice}), action  # untagged: no match


@pytest.mark.parametrize("key", [PHI_OPERATOR, BREAK_GLASS])
def test_operators_run_only_the_db_access_task_and_stop_or_tunnel_into_their_own(key):
    """RunTask is authorized on the task definition (`task-definition/<family>:<revision>`) with the
    ecs:cluster and ecs:enable-execute-command keys; a task's tags set at launch need ecs:TagResource
    with ecs:CreateAction (ECS guide, "Grant permission to tag resources on creation"); iam:PassRole
    with iam:PassedToService (IAM, "Granting a user permissions to pass a role to an AWS service")."""
    docs = grants(workforce_run())[key]
    for revision in (1, 42):
        assert allowed(docs, "ecs:RunTask", f"{TASK_DEFINITIONS}/{DB_ACCESS_FAMILY}:{revision}", LAUNCH)
    for definition in (f"{TASK_DEFINITIONS}/hipaa-aws-prod-app:3",
                       f"{TASK_DEFINITIONS}/{DB_ACCESS_FAMILY}-x:1",
                       f"{TASK_DEFINITIONS}/hipaa-aws-staging-db-access:1",
                       f"{TASK_DEFINITIONS}/{DB_ACCESS_FAMILY}:1".replace(ACCOUNT, "999999999999")):
        assert not allowed(docs, "ecs:RunTask", definition, LAUNCH), definition
    db_access = f"{TASK_DEFINITIONS}/{DB_ACCESS_FAMILY}:1"
    for launch in ({**LAUNCH, "ecs:cluster": CLUSTER.replace("prod", "staging")},
                   {"ecs:enable-execute-command": "true"},  # no cluster named
                   {**LAUNCH, "ecs:enable-execute-command": "false"}):  # no agent: no tunnel either
        assert not allowed(docs, "ecs:RunTask", db_access, launch), launch
    assert not allowed(docs, "ecs:StartTask", db_access, LAUNCH)
    assert not allowed(docs, "ecs:RegisterTaskDefinition", "*")
    assert not allowed(docs, "ecs:UpdateService", f"arn:aws:ecs:{REGION}:{ACCOUNT}:service/hipaa-aws-prod/x")

    # Exactly the db-access task's two roles, to ECS tasks only.
    for role in DB_ACCESS_ROLES:
        assert allowed(docs, "iam:PassRole", role, TO_ECS), role
        for service in ("lambda.amazonaws.com", "ec2.amazonaws.com", "ecs.amazonaws.com"):
            assert not allowed(docs, "iam:PassRole", role, {"iam:PassedToService": service}), (role, service)
        assert not allowed(docs, "iam:PassRole", role), role
    for role in (BREAK_GLASS_ROLE, f"{STACK_ROLES}/hipaa-aws-prod-workload",
                 f"{STACK_ROLES}/hipaa-workload-a1b2c3d", f"{STACK_ROLES}/hipaa-aws-prod-db-access-task2",
                 DB_ACCESS_ROLES[0].replace("prod", "staging"),
                 DB_ACCESS_ROLES[0].replace(ACCOUNT, "999999999999")):
        assert not allowed(docs, "iam:PassRole", role, TO_ECS), role

    # The task carries its operator's user id from launch, and only that: never tagged afterwards.
    at_launch = {"ecs:CreateAction": "RunTask", "aws:RequestTag/Operator": ALICE, "aws:userid": ALICE}
    assert allowed(docs, "ecs:TagResource", ECS_TASK, at_launch)
    assert not allowed(docs, "ecs:TagResource", ECS_TASK, {**at_launch, "aws:RequestTag/Operator": BOB})
    assert not allowed(docs, "ecs:TagResource", ECS_TASK, {**at_launch, "ecs:CreateAction": "CreateService"})
    afterwards = {"aws:RequestTag/Operator": ALICE, "aws:userid": ALICE}  # no ecs:CreateAction
    assert not allowed(docs, "ecs:TagResource", ECS_TASK, afterwards)
    # Stopping a task and opening a session into it: one's own task only, never an untagged one (the
    # application's) or another operator's.
    theirs = {**OWN_TASK, "aws:ResourceTag/Operator": BOB}
    untagged = {"aws:userid": ALICE, "ssm:SessionDocumentAccessCheck": "true"}
    staging_task = ECS_TASK.replace("hipaa-aws-prod", "hipaa-aws-staging")
    for action in ("ecs:StopTask", "ssm:StartSession"):
        assert allowed(docs, action, ECS_TASK, OWN_TASK), action
        assert not allowed(docs, action, ECS_TASK, theirs), action
        assert not allowed(docs, action, ECS_TASK, untagged), action
        assert not allowed(docs, action, staging_task, OWN_TASK), action
    # And what run-task's network configuration names (an app subnet, the app security group).
    assert allowed(docs, "ec2:DescribeSubnets", "*") and allowed(docs, "ec2:DescribeSecurityGroups", "*")


def phi_bucket_arns() -> dict[str, str]:
    """Every stack's PHI bucket, derived from the stack files: each stack whose dataClassification is
    phi, its bucket as the program names it (AwsContext.bucket_name) in the account it is pinned to."""
    buckets = {}
    for stack in stack_names():
        config = load_stack_config(stack)
        if config.values["hipaa-aws:dataClassification"] == "phi":
            [account] = config.allowed_account_ids
            ctx = AwsContext(account_id=account, region=config.region, partition="aws",
                             dns_suffix="amazonaws.com")
            buckets[stack] = ctx.bucket_arn(ctx.bucket_name(stack, "phi-documents"))
    return buckets


@pytest.mark.parametrize("stack", ["prod", "staging"])
def test_no_read_only_set_lists_the_object_keys_of_any_stacks_phi_bucket(stack):
    """Object keys can carry PHI. AWS's ViewOnlyAccess allows s3:ListBucket on every bucket (moto's copy
    of the managed policy), so the read-only set of any stack, a PHI-free one included, would list every
    PHI bucket in the account: each set denies listing objects, versions, multipart uploads and their
    parts (all return keys: Service Authorization Reference, Amazon S3) in every stack's PHI bucket."""
    buckets = phi_bucket_arns()
    assert "prod" in buckets and "staging" not in buckets
    docs = grants(workforce_run(stack), stack)[READ_ONLY]
    everything = {"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
    later = [f"arn:aws:s3:::hipaa-aws-{name}-phi-documents-{account}"  # stacks added later, other accounts
             for name in ("dev", "prod-eu") for account in (ACCOUNT, "210987654321")]
    for bucket in [*buckets.values(), *later]:
        assert allowed([view_only_access()], "s3:ListBucket", bucket), bucket  # what the denial is for
        requests = [(action, bucket) for action in
                    ("s3:ListBucket", "s3:ListBucketVersions", "s3:ListBucketMultipartUploads")]
        requests.append(("s3:ListMultipartUploadParts", f"{bucket}/patients/0001.pdf"))
        for action, resource in requests:
            assert not allowed(docs, action, resource), (stack, action, resource)
            assert not allowed([*docs, everything], action, resource), (stack, action, resource)
    # Nor through an access point, whose ARN names no bucket.
    assert not allowed(docs, "s3:ListBucket", f"arn:aws:s3:{REGION}:{ACCOUNT}:accesspoint/phi")
    # Other buckets' object keys stay listable: the denial names PHI buckets, not every bucket.
    assert allowed(docs, "s3:ListBucket", f"arn:aws:s3:::hipaa-aws-{stack}-alb-logs-{ACCOUNT}")


def test_read_only_cannot_read_objects_secrets_keys_logs_or_the_database():
    docs = grants(workforce_run())[READ_ONLY]
    # Each request in the context most favourable to it (this stack's aliases, tags and services).
    this_secret = master_secret_of(THIS_DATABASE)
    data_reads = [
        ("s3:GetObject", f"{PHI_BUCKET}/patients/0001.pdf", {}),
        ("s3:GetObjectVersion", f"{PHI_BUCKET}/x", {}),
        ("s3:ListBucket", PHI_BUCKET, {}), ("secretsmanager:GetSecretValue", MASTER_SECRET, this_secret),
        ("kms:Decrypt", STORAGE_KEY, key_use(STORAGE_ALIAS, "s3")),
        ("kms:Decrypt", SECRETS_KEY, key_use(SECRETS_ALIAS, "secretsmanager")),
        ("rds-db:connect", db_user(PHI_OPERATOR_USER), {}), ("rds-db:connect", db_user("app_prod"), {}),
        ("ssm:StartSession", ECS_TASK, {"ssm:SessionDocumentAccessCheck": "true"}),
        ("ecs:ExecuteCommand", ECS_TASK, {}),
        ("logs:GetLogEvents",
         f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/rds/instance/db/postgresql", {}),
        ("logs:FilterLogEvents", f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:x", {}),
        ("logs:StartQuery", f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:x", {}),
    ]
    for action, resource, context in data_reads:
        assert not allowed(docs, action, resource, context), (action, resource)
        # AWS's ViewOnlyAccess alone grants none of them but listing object keys, which can carry
        # PHI (moto's copy of the managed policy) ...
        assert allowed([view_only_access()], action, resource, context) == (action == "s3:ListBucket"), action
        # ... and the guardrail denies them even if AWS widened it to everything.
        everything = {"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
        assert not allowed([*docs, everything], action, resource, context), (action, resource)
    # It still sees configuration.
    assert allowed(docs, "rds:DescribeDBInstances", THIS_DATABASE)
    assert allowed(docs, "ec2:DescribeVpcs", "*")


def test_read_only_is_view_only_access_never_read_only_access():
    arns = [r.inputs["managedPolicyArn"] for r in of(workforce_run(), MANAGED_POLICY_ATTACHMENT)]
    assert arns == ["arn:aws:iam::aws:policy/job-function/ViewOnlyAccess"]
    # Why not ReadOnlyAccess: it reads S3 objects and secret values (moto's copy of AWS's list).
    data = json.loads(ref.moto_data_module("iam/aws_managed_policies.py").aws_managed_policies_data)
    read_only_access = data["ReadOnlyAccess"]["Document"]
    assert allowed([read_only_access], "s3:GetObject", f"{PHI_BUCKET}/x")


def test_every_aws_managed_policy_arn_exists_and_inputs_fit_aws_limits():
    resources = as_checked(r for r in workforce_run().resources if r.custom)
    assert check_managed_policy_arns(resources) == []
    assert check_enum_inputs(resources) == []
    assert check_prose_inputs(resources) == []
    assert check_botocore_constraints(resources) == []
    wrong = as_checked(r for r in workforce_run().resources if r.type == MANAGED_POLICY_ATTACHMENT)
    wrong[0].inputs = {**wrong[0].inputs, "managedPolicyArn": "arn:aws:iam::aws:policy/ViewOnlyAccess"}
    assert check_managed_policy_arns(wrong), "the check sees a wrong path"


WORKFORCE_POLICIES = [f"hipaa-aws-prod-workforce-{key}" for key in PERMISSION_SETS]


def test_every_policy_lives_at_the_stack_path_and_is_known_at_preview():
    preview, update = workforce_run(preview=True), workforce_run()
    policies = {r.inputs["name"]: r for r in of(preview, IAM_POLICY)}
    assert sorted(policies) == sorted(WORKFORCE_POLICIES)
    assert {p.inputs["path"] for p in policies.values()} == {"/hipaa-aws/prod/"}
    # All three documents are plain strings at preview (the pack judges them before creation), and
    # the very documents the update creates.
    created = {r.inputs["name"]: r.inputs["policy"] for r in of(update, IAM_POLICY)}
    for name, policy in policies.items():
        assert isinstance(policy.inputs["policy"], str), name
        assert json.loads(policy.inputs["policy"]) == json.loads(created[name]), name
    # Attachments name the policies by known name and path, so the reference is judged at preview too.
    references = [r.inputs["customerManagedPolicyReference"] for r in of(preview, CUSTOMER_POLICY_ATTACHMENT)]
    assert sorted(r["name"] for r in references) == sorted(policies)
    assert all(isinstance(r["name"], str) and isinstance(r["path"], str) for r in references)


def test_every_policy_is_known_at_preview_whatever_the_environment_leaves_unknown():
    """The environment's outputs the component takes (the alarm's log group and topic) are unknown at
    preview; no policy document depends on them."""
    def program() -> None:
        group = aws.cloudwatch.LogGroup("late")  # its name and ARN are unknown at preview
        topic = aws.sns.Topic("late")
        WorkforceAccess("w", WorkforceAccessArgs(
            stack="prod", aws=context(), settings=settings(), phi_bucket_arn=PHI_BUCKET,
            alarm_log_group_name=group.name, alert_topic_arn=topic.arn))

    run = run_program(program, stack_config("prod"), preview=True)
    documents = {r.inputs["name"]: r.inputs["policy"] for r in of(run, IAM_POLICY)}
    assert sorted(documents) == sorted(WORKFORCE_POLICIES)
    fixture = {r.inputs["name"]: json.loads(r.inputs["policy"])
               for r in of(workforce_run(preview=True), IAM_POLICY)}
    for name, document in documents.items():
        assert isinstance(document, str), (name, type(document).__name__)
        assert json.loads(document) == fixture[name], name
    [metric_filter] = of(run, METRIC_FILTER)  # the alarm is built on the unknown log group
    assert type(metric_filter.inputs["logGroupName"]).__name__ == "Unknown"
    assert isinstance(metric_filter.inputs["pattern"], str)


# ---------------------------------------------------------------------------------------------
# Assignments
# ---------------------------------------------------------------------------------------------


def test_configured_groups_are_assigned_in_this_account_after_their_policies_exist():
    run = workforce_run()
    sets = {r.outputs["arn"]: r.inputs["name"] for r in of(run, PERMISSION_SET)}
    assignments = {sets[a.inputs["permissionSetArn"]]: a for a in of(run, ASSIGNMENT)}
    assert set(assignments) == {"hipaa-prod-read-only", "hipaa-prod-break-glass"}  # no phiOperator group
    for set_name, assignment in assignments.items():
        assert assignment.inputs["targetId"] == ACCOUNT and assignment.inputs["targetType"] == "AWS_ACCOUNT"
        assert assignment.inputs["principalType"] == "GROUP"
        key = set_name.removeprefix("hipaa-prod-")
        assert assignment.inputs["principalId"] == GROUPS["readOnly" if key == READ_ONLY else "breakGlass"]
        policy = run.named(f"hipaa-workforce-{key}", IAM_POLICY)
        attachment = run.named(f"hipaa-workforce-{key}", CUSTOMER_POLICY_ATTACHMENT)
        assert {policy.urn, attachment.urn} <= set(assignment.dependencies), set_name


# ---------------------------------------------------------------------------------------------
# The break-glass alarm
# ---------------------------------------------------------------------------------------------


def matches(pattern: str, event: dict) -> bool:
    """CloudWatch Logs JSON filter semantics for `{ (sel = "v") && ... }`: `*` matches any text at
    the start or end of a value only (CloudWatch Logs guide, "Filter and pattern syntax")."""
    clauses = re.findall(r'\(\$\.([\w.]+) = "([^"]*)"\)', pattern)
    assert pattern.count("&&") == len(clauses) - 1 and "||" not in pattern, pattern
    for selector, wanted in clauses:
        assert "*" not in wanted.strip("*"), f"a wildcard inside {wanted!r} matches only a literal *"
        value: Any = event
        for part in selector.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        if not isinstance(value, str):
            return False
        core = wanted.strip("*")
        if wanted.startswith("*") and wanted.endswith("*") and len(wanted) > 1:
            ok = core in value
        elif wanted.startswith("*"):
            ok = value.endswith(core)
        elif wanted.endswith("*"):
            ok = value.startswith(core)
        else:
            ok = value == wanted
        if not ok:
            return False
    return True


def sign_in(role: str, event_name: str = "AssumeRoleWithSAML", account: str = ACCOUNT) -> dict:
    """The event CloudTrail records in the member account when someone opens a permission set's
    session (shape of AWS's AssumeRoleWithSAML example; Identity Center's role path)."""
    return {"eventSource": "sts.amazonaws.com", "eventName": event_name,
            "userIdentity": {"type": "SAMLUser", "userName": "alice@example.com"},
            "requestParameters": {
                "roleArn": f"arn:aws:iam::{account}:role/{role}",
                "principalArn": f"arn:aws:iam::{account}:saml-provider/AWSSSO_0_DO_NOT_DELETE"}}


def test_every_break_glass_sign_in_alarms_the_alert_topic():
    run = workforce_run()
    [metric_filter], [alarm] = of(run, METRIC_FILTER), of(run, ALARM)
    pattern = metric_filter.inputs["pattern"]
    assert metric_filter.inputs["logGroupName"] == TRAIL_LOG_GROUP
    sso = "aws-reserved/sso.amazonaws.com"
    role = "AWSReservedSSO_hipaa-prod-break-glass_7243976e43c75fc5"
    assert matches(pattern, sign_in(f"{sso}/{role}"))
    assert matches(pattern, sign_in(f"{sso}/eu-west-1/{role}"))  # instances outside us-east-1
    for other in (f"{sso}/AWSReservedSSO_hipaa-prod-read-only_7243976e43c75fc5",
                  f"{sso}/AWSReservedSSO_hipaa-prod-phi-operator_7243976e43c75fc5",
                  f"{sso}/AWSReservedSSO_hipaa-staging-break-glass_7243976e43c75fc5",
                  "hipaa-aws/prod/AWSReservedSSO_hipaa-prod-break-glass_x"):
        assert not matches(pattern, sign_in(other)), other
    assert not matches(pattern, sign_in(f"{sso}/{role}", event_name="AssumeRole"))
    assert not matches(pattern, sign_in(f"{sso}/{role}", account="999999999999"))

    transformation = metric_filter.inputs["metricTransformation"]
    assert alarm.inputs["metricName"] == transformation["name"]
    assert alarm.inputs["namespace"] == transformation["namespace"]
    assert transformation["value"] == "1"
    assert alarm.inputs["alarmActions"] == [TOPIC] and alarm.inputs["insufficientDataActions"] == [TOPIC]
    assert alarm.inputs["statistic"] == "Sum" and alarm.inputs["threshold"] == 1
    assert alarm.inputs["comparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert alarm.inputs["treatMissingData"] == "notBreaching"
    assert alarm.inputs["name"] == metric_filter.inputs["name"] == "hipaa-aws-prod-workforce-break-glass-used"


def test_a_stack_without_the_account_trail_builds_no_alarm():
    run = workforce_run("staging")  # accountBaseline: external
    assert of(run, METRIC_FILTER) == [] and of(run, ALARM) == []
    assert len(of(run, PERMISSION_SET)) == 3


# ---------------------------------------------------------------------------------------------
# Validation (no mocks) and the policy pack
# ---------------------------------------------------------------------------------------------


def context(partition: str = "aws") -> AwsContext:
    return AwsContext(account_id=ACCOUNT, region=REGION, partition=partition, dns_suffix="amazonaws.com")


def settings() -> IdentityCenterSettings:
    return IdentityCenterSettings.model_validate({"instanceArn": INSTANCE})


def args(stack: str = "prod", partition: str = "aws") -> WorkforceAccessArgs:
    return WorkforceAccessArgs(
        stack=stack, aws=context(partition), settings=settings(), phi_bucket_arn=PHI_BUCKET,
        alarm_log_group_name=None, alert_topic_arn=TOPIC)


def test_validation_names_the_sets():
    assert validate("w", args()) == {READ_ONLY: "hipaa-prod-read-only",
                                     PHI_OPERATOR: "hipaa-prod-phi-operator",
                                     BREAK_GLASS: "hipaa-prod-break-glass"}
    assert validate("w", args("a" * 13))[PHI_OPERATOR] == f"hipaa-{'a' * 13}-phi-operator"  # 32 characters


def test_a_stack_name_too_long_for_identity_center_is_refused():
    with pytest.raises(pulumi.RunError) as error:
        validate("w", args("a" * 14))
    message = str(error.value)
    assert "stack aaaaaaaaaaaaaa" in message and "allows 32" in message
    assert "'hipaa-aaaaaaaaaaaaaa-phi-operator' is 33 characters" in message
    assert "at most 13 characters" in message


def test_an_instance_of_another_partition_is_refused():
    with pytest.raises(pulumi.RunError, match="partition aws, the stack deploys to aws-us-gov"):
        validate("w", args(partition="aws-us-gov"))


def pack_config(stack: str) -> dict:
    return json.loads((POLICY_DIR / "config" / f"{stack}.json").read_text())


def single_account_pack_config(stack: str) -> dict:
    """The stack's pack config as a single-account team has it (workforce_config): no PHI resource
    pattern names the one account, which holds staging's resources too."""
    config = pack_config(stack)
    for settings in config.values():
        if "phiResourcePatterns" in settings:
            patterns = settings["phiResourcePatterns"]
            settings["phiResourcePatterns"] = [p for p in patterns if f":{ACCOUNT}:" not in p]
    return config


@pytest.mark.parametrize("stack,preview", [(s, p) for s in ("prod", "staging") for p in (True, False)])
def test_the_policy_pack_finds_no_mandatory_violation(pack, stack, preview):
    pack.configure(single_account_pack_config(stack))
    try:
        # Alone: no resource of the component breaks a rule ...
        alone = judge(workforce_run(stack, preview), pack, workforce_config(stack))
        found = [(d.policy, d.urn, d.violation) for v in alone.by_resource.values() for d in v.violations]
        assert found == []
        judged = {r.type for r in alone.resources}
        assert {IAM_POLICY, PERMISSION_SET, CUSTOMER_POLICY_ATTACHMENT} <= judged
        if stack == "prod":
            assert {METRIC_FILTER, ALARM} <= judged
        # Every document is known, at preview too: the pack judged them all, it skipped none.
        assert alone.not_judged == []
        # ... and in the stack's own program, which wires the component with the rest of the stack
        # (whose trail, detectors and backups the stack rules require of a PHI stack), nothing
        # mandatory fails and nothing of the component goes unjudged.
        pack.configure(pack_config(stack))
        environment = cached_run(stack, preview)
        names = {r.inputs.get("name") for r in of(environment, IAM_POLICY)}
        assert {f"hipaa-aws-{stack}-workforce-{key}" for key in PERMISSION_SETS} <= names
        assert any("hipaa:components:WorkforceAccess$" in r.urn for r in environment.resources)
        together = judge(environment, pack, stack_config(stack))
        assert [(d.policy, d.urn, d.violation) for d in together.mandatory] == []
        assert [d.urn for d in together.not_judged if "hipaa:components:WorkforceAccess$" in d.urn] == []
    finally:
        pack.configure({})
