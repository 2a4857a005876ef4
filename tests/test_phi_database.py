"""PhiDatabase: encrypted with the database key, in the data subnets, TLS-only, audited."""

from __future__ import annotations

import re
from datetime import datetime

from components.environment.phi_database import final_snapshot_name
from tests.conftest import arn_of, id_of, run_stack

INSTANCE = "aws:rds/instance:Instance"
KEY = "aws:kms/key:Key"


def db(run):
    return run.named("hipaa-db", INSTANCE)


def test_storage_and_performance_insights_are_encrypted_with_the_database_key(any_stack):
    inputs = db(any_stack).inputs
    database_key = arn_of(any_stack, "hipaa-keys-database", KEY)
    assert inputs["storageEncrypted"] is True
    assert inputs["kmsKeyId"] == database_key
    assert inputs["performanceInsightsEnabled"] is True
    assert inputs["performanceInsightsKmsKeyId"] == database_key


def test_master_password_lives_in_secrets_manager_under_the_secrets_key(any_stack):
    inputs = db(any_stack).inputs
    assert inputs["manageMasterUserPassword"] is True
    assert inputs["masterUserSecretKmsKeyId"] == arn_of(any_stack, "hipaa-keys-secrets", KEY)
    assert "password" not in inputs and "passwordWo" not in inputs
    assert any_stack.stack_outputs["databaseSecretArn"].startswith("arn:aws:secretsmanager:")


def test_sits_in_the_data_subnets_and_accepts_only_the_app_tier(any_stack):
    inputs = db(any_stack).inputs
    group = any_stack.named("hipaa-db", "aws:rds/subnetGroup:SubnetGroup")
    assert inputs["dbSubnetGroupName"] == group.outputs["name"]
    data_subnets = {r.id for r in any_stack.of_type("aws:ec2/subnet:Subnet")
                    if r.inputs["tags"]["Tier"] == "data"}
    assert set(group.inputs["subnetIds"]) == data_subnets
    db_sg = id_of(any_stack, "hipaa-network-db", "aws:ec2/securityGroup:SecurityGroup")
    app_sg = id_of(any_stack, "hipaa-network-app", "aws:ec2/securityGroup:SecurityGroup")
    assert inputs["vpcSecurityGroupIds"] == [db_sg]
    ingress = [r.inputs for r in any_stack.of_type(
        "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule") if r.inputs["securityGroupId"] == db_sg]
    assert [(r["referencedSecurityGroupId"], r["fromPort"]) for r in ingress] == [(app_sg, 5432)]
    assert inputs["publiclyAccessible"] is False


def test_iam_authentication_and_tls_are_required(any_stack):
    inputs = db(any_stack).inputs
    assert inputs["iamDatabaseAuthenticationEnabled"] is True
    group = any_stack.named("hipaa-db", "aws:rds/parameterGroup:ParameterGroup")
    assert inputs["parameterGroupName"] == group.outputs["name"]
    params = {p["name"]: p for p in group.inputs["parameters"]}
    assert params["rds.force_ssl"]["value"] == "1"
    assert params["ssl_min_protocol_version"]["value"] == "TLSv1.2"
    assert group.inputs["family"] == "postgres16"


def test_pgaudit_and_connection_logging_reach_cloudwatch(any_stack):
    inputs = db(any_stack).inputs
    group = any_stack.named("hipaa-db", "aws:rds/parameterGroup:ParameterGroup")
    params = {p["name"]: p for p in group.inputs["parameters"]}
    assert "pgaudit" in params["shared_preload_libraries"]["value"].split(",")
    assert params["shared_preload_libraries"]["applyMethod"] == "pending-reboot"
    assert params["pgaudit.role"]["value"] == "rds_pgaudit"
    assert params["pgaudit.log"]["value"]
    assert params["log_connections"]["value"] == params["log_disconnections"]["value"] == "1"
    assert inputs["enabledCloudwatchLogsExports"] == ["postgresql", "upgrade"]
    # pgAudit's statement text can hold PHI: the database key, not the shared logs key, and
    # classified like the database.
    database_key = arn_of(any_stack, "hipaa-keys-database", KEY)
    for export in ("postgresql", "upgrade"):
        group = any_stack.named(f"hipaa-db-{export}", "aws:cloudwatch/logGroup:LogGroup")
        assert group.inputs["name"] == f"/aws/rds/instance/{inputs['identifier']}/{export}"
        assert group.inputs["kmsKeyId"] == database_key
        assert group.inputs["retentionInDays"] == 2192
        assert group.inputs["tags"]["DataClassification"] == inputs["tags"]["DataClassification"]
        assert group.protect is db(any_stack).protect


def test_monitoring_upgrades_snapshots(any_stack):
    inputs = db(any_stack).inputs
    assert inputs["monitoringInterval"] == 60
    role = any_stack.named("hipaa-db-monitoring", "aws:iam/role:Role")
    assert inputs["monitoringRoleArn"] == role.outputs["arn"]
    assert "monitoring.rds.amazonaws.com" in role.inputs["assumeRolePolicy"]
    assert inputs["autoMinorVersionUpgrade"] is True
    assert inputs["copyTagsToSnapshot"] is True


def test_a_phi_database_keeps_a_final_snapshot_whose_name_cannot_collide(prod):
    """A fixed name fails the second delete (DBSnapshotAlreadyExists): the name is made unique at
    creation and kept (ignore_changes), so a replacement names its own final snapshot."""
    record = db(prod)
    assert record.inputs["skipFinalSnapshot"] is False
    assert re.fullmatch(r"hipaa-aws-prod-final-\d{14}", record.inputs["finalSnapshotIdentifier"])
    assert record.inputs["deleteAutomatedBackups"] is False
    assert "finalSnapshotIdentifier" in record.ignore_changes
    assert final_snapshot_name("x", datetime(2026, 1, 2, 3, 4, 5)) != final_snapshot_name(
        "x", datetime(2026, 1, 2, 3, 4, 6))


def test_a_synthetic_database_leaves_nothing_behind(staging):
    record = db(staging)
    assert record.inputs["skipFinalSnapshot"] is True
    assert "finalSnapshotIdentifier" not in record.inputs
    assert record.inputs["deleteAutomatedBackups"] is True


def test_prod_is_multi_az_deletion_protected_with_35_day_backups_and_protected(prod):
    record = db(prod)
    assert record.inputs["multiAz"] is True
    assert record.inputs["deletionProtection"] is True
    assert record.inputs["backupRetentionPeriod"] == 35
    assert record.protect is True


def test_staging_is_smaller_and_not_protected(staging):
    record = db(staging)
    assert record.inputs["multiAz"] is False
    assert record.inputs["backupRetentionPeriod"] == 7
    assert record.inputs["instanceClass"] == "db.t4g.medium"
    assert not record.protect


def test_prod_can_restore_its_own_snapshot_for_disaster_recovery():
    run = run_stack("prod", overrides={"database": {"snapshotIdentifier": "hipaa-aws-prod-final"}})
    inputs = db(run).inputs
    assert inputs["snapshotIdentifier"] == "hipaa-aws-prod-final"
    assert "username" not in inputs and inputs["storageEncrypted"] is True
