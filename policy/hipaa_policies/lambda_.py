"""Lambda: never invocable by everyone; encrypted environment."""

from __future__ import annotations

from collections.abc import Iterable

from .framework import ACCESS_CONTROL, ENCRYPTION_AT_REST, Metadata, Resource, resource_policy

PERMISSION = ("aws:lambda/permission:Permission",)
FUNCTION_URL = ("aws:lambda/functionUrl:FunctionUrl",)
FUNCTION = ("aws:lambda/function:Function",)


def _not_public(r: Resource) -> Iterable[str]:
    if r.type in FUNCTION_URL:
        if r.props.get("authorizationType") != "AWS_IAM":
            yield "Set authorizationType to AWS_IAM."
        return
    principal = str(r.props.get("principal"))
    if principal == "*":
        yield 'Grant invoke to a named principal, never "*".'
    elif principal.endswith(".amazonaws.com") and not (r.props.is_set("sourceArn") or r.props.is_set("sourceAccount")):
        yield "Set sourceArn (or sourceAccount) when a service principal may invoke the function."


def _environment(r: Resource) -> Iterable[str]:
    if r.props.map("environment", "variables") and not r.props.customer_key("kmsKeyArn"):
        yield "Set kmsKeyArn to a customer-managed key to encrypt environment variables."


POLICIES = [
    resource_policy(Metadata("aws-lambda-not-public", "Lambda functions must not be invocable by everyone.",
                             ACCESS_CONTROL, "Name the invoking principal and its source ARN; use AWS_IAM for function URLs.",
                             config_rules=("lambda-function-public-access-prohibited",), service="lambda"),
                    PERMISSION + FUNCTION_URL, _not_public),
    resource_policy(Metadata("aws-lambda-environment-encrypted", "Lambda environment variables must be encrypted with a customer-managed key.",
                             ENCRYPTION_AT_REST, "Set kmsKeyArn.", service="lambda"), FUNCTION, _environment),
]
