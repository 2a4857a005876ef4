"""EC2 compute and EBS: IMDSv2, no public IPs, encrypted volumes, instance profiles, ELB health checks."""

from __future__ import annotations

from collections.abc import Iterable

from pulumi_policy import Severity

from .framework import (
    ACCESS_CONTROL, AUTHENTICATION, DISASTER_RECOVERY, ENCRYPTION_AT_REST, Metadata, Props,
    Resource, resource_policy,
)

INSTANCE = ("aws:ec2/instance:Instance",)
LAUNCH_TEMPLATE = ("aws:ec2/launchTemplate:LaunchTemplate",)
LAUNCH_CONFIGURATION = ("aws:ec2/launchConfiguration:LaunchConfiguration",)
VOLUME = ("aws:ebs/volume:Volume",)
SNAPSHOT_COPY = ("aws:ebs/snapshotCopy:SnapshotCopy",)
VOLUME_PERMISSION = ("aws:ec2/snapshotCreateVolumePermission:SnapshotCreateVolumePermission",)
ENCRYPTION_BY_DEFAULT = ("aws:ebs/encryptionByDefault:EncryptionByDefault",)
GROUP = ("aws:autoscaling/group:Group",)


def _meta(name, description, control, remediation, rules=(), **kw) -> Metadata:
    return Metadata(name, description, control, remediation, config_rules=tuple(rules),
                    service="ec2", **kw)


def _imdsv2(r: Resource) -> Iterable[str]:
    if r.props.get("metadataOptions", "httpTokens") != "required":
        yield "Set metadataOptions.httpTokens to required (IMDSv2)."


def _no_public_ip(r: Resource) -> Iterable[str]:
    if r.type in LAUNCH_TEMPLATE:
        if any(n.bool("associatePublicIpAddress") is True for n in r.props.each("networkInterfaces")):
            yield "Set networkInterfaces[].associatePublicIpAddress to false."
    elif r.props.bool("associatePublicIpAddress") is True:
        yield "Set associatePublicIpAddress to false."


def _named_key_is_customer(device: Props, *path: str) -> bool:
    """A device that names a KMS key must name a customer-managed one, never an AWS managed alias such as
    alias/aws/ebs; without one EBS uses the region's default key (aws.ebs.DefaultKmsKey)."""
    return not device.is_set(*path) or device.customer_key(*path)


def _devices_encrypted(r: Resource) -> Iterable[str]:
    if r.type in LAUNCH_TEMPLATE:
        for mapping in r.props.each("blockDeviceMappings"):
            if mapping.is_set("ebs") and mapping.bool("ebs", "encrypted") is not True:
                yield "Set blockDeviceMappings[].ebs.encrypted to true."
            if mapping.is_set("ebs") and not _named_key_is_customer(mapping, "ebs", "kmsKeyId"):
                yield "Set blockDeviceMappings[].ebs.kmsKeyId to a customer-managed key."
        return
    # Instances and launch configurations: an unset rootBlockDevice is the AMI's root mapping, encrypted
    # only if its snapshot is (or EBS encryption by default is on): both default encrypted to false.
    root = Props(r.props.map("rootBlockDevice"))
    if root.bool("encrypted") is not True:
        yield "Set rootBlockDevice.encrypted to true."
    # Launch configurations take no KMS key ID (EC2 Auto Scaling Ebs.Encrypted); instances do.
    if r.type in INSTANCE and not _named_key_is_customer(root, "kmsKeyId"):
        yield "Set rootBlockDevice.kmsKeyId to a customer-managed key."
    for device in r.props.each("ebsBlockDevices"):
        # A launch configuration's noDevice suppresses the AMI's mapping: there is no volume.
        if r.type in LAUNCH_CONFIGURATION and device.bool("noDevice") is True:
            continue
        if device.bool("encrypted") is not True:
            yield "Set ebsBlockDevices[].encrypted to true."
        if r.type in INSTANCE and not _named_key_is_customer(device, "kmsKeyId"):
            yield "Set ebsBlockDevices[].kmsKeyId to a customer-managed key."


def _profile(r: Resource) -> Iterable[str]:
    if not r.props.is_set("iamInstanceProfile"):
        yield "Set iamInstanceProfile to a least-privilege instance profile."


