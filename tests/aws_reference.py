"""Authoritative AWS reference data for tests/test_aws_api_models.py.

Three kinds of source, each named where it is used:

- AWS's managed-policy list as shipped by the PyPI package `moto` (`moto/iam/aws_managed_policies.py`,
  the data moto's IAM backend loads when `MOTO_IAM_LOAD_MANAGED_POLICIES=true`; moto refreshes it
  from the real account list with `make aws_managed_policies`).
- botocore's service models (the API models every AWS SDK is generated from): enums, length and
  range limits, patterns, and the "Valid Values:" lines of their documentation.
- Dated tables for values AWS documents only in prose (page title and URL beside each table,
  checked on CHECKED_ON with the search tool). Where botocore's documentation repeats the prose,
  a test compares the table with it, so a change on AWS's side shows up as a test failure here.

The tables map pulumi-aws 7.x resource type tokens and camelCase input paths (`rules[].status`:
`[]` marks every element of a list) to botocore services and shapes.
"""

from __future__ import annotations

import functools
import html
import importlib
import importlib.metadata
import importlib.util
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

CHECKED_ON = "2026-11-23"

# ---------------------------------------------------------------------------------------------
# AWS managed policies (moto)
# ---------------------------------------------------------------------------------------------

MANAGED_POLICY_SOURCE = ("moto.iam.aws_managed_policies.aws_managed_policies_data (PyPI moto>=5.1,<6): "
                         "AWS's managed-policy list, keyed by policy name, with each policy's Path")
# ARNs of AWS managed policies: arn:<partition>:iam::aws:policy<path><name>. IAM names and paths
# use [\w+=,.@-] (IAM CreatePolicy PolicyName/Path patterns in botocore).
# A name followed by more path or a wildcard (`policy/service-role/*`) is a pattern, not a policy.
MANAGED_POLICY_ARN = re.compile(
    r"arn:(aws(?:-[a-z]+)*):iam::aws:policy(/(?:[\w+=,.@-]+/)*)([\w+=,.@-]+)(?![\w+=,.@/*?-])")


@dataclass(frozen=True)
class ManagedPolicyList:
    version: str                    # moto's version
    as_of: str                      # newest UpdateDate in the data
    paths: Mapping[str, str]        # policy name -> path ("/", "/service-role/", ...)

    def arn(self, name: str, partition: str = "aws") -> str:
        return f"arn:{partition}:iam::aws:policy{self.paths[name]}{name}"


def moto_data_module(relative: str):
    """A data-only module of moto (`iam/aws_managed_policies.py`), loaded by itself: importing it
    through its package would load moto's whole IAM backend (seconds) for one constant."""
    spec = importlib.util.find_spec("moto")
    assert spec is not None and spec.origin, "moto is not installed (requirements-dev.txt)"
    path = Path(spec.origin).parent / relative
    module_spec = importlib.util.spec_from_file_location(f"_moto_data_{path.stem}", path)
    assert module_spec is not None and module_spec.loader is not None, path
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return module


@functools.cache
def managed_policies() -> ManagedPolicyList:
    """AWS's managed policies, from moto's copy of the list (loaded once per process)."""
    data = json.loads(moto_data_module("iam/aws_managed_policies.py").aws_managed_policies_data)
    return ManagedPolicyList(
        version=importlib.metadata.version("moto"),
        as_of=max(str(p.get("UpdateDate", "")) for p in data.values())[:10],
        paths={name: policy["Path"] for name, policy in data.items()},
    )


# ---------------------------------------------------------------------------------------------
# botocore service models
# ---------------------------------------------------------------------------------------------


@functools.cache
def _session():
    import botocore.session

    return botocore.session.get_session()


@functools.cache
def service_model(service: str):
    return _session().get_service_model(service)


def shape(service: str, name: str):
    """A named shape of a service model (an operation's input shape or any other shape)."""
    return service_model(service).shape_for(name)


@functools.cache
def enum_values(service: str, shape_name: str) -> tuple[str, ...]:
    values = tuple(getattr(shape(service, shape_name), "enum", None) or ())
    if not values:
        raise LookupError(f"botocore models {service} {shape_name} without an enum")
    return values


def botocore_version() -> str:
    import botocore

    return botocore.__version__


def plain_documentation(member) -> str:
    """A member's botocore documentation as plain text (tags dropped, entities decoded)."""
    text = re.sub(r"<[^>]+>", " ", member.documentation or "")
    return re.sub(r"\s+", " ", html.unescape(text)).strip()


_VALID_VALUES = re.compile(r"Valid Values:\s*((?:[\w.:/-]+\s*\|\s*)+[\w.:/-]+)")
_VALID_VALUES_PROSE = re.compile(r"Valid (?:values|settings) are:?\s*([\w ,-]+?)\s*\.")
_POSSIBLE_VALUES = re.compile(r"Possible values are:?\s*([\w ,]+?)\s*\.")
_BULLETED_VALUES = re.compile(r"(?:^|\s)([a-z][a-z0-9-]*) \u2013 ")


def documented_valid_values(member) -> Optional[tuple[Any, ...]]:
    """The closed list of values a member's botocore documentation gives, if it gives one.

    Forms AWS uses: "Valid Values: a | b | c", "Valid values are A and B." (or "Valid settings are
    60, 120, 300, and 600."), "Possible values are:
    1, 3, and 5." and a bulleted "name – what it does" list (SNS protocols)."""
    text = plain_documentation(member)
    match = _VALID_VALUES.search(text)
    if match:
        return tuple(int(v) if v.isdigit() else v for v in (t.strip() for t in match.group(1).split("|")))
    for pattern in (_VALID_VALUES_PROSE, _POSSIBLE_VALUES):
        match = pattern.search(text)
        if match:
            tokens = [t for t in re.split(r",\s*|\s+and\s+|\s+or\s+", match.group(1).strip()) if t]
            tokens = [t[4:] if t.startswith("and ") else t for t in tokens]
            if len(tokens) >= 2 and all(re.fullmatch(r"[A-Z0-9_-]+|\d+", t) for t in tokens):
                return tuple(int(t) if t.isdigit() else t for t in tokens)
    bulleted = _BULLETED_VALUES.findall(text)
    if len(bulleted) >= 2:
        return tuple(bulleted)
    return None


# ---------------------------------------------------------------------------------------------
# Which botocore input shapes a pulumi-aws resource's inputs end up in
# ---------------------------------------------------------------------------------------------

# Inputs of every resource that botocore does not see: pulumi-aws 7's per-resource region selects
# the endpoint; tags travel by TagResource/Tags members shaped differently per service (and are
# checked by tests/test_stacks.py).
NOT_SENT_ANYWHERE = {
    "region": "pulumi-aws 7 per-resource region: selects the endpoint, not an API parameter",
    "tags": "tags: checked by tests/test_stacks.py; every service shapes them differently",
    "tagsAll": "provider-computed tags",
}


@dataclass(frozen=True)
class ApiModel:
    """Where the provider sends a resource type's inputs.

    `shapes`: botocore input shapes (an operation's request or a structure inside one), tried in
    order for each input. A pulumi property matches the member of the same name (case and
    punctuation ignored, singular or plural). `renames` (pulumi path without `[]` -> member path,
    dotted, relative to the shape reached so far) covers the names that differ. `not_sent`: pulumi
    paths that no API parameter carries (provider behaviour), with the reason.
    """

    service: str
    shapes: tuple[str, ...]
    renames: Mapping[str, str] = field(default_factory=dict)
    not_sent: Mapping[str, str] = field(default_factory=dict)
    # Pulumi maps (path without `[]`) the provider sends as a list of {Name, Value} structures
    # (CloudWatch `dimensions`): each map value is checked as that structure's Value.
    name_value_maps: tuple[str, ...] = ()


# A rename to FLATTEN: the pulumi block's members are members of the shape reached so far (the
# provider flattens `healthCheck { interval }` into `HealthCheckIntervalSeconds`).
FLATTEN = ""


_SNS_TOPIC_ATTRIBUTES = {name: "Attributes" for name in (
    "kmsMasterKeyId", "policy", "displayName", "deliveryPolicy", "fifoTopic", "contentBasedDeduplication",
    "signatureVersion", "tracingConfig", "archivePolicy", "fifoThroughputScope")}
_PROVIDER_ONLY_NAMES = "namePrefix: the provider generates the name"
_LISTENER_RENAMES = {
    "certificateArn": "Certificates.CertificateArn", "defaultActions.redirect": "RedirectConfig",
    "defaultActions.forward": "ForwardConfig", "defaultActions.fixedResponse": "FixedResponseConfig",
    "defaultActions.authenticateCognito": "AuthenticateCognitoConfig",
    "defaultActions.authenticateOidc": "AuthenticateOidcConfig",
    "defaultActions.jwtValidation": "JwtValidationConfig",
    "defaultActions.forward.targetGroups.arn": "TargetGroupArn",
    "defaultActions.forward.stickiness.duration": "DurationSeconds",
    "mutualAuthentication.advertiseTrustStoreCaNames": "AdvertiseTrustStoreCaNames",
}

# Load balancer and target group settings the provider sends as ModifyLoadBalancerAttributes /
# ModifyTargetGroupAttributes key-value pairs (`access_logs.s3.bucket`,
# `deregistration_delay.timeout_seconds`): each value is an attribute's Value.
_LOAD_BALANCER_ATTRIBUTES = {
    **{name: "Attributes.Value" for name in (
        "clientKeepAlive", "desyncMitigationMode", "dnsRecordClientRoutingPolicy", "dropInvalidHeaderFields",
        "enableCrossZoneLoadBalancing", "enableDeletionProtection", "enableHttp2",
        "enableTlsVersionAndCipherSuiteHeaders", "enableWafFailOpen", "enableXffClientPort",
        "enableZonalShift", "idleTimeout", "preserveHostHeader", "xffHeaderProcessingMode",
        "secondaryIpsAutoAssignedPerSubnet")},
    **{block: "Attributes" for block in ("accessLogs", "connectionLogs", "healthCheckLogs")},
    **{f"{block}.{name}": "Value" for block in ("accessLogs", "connectionLogs", "healthCheckLogs")
       for name in ("bucket", "enabled", "prefix")},
}
_TARGET_GROUP_ATTRIBUTES = {
    **{name: "Attributes.Value" for name in (
        "deregistrationDelay", "connectionTermination", "lambdaMultiValueHeadersEnabled",
        "loadBalancingAlgorithmType", "loadBalancingAnomalyMitigation", "loadBalancingCrossZoneEnabled",
        "preserveClientIp", "proxyProtocolV2", "slowStart")},
    **{block: "Attributes" for block in ("stickiness", "targetFailovers", "targetHealthStates")},
    **{f"stickiness.{name}": "Value" for name in ("cookieDuration", "cookieName", "enabled", "type")},
    **{f"targetFailovers.{name}": "Value" for name in ("onDeregistration", "onUnhealthy")},
    **{f"targetHealthStates.{name}": "Value"
       for name in ("enableUnhealthyConnectionTermination", "unhealthyDrainingInterval")},
}
# Metric specifications of Application Auto Scaling policies (pulumi `metricDataQueries`, `metrics`
# and `dimensions` lists; botocore `MetricDataQueries`, `Metrics`, `Dimensions`).
_APPAUTOSCALING_METRIC_RENAMES = {
    f"predictiveScalingPolicyConfiguration.metricSpecifications.{spec}.metricDataQueries": "MetricDataQueries"
    for spec in ("customizedCapacityMetricSpecification", "customizedLoadMetricSpecification",
                 "customizedScalingMetricSpecification")
}

