"""Containment runbooks: the project's Fargate document is a valid Automation document whose every API call
exists with the parameters it passes, whose dry run changes nothing and whose reversal keeps the session
revocation; the roles for it and for AWS's own containment runbooks allow what they call, on this stack only.

Sources:
- tests/data/ssm-automation-document.schema.json: AWS's JSON schema for Automation documents
  (schemaVersion 0.3), vendored unchanged from the npm package `aws-ssm-document-language-service` 1.0.0
  (publisher aws, Apache-2.0, github.com/aws/amazon-ssm-document-language-service), `dist/schema.json`.
  Its `aws:*` action enum is the list of Automation actions (AWS Systems Manager user guide, "Systems
  Manager Automation actions reference").
- botocore's service models: every `aws:executeAwsApi` Service/Api and its parameters (the action calls
  the AWS SDK with exactly these names: user guide, "aws:executeAwsApi").
- AWS Systems Manager Automation runbook reference, "AWSSupport-ContainIAMPrincipal" and
  "AWSSupport-ContainS3Resource", "Required IAM permissions" (copied below, 2026-12-06).
- IAM user guide, "Revoking IAM role temporary security credentials": Deny `*` when
  `aws:TokenIssueTime` is before the revocation time.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

import botocore.session
import jsonschema
import pytest

from components.environment.containment.containment import (
    AWS_RUNBOOKS, fargate_document_name, load_fargate_document, render_fargate_document,
)
from tests.conftest import STACKS, account_of, cached_run

SCHEMA = json.loads((Path(__file__).parent / "data" / "ssm-automation-document.schema.json").read_text())
AUTOMATION_ACTIONS = set(SCHEMA["properties"]["mainSteps"]["items"]["properties"]["action"]["enum"])
IAM_PREFIX = {"ecs": "ecs", "iam": "iam", "application-autoscaling": "application-autoscaling"}
READ_ONLY = re.compile(r"^(Describe|List|Get)")
REFERENCE = re.compile(r"\{\{\s*([A-Za-z0-9_.:]+)\s*\}\}")

# "Required IAM permissions" of each AWS runbook, as its page lists them (the example policy's spelling).
AWS_RUNBOOK_PERMISSIONS = {
    "AWSSupport-ContainIAMPrincipal": {
        "s3:GetBucketLocation", "s3:ListBucket", "s3:GetBucketPublicAccessBlock",
        "s3:GetAccountPublicAccessBlock",
        "s3:GetBucketPolicyStatus", "s3:GetBucketAcl", "s3:GetObject", "s3:CreateBucket", "s3:PutObject",
        "iam:GetUser", "iam:GetUserPolicy", "iam:GetRole", "iam:ListUserPolicies",
        "iam:ListAttachedUserPolicies", "iam:ListAccessKeys", "iam:ListMFADevices",
        "iam:ListVirtualMFADevices", "iam:GetLoginProfile", "iam:GetPolicy", "iam:GetRolePolicy",
        "iam:ListPolicies", "iam:ListAttachedRolePolicies", "iam:ListRolePolicies", "iam:UpdateAccessKey",
        "iam:CreateAccessKey", "iam:DeleteLoginProfile", "iam:DeleteAccessKey", "iam:PutUserPolicy",
        "iam:DeleteUserPolicy", "iam:DeactivateMFADevice", "iam:AttachRolePolicy", "iam:AttachUserPolicy",
        "iam:DeleteRolePolicy", "iam:TagMFADevice", "iam:PutRolePolicy", "iam:TagPolicy", "iam:TagRole",
        "iam:TagUser", "iam:UntagUser", "iam:UntagRole",
        # The backup bucket is encrypted with the stack's storage key (SSE-KMS), so writing and reading
        # the backup needs the key (S3 user guide, "Using server-side encryption with AWS KMS keys").
        "kms:GenerateDataKey", "kms:Decrypt",
    },
    "AWSSupport-ContainS3Resource": {
        "s3:CreateBucket", "s3:DeleteBucketPolicy", "s3:DeleteObjectTagging",
        "s3:GetAccountPublicAccessBlock",
        "s3:GetBucketAcl", "s3:GetBucketLocation", "s3:GetBucketOwnershipControls", "s3:GetBucketPolicy",
        "s3:GetBucketPolicyStatus", "s3:GetBucketTagging", "s3:GetEncryptionConfiguration", "s3:GetObject",
        "s3:GetObjectAcl", "s3:GetObjectTagging", "s3:GetReplicationConfiguration", "s3:ListBucket",
        "s3:PutAccountPublicAccessBlock", "s3:PutBucketAcl", "s3:PutBucketOwnershipControls",
        "s3:PutBucketPolicy", "s3:PutBucketPublicAccessBlock", "s3:PutBucketTagging",
        "s3:PutBucketVersioning",
        "s3:PutObject", "s3:PutObjectAcl", "ssm:DescribeAutomationExecutions",
        # Backup bucket checks shared with ContainIAMPrincipal, and its key.
        "s3:GetBucketPublicAccessBlock", "kms:GenerateDataKey", "kms:Decrypt",
    },
}


def steps(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {step["name"]: step for step in document["mainSteps"]}


def api_calls(document: dict[str, Any]) -> list[tuple[str, str, str, dict[str, Any]]]:
    """(step, Service, Api, parameters) of every aws:executeAwsApi step."""
    return [(step["name"], step["inputs"]["Service"], step["inputs"]["Api"],
             {k: v for k, v in step["inputs"].items() if k not in ("Service", "Api")})
            for step in document["mainSteps"] if step["action"] == "aws:executeAwsApi"]


def path(document: dict[str, Any], **parameters: Any) -> list[str]:
    """The steps an execution runs with these parameter values (every step succeeding)."""
    by_name, order = steps(document), [s["name"] for s in document["mainSteps"]]
    ran, current = [], order[0]
    while current:
        ran.append(current)
        step = by_name[current]
        if step["action"] == "aws:branch":
            current = next((choice["NextStep"] for choice in step["inputs"]["Choices"]
                            if _matches(choice, parameters)), step["inputs"].get("Default"))
            continue
        if step.get("isEnd"):
            break
        current = step.get("nextStep") or (order[order.index(current) + 1]
                                            if order.index(current) + 1 < len(order) else None)
    return ran


def _matches(choice: dict[str, Any], parameters: dict[str, Any]) -> bool:
    name = REFERENCE.fullmatch(choice["Variable"]).group(1)  # type: ignore[union-attr]
    if "BooleanEquals" in choice:
        return parameters[name] is choice["BooleanEquals"]
    return parameters[name] == choice["StringEquals"]


@pytest.fixture(scope="module")
def written() -> dict[str, Any]:
    return load_fargate_document()


@pytest.fixture(scope="module", params=STACKS)
def deployed(request) -> tuple[Any, dict[str, Any]]:
    """(the stack's run, its Fargate containment document as SSM receives it)."""
    run = cached_run(request.param)
    (document,) = [d for d in run.of_type("aws:ssm/document:Document")
                   if d.inputs["name"] == fargate_document_name(request.param)]
    assert document.inputs["documentType"] == "Automation" and document.inputs["documentFormat"] == "JSON"
    return run, json.loads(document.inputs["content"])


def test_the_written_and_the_deployed_documents_are_valid_automation_documents(written, deployed):
    for document in (written, deployed[1]):
        validator = jsonschema.Draft7Validator(SCHEMA)
        errors = [f"{e.json_path}: {e.message}" for e in validator.iter_errors(document)]
        assert not errors
        assert document["schemaVersion"] == "0.3"


def test_every_step_is_a_real_automation_action(written):
    assert {step["action"] for step in written["mainSteps"]} <= AUTOMATION_ACTIONS


def test_every_api_call_exists_in_botocore_with_the_parameters_it_passes(written):
    session = botocore.session.get_session()
    for step, service, api, parameters in api_calls(written):
        operation = session.get_service_model(service).operation_model(api)
        shape = operation.input_shape
        missing = set(shape.required_members) - set(parameters)
        assert not missing, f"{step}: {service}.{api} requires {missing}"
        _check_members(f"{step} {service}.{api}", shape, parameters)


def _check_members(where: str, shape, value: Any) -> None:
    if isinstance(value, str) and REFERENCE.search(value):
        return  # a parameter or output, typed by the document (checked below)
    if shape.type_name == "structure":
        assert isinstance(value, dict), f"{where}: {shape.name} is a structure"
        unknown = set(value) - set(shape.members)
        assert not unknown, f"{where}: {shape.name} has no members {unknown}"
        for key, member in value.items():
            _check_members(f"{where}.{key}", shape.members[key], member)
    elif shape.type_name == "list":
        assert isinstance(value, list), f"{where}: a list"
        for item in value:
            _check_members(where, shape.member, item)
    elif shape.type_name == "string" and shape.enum:
        assert value in shape.enum, f"{where}: {value!r} is not one of {shape.enum}"
    elif shape.type_name == "boolean":
        assert isinstance(value, bool), f"{where}: a boolean"
    elif shape.type_name == "integer":
        assert isinstance(value, int), f"{where}: an integer"


def test_every_reference_names_a_parameter_or_an_earlier_output(written):
    declared = set(written["parameters"])
    outputs = {f"{step['name']}.{out['Name']}"
               for step in written["mainSteps"] for out in step.get("outputs", [])}
    used = set(REFERENCE.findall(json.dumps(written["mainSteps"]) + written["assumeRole"]))
    assert used <= declared | outputs, used - declared - outputs
    assert set(written["outputs"]) <= outputs
    names = [step["name"] for step in written["mainSteps"]]
    assert len(names) == len(set(names))
    for step in written["mainSteps"]:
        for choice in step["inputs"].get("Choices", []):
            assert choice["NextStep"] in names


def test_dry_run_changes_nothing_in_either_mode(written):
    for mode in ("Contain", "Restore"):
        ran = path(written, DryRun=True, Mode=mode)
        calls = {step: api for step, _, api, _ in api_calls(written) if step in ran}
        assert calls and all(READ_ONLY.match(api) for api in calls.values()), calls
        assert ran[-1] in steps(written) and steps(written)[ran[-1]].get("isEnd")


def test_contain_revokes_sessions_then_isolates_and_restore_keeps_the_revocation(written):
    def mutations(mode: str) -> list[tuple[str, dict]]:
        ran = path(written, DryRun=False, Mode=mode)
        return [(api, parameters) for step, _, api, parameters in api_calls(written)
                if step in ran and not READ_ONLY.match(api)]
    contain = mutations("Contain")
    assert [api for api, _ in contain] == ["PutRolePolicy", "RegisterScalableTarget", "UpdateService"]
    isolate = contain[2][1]
    assert isolate["desiredCount"] == 0
    groups = isolate["networkConfiguration"]["awsvpcConfiguration"]["securityGroups"]
    assert groups == ["{{IsolationSecurityGroupId}}"]
    assert all(contain[1][1]["SuspendedState"].values())
    restore = mutations("Restore")
    assert [api for api, _ in restore] == ["UpdateService", "RegisterScalableTarget"]
    groups = restore[0][1]["networkConfiguration"]["awsvpcConfiguration"]["securityGroups"]
    assert groups == "{{ServiceSecurityGroupIds}}"
    assert not any(restore[1][1]["SuspendedState"].values())


def test_the_revocation_denies_everything_to_sessions_issued_before_the_given_time(written):
    (revoke,) = [p for _, _, api, p in api_calls(written) if api == "PutRolePolicy"]
    policy = json.loads(revoke["PolicyDocument"].replace("{{RevokeSessionsIssuedBefore}}",
                                                         "2026-12-06T14:03:27Z"))
    (statement,) = policy["Statement"]
    assert statement["Effect"] == "Deny" and statement["Action"] == ["*"] and statement["Resource"] == ["*"]
    assert statement["Condition"] == {"DateLessThan": {"aws:TokenIssueTime": "2026-12-06T14:03:27Z"}}
    pattern = written["parameters"]["RevokeSessionsIssuedBefore"]["allowedPattern"]
    assert re.fullmatch(pattern, "2026-12-06T14:03:27Z") and not re.fullmatch(pattern, "2026-12-06 14:03")
    assert revoke["RoleName"] == "{{TaskRoleName}}"


def test_the_deployed_document_names_this_stacks_service_role_and_groups(deployed):
    run, document = deployed
    defaults = {k: v.get("default") for k, v in document["parameters"].items()}
    stack = run.stack
    assert defaults["ClusterName"] == f"hipaa-aws-{stack}"
    assert defaults["TaskRoleName"] == f"hipaa-aws-{stack}-workload"
    assert defaults["DryRun"] is True and defaults["Mode"] == "Contain"
    assert defaults["AutomationAssumeRole"] == (
        f"arn:aws:iam::{account_of(stack)}:role/hipaa-aws/{stack}/hipaa-aws-{stack}-contain-fargate")
    (isolation,) = [g for g in run.of_type("aws:ec2/securityGroup:SecurityGroup") if "isolation" in g.name]
    assert not isolation.inputs.get("ingress") and not isolation.inputs.get("egress")
    rules = [r for r in run.resources if r.type.startswith("aws:vpc/securityGroup") and
             r.inputs.get("securityGroupId") == defaults["IsolationSecurityGroupId"]]
    assert not rules, "the isolation group must stay without rules"
    assert defaults["RestoreDesiredCount"] >= 1


def _role_policy(run, role_suffix: str) -> list[dict]:
    (role,) = [r for r in run.of_type("aws:iam/role:Role")
               if str(r.inputs.get("name", "")).endswith(role_suffix)]
    trust = json.loads(role.inputs["assumeRolePolicy"])["Statement"][0]
    assert trust["Principal"] == {"Service": "ssm.amazonaws.com"}
    assert trust["Condition"]["ArnLike"]["aws:SourceArn"].endswith(":automation-execution/*")
    (attachment,) = [a for a in run.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
                     if a.name.endswith(role_suffix.replace("hipaa-aws-", "").split("-contain-")[-1])
                     and "containment" in a.name]
    (policy,) = [p for p in run.of_type("aws:iam/policy:Policy") if p.name == attachment.name]
    return json.loads(policy.inputs["policy"])["Statement"]


def resources_of(statement: dict) -> list[str]:
    resource = statement["Resource"]
    return [resource] if isinstance(resource, str) else resource


def _actions(statements: list[dict]) -> set[str]:
    return {a for s in statements for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}


def test_the_fargate_role_allows_exactly_the_documents_calls_on_this_stack(deployed):
    run, document = deployed
    statements = _role_policy(run, f"-{run.stack}-contain-fargate")
    called = {f"{IAM_PREFIX[service]}:{api}" for _, service, api, _ in api_calls(document)}
    assert _actions(statements) == called
    for statement in statements:
        resources = resources_of(statement)
        named = all(f"hipaa-aws-{run.stack}" in r for r in resources)
        # A resource whose id is AWS's (a scalable target) is scoped by the stack's tag or cluster.
        assert named or resources == ["*"] or run.stack in json.dumps(statement["Condition"]), statement


@pytest.mark.parametrize("runbook,suffix", [("AWSSupport-ContainIAMPrincipal", "iam-principal"),
                                            ("AWSSupport-ContainS3Resource", "s3-resource")])
def test_aws_runbook_roles_allow_only_documented_actions_on_this_stack(runbook, suffix, prod):
    assert runbook in AWS_RUNBOOKS
    statements = _role_policy(prod, f"-prod-contain-{suffix}")
    assert _actions(statements) <= AWS_RUNBOOK_PERMISSIONS[runbook]
    for statement in statements:
        if not any(a.split(":")[1].startswith(("Put", "Delete", "Attach", "Tag", "Untag"))
                   for a in _actions([statement])) or statement["Resource"] == "*":
            continue
        resources = resources_of(statement)
        assert all("hipaa-aws/prod/" in r or "hipaa-aws-prod-" in r for r in resources), statement
    # Reading objects is only for the configuration backup: never PHI.
    reads = [s for s in statements if "s3:GetObject" in _actions([s])]
    assert all(r.startswith("arn:aws:s3:::hipaa-aws-prod-containment-backups-")
               for s in reads for r in resources_of(s))


def test_modifying_stack_roles_is_limited_to_the_stacks_iam_path(prod):
    statements = _role_policy(prod, "-prod-contain-iam-principal")
    (roles,) = [s for s in statements if "iam:PutRolePolicy" in _actions([s])]
    assert roles["Resource"] == "arn:aws:iam::123456789012:role/hipaa-aws/prod/*"
    # The runbook contains a role with an inline deny; attaching a managed policy (AdministratorAccess)
    # to a stack role is never needed, so never allowed.
    assert not _actions(statements) & {"iam:AttachRolePolicy", "iam:AttachUserPolicy", "iam:CreateAccessKey"}


def test_rendering_refuses_a_parameter_the_document_does_not_have():
    with pytest.raises(ValueError, match="no parameters"):
        render_fargate_document({"ServiceName": "x"})


def test_the_vendored_schema_is_the_published_file():
    data = Path(__file__).parent / "data"
    source = (data / "ssm-automation-document.schema.SOURCE.txt").read_text()
    digest = hashlib.sha256((data / "ssm-automation-document.schema.json").read_bytes())
    assert f"sha256: {digest.hexdigest()}" in source


def test_operators_find_every_runbooks_role_and_the_backup_bucket_in_the_stack_outputs(deployed):
    run, _ = deployed
    outputs = run.stack_outputs["containment"]
    assert outputs["fargateRunbook"] == fargate_document_name(run.stack)
    assert set(outputs["automationRoleArns"]) == {*AWS_RUNBOOKS, fargate_document_name(run.stack)}
    assert outputs["backupBucketName"] == f"hipaa-aws-{run.stack}-containment-backups-{account_of(run.stack)}"
