"""IAM Identity Center workforce access (issue 11), read as an auditor reads it: what each permission
set may do in this account, for how long, and who hears about break-glass use.

The component runs alone under the mock runtime (tests/fixtures/programs/workforce_access.py) until
the environment wires it. Each permission set's effective grants are evaluated with a small IAM
evaluator over the policies actually registered, AWS's ViewOnlyAccess included (moto's copy of AWS's
managed-policy list)."""

from __future__ import annotations

import functools
import json
import re
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any, Optional, cast

import botocore.session
import pulumi
import pulumi_aws as aws
import pytest

from components.app_settings import IdentityCenterSettings
from components.aws_context import AwsContext
from components.workforce_access import (
    BREAK_GLASS, PERMISSION_SETS, PHI_OPERATOR, READ_ONLY, WorkforceAccess, WorkforceAccessArgs, validate,
)
from preflight.judge import judge
from preflight.policy_pack_client import POLICY_DIR
from preflight.program_runner import ProgramRun, RecordedResource, run_program, script_program
from tests import aws_reference as ref
from tests.conftest import cached_run, stack_config
from tests.test_aws_api_models import (
    as_checked, check_botocore_constraints, check_enum_inputs, check_managed_policy_arns, check_prose_inputs,
)

PROGRAM = Path(__file__).parent / "fixtures" / "programs" / "workforce_access.py"
ACCOUNT, REGION = "123456789012", "us-east-1"
INSTANCE = "arn:aws:sso:::instance/ssoins-1234567890abcdef"
GROUPS = {"readOnly": "a1b2c3d4-1111-2222-3333-444455556666",
          "breakGlass": "9a8b7c6d5e-a1b2c3d4-1111-2222-3333-777755556666"}
IDENTITY_CENTER = {"instanceArn": INSTANCE, "groups": GROUPS}

# What the fixture passes in (the values the environment's outputs resolve to).
PHI_BUCKET = f"arn:aws:s3:::hipaa-aws-prod-phi-documents-{ACCOUNT}"
STORAGE_KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/11111111-1111-1111-1111-111111111111"
SECRETS_KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/22222222-2222-2222-2222-222222222222"
MASTER_SECRET = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:rds!db-0123abcd-AbCdEf"
DB_RESOURCE_ID = "db-ABCDEFGHIJKLMNOPQRSTUVWXYZ"
TOPIC = f"arn:aws:sns:{REGION}:{ACCOUNT}:hipaa-aws-prod-security-alerts"
TRAIL_LOG_GROUP = "/hipaa-aws/prod/cloudtrail"
VIA_S3 = {"kms:ViaService": f"s3.{REGION}.amazonaws.com"}
VIA_SECRETS_MANAGER = {"kms:ViaService": f"secretsmanager.{REGION}.amazonaws.com"}
PORT_FORWARD_DOCUMENT = f"arn:aws:ssm:{REGION}::document/AWS-StartPortForwardingSessionToRemoteHost"
SHELL_DOCUMENT = f"arn:aws:ssm:{REGION}:{ACCOUNT}:document/SSM-SessionManagerRunShell"
CLUSTER = f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/hipaa-aws-prod"
ECS_TASK = f"arn:aws:ecs:{REGION}:{ACCOUNT}:task/hipaa-aws-prod/0123456789abcdef0123456789abcdef"

T = "aws:ssoadmin/"
PERMISSION_SET = f"{T}permissionSet:PermissionSet"
CUSTOMER_POLICY_ATTACHMENT = f"{T}customerManagedPolicyAttachment:CustomerManagedPolicyAttachment"
MANAGED_POLICY_ATTACHMENT = f"{T}managedPolicyAttachment:ManagedPolicyAttachment"
ASSIGNMENT = f"{T}accountAssignment:AccountAssignment"
IAM_POLICY = "aws:iam/policy:Policy"
METRIC_FILTER = "aws:cloudwatch/logMetricFilter:LogMetricFilter"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"