# Every resource type the program registers must be here (tests/test_aws_api_models.py checks it).
API_MODELS: dict[str, ApiModel] = {
    "aws:accessanalyzer/analyzer:Analyzer": ApiModel("accessanalyzer", ("CreateAnalyzerRequest",)),
    "aws:backup/plan:Plan": ApiModel("backup", ("BackupPlanInput",), renames={
        "name": "BackupPlanName", "rules.targetVaultName": "TargetBackupVaultName",
        "rules.schedule": "ScheduleExpression", "rules.startWindow": "StartWindowMinutes",
        "rules.completionWindow": "CompletionWindowMinutes",
        "rules.lifecycle.deleteAfter": "DeleteAfterDays",
        "rules.lifecycle.coldStorageAfter": "MoveToColdStorageAfterDays",
        "rules.copyActions.lifecycle.deleteAfter": "DeleteAfterDays",
        "rules.copyActions.lifecycle.coldStorageAfter": "MoveToColdStorageAfterDays",
        "rules.copyActions.destinationVaultArn": "DestinationBackupVaultArn",
        "rules.targetLogicallyAirGappedBackupVaultArn": "TargetLogicallyAirGappedBackupVaultArn",
        "advancedBackupSettings.backupOptions": "BackupOptions",
    }),
    "aws:backup/selection:Selection": ApiModel(
        "backup", ("CreateBackupSelectionInput", "BackupSelection"),
        renames={"name": "SelectionName", "planId": "BackupPlanId", "selectionTags": "ListOfTags",
                 "selectionTags.type": "ConditionType",
                 "selectionTags.key": "ConditionKey", "selectionTags.value": "ConditionValue"}),
    "aws:backup/vault:Vault": ApiModel(
        "backup", ("CreateBackupVaultInput",),
        renames={"name": "BackupVaultName", "kmsKeyArn": "EncryptionKeyArn"},
        not_sent={"forceDestroy": "provider deletes recovery points before DeleteBackupVault"}),
    "aws:backup/vaultLockConfiguration:VaultLockConfiguration": ApiModel(
        "backup", ("PutBackupVaultLockConfigurationInput",)),
    "aws:cfg/conformancePack:ConformancePack": ApiModel(
        "config", ("PutConformancePackRequest",), renames={
            "name": "ConformancePackName", "inputParameters": "ConformancePackInputParameters"}),
    "aws:cfg/deliveryChannel:DeliveryChannel": ApiModel(
        "config", ("DeliveryChannel",),
        renames={"snapshotDeliveryProperties": "configSnapshotDeliveryProperties"}),
    "aws:cfg/recorder:Recorder": ApiModel("config", ("ConfigurationRecorder",)),
    "aws:cfg/recorderStatus:RecorderStatus": ApiModel(
        "config", ("StartConfigurationRecorderRequest",), renames={"name": "ConfigurationRecorderName"},
        not_sent={"isEnabled": "provider calls StartConfigurationRecorder or StopConfigurationRecorder"}),
    "aws:cloudtrail/trail:Trail": ApiModel(
        "cloudtrail", ("CreateTrailRequest", "PutEventSelectorsRequest", "PutInsightSelectorsRequest"),
        renames={
            "cloudWatchLogsGroupArn": "CloudWatchLogsLogGroupArn",
            "advancedEventSelectors.fieldSelectors.startsWiths": "StartsWith",
            "advancedEventSelectors.fieldSelectors.endsWiths": "EndsWith",
            "advancedEventSelectors.fieldSelectors.notStartsWiths": "NotStartsWith",
            "advancedEventSelectors.fieldSelectors.notEndsWiths": "NotEndsWith",
            "eventSelectors.dataResources.values": "Values",
            "insightSelectors": "InsightSelectors",
        }, not_sent={"enableLogging": "provider calls StartLogging or StopLogging"}),
    "aws:cloudwatch/contributorInsightRule:ContributorInsightRule": ApiModel(
        "cloudwatch", ("PutInsightRuleInput",)),
    "aws:cloudwatch/eventRule:EventRule": ApiModel(
        "events", ("PutRuleRequest",), not_sent={"namePrefix": _PROVIDER_ONLY_NAMES,
                                                 "isEnabled": "deprecated alias of state"}),
    "aws:cloudwatch/eventTarget:EventTarget": ApiModel(
        "events", ("PutTargetsRequest", "Target"), renames={
            "targetId": "Id", "ecsTarget": "EcsParameters",
            "ecsTarget.networkConfiguration": "NetworkConfiguration.awsvpcConfiguration",
            "ecsTarget.networkConfiguration.assignPublicIp": "AssignPublicIp",
            "ecsTarget.networkConfiguration.subnets": "Subnets",
            "ecsTarget.networkConfiguration.securityGroups": "SecurityGroups",
            "ecsTarget.orderedPlacementStrategies": "PlacementStrategy",
            "batchTarget": "BatchParameters", "kinesisTarget": "KinesisParameters",
            "sqsTarget": "SqsParameters",
            "httpTarget": "HttpParameters", "redshiftTarget": "RedshiftDataParameters",
            "sagemakerPipelineTarget": "SageMakerPipelineParameters", "appsyncTarget": "AppSyncParameters",
            "runCommandTargets": "RunCommandParameters.RunCommandTargets",
            "inputTransformer.inputPaths": "InputPathsMap"},
        not_sent={"forceDestroy": "provider removes managed-rule targets"}),
    "aws:cloudwatch/logGroup:LogGroup": ApiModel(
        "logs", ("CreateLogGroupRequest", "PutRetentionPolicyRequest"), renames={"name": "logGroupName"},
        not_sent={"skipDestroy": "provider leaves the group on destroy", "namePrefix": _PROVIDER_ONLY_NAMES}),
    "aws:cloudwatch/logMetricFilter:LogMetricFilter": ApiModel("logs", ("PutMetricFilterRequest",), renames={
        "name": "filterName", "pattern": "filterPattern", "metricTransformation.name": "metricName",
        "metricTransformation.namespace": "metricNamespace", "metricTransformation.value": "metricValue"}),
    # The app audit trail and log protection (issue 19). botocore `logs` CreateLogStream,
    # PutSubscriptionFilter, CreateLogAnomalyDetector/UpdateLogAnomalyDetector (`enabled` is only an
    # UpdateLogAnomalyDetector member) and PutDataProtectionPolicy (the log group is sent as
    # logGroupIdentifier, a name or an ARN).
    "aws:cloudwatch/logStream:LogStream": ApiModel(
        "logs", ("CreateLogStreamRequest",), renames={"name": "logStreamName"}),
    "aws:cloudwatch/logSubscriptionFilter:LogSubscriptionFilter": ApiModel(
        "logs", ("PutSubscriptionFilterRequest",),
        renames={"name": "filterName", "logGroup": "logGroupName"}),
    "aws:cloudwatch/logAnomalyDetector:LogAnomalyDetector": ApiModel(
        "logs", ("CreateLogAnomalyDetectorRequest", "UpdateLogAnomalyDetectorRequest")),
    "aws:cloudwatch/logDataProtectionPolicy:LogDataProtectionPolicy": ApiModel(
        "logs", ("PutDataProtectionPolicyRequest",), renames={"logGroupName": "logGroupIdentifier"}),
    "aws:cloudwatch/metricAlarm:MetricAlarm": ApiModel("cloudwatch", ("PutMetricAlarmInput",), renames={
        "name": "AlarmName", "metricQueries": "Metrics", "metricQueries.metric": "MetricStat",
        "metricQueries.metric.metricName": "Metric.MetricName",
        "metricQueries.metric.namespace": "Metric.Namespace",
        "metricQueries.metric.dimensions": "Metric.Dimensions"},
        name_value_maps=("dimensions", "metricQueries.metric.dimensions")),
    "aws:ebs/defaultKmsKey:DefaultKmsKey": ApiModel(
        "ec2", ("ModifyEbsDefaultKmsKeyIdRequest",), renames={"keyArn": "KmsKeyId"}),
    "aws:ebs/encryptionByDefault:EncryptionByDefault": ApiModel(
        "ec2", ("EnableEbsEncryptionByDefaultRequest",),
        not_sent={"enabled": "provider calls EnableEbsEncryptionByDefault or DisableEbsEncryptionByDefault"}),
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": ApiModel(
        "ec2", ("CreateSecurityGroupRequest",),
        not_sent={"revokeRulesOnDelete": "provider behaviour on destroy"}),
    "aws:ec2/eip:Eip": ApiModel("ec2", ("AllocateAddressRequest",)),
    "aws:ec2/flowLog:FlowLog": ApiModel("ec2", ("CreateFlowLogsRequest",), renames={
        "iamRoleArn": "DeliverLogsPermissionArn", "vpcId": "ResourceIds", "subnetId": "ResourceIds",
        "eniId": "ResourceIds", "transitGatewayId": "ResourceIds",
        "transitGatewayAttachmentId": "ResourceIds", "logGroupName": "LogGroupName"}),
    "aws:ec2/internetGateway:InternetGateway": ApiModel(
        "ec2", ("CreateInternetGatewayRequest", "AttachInternetGatewayRequest")),
    "aws:ec2/natGateway:NatGateway": ApiModel("ec2", ("CreateNatGatewayRequest",)),
    "aws:ec2/route:Route": ApiModel("ec2", ("CreateRouteRequest",)),
    "aws:ec2/routeTable:RouteTable": ApiModel("ec2", ("CreateRouteTableRequest",)),
    "aws:ec2/routeTableAssociation:RouteTableAssociation": ApiModel("ec2", ("AssociateRouteTableRequest",)),
    "aws:ec2/securityGroup:SecurityGroup": ApiModel(
        "ec2", ("CreateSecurityGroupRequest",), renames={"name": "GroupName"},
        not_sent={"revokeRulesOnDelete": "provider behaviour on destroy",
                  "namePrefix": _PROVIDER_ONLY_NAMES}),
    "aws:ec2/subnet:Subnet": ApiModel("ec2", ("CreateSubnetRequest", "ModifySubnetAttributeRequest")),
    "aws:ec2/vpc:Vpc": ApiModel("ec2", ("CreateVpcRequest", "ModifyVpcAttributeRequest")),
    "aws:ec2/vpcEndpoint:VpcEndpoint": ApiModel(
        "ec2", ("CreateVpcEndpointRequest",), renames={"policy": "PolicyDocument"},
        not_sent={"autoAccept": "provider accepts the endpoint connection"}),
    "aws:guardduty/detector:Detector": ApiModel("guardduty", ("CreateDetectorRequest",)),
    "aws:guardduty/detectorFeature:DetectorFeature": ApiModel(
        "guardduty", ("DetectorFeatureConfiguration", "UpdateDetectorRequest")),
    "aws:iam/accountPasswordPolicy:AccountPasswordPolicy": ApiModel(
        "iam", ("UpdateAccountPasswordPolicyRequest",)),
    "aws:iam/openIdConnectProvider:OpenIdConnectProvider": ApiModel(
        "iam", ("CreateOpenIDConnectProviderRequest",)),
    "aws:iam/policy:Policy": ApiModel(
        "iam", ("CreatePolicyRequest",), renames={"name": "PolicyName", "policy": "PolicyDocument"},
        not_sent={"namePrefix": _PROVIDER_ONLY_NAMES}),
    "aws:iam/role:Role": ApiModel(
        "iam", ("CreateRoleRequest",),
        renames={"name": "RoleName", "assumeRolePolicy": "AssumeRolePolicyDocument"},
        not_sent={"namePrefix": _PROVIDER_ONLY_NAMES,
                  "forceDetachPolicies": "provider detaches policies before DeleteRole"}),
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": ApiModel(
        "iam", ("AttachRolePolicyRequest",), renames={"role": "RoleName"}),
    "aws:iam/serviceLinkedRole:ServiceLinkedRole": ApiModel("iam", ("CreateServiceLinkedRoleRequest",)),
    # botocore `firehose` CreateDeliveryStream: the provider sends the block of the chosen
    # `destination` (extended_s3 -> ExtendedS3DestinationConfiguration) and the stream's encryption as
    # DeliveryStreamEncryptionConfigurationInput; buffering as BufferingHints, the S3 KMS key as
    # EncryptionConfiguration.KMSEncryptionConfig.
    "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream": ApiModel(
        "firehose", ("CreateDeliveryStreamInput",), renames={
            "name": "DeliveryStreamName",
            "serverSideEncryption": "DeliveryStreamEncryptionConfigurationInput",
            "extendedS3Configuration": "ExtendedS3DestinationConfiguration",
            "extendedS3Configuration.bufferingSize": "BufferingHints.SizeInMBs",
            "extendedS3Configuration.bufferingInterval": "BufferingHints.IntervalInSeconds",
            "extendedS3Configuration.kmsKeyArn": "EncryptionConfiguration.KMSEncryptionConfig.AWSKMSKeyARN",
            "extendedS3Configuration.s3BackupConfiguration.bufferingSize": "BufferingHints.SizeInMBs",
            "extendedS3Configuration.s3BackupConfiguration.bufferingInterval":
                "BufferingHints.IntervalInSeconds",
            "extendedS3Configuration.s3BackupConfiguration.kmsKeyArn":
                "EncryptionConfiguration.KMSEncryptionConfig.AWSKMSKeyARN",
            "extendedS3Configuration.dynamicPartitioningConfiguration.retryDuration":
                "RetryOptions.DurationInSeconds",
        }, not_sent={
            "destination": "provider picks which destination configuration it sends",
            "serverSideEncryption.enabled":
                "provider sends DeliveryStreamEncryptionConfigurationInput only when enabled "
                "(StartDeliveryStreamEncryption / StopDeliveryStreamEncryption on update)"}),
    "aws:kms/alias:Alias": ApiModel(
        "kms", ("CreateAliasRequest",), renames={"name": "AliasName"},
        not_sent={"namePrefix": _PROVIDER_ONLY_NAMES}),
    "aws:kms/key:Key": ApiModel(
        "kms", ("CreateKeyRequest", "EnableKeyRotationRequest", "ScheduleKeyDeletionRequest"),
        renames={"deletionWindowInDays": "PendingWindowInDays"},
        not_sent={"enableKeyRotation": "provider calls EnableKeyRotation or DisableKeyRotation",
                  "isEnabled": "provider calls EnableKey or DisableKey"}),
    "aws:rds/instance:Instance": ApiModel(
        "rds", ("CreateDBInstanceMessage", "ModifyDBInstanceMessage", "DeleteDBInstanceMessage"), renames={
            "identifier": "DBInstanceIdentifier", "instanceClass": "DBInstanceClass",
            "username": "MasterUsername",
            "password": "MasterUserPassword", "parameterGroupName": "DBParameterGroupName",
            "backupWindow": "PreferredBackupWindow", "maintenanceWindow": "PreferredMaintenanceWindow",
            "iamDatabaseAuthenticationEnabled": "EnableIAMDatabaseAuthentication",
            "performanceInsightsEnabled": "EnablePerformanceInsights",
            "enabledCloudwatchLogsExports": "EnableCloudwatchLogsExports",
            "caCertIdentifier": "CACertificateIdentifier",
            "finalSnapshotIdentifier": "FinalDBSnapshotIdentifier",
            "optionGroupName": "OptionGroupName", "port": "Port", "iops": "Iops"},
        not_sent={"identifierPrefix": _PROVIDER_ONLY_NAMES,
                  "blueGreenUpdate": "provider orchestrates a blue/green deployment"}),
    "aws:rds/parameterGroup:ParameterGroup": ApiModel(
        "rds", ("CreateDBParameterGroupMessage", "ModifyDBParameterGroupMessage"), renames={
            "name": "DBParameterGroupName", "family": "DBParameterGroupFamily",
            "parameters.name": "ParameterName", "parameters.value": "ParameterValue"},
        not_sent={"namePrefix": _PROVIDER_ONLY_NAMES, "skipDestroy": "provider leaves the group on destroy"}),
    "aws:rds/subnetGroup:SubnetGroup": ApiModel(
        "rds", ("CreateDBSubnetGroupMessage",),
        renames={"name": "DBSubnetGroupName", "description": "DBSubnetGroupDescription"},
        not_sent={"namePrefix": _PROVIDER_ONLY_NAMES}),
    "aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock": ApiModel(
        "s3control", ("PutPublicAccessBlockRequest", "PublicAccessBlockConfiguration")),
    "aws:s3/bucket:Bucket": ApiModel(
        "s3", ("CreateBucketRequest",), renames={"objectLockEnabled": "ObjectLockEnabledForBucket"},
        not_sent={"forceDestroy": "provider empties the bucket before DeleteBucket",
                  "bucketPrefix": _PROVIDER_ONLY_NAMES}),
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": ApiModel(
        "s3", ("PutBucketLifecycleConfigurationRequest",), renames={"rules": "LifecycleConfiguration.Rules"}),
    "aws:s3/bucketLogging:BucketLogging": ApiModel("s3", ("PutBucketLoggingRequest", "LoggingEnabled")),
    "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration": ApiModel(
        "s3", ("PutObjectLockConfigurationRequest", "ObjectLockConfiguration")),
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": ApiModel(
        "s3", ("PutBucketOwnershipControlsRequest", "OwnershipControls")),
    "aws:s3/bucketPolicy:BucketPolicy": ApiModel("s3", ("PutBucketPolicyRequest",)),
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": ApiModel(
        "s3", ("PutPublicAccessBlockRequest", "PublicAccessBlockConfiguration")),
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": ApiModel(
        "s3", ("PutBucketEncryptionRequest", "ServerSideEncryptionConfiguration")),
    "aws:s3/bucketVersioning:BucketVersioning": ApiModel("s3", ("PutBucketVersioningRequest",)),
    "aws:securityhub/account:Account": ApiModel(
        "securityhub", ("EnableSecurityHubRequest", "UpdateSecurityHubConfigurationRequest")),
    "aws:securityhub/standardsSubscription:StandardsSubscription": ApiModel(
        "securityhub", ("StandardsSubscriptionRequest",)),
    "aws:sns/topic:Topic": ApiModel(
        "sns", ("CreateTopicInput",), renames=_SNS_TOPIC_ATTRIBUTES,
        not_sent={"namePrefix": _PROVIDER_ONLY_NAMES}),
    "aws:sns/topicPolicy:TopicPolicy": ApiModel(
        "sns", ("SetTopicAttributesInput",), renames={"arn": "TopicArn", "policy": "AttributeValue"}),
    "aws:sns/topicSubscription:TopicSubscription": ApiModel(
        "sns", ("SubscribeInput",), renames={"topic": "TopicArn", "rawMessageDelivery": "Attributes",
                                             "filterPolicy": "Attributes", "redrivePolicy": "Attributes"},
        not_sent={"endpointAutoConfirms": "provider waits for the endpoint to confirm",
                  "confirmationTimeoutInMinutes": "provider wait time"}),
    "aws:ssm/document:Document": ApiModel(
        "ssm", ("CreateDocumentRequest",), renames={"name": "Name", "documentFormat": "DocumentFormat"}),
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": ApiModel(
        "ec2", ("SecurityGroupRuleRequest", "AuthorizeSecurityGroupEgressRequest"),
        renames={"securityGroupId": "GroupId", "referencedSecurityGroupId": "ReferencedGroupId"}),
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": ApiModel(
        "ec2", ("SecurityGroupRuleRequest", "AuthorizeSecurityGroupIngressRequest"),
        renames={"securityGroupId": "GroupId", "referencedSecurityGroupId": "ReferencedGroupId"}),
    "aws:lb/listener:Listener": ApiModel("elbv2", ("CreateListenerInput",), renames=_LISTENER_RENAMES),
    "aws:alb/listener:Listener": ApiModel("elbv2", ("CreateListenerInput",), renames=_LISTENER_RENAMES),
    # The application tier.
    "aws:acm/certificate:Certificate": ApiModel(
        "acm", ("RequestCertificateRequest", "ImportCertificateRequest"), renames={
            "certificateBody": "Certificate", "validationOptions": "DomainValidationOptions"},
        not_sent={"earlyRenewalDuration": "provider calls RenewCertificate when the time comes"}),
    "aws:acm/certificateValidation:CertificateValidation": ApiModel(
        "acm", ("DescribeCertificateRequest",),
        not_sent={"validationRecordFqdns": "provider compares them with DescribeCertificate's records"}),
    "aws:appautoscaling/policy:Policy": ApiModel(
        "application-autoscaling", ("PutScalingPolicyRequest",), renames={
            "name": "PolicyName",
            **_APPAUTOSCALING_METRIC_RENAMES,
        }),
    "aws:appautoscaling/target:Target": ApiModel(
        "application-autoscaling", ("RegisterScalableTargetRequest",), renames={"roleArn": "RoleARN"}),
    "aws:ecr/lifecyclePolicy:LifecyclePolicy": ApiModel(
        "ecr", ("PutLifecyclePolicyRequest",),
        renames={"repository": "repositoryName", "policy": "lifecyclePolicyText"}),
    "aws:ecr/repository:Repository": ApiModel(
        "ecr", ("CreateRepositoryRequest", "DeleteRepositoryRequest"),
        renames={"name": "repositoryName", "encryptionConfigurations": "encryptionConfiguration",
                 "forceDelete": "force"}),
    "aws:ecs/cluster:Cluster": ApiModel("ecs", ("CreateClusterRequest",), renames={"name": "clusterName"}),
    "aws:ecs/service:Service": ApiModel(
        "ecs", ("CreateServiceRequest", "UpdateServiceRequest"), renames={
            "name": "serviceName", "iamRole": "role",
            "deploymentCircuitBreaker": "deploymentConfiguration.deploymentCircuitBreaker",
            "deploymentMaximumPercent": "deploymentConfiguration.maximumPercent",
            "deploymentMinimumHealthyPercent": "deploymentConfiguration.minimumHealthyPercent",
            "alarms": "deploymentConfiguration.alarms",
            "networkConfiguration": "networkConfiguration.awsvpcConfiguration",
            "orderedPlacementStrategies": "placementStrategy",
        },
        not_sent={"waitForSteadyState": "provider waits for the deployment",
                  "forceNewDeployment": "provider sends forceNewDeployment on update only",
                  "forceDelete": "provider sends force on DeleteService",
                  "triggers": "provider redeploys when they change"}),
    "aws:ecs/taskDefinition:TaskDefinition": ApiModel(
        "ecs", ("RegisterTaskDefinitionRequest",),
        not_sent={"skipDestroy": "provider keeps the revision on destroy",
                  "trackLatest": "provider reads the family's latest revision"}),
    "aws:elasticache/replicationGroup:ReplicationGroup": ApiModel(
        "elasticache", ("CreateReplicationGroupMessage", "ModifyReplicationGroupMessage",
                        "DeleteReplicationGroupMessage"), renames={
            "description": "ReplicationGroupDescription", "nodeType": "CacheNodeType",
            "subnetGroupName": "CacheSubnetGroupName", "maintenanceWindow": "PreferredMaintenanceWindow",
            "multiAzEnabled": "MultiAZEnabled", "parameterGroupName": "CacheParameterGroupName",
            "notificationTopicArn": "NotificationTopicArn",
            "preferredCacheClusterAzs": "PreferredCacheClusterAZs",
            "replicasPerNodeGroup": "ReplicasPerNodeGroup", "numNodeGroups": "NumNodeGroups",
            "securityGroupNames": "CacheSecurityGroupNames",
            "logDeliveryConfigurations.destination": "DestinationDetails.CloudWatchLogsDetails.LogGroup",
        }),
    "aws:elasticache/subnetGroup:SubnetGroup": ApiModel(
        "elasticache", ("CreateCacheSubnetGroupMessage",),
        renames={"name": "CacheSubnetGroupName", "description": "CacheSubnetGroupDescription"}),
    "aws:elasticache/user:User": ApiModel("elasticache", ("CreateUserMessage",)),
    "aws:elasticache/userGroup:UserGroup": ApiModel("elasticache", ("CreateUserGroupMessage",)),
    "aws:lb/loadBalancer:LoadBalancer": ApiModel(
        "elbv2", ("CreateLoadBalancerInput", "ModifyLoadBalancerAttributesInput"),
        renames={"loadBalancerType": "Type", "internal": "Scheme", **_LOAD_BALANCER_ATTRIBUTES},
        not_sent={"namePrefix": _PROVIDER_ONLY_NAMES}),
    "aws:lb/targetGroup:TargetGroup": ApiModel(
        "elbv2", ("CreateTargetGroupInput", "ModifyTargetGroupAttributesInput"), renames={
            "healthCheck": FLATTEN, "healthCheck.enabled": "HealthCheckEnabled",
            "healthCheck.protocol": "HealthCheckProtocol",
            "healthCheck.path": "HealthCheckPath", "healthCheck.port": "HealthCheckPort",
            "healthCheck.interval": "HealthCheckIntervalSeconds",
            "healthCheck.timeout": "HealthCheckTimeoutSeconds",
            "healthCheck.healthyThreshold": "HealthyThresholdCount",
            "healthCheck.unhealthyThreshold": "UnhealthyThresholdCount",
            "healthCheck.matcher": "Matcher.HttpCode",
            **_TARGET_GROUP_ATTRIBUTES,
        }, not_sent={"namePrefix": _PROVIDER_ONLY_NAMES}),
    "aws:route53/record:Record": ApiModel(
        "route53", ("ChangeResourceRecordSetsRequest", "ResourceRecordSet"),
        renames={"zoneId": "HostedZoneId", "records": "ResourceRecords.Value"},
        not_sent={"allowOverwrite": "provider sends UPSERT instead of CREATE"}),
    "aws:ssm/parameter:Parameter": ApiModel(
        "ssm", ("PutParameterRequest",), renames={"insecureValue": "Value"},
        not_sent={"valueWo": "write-only copy of value", "valueWoVersion": "provider trigger"}),
    "aws:ssoadmin/accountAssignment:AccountAssignment": ApiModel(
        "sso-admin", ("CreateAccountAssignmentRequest",)),
    "aws:ssoadmin/customerManagedPolicyAttachment:CustomerManagedPolicyAttachment": ApiModel(
        "sso-admin", ("AttachCustomerManagedPolicyReferenceToPermissionSetRequest",)),
    "aws:ssoadmin/managedPolicyAttachment:ManagedPolicyAttachment": ApiModel(
        "sso-admin", ("AttachManagedPolicyToPermissionSetRequest",)),
    "aws:ssoadmin/permissionSet:PermissionSet": ApiModel("sso-admin", ("CreatePermissionSetRequest",)),
    "aws:wafv2/webAcl:WebAcl": ApiModel(
        "wafv2", ("CreateWebACLRequest",), not_sent={"namePrefix": _PROVIDER_ONLY_NAMES}),
    "aws:wafv2/webAclAssociation:WebAclAssociation": ApiModel(
        "wafv2", ("AssociateWebACLRequest",)),
    "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration": ApiModel(
        "wafv2", ("LoggingConfiguration",)),
}


