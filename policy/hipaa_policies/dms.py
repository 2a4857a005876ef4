"""DMS: private, encrypted replication instances; TLS endpoints."""

from __future__ import annotations

from collections.abc import Iterable

from .framework import ACCESS_CONTROL, Metadata, Resource, not_applicable, resource_policy

DMS_INSTANCE = ("aws:dms/replicationInstance:ReplicationInstance",)
DMS_ENDPOINT = ("aws:dms/endpoint:Endpoint",)


def _dms_instance(r: Resource) -> Iterable[str]:
    if r.props.bool("publiclyAccessible") is not False:
        yield "Set publiclyAccessible to false."
    if not r.props.customer_key("kmsKeyArn"):
        yield "Set kmsKeyArn to a customer-managed key."


# Endpoint engines (botocore `dms` CreateEndpointMessage.EngineName) whose connection DMS makes over an
# AWS service API or HTTPS, not a database session: sslMode (DmsSslModeValue) has nothing to encrypt.
AWS_API = "DMS reaches it through the AWS service's HTTPS API"
WITHOUT_SSL_MODE = {
    "s3": AWS_API, "kinesis": AWS_API, "dynamodb": AWS_API,
    "dms-transfer": AWS_API + " (an S3 transfer location)",
    "neptune": "DMS stages the data in S3 and bulk-loads it into Neptune (botocore dms NeptuneSettings), "
               "whose cluster parameter group enforces TLS (aws-rds-parameter-group-requires-tls)",
    # AWS DMS User Guide, "Using SSL with AWS Database Migration Service": "An Amazon Redshift endpoint
    # already uses an SSL connection and does not require an SSL connection set up by AWS DMS."
    "redshift": "a Redshift endpoint already uses an SSL connection (DMS User Guide, Using SSL)",
    "redshift-serverless": "a Redshift endpoint already uses an SSL connection (DMS User Guide, Using SSL)",
}


def _dms_endpoint(r: Resource) -> Iterable[str]:
    engine = r.props.get("engineName")
    # Kafka and Redis take their TLS switch in their settings block, not sslMode (botocore `dms`
    # KafkaSettings.SecurityProtocol: TLS only when set to ssl-encryption, ssl-authentication or
    # sasl-ssl; RedisSettings.SslSecurityProtocol: "The default is ssl-encryption").
    if engine == "kafka":
        if r.props.get("kafkaSettings", "securityProtocol") in (None, "plaintext"):
            yield "Set kafkaSettings.securityProtocol to ssl-encryption, ssl-authentication or sasl-ssl."
        return
    if engine == "redis":
        if r.props.get("redisSettings", "sslSecurityProtocol") == "plaintext":
            yield "Set redisSettings.sslSecurityProtocol to ssl-encryption."
        return
    if engine in ("opensearch", "elasticsearch"):
        # botocore `dms` ElasticsearchSettings.EndpointUri: "DMS uses HTTPS if a transport protocol
        # (http/https) is not specified"; an http:// endpoint is plaintext.
        if str(r.props.get("elasticsearchSettings", "endpointUri") or "").strip().lower().startswith("http://"):
            yield "Set elasticsearchSettings.endpointUri to an https:// endpoint (or leave out the scheme: DMS then uses HTTPS)."
        return
    if r.props.get("sslMode") in (None, "none") and engine in WITHOUT_SSL_MODE:
        not_applicable(f"DMS has no sslMode for {engine} endpoints: {WITHOUT_SSL_MODE[engine]}.")
    if r.props.get("sslMode") in (None, "none"):
        yield "Set sslMode to verify-full (or require)."


POLICIES = [
    resource_policy(Metadata("aws-dms-replication-instance-private", "DMS replication instances must be private and encrypted with a customer key.",
                             ACCESS_CONTROL, "Set publiclyAccessible=false and kmsKeyArn.",
                             config_rules=("dms-replication-not-public",), service="dms"), DMS_INSTANCE, _dms_instance),
    resource_policy(Metadata("aws-dms-endpoint-tls", "DMS database endpoints must use TLS.",
                             ACCESS_CONTROL, "Set sslMode to verify-full.", service="dms"), DMS_ENDPOINT, _dms_endpoint),
]