@functools.cache
def workforce_run(stack: str = "prod", preview: bool = False) -> ProgramRun:
    config = stack_config(stack, {"identityCenter": IDENTITY_CENTER})
    return run_program(script_program(PROGRAM), config, preview)


def of(run: ProgramRun, type_token: str) -> list[RecordedResource]:
    return run.of_type(type_token)


# ---------------------------------------------------------------------------------------------
# A small IAM evaluator: explicit Deny wins, then any Allow; conditions evaluated on a request
# context (a missing key fails every operator except the ...IfExists ones).
# ---------------------------------------------------------------------------------------------


def _listed(value: Any) -> list:
    return value if isinstance(value, list) else [value]


def _condition_holds(condition: dict, context: dict) -> bool:
    for operator, pairs in condition.items():
        for key, wanted in pairs.items():
            present = key in context
            if operator.endswith("IfExists") and not present:
                continue
            if not present:
                return False
            base = operator.removesuffix("IfExists")
            values = [str(v).lower() for v in _listed(wanted)] if base == "Bool" else _listed(wanted)
            actual = str(context[key]).lower() if base == "Bool" else context[key]
            if base in ("StringEquals", "ArnEquals", "Bool"):
                ok = actual in values
            elif base in ("StringLike", "ArnLike"):
                ok = any(fnmatchcase(actual, v) for v in values)
            else:
                raise NotImplementedError(operator)
            if not ok:
                return False
    return True


def _applies(statement: dict, action: str, resource: str, context: dict) -> bool:
    actions = _listed(statement.get("Action", []))
    if not any(fnmatchcase(action.lower(), a.lower()) for a in actions):
        return False
    if not any(fnmatchcase(resource, r) for r in _listed(statement.get("Resource", []))):
        return False
    return _condition_holds(statement.get("Condition", {}), context)


def allowed(documents: list[dict], action: str, resource: str, context: Optional[dict] = None) -> bool:
    statements = [s for d in documents for s in _listed(d["Statement"])]
    context = context or {}
    if any(s["Effect"] == "Deny" and _applies(s, action, resource, context) for s in statements):
        return False
    return any(s["Effect"] == "Allow" and _applies(s, action, resource, context) for s in statements)


@functools.cache
def view_only_access() -> dict:
    data = json.loads(ref.moto_data_module("iam/aws_managed_policies.py").aws_managed_policies_data)
    return data["ViewOnlyAccess"]["Document"]


def grants(run: ProgramRun) -> dict[str, list[dict]]:
    """Each permission set's policy documents, followed from the set through its attachments to the
    customer-managed policy of that name and path (and to AWS managed policies by ARN)."""
    sets = {r.inputs["name"]: r for r in of(run, PERMISSION_SET)}
    by_reference = {(p.inputs["name"], p.inputs["path"]): json.loads(p.inputs["policy"])
                    for p in of(run, IAM_POLICY)}
    arns = {r.outputs["arn"]: name for name, r in sets.items()}
    out: dict[str, list[dict]] = {name: [] for name in sets}
    for attachment in of(run, CUSTOMER_POLICY_ATTACHMENT):
        reference = attachment.inputs["customerManagedPolicyReference"]
        out[arns[attachment.inputs["permissionSetArn"]]].append(
            by_reference[(reference["name"], reference.get("path", "/"))])
    for attachment in of(run, MANAGED_POLICY_ATTACHMENT):
        assert attachment.inputs["managedPolicyArn"] == "arn:aws:iam::aws:policy/job-function/ViewOnlyAccess"
        out[arns[attachment.inputs["permissionSetArn"]]].append(view_only_access())
    return {key: out[f"hipaa-prod-{key}"] for key in PERMISSION_SETS}


def allowed_pairs(documents: list[dict]) -> set[tuple[str, str]]:
    return {(action, resource) for d in documents for s in d["Statement"] if s["Effect"] == "Allow"
            for action in _listed(s["Action"]) for resource in _listed(s["Resource"])}


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


