"""The policy registry: every policy of the pack, one module per AWS service."""

from . import (
    apigateway, baa, backup, cloudtrail, cloudwatch, codebuild, config, dms, dynamodb, ec2, ecs, efs,
    elasticache, elasticbeanstalk, elb, emr, guardduty, iam, kinesis, kms, lambda_, opensearch, phi,
    rds, redshift, s3, sagemaker, secretsmanager, sns, sqs, ssm, ssoadmin, threat_detection, vpc, wafv2,
)

MODULES = (phi, s3, rds, kms, vpc, ec2, elb, iam, cloudtrail, cloudwatch, backup, guardduty, config,
           threat_detection, secretsmanager, dynamodb, efs, elasticache, opensearch, redshift, sns, sqs,
           kinesis, lambda_, apigateway, sagemaker, emr, dms, codebuild, wafv2, ecs, ssm, elasticbeanstalk,
           ssoadmin, baa)
ALL_POLICIES = [policy for module in MODULES for policy in module.POLICIES]
