"""The policy registry: every policy of the pack, one module per AWS service."""

from . import (
    analytics, apigateway, backup, cloudtrail, cloudwatch, data_stores, detection, ec2, ecs, elasticbeanstalk,
    elb, iam, kms, lambda_, messaging, phi, rds, s3, secretsmanager, ssm, vpc,
)

ALL_POLICIES = [
    policy
    for module in (phi, s3, rds, kms, vpc, ec2, elb, iam, cloudtrail, cloudwatch, backup, detection,
                   secretsmanager, data_stores, messaging, lambda_, apigateway, analytics, ecs, ssm,
                   elasticbeanstalk)
    for policy in module.POLICIES
]