# Inputs that pulumi-aws takes as JSON text and sends to the API as the structure the text
# describes (the provider unmarshals an ECS task definition's containerDefinitions into
# RegisterTaskDefinition's containerDefinitions list). The checks parse them and walk their
# values like other inputs: `containerDefinitions[].logConfiguration.logDriver`.
JSON_INPUTS: dict[tuple[str, str], str] = {
    ("aws:ecs/taskDefinition:TaskDefinition", "containerDefinitions"):
        "RegisterTaskDefinitionRequest.containerDefinitions (a list of ContainerDefinition)",
}


def json_document_of(type_token: str, path: str) -> Optional[str]:
    """The JSON input a path lies inside, if any (`containerDefinitions[].image` -> containerDefinitions)."""
    top = split_path(path)[0][0]
    return top if (type_token, top) in JSON_INPUTS and path != top else None

def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def _member(structure, name: str):
    members = {_norm(k): v for k, v in structure.members.items()}
    key = _norm(name)
    for candidate in (key, key + "s", key[:-1] if key.endswith("s") else None, key + "es",
                      key[:-2] if key.endswith("es") else None,
                      key[:-3] + "y" if key.endswith("ies") else None,
                      key[:-1] + "ies" if key.endswith("y") else None):
        if candidate and candidate in members:
            return members[candidate]
    return None


