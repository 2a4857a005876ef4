"""IAM and resource policy documents shared by several components."""

from __future__ import annotations

import json
from typing import Optional

import pulumi

from components.aws_context import AwsContext


def service_trust_policy(
    service: str, ctx: AwsContext, source_arn: Optional[str] = None
) -> str:
    """A role trust policy for one AWS service, scoped to this account (confused deputy)."""
    condition: dict = {"StringEquals": {"aws:SourceAccount": ctx.account_id}}
    if source_arn:
        condition["ArnLike"] = {"aws:SourceArn": source_arn}
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Service": service},
            "Action": "sts:AssumeRole",
            "Condition": condition,
        }],
    })


def deny_insecure_transport(bucket_arn: str) -> list[dict]:
    """Statements refusing any request without TLS, or with TLS older than 1.2."""
    resources = [bucket_arn, f"{bucket_arn}/*"]
    return [
        {
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": resources,
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        },
        {
            "Sid": "DenyOutdatedTls",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": resources,
            "Condition": {"NumericLessThan": {"s3:TlsVersion": "1.2"}},
        },
    ]


def policy_json(*statements: dict) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def output_policy(build, *args: pulumi.Input) -> pulumi.Output[str]:
    """A policy document built from resolved outputs: `build(*values) -> list of statements`."""
    return pulumi.Output.all(*args).apply(lambda values: policy_json(*build(*values)))


def key_by_alias(ctx: AwsContext, alias: str | list[str]) -> tuple[str, dict]:
    """The Resource and Condition that name a KMS key of this account by its alias (KMS guide,
    "Use aliases to control access to KMS keys": kms:ResourceAliases). A key's ARN is known only
    after creation; its alias is known now, so a policy built this way can be judged at preview."""
    return (ctx.arn("kms", "key/*"),
            {"ForAnyValue:StringEquals": {"kms:ResourceAliases": alias}})


def rds_master_secret(ctx: AwsContext, db_identifier: str) -> tuple[str, dict]:
    """The Resource and Condition that name the secret RDS manages for an instance's master user:
    RDS names it `rds!db-<random>` and tags it `aws:rds:primaryDBInstanceArn` with the instance's
    ARN, which is known from the instance identifier before either exists."""
    return (ctx.arn("secretsmanager", "secret:rds!db-*"),
            {"StringEquals": {"aws:ResourceTag/aws:rds:primaryDBInstanceArn":
                              ctx.arn("rds", f"db:{db_identifier}")}})


def database_user(stack: str, role: str) -> str:
    """A PostgreSQL user for IAM authentication whose name carries the stack (`app_prod`), so that an
    `rds-db:connect` grant on `dbuser:*/<user>` (the instance's DbiResourceId is known only after
    creation) reaches only this stack's database: no other database has that user."""
    return f"{role}_{stack.replace('-', '_')}"


def database_user_arn(ctx: AwsContext, user: str) -> str:
    return ctx.arn("rds-db", f"dbuser:*/{user}")
