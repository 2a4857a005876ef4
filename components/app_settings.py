"""Settings of the application tier: `app` (ingress and the container service), `identityCenter`
(workforce permission sets) and `cache` (the session cache). Each is optional: absent, that part
of the tier is not built. Validated with the rest of the settings (settings.py), before anything
is created."""

from __future__ import annotations

import ipaddress
import re
from typing import Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


# Fargate task sizes (Amazon ECS guide, "Task CPU and memory"; checked 2026-11-23):
# CPU units -> allowed memory in MiB.
FARGATE_MEMORY_BY_CPU: dict[int, tuple[int, ...]] = {
    256: (512, 1024, 2048),
    512: tuple(range(1024, 4096 + 1, 1024)),
    1024: tuple(range(2048, 8192 + 1, 1024)),
    2048: tuple(range(4096, 16384 + 1, 1024)),
    4096: tuple(range(8192, 30720 + 1, 1024)),
    8192: tuple(range(16384, 61440 + 1, 4096)),
    16384: tuple(range(32768, 122880 + 1, 8192)),
}
DNS_NAME = r"(?=.{1,253}$)(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}"
ACM_CERTIFICATE_ARN = r"arn:aws[a-z-]*:acm:(?P<region>[a-z0-9-]+):\d{12}:certificate/[0-9a-f-]{36}"


def _region(info: ValidationInfo) -> Optional[str]:
    return (info.context or {}).get("region")