def _descend_path(current, member_path: str):
    for name in member_path.split("."):
        if current.type_name == "list":
            current = current.member
        if current.type_name != "structure":
            return None
        current = current.members.get(name)
        if current is None:
            return None
    return current


def split_path(path: str) -> list[tuple[str, bool]]:
    """`rules[].transitions[].storageClass` ->
    [("rules", True), ("transitions", True), ("storageClass", False)]."""
    return [(seg[:-2], True) if seg.endswith("[]") else (seg, False) for seg in path.split(".")]


def resolve(type_token: str, path: str):
    """The botocore shape a pulumi input path is sent as, or None when no modelled shape matches."""
    model = API_MODELS.get(type_token)
    if model is None:
        return None
    segments = split_path(path)
    for root in model.shapes:
        current = shape(model.service, root)
        prefix: list[str] = []
        map_key = False  # this segment is a key of a map sent as {Name, Value} items
        for name, is_list in segments:
            prefix.append(name)
            if current is None:
                break
            if current.type_name == "list":
                current = current.member
            if map_key:
                current = current.members.get("Value") if current.type_name == "structure" else None
                map_key = False
                continue
            if current.type_name == "map":
                current = current.value
                continue
            if current.type_name != "structure":
                current = None
                break
            renamed = model.renames.get(".".join(prefix))
            if renamed is None:
                current = _member(current, name)
            elif renamed != FLATTEN:
                current = _descend_path(current, renamed)
            map_key = ".".join(prefix) in model.name_value_maps
            if current is not None and is_list and current.type_name == "list":
                current = current.member
        if current is not None:
            # A boolean sent as {"Value": b} (EC2 attribute shapes) or a scalar sent as a one-item list.
            while current.type_name in ("list", "map"):
                current = current.member if current.type_name == "list" else current.value
            if current.type_name == "structure" and list(current.members) == ["Value"]:
                current = current.members["Value"]
            return current
    return None


def not_sent_reason(type_token: str, path: str) -> Optional[str]:
    top = split_path(path)[0][0]
    if top in NOT_SENT_ANYWHERE:
        return NOT_SENT_ANYWHERE[top]
    model = API_MODELS.get(type_token)
    if model is None:
        return None
    plain = ".".join(name for name, _ in split_path(path))
    for key, reason in model.not_sent.items():
        if plain == key or plain.startswith(key + "."):
            return reason
    return None


# ---------------------------------------------------------------------------------------------
# Inputs botocore models as enums: (resource type, input path) -> (service, shape)
# ---------------------------------------------------------------------------------------------
# Every enum-valued input of every resource type in API_MODELS, found by walking pulumi-aws's
# input types and matching them to botocore's members (tests/test_aws_api_models.py checks that
# this table is complete and that each entry is an enum shape botocore really has).
ENUM_INPUTS: dict[tuple[str, str], tuple[str, str]] = {}


def _enums(type_token: str, service: str, entries: Mapping[str, str]) -> None:
    for path, shape_name in entries.items():
        ENUM_INPUTS[(type_token, path)] = (service, shape_name)


_enums("aws:accessanalyzer/analyzer:Analyzer", "accessanalyzer", {
    "type": "Type",
    "configuration.internalAccess.analysisRule.inclusions[].resourceTypes[]": "ResourceType",
})
_enums("aws:backup/plan:Plan", "backup", {
    "rules[].scanActions[].malwareScanner": "MalwareScanner",
    "rules[].scanActions[].scanMode": "ScanMode",
    "scanSettings[].malwareScanner": "MalwareScanner",
})
_enums("aws:backup/selection:Selection", "backup", {"selectionTags[].type": "ConditionType"})
_enums("aws:cfg/deliveryChannel:DeliveryChannel", "config", {
    "snapshotDeliveryProperties.deliveryFrequency": "MaximumExecutionFrequency",
})
_enums("aws:cfg/recorder:Recorder", "config", {
    "recordingGroup.resourceTypes[]": "ResourceType",
    "recordingGroup.exclusionByResourceTypes[].resourceTypes[]": "ResourceType",
    "recordingGroup.recordingStrategies[].useOnly": "RecordingStrategyType",
    "recordingMode.recordingFrequency": "RecordingFrequency",
    "recordingMode.recordingModeOverride.recordingFrequency": "RecordingFrequency",
    "recordingMode.recordingModeOverride.resourceTypes[]": "ResourceType",
})
_enums("aws:cloudtrail/trail:Trail", "cloudtrail", {
    "eventSelectors[].readWriteType": "ReadWriteType",
    "insightSelectors[].insightType": "InsightType",
})
_enums("aws:cloudwatch/eventRule:EventRule", "events", {"state": "RuleState"})
_enums("aws:cloudwatch/eventTarget:EventTarget", "events", {
    "ecsTarget.launchType": "LaunchType",
    "ecsTarget.networkConfiguration.assignPublicIp": "AssignPublicIp",
    "ecsTarget.placementConstraints[].type": "PlacementConstraintType",
    "ecsTarget.orderedPlacementStrategies[].type": "PlacementStrategyType",
    "ecsTarget.propagateTags": "PropagateTags",
})
_enums("aws:cloudwatch/logGroup:LogGroup", "logs", {"logGroupClass": "LogGroupClass"})
_enums("aws:cloudwatch/logMetricFilter:LogMetricFilter", "logs", {
    "metricTransformation.unit": "StandardUnit",
})
_enums("aws:cloudwatch/logSubscriptionFilter:LogSubscriptionFilter", "logs", {"distribution": "Distribution"})
_enums("aws:cloudwatch/logAnomalyDetector:LogAnomalyDetector", "logs", {
    "evaluationFrequency": "EvaluationFrequency",
})
_enums("aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream", "firehose", {
    "serverSideEncryption.keyType": "KeyType",
    "extendedS3Configuration.compressionFormat": "CompressionFormat",
    "extendedS3Configuration.s3BackupMode": "S3BackupMode",
    "extendedS3Configuration.s3BackupConfiguration.compressionFormat": "CompressionFormat",
    "extendedS3Configuration.processingConfiguration.processors[].type": "ProcessorType",
    "extendedS3Configuration.processingConfiguration.processors[].parameters[].parameterName":
        "ProcessorParameterName",
    "extendedS3Configuration.dataFormatConversionConfiguration.outputFormatConfiguration.serializer"
    ".orcSerDe.compression": "OrcCompression",
    "extendedS3Configuration.dataFormatConversionConfiguration.outputFormatConfiguration.serializer"
    ".orcSerDe.formatVersion": "OrcFormatVersion",
    "extendedS3Configuration.dataFormatConversionConfiguration.outputFormatConfiguration.serializer"
    ".parquetSerDe.compression": "ParquetCompression",
    "extendedS3Configuration.dataFormatConversionConfiguration.outputFormatConfiguration.serializer"
    ".parquetSerDe.writerVersion": "ParquetWriterVersion",
    "mskSourceConfiguration.authenticationConfiguration.connectivity": "Connectivity",
})
_enums("aws:cloudwatch/metricAlarm:MetricAlarm", "cloudwatch", {
    "comparisonOperator": "ComparisonOperator",
    "statistic": "Statistic",
    "unit": "StandardUnit",
    "metricQueries[].metric.unit": "StandardUnit",
})
_enums("aws:ec2/eip:Eip", "ec2", {"domain": "DomainType"})
_enums("aws:ec2/flowLog:FlowLog", "ec2", {
    "trafficType": "TrafficType",
    "logDestinationType": "LogDestinationType",
    "destinationOptions.fileFormat": "DestinationFileFormat",
    "tagFieldSpecifications[].resourceType": "TaggableResourceType",
})
_enums("aws:ec2/natGateway:NatGateway", "ec2", {"connectivityType": "ConnectivityType",
                                                "availabilityMode": "AvailabilityMode"})
