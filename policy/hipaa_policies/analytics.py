"""SageMaker, EMR, DMS, CodeBuild and WAF logging."""

from __future__ import annotations

import re
from typing import Iterable

from .framework import (
    ACCESS_CONTROL, AUDIT_CONTROLS, AUTHENTICATION, ENCRYPTION_AT_REST, Metadata, Resource, Stack,
    resource_policy, stack_policy,
)

NOTEBOOK = ("aws:sagemaker/notebookInstance:NotebookInstance",)
ENDPOINT_CONFIG = ("aws:sagemaker/endpointConfiguration:EndpointConfiguration",)
EMR_CLUSTER = ("aws:emr/cluster:Cluster",)
EMR_BLOCK_PUBLIC = ("aws:emr/blockPublicAccessConfiguration:BlockPublicAccessConfiguration",)
DMS_INSTANCE = ("aws:dms/replicationInstance:ReplicationInstance",)
DMS_ENDPOINT = ("aws:dms/endpoint:Endpoint",)
CODEBUILD = ("aws:codebuild/project:Project",)
WEB_ACL = ("aws:wafv2/webAcl:WebAcl",)
WAF_LOGGING = ("aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration",)
CREDENTIAL_VARIABLES = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")


def _notebook(r: Resource) -> Iterable[str]:
    if not r.props.is_set("kmsKeyId"):
        yield "Set kmsKeyId to a customer-managed key."
    if r.props.get("directInternetAccess") != "Disabled":
        yield "Set directInternetAccess to Disabled and subnetId to a private subnet."
    if r.props.get("rootAccess") != "Disabled":
        yield "Set rootAccess to Disabled."


def _endpoint_config(r: Resource) -> Iterable[str]:
    if not r.props.is_set("kmsKeyArn"):
        yield "Set kmsKeyArn to a customer-managed key."


def _emr(r: Resource) -> Iterable[str]:
    if not r.props.is_set("kerberosAttributes"):
        yield "Set kerberosAttributes to authenticate cluster users with Kerberos."
    if not r.props.is_set("securityConfiguration"):
        yield "Set securityConfiguration with at-rest and in-transit encryption."
    if not r.props.is_set("ec2Attributes", "subnetId"):
        yield "Set ec2Attributes.subnetId to a private subnet."


def _emr_block_public(r: Resource) -> Iterable[str]:
    if r.props.bool("blockPublicSecurityGroupRules") is not True:
        yield "Set blockPublicSecurityGroupRules to true."


def _dms_instance(r: Resource) -> Iterable[str]:
    if r.props.bool("publiclyAccessible") is not False:
        yield "Set publiclyAccessible to false."
    if not r.props.is_set("kmsKeyArn"):
        yield "Set kmsKeyArn to a customer-managed key."


def _dms_endpoint(r: Resource) -> Iterable[str]:
    if r.props.get("engineName") in ("s3", "kinesis", "dynamodb"):
        return
    if r.props.get("sslMode") in (None, "none"):
        yield "Set sslMode to verify-full (or require)."


def _codebuild(r: Resource) -> Iterable[str]:
    for variable in r.props.each("environment", "environmentVariables"):
        if variable.get("name") in CREDENTIAL_VARIABLES and variable.get("type") in (None, "PLAINTEXT"):
            yield f"Remove the plaintext {variable.get('name')}; give the project a service role."
    for source in [r.props.map("source")] + list(r.props.list("secondarySources")):
        location = str(source.get("location", "")) if hasattr(source, "get") else ""
        if re.match(r"^https?://[^/@\s]+@", location):
            yield "Remove credentials from the source location URL; use a CodeConnections connection."
    if not r.props.is_set("encryptionKey"):
        yield "Set encryptionKey to a customer-managed key."


def _waf_logging(stack: Stack) -> Iterable[tuple[str, str]]:
    for acl in stack.of_type(*WEB_ACL):
        def check(acl=acl) -> Iterable[str]:
            if not stack.attached(acl, WAF_LOGGING, "resourceArn"):
                yield "Attach a WebAclLoggingConfiguration to this web ACL."
        yield from stack.judge(acl, check)


POLICIES = [
    resource_policy(Metadata("aws-sagemaker-notebook-secure", "SageMaker notebooks must be encrypted, private and without root access.",
                             ENCRYPTION_AT_REST, "Set kmsKeyId, directInternetAccess=Disabled and rootAccess=Disabled.",
                             config_rules=("sagemaker-notebook-instance-kms-key-configured",
                                           "sagemaker-notebook-no-direct-internet-access"), service="sagemaker"),
                    NOTEBOOK, _notebook),
    resource_policy(Metadata("aws-sagemaker-endpoint-encrypted", "SageMaker endpoint configurations must use a customer-managed key.",
                             ENCRYPTION_AT_REST, "Set kmsKeyArn.",
                             config_rules=("sagemaker-endpoint-configuration-kms-key-configured",), service="sagemaker"),
                    ENDPOINT_CONFIG, _endpoint_config),
    resource_policy(Metadata("aws-emr-cluster-secure", "EMR clusters must use Kerberos, a security configuration and private subnets.",
                             AUTHENTICATION, "Set kerberosAttributes, securityConfiguration and ec2Attributes.subnetId.",
                             config_rules=("emr-kerberos-enabled", "emr-master-no-public-ip"), service="emr"),
                    EMR_CLUSTER, _emr),
    resource_policy(Metadata("aws-emr-block-public-access", "EMR block public access must stay on.",
                             ACCESS_CONTROL, "Set blockPublicSecurityGroupRules=true.",
                             config_rules=("emr-master-no-public-ip",), service="emr"), EMR_BLOCK_PUBLIC, _emr_block_public),
    resource_policy(Metadata("aws-dms-replication-instance-private", "DMS replication instances must be private and encrypted with a customer key.",
                             ACCESS_CONTROL, "Set publiclyAccessible=false and kmsKeyArn.",
                             config_rules=("dms-replication-not-public",), service="dms"), DMS_INSTANCE, _dms_instance),
    resource_policy(Metadata("aws-dms-endpoint-tls", "DMS database endpoints must use TLS.",
                             ACCESS_CONTROL, "Set sslMode to verify-full.", service="dms"), DMS_ENDPOINT, _dms_endpoint),
    resource_policy(Metadata("aws-codebuild-project-no-credentials", "CodeBuild projects must not hold AWS credentials or credentialed source URLs, and must encrypt artifacts.",
                             ACCESS_CONTROL, "Use the project's service role and a CodeConnections source; set encryptionKey.",
                             config_rules=("codebuild-project-envvar-awscred-check", "codebuild-project-source-repo-url-check"),
                             service="codebuild"), CODEBUILD, _codebuild),
    stack_policy(Metadata("aws-wafv2-logging", "WAF web ACLs must log requests.",
                          AUDIT_CONTROLS, "Attach aws.wafv2.WebAclLoggingConfiguration.",
                          config_rules=("wafv2-logging-enabled",), service="wafv2"), _waf_logging),
]
