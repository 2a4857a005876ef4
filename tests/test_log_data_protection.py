"""PHI in operational logs is masked by CloudWatch Logs data protection: every identifier the policy
names is one of AWS's managed data identifiers, the policy has the shape PutDataProtectionPolicy
requires, every operational log group of the application and the database carries it, and the audit
log group does not."""

from __future__ import annotations

import json

import pytest

from components.log_data_protection import DATA_IDENTIFIER_ARN, MANAGED_IDENTIFIERS, policy_document
from tests.conftest import STACKS, cached_run

LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
POLICY = "aws:cloudwatch/logDataProtectionPolicy:LogDataProtectionPolicy"

# AWS's managed data identifiers, from CloudWatch Logs user guide "Types of data that you can protect"
# (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/protect-sensitive-log-data-types.html) and
# its pages "CloudWatch Logs managed data identifiers for sensitive data types" (CWL-managed-data-
# identifiers.html), "Protected health information (PHI)" (protect-sensitive-log-data-types-health.html),
# "Personally identifiable information (PII)" (protect-sensitive-log-data-types-pii.html), "Financial
# information" (protect-sensitive-log-data-types-financial.html). Read 2026-12-06 with the search tool.
# Only the United States entries of the country-coded identifiers are transcribed.
AWS_MANAGED_IDENTIFIERS = frozenset({
    # language and region independent
    "Address", "AwsSecretKey", "CreditCardExpiration", "CreditCardNumber", "CreditCardSecurityCode",
    "EmailAddress", "IpAddress", "LatLong", "Name", "OpenSshPrivateKey", "PgpPrivateKey", "PkcsPrivateKey",
    "PuttyPrivateKey", "VehicleIdentificationNumber",
    # PII page: "Birth date | DateOfBirth | ... | Any"
    "DateOfBirth",
    # health, United States
    "DrugEnforcementAgencyNumber-US", "HealthcareProcedureCode-US", "HealthInsuranceClaimNumber-US",
    "MedicareBeneficiaryNumber-US", "NationalDrugCode-US", "NationalProviderId-US",
    # personal, United States
    "DriversLicense-US", "IndividualTaxIdentificationNumber-US", "PassportNumber-US", "PhoneNumber-US",
    "Ssn-US", "ZipCode-US",
    # financial, United States
    "BankAccountNumber-US",
})
# AWS's PHI page lists these for the United States; a policy for US patients must name every one.
AWS_US_HEALTH_IDENTIFIERS = {"DrugEnforcementAgencyNumber-US", "HealthcareProcedureCode-US",
                             "HealthInsuranceClaimNumber-US", "MedicareBeneficiaryNumber-US",
                             "NationalDrugCode-US", "NationalProviderId-US"}


def masked_groups(stack: str) -> dict[str, str]:
    """Log group name -> the policy document on it."""
    run = cached_run(stack)
    groups = {r.urn: r.inputs["name"] for r in run.of_type(LOG_GROUP)}
    out = {}
    for policy in run.of_type(POLICY):
        (group_urn,) = policy.property_dependencies["logGroupName"]
        out[groups[group_urn]] = policy.inputs["policyDocument"]
    return out


def test_every_identifier_is_an_aws_managed_identifier():
    unknown = set(MANAGED_IDENTIFIERS) - AWS_MANAGED_IDENTIFIERS
    assert not unknown, unknown


def test_every_us_health_identifier_and_the_patient_record_pii_are_masked():
    assert AWS_US_HEALTH_IDENTIFIERS <= set(MANAGED_IDENTIFIERS)
    assert {"Name", "Address", "DateOfBirth", "Ssn-US", "PhoneNumber-US", "EmailAddress", "DriversLicense-US",
            "ZipCode-US"} <= set(MANAGED_IDENTIFIERS)


def test_policy_has_one_audit_and_one_deidentify_statement_over_the_same_identifiers():
    """botocore `logs` PutDataProtectionPolicy: the first block an Audit operation with a
    FindingsDestination, the second a Deidentify operation with "MaskConfig": {} and exactly the same
    DataIdentifier array; policy Version 2021-06-01 ("Understanding data protection policies")."""
    document = json.loads(policy_document("prod", "/hipaa-aws/prod/data-protection-findings"))
    assert document["Version"] == "2021-06-01"
    audit, mask = document["Statement"]
    assert audit["DataIdentifier"] == mask["DataIdentifier"]
    assert audit["DataIdentifier"] == [DATA_IDENTIFIER_ARN.format(name) for name in MANAGED_IDENTIFIERS]
    prefix = "arn:aws:dataprotection::aws:data-identifier/"
    assert all(arn.startswith(prefix) for arn in audit["DataIdentifier"])
    assert audit["Operation"] == {"Audit": {"FindingsDestination": {
        "CloudWatchLogs": {"LogGroup": "/hipaa-aws/prod/data-protection-findings"}}}}
    assert mask["Operation"] == {"Deidentify": {"MaskConfig": {}}}


@pytest.mark.parametrize("stack", STACKS)
def test_operational_groups_of_the_application_and_database_are_masked(stack):
    masked = masked_groups(stack)
    assert set(masked) == {
        f"/hipaa-aws/{stack}/app",  # the container's own log
        f"/hipaa-aws/{stack}/ecs-exec",  # operator shells in the application's tasks
        f"/hipaa-aws/{stack}/db-access",  # operator psql sessions
        f"/aws/rds/instance/hipaa-aws-{stack}/postgresql",  # pgAudit statement text
        f"aws-waf-logs-hipaa-aws-{stack}",  # request URIs and query strings
    }
    findings = f"/hipaa-aws/{stack}/data-protection-findings"
    for document in masked.values():
        assert json.loads(document) == json.loads(policy_document(stack, findings))


@pytest.mark.parametrize("stack", STACKS)
def test_the_audit_log_itself_is_never_masked(stack):
    """Its patient and record ids are the evidence, and the alarms' filters read them."""
    masked = masked_groups(stack)
    assert f"/hipaa-aws/{stack}/app-audit" not in masked
    assert f"/hipaa-aws/{stack}/cloudtrail" not in masked
    assert not cached_run(stack).of_type("aws:cloudwatch/logAccountPolicy:LogAccountPolicy")


@pytest.mark.parametrize("stack", STACKS)
def test_findings_group_exists_first_is_encrypted_and_kept_six_years(stack):
    """PutDataProtectionPolicy: findings destinations "must already exist"."""
    run = cached_run(stack)
    findings = run.named("hipaa-log-masking-findings", LOG_GROUP)
    assert findings.inputs["retentionInDays"] >= 2192
    assert findings.inputs["kmsKeyId"] == run.named("hipaa-app-logs", LOG_GROUP).inputs["kmsKeyId"]
    for policy in run.of_type(POLICY):
        assert findings.urn in policy.property_dependencies["policyDocument"]