_enums("aws:ec2/subnet:Subnet", "ec2", {"privateDnsHostnameTypeOnLaunch": "HostnameType"})
_enums("aws:ec2/vpc:Vpc", "ec2", {"instanceTenancy": "Tenancy"})
_enums("aws:ec2/vpcEndpoint:VpcEndpoint", "ec2", {
    "vpcEndpointType": "VpcEndpointType",
    "ipAddressType": "IpAddressType",
    "dnsOptions.dnsRecordIpType": "DnsRecordIpType",
})
_enums("aws:guardduty/detector:Detector", "guardduty", {
    "findingPublishingFrequency": "FindingPublishingFrequency",
})
_enums("aws:guardduty/detectorFeature:DetectorFeature", "guardduty", {
    "name": "DetectorFeature",
    "status": "FeatureStatus",
    "additionalConfigurations[].name": "FeatureAdditionalConfiguration",
    "additionalConfigurations[].status": "FeatureStatus",
})
_enums("aws:kms/key:Key", "kms", {
    "keyUsage": "KeyUsageType",
    "customerMasterKeySpec": "CustomerMasterKeySpec",
})
_enums("aws:rds/instance:Instance", "rds", {
    "databaseInsightsMode": "DatabaseInsightsMode",
    "replicaMode": "ReplicaMode",
})
_enums("aws:s3/bucket:Bucket", "s3", {"acl": "BucketCannedACL", "bucketNamespace": "BucketNamespace"})
_enums("aws:ssm/document:Document", "ssm", {
    "documentFormat": "DocumentFormat",
    "documentType": "DocumentType",
})
for _listener in ("aws:lb/listener:Listener", "aws:alb/listener:Listener"):
    _enums(_listener, "elbv2", {
        "protocol": "ProtocolEnum",
        "defaultActions[].type": "ActionTypeEnum",
        "mutualAuthentication.advertiseTrustStoreCaNames": "AdvertiseTrustStoreCaNamesEnum",
        "defaultActions[].redirect.statusCode": "RedirectActionStatusCodeEnum",
        "defaultActions[].jwtValidation.additionalClaims[].format":
            "JwtValidationActionAdditionalClaimFormatEnum",
        "defaultActions[].authenticateCognito.onUnauthenticatedRequest":
            "AuthenticateCognitoActionConditionalBehaviorEnum",
        "defaultActions[].authenticateOidc.onUnauthenticatedRequest":
            "AuthenticateOidcActionConditionalBehaviorEnum",
    })
_enums("aws:rds/parameterGroup:ParameterGroup", "rds", {"parameters[].applyMethod": "ApplyMethod"})
_enums("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "s3", {
    "rules[].status": "ExpirationStatus",
    "rules[].transitions[].storageClass": "TransitionStorageClass",
    "rules[].noncurrentVersionTransitions[].storageClass": "TransitionStorageClass",
    "transitionDefaultMinimumObjectSize": "TransitionDefaultMinimumObjectSize",
})
_enums("aws:s3/bucketLogging:BucketLogging", "s3", {
    "targetGrants[].grantee.type": "Type",
    "targetGrants[].permission": "BucketLogsPermission",
    "targetObjectKeyFormat.partitionedPrefix.partitionDateSource": "PartitionDateSource",
})
_enums("aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration", "s3", {
    "objectLockEnabled": "ObjectLockEnabled",
    "rule.defaultRetention.mode": "ObjectLockRetentionMode",
})
_enums("aws:s3/bucketOwnershipControls:BucketOwnershipControls", "s3", {
    "rule.objectOwnership": "ObjectOwnership",
})
_enums("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", "s3", {
    "rules[].applyServerSideEncryptionByDefault.sseAlgorithm": "ServerSideEncryption",
})
_enums("aws:s3/bucketVersioning:BucketVersioning", "s3", {
    "versioningConfiguration.status": "BucketVersioningStatus",
    "versioningConfiguration.mfaDelete": "MFADelete",
})
_enums("aws:securityhub/account:Account", "securityhub", {
    "controlFindingGenerator": "ControlFindingGenerator",
})


# The application tier.
_enums("aws:acm/certificate:Certificate", "acm", {
    "keyAlgorithm": "KeyAlgorithm",
    "validationMethod": "ValidationMethod",
    "options.certificateTransparencyLoggingPreference": "CertificateTransparencyLoggingPreference",
    "options.export": "CertificateExport",
})
for _target in ("aws:appautoscaling/target:Target", "aws:appautoscaling/policy:Policy"):
    _enums(_target, "application-autoscaling", {
        "serviceNamespace": "ServiceNamespace", "scalableDimension": "ScalableDimension"})
_enums("aws:appautoscaling/policy:Policy", "application-autoscaling", {
    "policyType": "PolicyType",
    "predictiveScalingPolicyConfiguration.maxCapacityBreachBehavior":
        "PredictiveScalingMaxCapacityBreachBehavior",
    "predictiveScalingPolicyConfiguration.mode": "PredictiveScalingMode",
    "stepScalingPolicyConfiguration.adjustmentType": "AdjustmentType",
    "stepScalingPolicyConfiguration.metricAggregationType": "MetricAggregationType",
    "targetTrackingScalingPolicyConfiguration.customizedMetricSpecification.statistic": "MetricStatistic",
    "targetTrackingScalingPolicyConfiguration.predefinedMetricSpecification.predefinedMetricType":
        "MetricType",
})
_enums("aws:ecr/repository:Repository", "ecr", {
    "encryptionConfigurations[].encryptionType": "EncryptionType",
    "imageTagMutability": "ImageTagMutability",
    "imageTagMutabilityExclusionFilters[].filterType": "ImageTagMutabilityExclusionFilterType",
})
_enums("aws:ecs/cluster:Cluster", "ecs", {
    "configuration.executeCommandConfiguration.logging": "ExecuteCommandLogging",
    "settings[].name": "ClusterSettingName",
})
_enums("aws:ecs/service:Service", "ecs", {
    "availabilityZoneRebalancing": "AvailabilityZoneRebalancing",
    "deploymentConfiguration.lifecycleHooks[].lifecycleStages[]": "DeploymentLifecycleHookStage",
    "deploymentConfiguration.lifecycleHooks[].targetType": "DeploymentLifecycleHookTargetType",
    "deploymentConfiguration.lifecycleHooks[].timeoutConfiguration.action": "DeploymentLifecycleHookAction",
    "deploymentConfiguration.strategy": "DeploymentStrategy",
    "deploymentController.type": "DeploymentControllerType",
    "launchType": "LaunchType",
    "networkConfiguration.assignPublicIp": "AssignPublicIp",
    "orderedPlacementStrategies[].type": "PlacementStrategyType",
    "placementConstraints[].type": "PlacementConstraintType",
    "propagateTags": "PropagateTags",
    "schedulingStrategy": "SchedulingStrategy",
    "serviceConnectConfiguration.accessLogConfiguration.format": "ServiceConnectAccessLoggingFormat",
    "serviceConnectConfiguration.accessLogConfiguration.includeQueryParameters":
        "ServiceConnectIncludeQueryParameters",
    "serviceConnectConfiguration.logConfiguration.logDriver": "LogDriver",
    "volumeConfiguration.managedEbsVolume.fileSystemType": "TaskFilesystemType",
    "volumeConfiguration.managedEbsVolume.tagSpecifications[].propagateTags": "PropagateTags",
    "volumeConfiguration.managedEbsVolume.tagSpecifications[].resourceType": "EBSResourceType",
})
_enums("aws:ecs/taskDefinition:TaskDefinition", "ecs", {
    "ipcMode": "IpcMode",
    "networkMode": "NetworkMode",
    "pidMode": "PidMode",
    "placementConstraints[].type": "TaskDefinitionPlacementConstraintType",
    "proxyConfiguration.type": "ProxyConfigurationType",
    "requiresCompatibilities[]": "Compatibility",
    "runtimePlatform.cpuArchitecture": "CPUArchitecture",
    "runtimePlatform.operatingSystemFamily": "OSFamily",
    "volumes[].dockerVolumeConfiguration.scope": "Scope",
    "volumes[].efsVolumeConfiguration.authorizationConfig.iam": "EFSAuthorizationConfigIAM",
    "volumes[].efsVolumeConfiguration.transitEncryption": "EFSTransitEncryption",
    # Inside the containerDefinitions document (JSON_INPUTS): the enums the program sets.
    "containerDefinitions[].logConfiguration.logDriver": "LogDriver",
    "containerDefinitions[].portMappings[].protocol": "TransportProtocol",
})
_enums("aws:elasticache/replicationGroup:ReplicationGroup", "elasticache", {
    "authTokenUpdateStrategy": "AuthTokenUpdateStrategyType",
    "clusterMode": "ClusterMode",
    "durability": "Durability",
    "ipDiscovery": "IpDiscovery",
    "logDeliveryConfigurations[].destinationType": "DestinationType",
    "logDeliveryConfigurations[].logFormat": "LogFormat",
    "logDeliveryConfigurations[].logType": "LogType",
    "networkType": "NetworkType",
    "transitEncryptionMode": "TransitEncryptionMode",
})
_enums("aws:elasticache/user:User", "elasticache", {"authenticationMode.type": "InputAuthenticationType"})
_enums("aws:lb/loadBalancer:LoadBalancer", "elbv2", {
    "enablePrefixForIpv6SourceNat": "EnablePrefixForIpv6SourceNatEnum",
    "internal": "LoadBalancerSchemeEnum",
    "ipAddressType": "IpAddressType",
    "loadBalancerType": "LoadBalancerTypeEnum",
})
_enums("aws:lb/targetGroup:TargetGroup", "elbv2", {
    "healthCheck.protocol": "ProtocolEnum",
    "ipAddressType": "TargetGroupIpAddressTypeEnum",
    "protocol": "ProtocolEnum",
    "targetType": "TargetTypeEnum",
})
_enums("aws:route53/record:Record", "route53", {"type": "RRType"})
_enums("aws:ssm/parameter:Parameter", "ssm", {"tier": "ParameterTier", "type": "ParameterType"})
_enums("aws:ssoadmin/accountAssignment:AccountAssignment", "sso-admin", {
    "principalType": "PrincipalType", "targetType": "TargetType"})
