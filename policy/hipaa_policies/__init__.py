"""The policy registry: every policy of the pack, one module per AWS service."""

from . import (
    apigateway, baa, backup, data_controls, cloudtrail, cloudwatch, codebuild, config, dms, dynamodb, ec2, ecs, efs,
    elasticache, elasticbeanstalk, elb, emr, guardduty, iam, kinesis, kms, lambda_, opensearch, phi,
    rds, redshift, s3, sagemaker, secretsmanager, sns, sqs, ssm, ssoadmin, threat_detection, vpc, wafv2,
)
from . import privilege_escalation  # escalation methods on every resource (privilege_escalation.py)
from . import opensearch_serverless  # OpenSearch Serverless's own policy JSON (opensearch_serverless.py)
from . import phi_audit  # every PHI bucket in the trail's data events and a PHI-read alarm
from . import key_provenance  # where each encryption key comes from (key_provenance.py)
from . import governance  # the exceptions register and non-lowerable policies (governance.py)

MODULES = (phi, s3, rds, kms, vpc, ec2, elb, iam, cloudtrail, cloudwatch, backup, guardduty, config,
           threat_detection, secretsmanager, dynamodb, efs, elasticache, opensearch, redshift, sns, sqs,
           kinesis, lambda_, apigateway, sagemaker, emr, dms, codebuild, wafv2, ecs, ssm, elasticbeanstalk,
           ssoadmin, privilege_escalation, key_provenance, phi_audit, opensearch_serverless, data_controls, baa)
ALL_POLICIES = [policy for module in MODULES for policy in module.POLICIES]
ALL_POLICIES += governance.POLICIES  # judges the others' configuration, not resources