def _in_vpc(r: Resource) -> Iterable[str]:
    if not r.props.is_set("subnetId") and not r.props.size("networkInterfaces"):
        yield "Set subnetId to a private subnet."


def _volume(r: Resource) -> Iterable[str]:
    if r.props.bool("encrypted") is not True:
        yield "Set encrypted to true."
    if not r.props.customer_key("kmsKeyId"):
        yield "Set kmsKeyId to a customer-managed key."


def _not_public_snapshot(r: Resource) -> Iterable[str]:
    if str(r.props.get("accountId")) == "all":
        yield 'Share the snapshot with named accounts, never "all".'


def _encryption_by_default(r: Resource) -> Iterable[str]:
    if r.props.bool("enabled") is False:
        yield "Set enabled to true."


def _elb_health_check(r: Resource) -> Iterable[str]:
    balanced = r.props.size("targetGroupArns") or r.props.size("loadBalancers")
    if balanced and r.props.get("healthCheckType") != "ELB":
        yield "Set healthCheckType to ELB."


POLICIES = [
    resource_policy(_meta("aws-ec2-imdsv2-required", "EC2 instances, launch templates and launch configurations must require IMDSv2.",
                          ACCESS_CONTROL, "Set metadataOptions.httpTokens=required.", ["ec2-imdsv2-check"]),
                    INSTANCE + LAUNCH_TEMPLATE + LAUNCH_CONFIGURATION, _imdsv2),
    resource_policy(_meta("aws-ec2-no-public-ip", "EC2 instances, launch templates and launch configurations must not get public IPs.",
                          ACCESS_CONTROL, "Set associatePublicIpAddress=false and use private subnets behind a load balancer.",
                          ["ec2-instance-no-public-ip", "autoscaling-launch-config-public-ip-disabled"]),
                    INSTANCE + LAUNCH_TEMPLATE + LAUNCH_CONFIGURATION, _no_public_ip),
    resource_policy(_meta("aws-ec2-block-devices-encrypted", "EC2 block devices must be encrypted.",
                          ENCRYPTION_AT_REST, "Set encrypted=true on every block device (and keep EBS encryption by default on).",
                          ["encrypted-volumes"]), INSTANCE + LAUNCH_TEMPLATE + LAUNCH_CONFIGURATION, _devices_encrypted),
    resource_policy(_meta("aws-ec2-instance-profile-attached", "EC2 instances must run with an instance profile, not embedded credentials.",
                          AUTHENTICATION, "Set iamInstanceProfile.", ["ec2-instance-profile-attached"],
                          severity=Severity.MEDIUM), INSTANCE, _profile),
    resource_policy(_meta("aws-ec2-instance-in-vpc", "EC2 instances must be launched in a VPC subnet.",
                          ACCESS_CONTROL, "Set subnetId to a private subnet.", ["ec2-instances-in-vpc"]),
                    INSTANCE, _in_vpc),
    resource_policy(_meta("aws-ebs-volume-encrypted", "EBS volumes and snapshot copies must be encrypted with a customer-managed key.",
                          ENCRYPTION_AT_REST, "Set encrypted=true and kmsKeyId.", ["encrypted-volumes"]),
                    VOLUME + SNAPSHOT_COPY, _volume),
    resource_policy(_meta("aws-ebs-snapshot-not-public", "EBS snapshots must not be restorable by everyone.",
                          ACCESS_CONTROL, 'Remove create-volume permissions for "all".',
                          ["ebs-snapshot-public-restorable-check"]), VOLUME_PERMISSION, _not_public_snapshot),
    resource_policy(_meta("aws-ebs-encryption-by-default", "EBS encryption by default must stay on.",
                          ENCRYPTION_AT_REST, "Set enabled=true.", ["ec2-ebs-encryption-by-default"]),
                    ENCRYPTION_BY_DEFAULT, _encryption_by_default),
    resource_policy(_meta("aws-autoscaling-elb-health-check", "Auto Scaling groups behind a load balancer must use its health checks.",
                          DISASTER_RECOVERY, "Set healthCheckType=ELB.", ["autoscaling-group-elb-healthcheck-required"],
                          severity=Severity.MEDIUM), GROUP, _elb_health_check),
]
