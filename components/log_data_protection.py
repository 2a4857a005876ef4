"""Masking of PHI in the stack's operational logs: a CloudWatch Logs data protection policy on each
log group where PHI may slip in by accident (the application's container log, the ECS Exec and
database-access session logs, the PostgreSQL log with pgAudit statements), with an audit log group
that receives the findings.

Per log group, not an account policy (`aws.cloudwatch.LogAccountPolicy`, DATA_PROTECTION_POLICY):
- the application's audit log group (/hipaa-aws/<stack>/app-audit) must NOT be masked: its patient and
  record identifiers are the evidence, its metric filters and Contributor Insights rule read them, and
  "any parts of log events that are masked as sensitive data are not scanned for anomalies"
  (CloudWatch Logs API reference, CreateLogAnomalyDetector). An account policy applies to every log
  group of the account, that one included, and the trail and flow logs too;
- every baseline gets it: a stack of an `external` account (no account layer) masks its own groups,
  and two stacks sharing an account do not compete for its one account policy.
A log group added later needs its own policy: tests/test_log_data_protection.py fails when an
operational log group of the application or the database has none.

What a policy does (CloudWatch Logs user guide, "Help protect sensitive log data with masking" and
"Understanding data protection policies"; botocore `logs` PutDataProtectionPolicy): from ingestion on,
events are stored as sent and shown masked to anyone without `logs:Unmask`; one Audit statement (with
its findings destination, which must already exist) and one Deidentify statement with the same data
identifiers. Events ingested before the policy are not masked. Most identifiers are found only with a
keyword within 30 characters ("CloudWatch Logs managed data identifiers for sensitive data types").
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi_aws as aws

DATA_IDENTIFIER_ARN = "arn:aws:dataprotection::aws:data-identifier/{}"
"""The managed data identifiers' ARN form, as AWS's pages list them (no partition or region)."""

# AWS's managed identifiers for what a US patient record carries, by the HIPAA Safe Harbor identifier
# (45 CFR 164.514(b)(2)(i)) each one covers. Names from AWS's "Types of data that you can protect" pages
# (health, personal, financial); tests/test_log_data_protection.py checks each against that list.
MANAGED_IDENTIFIERS: dict[str, str] = {
    # health (AWS's PHI identifiers for the United States)
    "HealthInsuranceClaimNumber-US": "health plan beneficiary numbers (HICN)",
    "MedicareBeneficiaryNumber-US": "health plan beneficiary numbers (MBI)",
    "NationalProviderId-US": "the treating provider's NPI, tied to the patient's care",
    "DrugEnforcementAgencyNumber-US": "the prescriber's DEA number, tied to the patient's prescriptions",
    "NationalDrugCode-US": "drugs the patient receives",
    "HealthcareProcedureCode-US": "procedures the patient receives (HCPCS)",
    # personal
    "Name": "names (full names, Latin characters)",
    "Address": "geographic subdivisions smaller than a state (street address with city and ZIP)",
    "ZipCode-US": "geographic subdivisions smaller than a state (ZIP codes)",
    "DateOfBirth": "dates directly related to an individual (birth date)",
    "PhoneNumber-US": "telephone and fax numbers",
    "EmailAddress": "email addresses",
    "Ssn-US": "social security numbers",
    "DriversLicense-US": "certificate and license numbers",
    "PassportNumber-US": "certificate and license numbers",
    "IndividualTaxIdentificationNumber-US": "other unique identifying numbers (ITIN)",
    "VehicleIdentificationNumber": "vehicle identifiers",
    # financial
    "BankAccountNumber-US": "account numbers",
    "CreditCardNumber": "account numbers",
}


def policy_document(stack: str, findings_log_group: str) -> str:
    """The data protection policy: Audit (findings to `findings_log_group`) and Deidentify statements
    over the same identifiers, as PutDataProtectionPolicy requires."""
    identifiers = [DATA_IDENTIFIER_ARN.format(name) for name in MANAGED_IDENTIFIERS]
    return json.dumps({
        "Name": f"hipaa-aws-{stack}-mask-phi",
        "Description": "Mask PHI and PII that reach operational logs; findings to the stack's audit group",
        "Version": "2021-06-01",
        "Statement": [
            {"Sid": "audit", "DataIdentifier": identifiers, "Operation": {"Audit": {
                "FindingsDestination": {"CloudWatchLogs": {"LogGroup": findings_log_group}}}}},
            {"Sid": "mask", "DataIdentifier": identifiers, "Operation": {"Deidentify": {"MaskConfig": {}}}},
        ],
    })


@dataclass(frozen=True)
class LogDataProtectionArgs:
    stack: str
    log_group_names: Mapping[str, pulumi.Input[str]]
    """The operational log groups to mask, by a short key (`app`, `postgresql`...), each as an output
    of its group: PutDataProtectionPolicy on a group that does not exist yet fails."""
    logs_key_arn: pulumi.Input[str]
    log_retention_days: int
    holds_phi: bool


class LogDataProtection(pulumi.ComponentResource):
    """A masking policy on each operational log group, and the group that keeps the findings."""

    findings_log_group_name: pulumi.Output[str]
    """Where CloudWatch Logs writes what it found and masked (identifier and position, kept six years)."""

    def __init__(self, name: str, args: LogDataProtectionArgs,
                 opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("hipaa:components:LogDataProtection", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        findings = aws.cloudwatch.LogGroup(
            f"{name}-findings", name=f"/hipaa-aws/{args.stack}/data-protection-findings",
            retention_in_days=args.log_retention_days, kms_key_id=args.logs_key_arn,
            tags={"Purpose": "data-protection-findings"},
            opts=pulumi.ResourceOptions(parent=self, protect=args.holds_phi))
        self.findings_log_group_name = findings.name
        for key, group in sorted(args.log_group_names.items()):
            aws.cloudwatch.LogDataProtectionPolicy(
                f"{name}-{key}", log_group_name=group,
                policy_document=findings.name.apply(lambda found: policy_document(args.stack, found)),
                opts=child)
        self.register_outputs({"findingsLogGroupName": self.findings_log_group_name})
