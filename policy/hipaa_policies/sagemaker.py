"""SageMaker: notebooks and endpoints encrypted, private, without root."""

from __future__ import annotations

from collections.abc import Iterable

from .framework import ENCRYPTION_AT_REST, Metadata, Resource, resource_policy

NOTEBOOK = ("aws:sagemaker/notebookInstance:NotebookInstance",)
ENDPOINT_CONFIG = ("aws:sagemaker/endpointConfiguration:EndpointConfiguration",)


def _notebook(r: Resource) -> Iterable[str]:
    if not r.props.customer_key("kmsKeyId"):
        yield "Set kmsKeyId to a customer-managed key."
    if r.props.get("directInternetAccess") != "Disabled":
        yield "Set directInternetAccess to Disabled and subnetId to a private subnet."
    if r.props.get("rootAccess") != "Disabled":
        yield "Set rootAccess to Disabled."


def _endpoint_config(r: Resource) -> Iterable[str]:
    if not r.props.customer_key("kmsKeyArn"):
        yield "Set kmsKeyArn to a customer-managed key."
    # Captured requests, async inference results and core dumps are written to S3 (botocore
    # `sagemaker` DataCaptureConfig, AsyncInferenceOutputConfig, ProductionVariantCoreDumpConfig):
    # without a key they get the bucket's default encryption.
    for block in (("dataCaptureConfig",), ("asyncInferenceConfig", "outputConfig")):
        if r.props.is_set(*block) and not r.props.customer_key(*block, "kmsKeyId"):
            yield f"Set {'.'.join(block)}.kmsKeyId to a customer-managed key."
    for variants in ("productionVariants", "shadowProductionVariants"):
        if any(v.is_set("coreDumpConfig") and not v.customer_key("coreDumpConfig", "kmsKeyId") for v in r.props.each(variants)):
            yield f"Set {variants}[].coreDumpConfig.kmsKeyId to a customer-managed key."


POLICIES = [
    resource_policy(Metadata("aws-sagemaker-notebook-secure", "SageMaker notebooks must be encrypted, private and without root access.",
                             ENCRYPTION_AT_REST, "Set kmsKeyId, directInternetAccess=Disabled and rootAccess=Disabled.",
                             config_rules=("sagemaker-notebook-instance-kms-key-configured",
                                           "sagemaker-notebook-no-direct-internet-access"), service="sagemaker"),
                    NOTEBOOK, _notebook),
    resource_policy(Metadata("aws-sagemaker-endpoint-encrypted", "SageMaker endpoint configurations must use a customer-managed key.",
                             ENCRYPTION_AT_REST, "Set kmsKeyArn.",
                             config_rules=("sagemaker-endpoint-configuration-kms-key-configured",), service="sagemaker"),
                    ENDPOINT_CONFIG, _endpoint_config),
]
