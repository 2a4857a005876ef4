"""What the mocked AWS provider answers: data-source invokes, and outputs after a create.

Invokes run for real during `pulumi preview`, so their results are known in both modes.
`call()` raises on any token it does not know, so a new, unmocked invoke fails loudly.
"""

from __future__ import annotations

from typing import Any

import pulumi

MOCK_ACCOUNT_ID = "123456789012"


class AwsMocks(pulumi.runtime.Mocks):
    """Mocks for one region and account."""

    def __init__(self, region: str = "us-east-1", account_id: str = MOCK_ACCOUNT_ID):
        self.region = region
        self.account_id = account_id

    def call(self, args: pulumi.runtime.MockCallArgs) -> dict[str, Any]:
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
            letters = "abcdef"
            return {"id": self.region, "names": [f"{self.region}{c}" for c in letters],
                    "zoneIds": [f"use1-az{i + 1}" for i in range(len(letters))],
                    "groupNames": [self.region]}
        raise NotImplementedError(f"no mock for invoke {args.token}; add one to AwsMocks.call")

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
        if args.typ == "aws:sns/topic:Topic":
            state["arn"] = f"arn:aws:sns:{self.region}:{self.account_id}:{args.inputs.get('name') or args.name}"
        return resource_id, state
