"""CodeBuild: no credentials in projects; encrypted artifacts."""

from __future__ import annotations

import re
from collections.abc import Iterable

from .framework import ACCESS_CONTROL, Metadata, Resource, resource_policy

CODEBUILD = ("aws:codebuild/project:Project",)
CREDENTIAL_VARIABLES = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")


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


POLICIES = [
    resource_policy(Metadata("aws-codebuild-project-no-credentials", "CodeBuild projects must not hold AWS credentials or credentialed source URLs, and must encrypt artifacts.",
                             ACCESS_CONTROL, "Use the project's service role and a CodeConnections source; set encryptionKey.",
                             config_rules=("codebuild-project-envvar-awscred-check", "codebuild-project-source-repo-url-check"),
                             service="codebuild"), CODEBUILD, _codebuild),
]
