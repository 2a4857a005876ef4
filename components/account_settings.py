"""Settings of the account layer (`accountLayer`), for the stack that owns its account's controls.

Each says how this stack fits what the account already has:
- AWS Config allows one customer-managed configuration recorder and one delivery channel per
  account and region (PutConfigurationRecorder / PutDeliveryChannel, AWS Config API Reference): a
  second name is refused (MaxNumberOfConfigurationRecordersExceededException,
  MaxNumberOfDeliveryChannelsExceededException) and the same name updates the existing one, so an
  account that already records (the console names its recorder `default`) is adopted by naming its
  recorder and channel here: the first `up` updates them in place (README, "Accounts"). Where
  Control Tower records, it owns them: that stack is `external`, not the owner.
- The conformance rule `internet-gateway-authorized-vpc-only` judges every internet gateway of the
  account and region: the VPCs of other stacks sharing the account must be authorized too.
"""

from __future__ import annotations

from typing import Annotated, Optional

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

# An EC2 VPC id: `vpc-` and 8 (older) or 17 hexadecimal digits (EC2 "Resource IDs").
VPC_ID = r"^vpc-(?:[0-9a-f]{8}|[0-9a-f]{17})$"
VpcId = Annotated[str, StringConstraints(pattern=VPC_ID)]


class AccountLayerSettings(BaseModel):
    # Names: 1-256 characters, as botocore's `config` model has RecorderName and ChannelName.
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    config_recorder_name: Optional[str] = Field(
        None, alias="configRecorderName", min_length=1, max_length=256)
    """The account's existing AWS Config recorder to adopt (unset: the layer creates
    `hipaa-aws-<stack>`)."""
    config_delivery_channel_name: Optional[str] = Field(
        None, alias="configDeliveryChannelName", min_length=1, max_length=256)
    """The account's existing delivery channel to adopt (unset: `hipaa-aws-<stack>`)."""
    # AWS Config rule parameters are at most 1,024 characters (botocore `config`,
    # StringWithCharLimit1024): 44 ids of 21 characters, comma-separated, with the JSON around them.
    authorized_vpc_ids: tuple[VpcId, ...] = Field((), alias="authorizedVpcIds", max_length=44)
    """VPCs besides this stack's own that may have an internet gateway: the `vpcId` output of each
    other stack deployed in this account and region."""

    def recorder_name(self, stack: str) -> str:
        return self.config_recorder_name or f"hipaa-aws-{stack}"

    def delivery_channel_name(self, stack: str) -> str:
        return self.config_delivery_channel_name or f"hipaa-aws-{stack}"
