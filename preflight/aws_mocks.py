"""What the mocked AWS provider answers: data-source invokes, and outputs after a create.

Invokes run for real during `pulumi preview`, so their results are known in both modes.
`call()` raises on any token it does not know, so a new, unmocked invoke fails loudly.
"""

from __future__ import annotations

import hashlib
from typing import Any

import pulumi

MOCK_ACCOUNT_ID = "123456789012"


class AwsMocks(pulumi.runtime.Mocks):
    """Mocks for one region and account."""

    def __init__(self, region: str = "us-east-1", account_id: str = MOCK_ACCOUNT_ID):
        self.region = region
        self.account_id = account_id

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict, list[tuple[str, str]]]:
        """The SDK's contract: the invoke's outputs and its check failures (these mocks report none;
        a list, not None: MockMonitor.Invoke iterates it although Mocks.call is annotated Optional)."""
        return self._invoke(args), []

    def _invoke(self, args: pulumi.runtime.MockCallArgs) -> dict[str, Any]:
        if args.token == "aws:index/getRegion:getRegion":
            return {"id": self.region, "region": self.region, "name": self.region,
                    "endpoint": f"ec2.{self.region}.amazonaws.com",
                    "description": self.region}
        if args.token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {"id": self.account_id, "accountId": self.account_id,
                    "arn": f"arn:aws:iam::{self.account_id}:role/deployer",
                    "userId": "AROAEXAMPLE:deployer"}
        if args.token == "aws:index/getPartition:getPartition":
            return {"id": "aws", "partition": "aws", "dnsSuffix": "amazonaws.com",
                    "reverseDnsSuffix": "com.amazonaws"}
        if args.token == "aws:index/getAvailabilityZones:getAvailabilityZones":
            return self._zones(args.args)
        raise NotImplementedError(f"no mock for invoke {args.token}; add one to AwsMocks.call")

    def _zones(self, query: dict[str, Any]) -> dict[str, Any]:
        """Like the real data source: opted-in Local Zones come back unless filtered out."""
        zones = [(f"{self.region}{c}", f"az{i + 1}", "opt-in-not-required", self.region)
                 for i, c in enumerate("abcdef")]
        # A region's Local Zones sort before its AZs' later letters (us-east-1-bos-1a < us-east-1c).
        zones.insert(1, (f"{self.region}-bos-1a", "lz1", "opted-in", f"{self.region}-bos-1"))
        for wanted in query.get("filters") or []:
            if wanted.get("name") == "opt-in-status":
                zones = [z for z in zones if z[2] in wanted.get("values", [])]
        if query.get("allAvailabilityZones") is not True:
            zones = [z for z in zones if z[2] != "not-opted-in"]
        return {"id": self.region, "names": [z[0] for z in zones], "zoneIds": [z[1] for z in zones],
                "groupNames": sorted({z[3] for z in zones})}

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict]:
        """Outputs after a create (used only when not previewing)."""
        resource_id = f"{args.name}-id"
        service = args.typ.split(":")[1].split("/")[0]
        kind = args.typ.rsplit(":", 1)[-1].lower()
        state = {
            **args.inputs,
            "arn": f"arn:aws:{service}:{self.region}:{self.account_id}:{kind}/{args.name}",
        }
        # The provider auto-names resources whose name the program leaves unset.
        state.setdefault("name", f"{args.name}-a1b2c3d")
        if args.typ == "aws:rds/instance:Instance":
            state.update(
                address=f"{args.name}.abc123.{self.region}.rds.amazonaws.com",
                endpoint=f"{args.name}.abc123.{self.region}.rds.amazonaws.com:5432",
                resourceId="db-ABCDEFGHIJKLMNOPQRSTUVWXYZ",
                masterUserSecrets=[{
                    "secretArn": f"arn:aws:secretsmanager:{self.region}:{self.account_id}"
                                 f":secret:rds!db-{args.name}-AbCdEf",
                    "kmsKeyId": args.inputs.get("masterUserSecretKmsKeyId", ""),
                    "secretStatus": "active",
                }],
            )
        if args.typ == "aws:kms/key:Key":
            state["keyId"] = resource_id
        if args.typ == "aws:s3/bucket:Bucket":
            state["bucket"] = args.inputs.get("bucket") or f"{args.name}-a1b2c3d"
            state["arn"] = f"arn:aws:s3:::{state['bucket']}"
        if args.typ == "aws:acm/certificate:Certificate":
            domain = args.inputs.get("domainName", "example.com")
            state["arn"] = f"arn:aws:acm:{self.region}:{self.account_id}:certificate/{resource_id}"
            state["domainValidationOptions"] = [{
                "domainName": domain, "resourceRecordName": f"_0123456789abcdef.{domain}.",
                "resourceRecordType": "CNAME",
                "resourceRecordValue": "_fedcba9876543210.acm-validations.aws.",
            }]
        if args.typ == "aws:acm/certificateValidation:CertificateValidation":
            state["certificateArn"] = args.inputs.get("certificateArn")
        if args.typ == "aws:route53/record:Record":
            state["fqdn"] = str(args.inputs.get("name", "")).rstrip(".")
        if args.typ in ("aws:lb/loadBalancer:LoadBalancer", "aws:lb/targetGroup:TargetGroup"):
            kind = "app" if args.typ.endswith("LoadBalancer") else "targetgroup"
            lb_name = args.inputs.get("name") or args.name
            suffix = f"{kind}/{lb_name}/0123456789abcdef"
            prefix = "loadbalancer/" if kind == "app" else ""
            state["arn"] = f"arn:aws:elasticloadbalancing:{self.region}:{self.account_id}:{prefix}{suffix}"
            state["arnSuffix"] = suffix
            if kind == "app":
                state["dnsName"] = f"{lb_name}-123456789.{self.region}.elb.amazonaws.com"
        if args.typ.startswith("aws:organizations/"):
            resource_id, state = self._organizations(args, state)
        if args.typ == "aws:sns/topic:Topic":
            topic = args.inputs.get("name") or args.name
            state["arn"] = f"arn:aws:sns:{self.region}:{self.account_id}:{topic}"
        return resource_id, state

    def _organizations(self, args: pulumi.runtime.MockResourceArgs, state: dict) -> tuple[str, dict]:
        """Organizations ids shaped as AWS's (botocore `organizations`: o-, r-, ou-, 12-digit account
        ids); an imported resource keeps the id it was imported with."""
        digest = int(hashlib.sha256(args.name.encode()).hexdigest(), 16)
        if args.typ == "aws:organizations/organization:Organization":
            resource_id = args.resource_id or f"o-{digest % 10**10:010d}"
            state.update(masterAccountId=self.account_id,
                         roots=[{"id": "r-" + f"{digest:x}"[:4], "name": "Root", "policyTypes": []}])
        elif args.typ == "aws:organizations/account:Account":
            resource_id = args.resource_id or f"{digest % 10**12:012d}"
        elif args.typ == "aws:organizations/organizationalUnit:OrganizationalUnit":
            resource_id = args.resource_id or f"ou-{digest % 10**4:04d}-{digest % 10**8:08d}"
        else:
            resource_id = args.resource_id or f"{args.name}-id"
        kind = args.typ.rsplit(":", 1)[-1].lower()
        state["arn"] = f"arn:aws:organizations::{self.account_id}:{kind}/{resource_id}"
        return resource_id, state