def test_only_break_glass_can_read_the_database_master_secret():
    sets = grants(workforce_run())
    can_read = {key for key, docs in sets.items()
                if allowed(docs, "secretsmanager:GetSecretValue", MASTER_SECRET)}
    assert can_read == {BREAK_GLASS}
    # Secrets Manager decrypts with the caller's permission on the secrets key, and only that way.
    assert allowed(sets[BREAK_GLASS], "kms:Decrypt", SECRETS_KEY, VIA_SECRETS_MANAGER)
    assert not allowed(sets[BREAK_GLASS], "kms:Decrypt", SECRETS_KEY)
    for key in (READ_ONLY, PHI_OPERATOR):
        assert not allowed(sets[key], "kms:Decrypt", SECRETS_KEY, VIA_SECRETS_MANAGER), key


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
    # The storage key, through S3 only.
    assert allowed(docs, "kms:Decrypt", STORAGE_KEY, VIA_S3)
    assert not allowed(docs, "kms:Decrypt", STORAGE_KEY)
    assert not allowed(docs, "kms:Decrypt", SECRETS_KEY, VIA_S3)
    db_user = f"arn:aws:rds-db:{REGION}:{ACCOUNT}:dbuser:{DB_RESOURCE_ID}/"
    assert allowed(docs, "rds-db:connect", db_user + "phi_operator")
    for user in ("app_user", "postgres", "rds_superuser", "*"):
        assert not allowed(docs, "rds-db:connect", db_user + user), user
    other_database = f"arn:aws:rds-db:{REGION}:{ACCOUNT}:dbuser:db-OTHER/phi_operator"
    assert not allowed(docs, "rds-db:connect", other_database)
    assert not allowed(docs, "secretsmanager:GetSecretValue", MASTER_SECRET)


def test_phi_operator_may_do_nothing_else():
    """The complete list of grants, so any new one is a reviewed change."""
    tunnel = {
        ("ssm:StartSession", f"arn:aws:ecs:{REGION}:{ACCOUNT}:task/hipaa-aws-prod/*"),
        ("ssm:StartSession", PORT_FORWARD_DOCUMENT),
        ("ssm:TerminateSession", f"arn:aws:ssm:{REGION}:{ACCOUNT}:session/*"),
        ("ssm:ResumeSession", f"arn:aws:ssm:{REGION}:{ACCOUNT}:session/*"),
        ("ssmmessages:OpenDataChannel", f"arn:aws:ssm:{REGION}:{ACCOUNT}:session/*"),
        ("ecs:ListTasks", "*"),
        ("ecs:DescribeTasks", f"arn:aws:ecs:{REGION}:{ACCOUNT}:task/hipaa-aws-prod/*"),
        ("rds:DescribeDBInstances", f"arn:aws:rds:{REGION}:{ACCOUNT}:db:*"),
    }
    sets = grants(workforce_run())
    assert allowed_pairs(sets[PHI_OPERATOR]) == tunnel | {
        ("s3:ListBucket", PHI_BUCKET),
        ("s3:GetObject", f"{PHI_BUCKET}/*"),
        ("s3:GetObjectVersion", f"{PHI_BUCKET}/*"),
        ("kms:Decrypt", STORAGE_KEY),
        ("rds-db:connect", f"arn:aws:rds-db:{REGION}:{ACCOUNT}:dbuser:{DB_RESOURCE_ID}/phi_operator"),
    }
    assert allowed_pairs(sets[BREAK_GLASS]) == tunnel | {
        ("secretsmanager:GetSecretValue", MASTER_SECRET),
        ("secretsmanager:DescribeSecret", MASTER_SECRET),
        ("kms:Decrypt", SECRETS_KEY),
    }