_enums("aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration", "wafv2", {
    "loggingFilter.defaultBehavior": "FilterBehavior",
    "loggingFilter.filters[].behavior": "FilterBehavior",
    "loggingFilter.filters[].conditions[].actionCondition.action": "ActionValue",
    "loggingFilter.filters[].requirement": "FilterRequirement",
})
_enums("aws:wafv2/webAcl:WebAcl", "wafv2", {
    "scope": "Scope",
    "dataProtectionConfig.dataProtections[].action": "DataProtectionAction",
    "dataProtectionConfig.dataProtections[].field.fieldType": "FieldToProtectType",
    "monetizationConfig.cryptoConfig.paymentNetworks[].chain": "BlockchainChain",
    "monetizationConfig.cryptoConfig.paymentNetworks[].prices.currency": "CryptoCurrency",
    "monetizationConfig.currencyMode": "CurrencyMode",
    **{f"associationConfig.requestBodies[].{kind}.defaultSizeInspectionLimit": "SizeInspectionLimit"
       for kind in ("apiGateway", "appRunnerService", "cloudfront", "cognitoUserPool",
                    "verifiedAccessInstance")},
})


# Enum-valued members that pulumi-aws takes as a boolean and converts (its docstrings: "If true,
# the LB will be internal", "Assign a public IP address to the ENI ... Valid values are true or
# false"): the enum value the provider sends for each. A false `internal` sends no Scheme at all,
# which AWS takes as internet-facing (CreateLoadBalancer, Scheme: "The default is an Internet-facing
# load balancer").
BOOLEAN_ENUM_INPUTS: dict[tuple[str, str], Mapping[bool, str]] = {
    ("aws:lb/loadBalancer:LoadBalancer", "internal"): {True: "internal", False: "internet-facing"},
    ("aws:ecs/service:Service", "networkConfiguration.assignPublicIp"): {True: "ENABLED", False: "DISABLED"},
    ("aws:cloudwatch/eventTarget:EventTarget", "ecsTarget.networkConfiguration.assignPublicIp"):
        {True: "ENABLED", False: "DISABLED"},
}


def sent_enum_value(type_token: str, path: str, value: Any) -> Any:
    """The value the provider sends for an enum-valued input (booleans converted)."""
    converted = BOOLEAN_ENUM_INPUTS.get((type_token, path))
    if converted is not None and isinstance(value, bool):
        return converted[value]
    return value

def _enums_wherever(type_token: str, service: str, endings: Mapping[str, str], under: str) -> None:
    """Every pulumi input path of the type below `under` that ends with one of `endings` (the last
    segments, `[]` included) is botocore enum `endings[ending]`. WAF statements repeat the same
    match settings at every nesting level (hundreds of paths); each ending must match at least one."""
    paths = [p for p in pulumi_input_paths(type_token) if p.startswith(under)]
    for ending, shape_name in endings.items():
        matched = [p for p in paths if p == ending or p.endswith("." + ending)]
        if not matched:
            raise LookupError(f"{type_token}: no input under {under} ends with {ending}")
        _enums(type_token, service, {p: shape_name for p in matched})


# ---------------------------------------------------------------------------------------------
# Values AWS documents only in prose
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Source:
    title: str
    url: str
    checked: str = CHECKED_ON
    # (service, shape, member) whose botocore documentation states the same rule, if any; a test
    # compares the table with it (its list of values, or `quotes` found word for word), so that
    # AWS's changes show up here.
    botocore_doc: Optional[tuple[str, str, str]] = None
    quotes: tuple[str, ...] = ()

    def cite(self) -> str:
        return f"{self.title} <{self.url}> (checked {self.checked})"


@dataclass(frozen=True)
class AllowedValues:
    """A closed set of values documented in prose."""

    values: tuple[Any, ...]
    source: Source
    special: tuple[Any, ...] = ()   # also accepted, with a meaning of their own (see the table)

    def allows(self, value: Any) -> bool:
        return value in self.values or value in self.special

    def describe(self) -> str:
        also = f" (or {', '.join(str(v) for v in self.special)})" if self.special else ""
        return f"one of {', '.join(str(v) for v in self.values)}{also}"


@dataclass(frozen=True)
class AllowedRange:
    """An inclusive integer range documented in prose."""

    low: Optional[int]
    high: Optional[int]
    source: Source
    special: tuple[int, ...] = ()   # also accepted, with a meaning of their own (see the table)

    def allows(self, value: Any) -> bool:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value != int(value):
            return False
        if value in self.special:
            return True
        return (self.low is None or value >= self.low) and (self.high is None or value <= self.high)

    def describe(self) -> str:
        also = f" (or {', '.join(str(v) for v in self.special)})" if self.special else ""
        return f"an integer from {self.low if self.low is not None else '-inf'} to " \
               f"{self.high if self.high is not None else 'inf'}{also}"


# CloudWatch Logs retention. botocore models `Days` as a plain integer (no enum); the values are
# only in the documentation. The provider also takes 0 ("never expire": it then sends no
# PutRetentionPolicy; pulumi-aws 7.51 LogGroup.retention_in_days docstring).
LOG_RETENTION_DAYS = AllowedValues(
    values=(1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
            3288, 3653),
    source=Source("PutRetentionPolicy - Amazon CloudWatch Logs API Reference",
                  "https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutRetentionPolicy.html",
                  botocore_doc=("logs", "PutRetentionPolicyRequest", "retentionInDays")),
    special=(0,),  # provider: never expire (no PutRetentionPolicy)
)

_VAULT_LOCK_SOURCE = "PutBackupVaultLockConfiguration - AWS Backup API Reference"
_VAULT_LOCK_URL = "https://docs.aws.amazon.com/aws-backup/latest/devguide/API_PutBackupVaultLockConfiguration.html"
# "The shortest minimum retention period you can specify is 1 day." / "The longest maximum
# retention period you can specify is 36500 days (approximately 100 years)." / "you must set
# ChangeableForDays to 3 or greater. The maximum value you can specify is 36,500 days".
# The page gives no upper bound for MinRetentionDays by itself (it cannot exceed MaxRetentionDays,
# checked separately).
BACKUP_VAULT_LOCK_MIN_RETENTION_DAYS = AllowedRange(1, None, Source(
    _VAULT_LOCK_SOURCE, _VAULT_LOCK_URL,
    botocore_doc=("backup", "PutBackupVaultLockConfigurationInput", "MinRetentionDays"),
    quotes=("The shortest minimum retention period you can specify is 1 day",)))
BACKUP_VAULT_LOCK_MAX_RETENTION_DAYS = AllowedRange(1, 36500, Source(
    _VAULT_LOCK_SOURCE, _VAULT_LOCK_URL,
    botocore_doc=("backup", "PutBackupVaultLockConfigurationInput", "MaxRetentionDays"),
    quotes=("The longest maximum retention period you can specify is 36500 days",)))
BACKUP_VAULT_LOCK_CHANGEABLE_FOR_DAYS = AllowedRange(3, 36500, Source(
    _VAULT_LOCK_SOURCE, _VAULT_LOCK_URL,
    botocore_doc=("backup", "PutBackupVaultLockConfigurationInput", "ChangeableForDays"),
    quotes=("you must set ChangeableForDays to 3 or greater",
            "The maximum value you can specify is 36,500 days")))

# Backup plan lifecycle: "DeleteAfterDays ... must be at least 90 days after the number of days
# specified in MoveToColdStorageAfterDays". A vault lock also makes every backup or copy job into
# the vault fail whose retention is outside [MinRetentionDays, MaxRetentionDays]
# (PutBackupVaultLockConfiguration, above).
BACKUP_LIFECYCLE_SOURCE = Source("Lifecycle - AWS Backup API Reference",
                                 "https://docs.aws.amazon.com/aws-backup/latest/devguide/API_Lifecycle.html",
                                 botocore_doc=("backup", "Lifecycle", "DeleteAfterDays"),
                                 quotes=("This value must be at least 90 days after the number of days "
                                         "specified in MoveToColdStorageAfterDays",))
BACKUP_COLD_STORAGE_MINIMUM_DAYS = 90
# "specify -1 for MoveToColdStorageAfterDays and DeleteAfterDays" keeps recovery points indefinitely.
BACKUP_KEEP_INDEFINITELY = -1
BACKUP_DELETE_AFTER_DAYS = AllowedRange(1, None, BACKUP_LIFECYCLE_SOURCE, special=(BACKUP_KEEP_INDEFINITELY,))

# ELB TLS security policies (ALB HTTPS and NLB TLS listeners). Page: "Security policies for your
# Application Load Balancer" (and its Network Load Balancer twin); the policy tables there, as of
# the check date. The console default is ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09, the API/CLI
# default ELBSecurityPolicy-2016-08. What the search tool returned of the page confirms the
# defaults, the recommended PQ policies and the families (TLS13 2021-06, FIPS 2023-04, RFC 9151
# 2023-07, PQ 2025-09), not every row: the full list comes from a public compilation of the ALB and
# NLB tables dated 2026-09 (a policy-as-code rule set), cross-checked name by name against moto's
# elbv2 SSL_POLICIES (all 18 present, a test checks it) and prowler's PQ policy list. Re-check the
# page before relying on a rarely used name.
ELB_SSL_POLICIES = AllowedValues(
    values=(
        "ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09", "ELBSecurityPolicy-TLS13-1-2-Res-FIPS-PQ-2025-09",
        "ELBSecurityPolicy-TLS13-1-2-PQ-2025-09", "ELBSecurityPolicy-TLS13-1-2-FIPS-PQ-2025-09",
        "ELBSecurityPolicy-TLS13-1-2-Ext0-FIPS-PQ-2025-09",
        "ELBSecurityPolicy-TLS13-1-2-Ext1-PQ-2025-09", "ELBSecurityPolicy-TLS13-1-2-Ext1-FIPS-PQ-2025-09",
        "ELBSecurityPolicy-TLS13-1-2-Ext2-PQ-2025-09", "ELBSecurityPolicy-TLS13-1-2-Ext2-FIPS-PQ-2025-09",
        "ELBSecurityPolicy-TLS13-1-3-PQ-2025-09", "ELBSecurityPolicy-TLS13-1-3-FIPS-PQ-2025-09",
        "ELBSecurityPolicy-TLS13-1-0-PQ-2025-09", "ELBSecurityPolicy-TLS13-1-0-FIPS-PQ-2025-09",
        "ELBSecurityPolicy-TLS13-1-3-2021-06", "ELBSecurityPolicy-TLS13-1-2-2021-06",
        "ELBSecurityPolicy-TLS13-1-2-Res-2021-06", "ELBSecurityPolicy-TLS13-1-2-Ext1-2021-06",
        "ELBSecurityPolicy-TLS13-1-2-Ext2-2021-06", "ELBSecurityPolicy-TLS13-1-1-2021-06",
        "ELBSecurityPolicy-TLS13-1-0-2021-06",
        "ELBSecurityPolicy-TLS13-1-3-FIPS-2023-04", "ELBSecurityPolicy-TLS13-1-2-FIPS-2023-04",
        "ELBSecurityPolicy-TLS13-1-2-Res-FIPS-2023-04", "ELBSecurityPolicy-TLS13-1-2-Ext0-FIPS-2023-04",
        "ELBSecurityPolicy-TLS13-1-2-Ext1-FIPS-2023-04", "ELBSecurityPolicy-TLS13-1-2-Ext2-FIPS-2023-04",
        "ELBSecurityPolicy-TLS13-1-1-FIPS-2023-04", "ELBSecurityPolicy-TLS13-1-0-FIPS-2023-04",
        "ELBSecurityPolicy-TLS13-1-3-RFC9151-FIPS-2023-07",
        "ELBSecurityPolicy-TLS13-1-2-RFC9151-FIPS-2023-07",
        "ELBSecurityPolicy-TLS13-1-2-Ext0-RFC9151-FIPS-2023-07",
        "ELBSecurityPolicy-TLS13-1-2-RFC9151-INTEROP1-FIPS-2023-07",
        "ELBSecurityPolicy-TLS13-1-2-RFC9151-INTEROP2-FIPS-2023-07",
        "ELBSecurityPolicy-TLS13-1-2-RFC9151-INTEROP3-FIPS-2023-07",
        "ELBSecurityPolicy-TLS13-1-2-RFC9151-INTEROP4-FIPS-2023-07",
        "ELBSecurityPolicy-FS-1-2-Res-2020-10", "ELBSecurityPolicy-FS-1-2-Res-2019-08",
        "ELBSecurityPolicy-FS-1-2-2019-08", "ELBSecurityPolicy-FS-1-1-2019-08",
        "ELBSecurityPolicy-FS-2018-06",
        "ELBSecurityPolicy-TLS-1-2-Ext-2018-06", "ELBSecurityPolicy-TLS-1-2-2017-01",
        "ELBSecurityPolicy-TLS-1-1-2017-01", "ELBSecurityPolicy-2016-08",
        "ELBSecurityPolicy-2015-05",  # Network Load Balancer table only
    ),
    source=Source("Security policies for your Application Load Balancer - Elastic Load Balancing",
                  "https://docs.aws.amazon.com/elasticloadbalancing/latest/application/describe-ssl-policies.html"),
)