class AppSettings(_Strict):
    """The application: an HTTPS load balancer in front of a Fargate service.

    The container listens on the stack's `appPort` (the security groups' port) over TLS.
    """

    image: Optional[str] = Field(None, min_length=1, max_length=512,
                                 pattern=r"^[a-z0-9][a-z0-9._/:@-]*$")
    """A full image reference; unset: this stack's ECR repository at `imageTag`."""
    image_tag: Optional[str] = Field(None, alias="imageTag", pattern=r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
    """The tag in this stack's ECR repository (tags are immutable there: a new image, a new tag)."""
    cpu: int = Field(512)
    memory_mib: int = Field(1024, alias="memoryMib")
    desired_count: int = Field(2, alias="desiredCount", ge=0, le=100)
    max_count: int = Field(6, alias="maxCount", ge=1, le=100)
    health_check_path: str = Field("/health", alias="healthCheckPath", pattern=r"^/[\x21-\x7e]{0,1023}$")
    certificate_arn: Optional[str] = Field(None, alias="certificateArn")
    hosted_zone_id: Optional[str] = Field(None, alias="hostedZoneId", pattern=r"^Z[A-Z0-9]{1,32}$")
    domain_name: Optional[str] = Field(None, alias="domainName")
    allowed_client_cidrs: tuple[str, ...] = Field(("0.0.0.0/0",), alias="allowedClientCidrs",
                                                  min_length=1, max_length=50)

    @field_validator("cpu")
    @classmethod
    def _fargate_cpu(cls, value: int) -> int:
        if value not in FARGATE_MEMORY_BY_CPU:
            raise ValueError(f"must be a Fargate CPU size: {', '.join(map(str, FARGATE_MEMORY_BY_CPU))}")
        return value

    @field_validator("domain_name")
    @classmethod
    def _dns_name(cls, value: Optional[str]) -> Optional[str]:
        if value is not None and not re.fullmatch(DNS_NAME, value):
            raise ValueError("must be a lower-case DNS name such as app.example-health.com")
        return value

    @field_validator("certificate_arn")
    @classmethod
    def _acm_in_this_region(cls, value: Optional[str], info: ValidationInfo) -> Optional[str]:
        if value is None:
            return value
        match = re.fullmatch(ACM_CERTIFICATE_ARN, value)
        if not match:
            raise ValueError("must be an ACM certificate ARN "
                             "(arn:aws:acm:<region>:<account>:certificate/<id>)")
        region = _region(info)
        if region and match["region"] != region:
            raise ValueError(f"must be a certificate in the stack's region ({region}): a load "
                             f"balancer uses certificates of its own region only")
        return value

    @field_validator("allowed_client_cidrs")
    @classmethod
    def _ipv4_cidrs(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for cidr in value:
            try:
                ipaddress.IPv4Network(cidr, strict=True)
            except ValueError as err:
                raise ValueError(f"{cidr!r} is not an IPv4 network in CIDR form ({err})") from None
        return value

    @model_validator(mode="after")
    def _consistent(self) -> AppSettings:
        allowed = FARGATE_MEMORY_BY_CPU.get(self.cpu, ())
        if allowed and self.memory_mib not in allowed:
            raise ValueError(f"memoryMib {self.memory_mib} does not fit cpu {self.cpu} on Fargate: "
                             f"allowed {allowed[0]} to {allowed[-1]} ({', '.join(map(str, allowed[:4]))}...)")
        if self.max_count < self.desired_count:
            raise ValueError(f"maxCount ({self.max_count}) must be at least desiredCount "
                             f"({self.desired_count})")
        if (self.image is None) == (self.image_tag is None):
            raise ValueError("set exactly one of image (a full reference) and imageTag (a tag in this "
                             "stack's ECR repository)")
        by_zone = self.hosted_zone_id is not None or self.domain_name is not None
        if self.certificate_arn and by_zone:
            raise ValueError("set certificateArn, or hostedZoneId with domainName, not both")
        if not self.certificate_arn and not (self.hosted_zone_id and self.domain_name):
            raise ValueError("set certificateArn, or hostedZoneId and domainName to issue an ACM "
                             "certificate with DNS validation")
        return self


IDENTITY_CENTER_INSTANCE_ARN = r"arn:aws[a-z-]*:sso:::instance/(sso)?ins-[a-zA-Z0-9-.]{16}"
IDENTITY_STORE_GROUP_ID = (r"([0-9a-f]{10}-|)[A-Fa-f0-9]{8}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-"
                           r"[A-Fa-f0-9]{4}-[A-Fa-f0-9]{12}")


class WorkforceGroups(_Strict):
    """Identity Center groups assigned each permission set in this stack's account (optional)."""

    read_only: Optional[str] = Field(None, alias="readOnly", pattern=f"^{IDENTITY_STORE_GROUP_ID}$")
    phi_operator: Optional[str] = Field(None, alias="phiOperator", pattern=f"^{IDENTITY_STORE_GROUP_ID}$")
    break_glass: Optional[str] = Field(None, alias="breakGlass", pattern=f"^{IDENTITY_STORE_GROUP_ID}$")


class IdentityCenterSettings(_Strict):
    """IAM Identity Center: the permission sets people get in this stack's account."""

    instance_arn: str = Field(alias="instanceArn", pattern=f"^{IDENTITY_CENTER_INSTANCE_ARN}$")
    groups: WorkforceGroups = Field(default_factory=lambda: WorkforceGroups.model_validate({}))
    managed_by: Literal["stack", "organization"] = Field("stack", alias="managedBy")
    """Who creates the permission sets and assigns them to `groups` in this account. `stack`: this
    stack, through its own provider (a single-account team: the account administers the instance).
    `organization`: the organization project (components/organization/identity_center.py), from the
    management or delegated administrator account; this stack then creates only the IAM policies the
    sets reference by name and path, which must exist in this account before the assignments."""


class CacheSettings(_Strict):
    """The session cache (ElastiCache, Valkey or Redis OSS). It never holds PHI."""

    engine: Literal["valkey", "redis"] = "valkey"
    engine_version: str = Field("8.0", alias="engineVersion", pattern=r"^\d+\.\d+$")
    node_type: str = Field("cache.t4g.small", alias="nodeType", pattern=r"^cache\.[a-z0-9]+\.[a-z0-9]+$")
    node_count: int = Field(2, alias="nodeCount", ge=1, le=6)
    """Primary plus replicas, spread over AZs; at least 2 in a PHI stack (automatic failover)."""

    @field_validator("node_count")
    @classmethod
    def _failover_with_phi(cls, value: int, info: ValidationInfo) -> int:
        if (info.context or {}).get("holds_phi") and value < 2:
            raise ValueError("must be at least 2 in a stack that holds PHI (automatic failover)")
        return value

    @model_validator(mode="after")
    def _iam_auth_version(self) -> CacheSettings:
        # IAM authentication for users needs Valkey 7.2+ or Redis OSS 7+.
        major, minor = (int(part) for part in self.engine_version.split("."))
        if (self.engine == "valkey" and (major, minor) < (7, 2)) or (self.engine == "redis" and major < 7):
            raise ValueError(f"engineVersion {self.engine_version}: IAM authentication needs Valkey 7.2+ "
                             f"or Redis OSS 7.0+")
        return self
