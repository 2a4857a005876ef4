"""ThreatDetection: GuardDuty features, Security Hub standards, AWS Config and the HIPAA pack.

GuardDuty, Security Hub and the HIPAA pack are the account layer's where a stack owns its whole account
(`accountBaseline: owned`, run here through `owned_run`); in the shipped organization member accounts
the organization runs them (tests/test_account_layer.py), and the layer keeps the Config recorder.
"""

from __future__ import annotations

import json

import pytest

from components.conformance_pack import load_rules
from tests.conftest import owned_run, run_stack


def test_guardduty_publishes_every_15_minutes_with_each_protection_as_a_feature():
    prod = owned_run("prod")
    (detector,) = prod.of_type("aws:guardduty/detector:Detector")
    assert detector.inputs["enable"] is True
    assert detector.inputs["findingPublishingFrequency"] == "FIFTEEN_MINUTES"
    assert "datasources" not in detector.inputs
    features = {f.inputs["name"]: f.inputs for f in prod.of_type(
        "aws:guardduty/detectorFeature:DetectorFeature")}
    assert {"S3_DATA_EVENTS", "EBS_MALWARE_PROTECTION", "RDS_LOGIN_EVENTS",
            "RUNTIME_MONITORING"} <= set(features)
    assert not {"RUNTIME_MONITORING", "EKS_RUNTIME_MONITORING"} <= set(features)
    assert all(f["status"] == "ENABLED" and f["detectorId"] == detector.id for f in features.values())


@pytest.mark.parametrize("region", ["us-east-1", "eu-west-2"])
def test_security_hub_subscribes_to_real_standards_for_the_region(region):
    run = run_stack("prod", overrides={"aws:region": region, "accountBaseline": "owned"})
    (hub,) = run.of_type("aws:securityhub/account:Account")
    assert hub.inputs["enableDefaultStandards"] is False
    subscriptions = run.of_type("aws:securityhub/standardsSubscription:StandardsSubscription")
    assert {s.inputs["standardsArn"] for s in subscriptions} == {
        f"arn:aws:securityhub:{region}::standards/aws-foundational-security-best-practices/v/1.0.0",
        f"arn:aws:securityhub:{region}::standards/cis-aws-foundations-benchmark/v/3.0.0",
        f"arn:aws:securityhub:{region}::standards/nist-800-53/v/5.0.0",
    }
    assert all(hub.urn in s.dependencies for s in subscriptions)
    assert not any("hipaa" in s.inputs["standardsArn"] for s in subscriptions)


def test_config_records_everything_and_delivers_encrypted(prod):
    (recorder,) = prod.of_type("aws:cfg/recorder:Recorder")
    group = recorder.inputs["recordingGroup"]
    assert group["allSupported"] is True and group["includeGlobalResourceTypes"] is True
    (channel,) = prod.of_type("aws:cfg/deliveryChannel:DeliveryChannel")
    assert channel.inputs["s3BucketName"] == prod.named(
        "hipaa-account-config-delivery", "aws:s3/bucket:Bucket").outputs["bucket"]
    assert channel.inputs["s3KmsKeyArn"] == prod.named(
        "hipaa-account-keys-config", "aws:kms/key:Key").outputs["arn"]
    (status,) = prod.of_type("aws:cfg/recorderStatus:RecorderStatus")
    assert status.inputs["isEnabled"] is True and channel.urn in status.dependencies
    attachment_urns = {a.urn for a in prod.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
                       if a.name.startswith("hipaa-account-config")}
    assert len(attachment_urns) == 2 and attachment_urns <= set(status.dependencies)
    role = prod.by_urn(next(u for u in recorder.property_dependencies["roleArn"]))
    attachments = [a.inputs["policyArn"] for a in prod.of_type(
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment") if a.inputs["role"] == role.outputs["name"]]
    assert "arn:aws:iam::aws:policy/service-role/AWS_ConfigRole" in attachments
    assert len(attachments) == 2  # plus the delivery policy for its own bucket and key


def test_conformance_pack_template_parses_and_names_only_managed_rules_from_the_table():
    prod = owned_run("prod")
    (pack,) = prod.of_type("aws:cfg/conformancePack:ConformancePack")
    template = json.loads(pack.inputs["templateBody"])
    table = {r.name: r for r in load_rules()}
    rules = [r["Properties"] for r in template["Resources"].values()]
    assert all(r["Type"] == "AWS::Config::ConfigRule" for r in template["Resources"].values())
    assert len(rules) == sum(r.in_pack for r in table.values()) > 50
    for rule in rules:
        source = table[rule["ConfigRuleName"]]
        assert source.in_pack
        assert rule["Source"] == {"Owner": "AWS", "SourceIdentifier": source.identifier}
    by_name = {r["ConfigRuleName"]: r for r in rules}
    assert by_name["iam-password-policy"]["InputParameters"]["MinimumPasswordLength"] == "14"
    vpc_id = prod.named("hipaa-network", "aws:ec2/vpc:Vpc").id
    assert by_name["internet-gateway-authorized-vpc-only"]["InputParameters"] == {
        "AuthorizedVpcIds": vpc_id}
    (status,) = prod.of_type("aws:cfg/recorderStatus:RecorderStatus")
    assert status.urn in pack.dependencies


def test_the_rule_table_is_complete_and_explains_every_omission():
    rules = load_rules()
    assert len(rules) == 130
    assert len({r.name for r in rules}) == 130
    assert all(r.identifier.isupper() for r in rules)
    assert [r.name for r in rules if not r.in_pack and not r.why] == []