# Plain strings whose allowed values botocore's documentation lists ("Valid Values: a | b").
RDS_STORAGE_TYPES = AllowedValues(
    values=("gp2", "gp3", "io1", "io2", "standard"),
    source=Source("CreateDBInstance - Amazon RDS API Reference",
                  "https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBInstance.html",
                  botocore_doc=("rds", "CreateDBInstanceMessage", "StorageType")))
RDS_MONITORING_INTERVALS = AllowedValues(
    values=(0, 1, 5, 10, 15, 30, 60),
    source=Source("CreateDBInstance - Amazon RDS API Reference",
                  "https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBInstance.html",
                  botocore_doc=("rds", "CreateDBInstanceMessage", "MonitoringInterval")))
ALARM_TREAT_MISSING_DATA = AllowedValues(
    values=("breaching", "notBreaching", "ignore", "missing"),
    source=Source("PutMetricAlarm - Amazon CloudWatch API Reference",
                  "https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html",
                  botocore_doc=("cloudwatch", "PutMetricAlarmInput", "TreatMissingData")))
INSIGHT_RULE_STATES = AllowedValues(
    values=("ENABLED", "DISABLED"),
    source=Source("PutInsightRule - Amazon CloudWatch API Reference",
                  "https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutInsightRule.html",
                  botocore_doc=("cloudwatch", "PutInsightRuleInput", "RuleState")))
SNS_PROTOCOLS = AllowedValues(
    values=("http", "https", "email", "email-json", "sms", "sqs", "application", "lambda", "firehose"),
    source=Source("Subscribe - Amazon Simple Notification Service API Reference",
                  "https://docs.aws.amazon.com/sns/latest/api/API_Subscribe.html",
                  botocore_doc=("sns", "SubscribeInput", "Protocol")))
# KMS: "If you include a value, it must be between 7 and 30, inclusive" (botocore's shape allows 1..365).
KMS_PENDING_WINDOW_DAYS = AllowedRange(7, 30, Source(
    "ScheduleKeyDeletion - AWS Key Management Service API Reference",
    "https://docs.aws.amazon.com/kms/latest/APIReference/API_ScheduleKeyDeletion.html",
    botocore_doc=("kms", "ScheduleKeyDeletionRequest", "PendingWindowInDays"),
    quotes=("If you include a value, it must be between 7 and 30, inclusive",)))
# ELB target groups: "deregistration_delay.timeout_seconds - ... The range is 0-3600 seconds."
ELB_DEREGISTRATION_DELAY_SECONDS = AllowedRange(0, 3600, Source(
    "TargetGroupAttribute - Elastic Load Balancing API Reference",
    "https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_TargetGroupAttribute.html",
    botocore_doc=("elbv2", "TargetGroupAttribute", "Key"),
    quotes=("deregistration_delay.timeout_seconds - The amount of time, in seconds, for Elastic Load "
            "Balancing to wait before changing the state of a deregistering target from draining to unused",
            "The range is 0-3600 seconds. The default value is 300 seconds.")))


@dataclass(frozen=True)
class AllowedDuration:
    """An ISO-8601 duration of hours and minutes (`PT4H`, `PT1H30M`) within a documented range."""

    low_minutes: int
    high_minutes: int
    source: Source

    @staticmethod
    def minutes(value: Any) -> Optional[int]:
        match = re.fullmatch(r"PT(?:(\d+)H)?(?:(\d+)M)?", value) if isinstance(value, str) else None
        if not match or not any(match.groups()):
            return None
        return int(match.group(1) or 0) * 60 + int(match.group(2) or 0)

    def allows(self, value: Any) -> bool:
        minutes = self.minutes(value)
        return minutes is not None and self.low_minutes <= minutes <= self.high_minutes

    def describe(self) -> str:
        return f"an ISO-8601 duration (PT<h>H<m>M) from {self.low_minutes} to {self.high_minutes} minutes"


# "The minimum session duration is 1 hour, and can be set to a maximum of 12 hours." botocore's
# Duration shape gives only an ISO-8601 pattern.
IDENTITY_CENTER_SESSION_DURATION = AllowedDuration(60, 720, Source(
    "Set session duration - AWS IAM Identity Center User Guide",
    "https://docs.aws.amazon.com/singlesignon/latest/userguide/howtosessionduration.html"))


@dataclass(frozen=True)
class TaskSizes:
    """Fargate task sizes: the memory values (MiB) allowed with each task CPU value (CPU units)."""

    memory_by_cpu: Mapping[int, tuple[int, ...]]
    source: Source


# RegisterTaskDefinition memory: "If using the Fargate launch type, this field is required and you
# must use one of the following values. This determines your range of supported values for the
# cpu parameter." A test compares each row's sentence with botocore's documentation.
FARGATE_TASK_SIZES = TaskSizes(
    memory_by_cpu={
        256: (512, 1024, 2048),
        512: tuple(range(1024, 4096 + 1, 1024)),
        1024: tuple(range(2048, 8192 + 1, 1024)),
        2048: tuple(range(4096, 16384 + 1, 1024)),
        4096: tuple(range(8192, 30720 + 1, 1024)),
        8192: tuple(range(16384, 61440 + 1, 4096)),
        16384: tuple(range(32768, 122880 + 1, 8192)),
    },
    source=Source(
        "RegisterTaskDefinition - Amazon Elastic Container Service API Reference",
        "https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_RegisterTaskDefinition.html",
        botocore_doc=("ecs", "RegisterTaskDefinitionRequest", "memory"),
        quotes=(
            "512 (0.5 GB), 1024 (1 GB), 2048 (2 GB) - Available cpu values: 256 (.25 vCPU)",
            "1024 (1 GB), 2048 (2 GB), 3072 (3 GB), 4096 (4 GB) - Available cpu values: 512 (.5 vCPU)",
            "2048 (2 GB), 3072 (3 GB), 4096 (4 GB), 5120 (5 GB), 6144 (6 GB), 7168 (7 GB), 8192 (8 GB) - "
            "Available cpu values: 1024 (1 vCPU)",
            "Between 4096 (4 GB) and 16384 (16 GB) in increments of 1024 (1 GB) - Available cpu values: "
            "2048 (2 vCPU)",
            "Between 8192 (8 GB) and 30720 (30 GB) in increments of 1024 (1 GB) - Available cpu values: "
            "4096 (4 vCPU)",
            "Between 16 GB and 60 GB in 4 GB increments - Available cpu values: 8192 (8 vCPU)",
            "Between 32GB and 120 GB in 8 GB increments - Available cpu values: 16384 (16 vCPU)",
        )))

WAF_RATE_EVALUATION_WINDOW_SECONDS = AllowedValues(
    values=(60, 120, 300, 600),
    source=Source("RateBasedStatement - AWS WAFV2 API Reference",
                  "https://docs.aws.amazon.com/waf/latest/APIReference/API_RateBasedStatement.html",
                  botocore_doc=("wafv2", "RateBasedStatement", "EvaluationWindowSec")))

PROSE_INPUTS: dict[tuple[str, str], Any] = {
    ("aws:cloudwatch/logGroup:LogGroup", "retentionInDays"): LOG_RETENTION_DAYS,
    ("aws:backup/vaultLockConfiguration:VaultLockConfiguration", "minRetentionDays"):
        BACKUP_VAULT_LOCK_MIN_RETENTION_DAYS,
    ("aws:backup/vaultLockConfiguration:VaultLockConfiguration", "maxRetentionDays"):
        BACKUP_VAULT_LOCK_MAX_RETENTION_DAYS,
    ("aws:backup/vaultLockConfiguration:VaultLockConfiguration", "changeableForDays"):
        BACKUP_VAULT_LOCK_CHANGEABLE_FOR_DAYS,
    ("aws:backup/plan:Plan", "rules[].lifecycle.deleteAfter"): BACKUP_DELETE_AFTER_DAYS,
    ("aws:backup/plan:Plan", "rules[].copyActions[].lifecycle.deleteAfter"): BACKUP_DELETE_AFTER_DAYS,
    ("aws:lb/listener:Listener", "sslPolicy"): ELB_SSL_POLICIES,
    ("aws:alb/listener:Listener", "sslPolicy"): ELB_SSL_POLICIES,
    ("aws:rds/instance:Instance", "storageType"): RDS_STORAGE_TYPES,
    ("aws:rds/instance:Instance", "monitoringInterval"): RDS_MONITORING_INTERVALS,
    ("aws:cloudwatch/metricAlarm:MetricAlarm", "treatMissingData"): ALARM_TREAT_MISSING_DATA,
    ("aws:cloudwatch/contributorInsightRule:ContributorInsightRule", "ruleState"): INSIGHT_RULE_STATES,
    ("aws:sns/topicSubscription:TopicSubscription", "protocol"): SNS_PROTOCOLS,
    ("aws:kms/key:Key", "deletionWindowInDays"): KMS_PENDING_WINDOW_DAYS,
    ("aws:lb/targetGroup:TargetGroup", "deregistrationDelay"): ELB_DEREGISTRATION_DELAY_SECONDS,
    ("aws:ssoadmin/permissionSet:PermissionSet", "sessionDuration"): IDENTITY_CENTER_SESSION_DURATION,
    ("aws:wafv2/webAcl:WebAcl", "rules[].statement.rateBasedStatement.evaluationWindowSec"):
        WAF_RATE_EVALUATION_WINDOW_SECONDS,
}

# Members whose botocore documentation has a "Valid Values:" line but that the program may send
# unchecked, with the reason (the meta-test asks for an entry here or in PROSE_INPUTS).
DOCUMENTED_VALUES_NOT_CHECKED: dict[tuple[str, str], str] = {}


# ---------------------------------------------------------------------------------------------
# pulumi-aws input types (to check the tables' paths and find every enum-valued input)
# ---------------------------------------------------------------------------------------------