@pytest.mark.parametrize("key", [PHI_OPERATOR, BREAK_GLASS])
def test_the_tunnel_is_port_forwarding_only_never_a_shell(key):
    docs = grants(workforce_run())[key]
    checked = {"ssm:SessionDocumentAccessCheck": "true"}
    assert allowed(docs, "ssm:StartSession", ECS_TASK, checked)
    assert allowed(docs, "ssm:StartSession", PORT_FORWARD_DOCUMENT, checked)
    # Without the document access check, Session Manager would open the default shell document.
    assert not allowed(docs, "ssm:StartSession", ECS_TASK, {"ssm:SessionDocumentAccessCheck": "false"})
    for document in (SHELL_DOCUMENT, f"arn:aws:ssm:{REGION}::document/AWS-StartInteractiveCommand",
                     f"arn:aws:ssm:{REGION}::document/AWS-StartSSHSession"):
        assert not allowed(docs, "ssm:StartSession", document, checked), document
    instance = f"arn:aws:ec2:{REGION}:{ACCOUNT}:instance/i-0123456789abcdef0"
    assert not allowed(docs, "ssm:StartSession", instance, checked)
    for task in (f"arn:aws:ecs:{REGION}:999999999999:task/hipaa-aws-prod/t",
                 f"arn:aws:ecs:{REGION}:{ACCOUNT}:task/hipaa-aws-staging/t",
                 f"arn:aws:ecs:{REGION}:{ACCOUNT}:task/t"):
        assert not allowed(docs, "ssm:StartSession", task, checked), task  # only the stack's cluster
    assert allowed(docs, "ecs:ListTasks", "*", {"ecs:cluster": CLUSTER})
    assert not allowed(docs, "ecs:ListTasks", "*", {"ecs:cluster": CLUSTER.replace("prod", "staging")})
    assert not allowed(docs, "ecs:ExecuteCommand", ECS_TASK)
    assert not allowed(docs, "ssm:SendCommand", ECS_TASK)
    # Others' sessions: the session-id tag is the starter's aws:userid.
    session = f"arn:aws:ssm:{REGION}:{ACCOUNT}:session/alice@example.com-0123456789abcdef0"
    own = next(s for d in docs for s in d["Statement"] if s.get("Sid") == "OwnSessionsOnly")
    condition = own["Condition"]
    assert condition == {"StringLike": {"ssm:resourceTag/aws:ssmmessages:session-id": "${aws:userid}"}}
    assert not allowed(docs, "ssm:TerminateSession", session)  # no tag in the context: no match


