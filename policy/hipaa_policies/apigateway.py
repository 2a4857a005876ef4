"""API Gateway: execution and access logging, client certificates, WAF."""

from __future__ import annotations

from collections.abc import Iterable

from .framework import (
    ACCESS_CONTROL, AUDIT_CONTROLS, Metadata, Resource, Stack, resource_policy,
    stack_policy,
)

REST_STAGE = ("aws:apigateway/stage:Stage",)
HTTP_STAGE = ("aws:apigatewayv2/stage:Stage",)
METHOD_SETTINGS = ("aws:apigateway/methodSettings:MethodSettings",)
WAF_ASSOCIATION = ("aws:wafv2/webAclAssociation:WebAclAssociation",)


def _stage(r: Resource) -> Iterable[str]:
    if not r.props.is_set("accessLogSettings", "destinationArn"):
        yield "Set accessLogSettings.destinationArn to an encrypted log group."
    if r.type in REST_STAGE and not r.props.is_set("clientCertificateId"):
        yield "Set clientCertificateId so the backend can authenticate API Gateway."


def _execution_logging(r: Resource) -> Iterable[str]:
    if r.props.get("settings", "loggingLevel") not in ("ERROR", "INFO"):
        yield "Set settings.loggingLevel to ERROR or INFO."


def _waf(stack: Stack) -> Iterable[tuple[str, str]]:
    for stage in stack.of_type(*REST_STAGE):
        def check(stage=stage) -> Iterable[str]:
            if not stack.attached(stage, WAF_ASSOCIATION, "resourceArn"):
                yield "Associate a WAFv2 web ACL with this stage."
        yield from stack.judge(stage, check)


POLICIES = [
    resource_policy(Metadata("aws-apigateway-stage-logged-and-authenticated", "API stages must log access; REST stages must present a client certificate.",
                             AUDIT_CONTROLS, "Set accessLogSettings and clientCertificateId.",
                             config_rules=("api-gw-ssl-enabled",), service="apigateway"),
                    REST_STAGE + HTTP_STAGE, _stage),
    resource_policy(Metadata("aws-apigateway-execution-logging", "API Gateway execution logging must be on.",
                             AUDIT_CONTROLS, "Set MethodSettings settings.loggingLevel to ERROR or INFO.",
                             config_rules=("api-gw-execution-logging-enabled",), service="apigateway"),
                    METHOD_SETTINGS, _execution_logging),
    stack_policy(Metadata("aws-apigateway-waf-associated", "REST API stages must be protected by AWS WAF.",
                          ACCESS_CONTROL, "Add aws.wafv2.WebAclAssociation for the stage ARN.",
                          config_rules=("api-gw-associated-with-waf",), service="apigateway"), _waf),
]