def _args_class(type_token: str):
    """pulumi-aws's Args class for a type token (`aws:s3/bucket:Bucket` -> pulumi_aws.s3.BucketArgs)."""
    _, module_path, name = type_token.split(":")
    module_name = module_path.split("/")[0]
    try:
        package = importlib.import_module(f"pulumi_aws.{module_name}")
    except ImportError:
        package = importlib.import_module(f"pulumi_aws.{module_name}_")
    # The resource's own module: `BucketVersioningArgs` in the package is a nested input type of
    # Bucket; the resource's arguments are then `BucketVersioningInitArgs`.
    resource_module = importlib.import_module(getattr(package, name).__module__)
    args = getattr(resource_module, f"{name}InitArgs", None) or getattr(resource_module, f"{name}Args")
    return package, args


def _input_properties(cls) -> dict[str, tuple[bool, Any]]:
    """camelCase property -> (is_list, nested Args class name or None) of a pulumi input type."""
    props = {}
    for attr in vars(cls).values():
        getter = getattr(attr, "fget", None)
        pulumi_name = getattr(getter, "_pulumi_name", None)
        if pulumi_name is None:
            continue
        annotation = str(getter.__annotations__.get("return", ""))
        nested = re.search(r"ForwardRef\('(\w+Args)'\)", annotation)
        props[pulumi_name] = (annotation.startswith("typing.Union[typing.Sequence["),
                              nested.group(1) if nested else None)
    return props


@functools.cache
def pulumi_input_paths(type_token: str) -> tuple[str, ...]:
    """Every scalar input path of a resource type, from pulumi-aws's Python input types."""
    module, cls = _args_class(type_token)
    inputs = importlib.import_module(f"{module.__name__}._inputs")
    paths: list[str] = []

    def walk(current, prefix: str, seen: tuple[str, ...]) -> None:
        for name, (is_list, nested) in sorted(_input_properties(current).items()):
            path = f"{prefix}{name}{'[]' if is_list else ''}"
            if nested and nested not in seen and hasattr(inputs, nested):
                walk(getattr(inputs, nested), path + ".", seen + (nested,))
            else:
                paths.append(path)

    walk(cls, "", ())
    return tuple(paths)


# WAFv2 rule statements (botocore wafv2 Statement and what it holds); needs pulumi_input_paths.
_enums_wherever("aws:wafv2/webAcl:WebAcl", "wafv2", {
    "oversizeHandling": "OversizeHandling",
    "cookies.matchScope": "MapMatchScope",
    "headers[].matchScope": "MapMatchScope",
    "jsonBody.matchScope": "JsonMatchScope",
    "jsonBody.invalidFallbackBehavior": "BodyParsingFallbackBehavior",
    "fallbackBehavior": "FallbackBehavior",
    "ipSetForwardedIpConfig.position": "ForwardedIPPosition",
    "textTransformations[].type": "TextTransformationType",
    "positionalConstraint": "PositionalConstraint",
    "comparisonOperator": "ComparisonOperator",
    "sensitivityLevel": "SensitivityLevel",
    "countryCodes[]": "CountryCode",
    "labelMatchStatement.scope": "LabelMatchScope",
    "aggregateKeyType": "RateBasedStatementAggregateKeyType",
    "payloadType": "PayloadType",
    "inspectionLevel": "InspectionLevel",
    "sensitivityToBlock": "SensitivityToAct",
    "challenge.sensitivity": "SensitivityToAct",
    "challenge.usageOfAction": "UsageOfAction",
}, under="rules[]")


# ---------------------------------------------------------------------------------------------
# Inputs only the Create call takes (tests/test_replacement_names.py)
# ---------------------------------------------------------------------------------------------
# A change to such an input makes the provider replace the resource: the service has no call
# that changes it. Derived from botocore: the members of the resource's Create*/Register*
# request that no Update*/Modify*/Put*/Set* operation on the same resource accepts. A resource
# created by a Put* call (PutMetricAlarm, PutRule...) is updated by the same call: nothing is
# create-only. "The same resource": an operation whose request carries the resource's name
# member or a member named after the resource (`TargetGroupArn` for CreateTargetGroup), so that
# UpdateRepositoryCreationTemplate's encryptionConfiguration does not count for a repository.

UPDATE_VERBS = ("Update", "Modify", "Put", "Set")
_CREATE_VERBS = re.compile(r"(Create|Register|Put|Request|Allocate|Subscribe|Enable|Attach|Associate|"
                           r"Authorize|ChangeResource)")
_IDENTIFIER_ENDINGS = ("", "name", "arn", "id", "identifier")

# Where botocore alone gets it wrong: the service changes a create member through an operation
# of another verb or under another member name. (type, create member) -> (operation, member); a
# test checks that botocore has both.
UPDATED_ELSEWHERE: dict[tuple[str, str], tuple[str, str]] = {
    # IAM "UpdateAssumeRolePolicy": "Updates the policy that grants an IAM entity permission to
    # assume a role."
    ("aws:iam/role:Role", "AssumeRolePolicyDocument"): ("UpdateAssumeRolePolicy", "PolicyDocument"),
    # CloudWatch Logs "AssociateKmsKey": "Associates the specified KMS key with ... a log group".
    ("aws:cloudwatch/logGroup:LogGroup", "kmsKeyId"): ("AssociateKmsKey", "kmsKeyId"),
    # RDS "ModifyDBInstance" CloudwatchLogsExportConfiguration: "The log types to be enabled for export".
    ("aws:rds/instance:Instance", "EnableCloudwatchLogsExports"):
        ("ModifyDBInstance", "CloudwatchLogsExportConfiguration"),
    # ElastiCache "ModifyReplicationGroup" UserGroupIdsToAdd / "IncreaseReplicaCount" NewReplicaCount.
    ("aws:elasticache/replicationGroup:ReplicationGroup", "UserGroupIds"):
        ("ModifyReplicationGroup", "UserGroupIdsToAdd"),
    ("aws:elasticache/replicationGroup:ReplicationGroup", "NumCacheClusters"):
        ("IncreaseReplicaCount", "NewReplicaCount"),
    # ElastiCache "ModifyUserGroup" UserIdsToAdd.
    ("aws:elasticache/userGroup:UserGroup", "UserIds"): ("ModifyUserGroup", "UserIdsToAdd"),
    # RDS "ModifyDBInstance" DBPortNumber: "The port number on which the database accepts connections."
    ("aws:rds/instance:Instance", "Port"): ("ModifyDBInstance", "DBPortNumber"),
    # IAM "CreatePolicyVersion": a managed policy's document changes by a new default version.
    ("aws:iam/policy:Policy", "PolicyDocument"): ("CreatePolicyVersion", "PolicyDocument"),
    # SNS "SetTopicAttributes" (AttributeName, AttributeValue): the attributes the program sets
    # (KmsMasterKeyId, Policy, DisplayName); FifoTopic alone is create-only and the program sets none.
    ("aws:sns/topic:Topic", "Attributes"): ("SetTopicAttributes", "AttributeValue"),
    # Firehose "UpdateDestination": "change the parameters associated with a destination (for
    # example, to change the bucket name of the Amazon S3 destination)", as ExtendedS3DestinationUpdate.
    ("aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream", "ExtendedS3DestinationConfiguration"):
        ("UpdateDestination", "ExtendedS3DestinationUpdate"),
    # Firehose "StartDeliveryStreamEncryption": "Even if encryption is currently enabled for a Firehose
    # stream, you can still invoke this operation on it to change the ARN of the CMK or both its type
    # and ARN."
    ("aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream",
     "DeliveryStreamEncryptionConfigurationInput"):
        ("StartDeliveryStreamEncryption", "DeliveryStreamEncryptionConfigurationInput"),
}


def _operations(service: str) -> list[Any]:
    model: Any = service_model(service)  # botocore's ServiceModel (untyped cached properties)
    return [model.operation_model(name) for name in model.operation_names]


@functools.cache
def create_operation(type_token: str) -> Optional[tuple[Any, Optional[str]]]:
    """(the operation that creates a resource of this type, the member of its request that holds
    API_MODELS' first shape, or None when that shape is the request itself), or None."""
    model = API_MODELS[type_token]
    root = model.shapes[0]
    found: list[tuple[Any, Optional[str]]] = []
    for op in _operations(model.service):
        request = op.input_shape
        if request is None:
            continue
        if request.name == root:
            found.append((op, None))
        found += [(op, member) for member, member_shape in request.members.items()
                  if member_shape.name == root]
    found.sort(key=lambda candidate: 0 if _CREATE_VERBS.match(candidate[0].name) else 1)
    return found[0] if found else None


def _member_names(structure, depth: int) -> set[str]:
    names: set[str] = set()
    if structure is None or structure.type_name != "structure":
        return names
    for name, member in structure.members.items():
        names.add(_norm(name))
        if depth > 0:
            names |= _member_names(member.member if member.type_name == "list" else member, depth - 1)
    return names


def _noun(operation_name: str) -> str:
    return _norm(_CREATE_VERBS.sub("", operation_name, count=1))


def updates_of(type_token: str) -> list[Any]:
    """The Update*/Modify*/Put*/Set* operations that act on an existing resource of this type."""
    created = create_operation(type_token)
    if created is None:
        return []
    create, _ = created
    noun = _noun(create.name)
    identifiers = {noun + ending for ending in _IDENTIFIER_ENDINGS}
    name_member = create_member(type_token, "name")
    if name_member:
        identifiers.add(_norm(name_member))
    return [op for op in _operations(API_MODELS[type_token].service)
            if op.name.startswith(UPDATE_VERBS) and op.name != create.name and op.input_shape is not None
            and identifiers & {_norm(m) for m in op.input_shape.members}]


@functools.cache
def create_only_members(type_token: str) -> frozenset[str]:
    """Members of the create request (or of its nested shape API_MODELS names first) that no
    operation in updates_of() accepts, at its top level or one level down; empty for a Put*."""
    created = create_operation(type_token)
    if created is None:
        raise LookupError(f"{type_token}: no botocore operation takes {API_MODELS[type_token].shapes[0]}")
    create, nested = created
    if create.name.startswith("Put"):
        return frozenset()
    root = create.input_shape if nested is None else create.input_shape.members[nested]
    updatable: set[str] = set()
    for op in updates_of(type_token):
        if nested is not None and any(m.name == root.name for m in op.input_shape.members.values()):
            return frozenset()  # the update takes the whole nested shape (UpdateBackupPlan)
        updatable |= _member_names(op.input_shape, 1)
    return frozenset(member for member in root.members
                     if _norm(member) not in updatable and (type_token, member) not in UPDATED_ELSEWHERE)


def create_member(type_token: str, prop: str) -> Optional[str]:
    """The member of the create request's root shape a top-level pulumi input is sent in (a
    structure member holding it when it lies one level down), or None."""
    created = create_operation(type_token)
    if created is None:
        return None
    create, nested = created
    root = create.input_shape if nested is None else create.input_shape.members[nested]
    model = API_MODELS[type_token]
    renamed = model.renames.get(prop)
    if renamed:
        first = renamed.split(".")[0]
        return first if first in root.members else None
    member = _member(root, prop)
    if member is not None:
        return next(name for name, shape_ in root.members.items() if shape_ is member)
    for name, holder in root.members.items():
        if holder.type_name == "structure" and _member(holder, prop) is not None:
            return name
    return None


def create_only_inputs(type_token: str, inputs: Mapping[str, Any]) -> dict[str, str]:
    """The top-level inputs a resource sets that only its create call takes: input -> member."""
    if type_token not in API_MODELS:
        raise LookupError(f"{type_token} has no entry in API_MODELS")
    members = create_only_members(type_token)
    found = {}
    for prop, value in inputs.items():
        if value is None or prop in NOT_SENT_ANYWHERE or not_sent_reason(type_token, prop):
            continue
        member = create_member(type_token, prop)
        if member in members:
            found[prop] = member
    return found