def test_read_only_cannot_read_objects_secrets_keys_logs_or_the_database():
    docs = grants(workforce_run())[READ_ONLY]
    data_reads = [
        ("s3:GetObject", f"{PHI_BUCKET}/patients/0001.pdf"), ("s3:GetObjectVersion", f"{PHI_BUCKET}/x"),
        ("s3:ListBucket", PHI_BUCKET), ("secretsmanager:GetSecretValue", MASTER_SECRET),
        ("kms:Decrypt", STORAGE_KEY), ("kms:Decrypt", SECRETS_KEY),
        ("rds-db:connect", f"arn:aws:rds-db:{REGION}:{ACCOUNT}:dbuser:{DB_RESOURCE_ID}/phi_operator"),
        ("ssm:StartSession", ECS_TASK), ("ecs:ExecuteCommand", ECS_TASK),
        ("logs:GetLogEvents", f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/rds/instance/db/postgresql"),
        ("logs:FilterLogEvents", f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:x"),
        ("logs:StartQuery", f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:x"),
    ]
    for action, resource in data_reads:
        assert not allowed(docs, action, resource, VIA_S3), (action, resource)
        # AWS's ViewOnlyAccess alone grants none of them but listing object keys, which can carry
        # PHI (moto's copy of the managed policy) ...
        assert allowed([view_only_access()], action, resource, VIA_S3) == (action == "s3:ListBucket"), action
        # ... and the guardrail denies them even if AWS widened it to everything.
        everything = {"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
        assert not allowed([*docs, everything], action, resource, VIA_S3), (action, resource)
    # It still sees configuration.
    assert allowed(docs, "rds:DescribeDBInstances", f"arn:aws:rds:{REGION}:{ACCOUNT}:db:hipaa-aws-prod")
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


def test_policies_live_at_the_stack_path_and_are_known_at_preview_where_their_inputs_are():
    preview = workforce_run(preview=True)
    policies = {r.inputs["name"]: r for r in of(preview, IAM_POLICY)}
    assert {p.inputs["path"] for p in policies.values()} == {"/hipaa-aws/prod/"}
    # The read-only guardrail is built from strings known at preview; the others wait for key,
    # database and secret ARNs, which the fixture passes as known strings (the environment will not).
    assert isinstance(policies["hipaa-aws-prod-workforce-read-only"].inputs["policy"], str)
    # Attachments name the policies by known name and path, so the reference is judged at preview too.
    references = [r.inputs["customerManagedPolicyReference"] for r in of(preview, CUSTOMER_POLICY_ATTACHMENT)]
    assert sorted(r["name"] for r in references) == sorted(policies)


def test_unknown_inputs_stay_unknown_at_preview():
    def program() -> None:
        key = aws.kms.Key("late")  # its ARN is unknown at preview
        WorkforceAccess("w", WorkforceAccessArgs(
            stack="prod", aws=context(), settings=settings(), phi_bucket_arn=PHI_BUCKET,
            storage_key_arn=key.arn, database_resource_id=DB_RESOURCE_ID, database_secret_arn=key.arn,
            secrets_key_arn=key.arn, alarm_log_group_name=None, alert_topic_arn=TOPIC))

    run = run_program(program, stack_config("prod"), preview=True)
    documents = {r.inputs["name"]: r.inputs["policy"] for r in of(run, IAM_POLICY)}
    assert isinstance(documents["hipaa-aws-prod-workforce-read-only"], str)
    assert type(documents["hipaa-aws-prod-workforce-phi-operator"]).__name__ == "Unknown"
    assert type(documents["hipaa-aws-prod-workforce-break-glass"]).__name__ == "Unknown"
    assert of(run, METRIC_FILTER) == []  # no trail of this stack's: no alarm


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
        storage_key_arn=STORAGE_KEY, database_resource_id=DB_RESOURCE_ID, database_secret_arn=MASTER_SECRET,
        secrets_key_arn=SECRETS_KEY, alarm_log_group_name=None, alert_topic_arn=TOPIC)


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


def with_environment(stack: str, preview: bool) -> ProgramRun:
    """The stack's real program plus this component, as the environment will wire it."""
    mine = workforce_run(stack, preview)
    return ProgramRun(stack=stack, resources=cached_run(stack, preview).resources + mine.resources,
                      stack_outputs={}, preview=preview)


@pytest.mark.parametrize("stack,preview", [(s, p) for s in ("prod", "staging") for p in (True, False)])
def test_the_policy_pack_finds_no_mandatory_violation(pack, stack, preview):
    pack.configure(json.loads((POLICY_DIR / "config" / f"{stack}.json").read_text()))
    try:
        # Alone: no resource of the component breaks a rule ...
        alone = judge(workforce_run(stack, preview), pack, stack_config(stack))
        found = [(d.policy, d.urn, d.violation) for v in alone.by_resource.values() for d in v.violations]
        assert found == []
        judged = {r.type for r in alone.resources}
        assert {IAM_POLICY, PERMISSION_SET, CUSTOMER_POLICY_ATTACHMENT} <= judged
        if stack == "prod":
            assert {METRIC_FILTER, ALARM} <= judged
        if not preview:  # every document is known: the pack judged them all, it skipped none
            assert alone.not_judged == []
        # ... and with the rest of the stack (whose trail, detectors and backups the stack rules
        # require of a PHI stack), nothing mandatory fails.
        together = judge(with_environment(stack, preview), pack, stack_config(stack))
        assert [(d.policy, d.urn, d.violation) for d in together.mandatory] == []
    finally:
        pack.configure({})
