"""Ingress: an internet-facing Application Load Balancer that accepts only HTTPS, behind a WAF.

- HTTPS listener with a TLS 1.3 policy that still admits TLS 1.2, and the stack's certificate;
  port 80 only redirects to 443; invalid header fields are dropped; deletion protection with PHI.
- Access logs go to a bucket built for them (SSE-S3: the only encryption ALB log delivery supports).
- A WAFv2 web ACL (AWS managed rule groups and a per-IP rate limit) is associated with the load
  balancer and logs to a KMS-encrypted `aws-waf-logs-*` log group kept six years.
- The target group speaks HTTPS to the tasks: PHI is encrypted inside the VPC too. The load
  balancer's own policy toward targets admits old TLS versions, so the container image contract
  is that the task refuses anything below TLS 1.2 (README).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi_aws as aws

from components.app_settings import AppSettings
from components.aws_context import AwsContext
from components.secure_bucket import SecureBucket, access_log_target

# TLS 1.3 preferred, TLS 1.2 still admitted, nothing older (ELB guide, "Security policies for your
# Application Load Balancer"); the API default (ELBSecurityPolicy-2016-08) admits TLS 1.0.
TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"
HTTPS_PORT = 443
HTTP_PORT = 80
# AWS managed rule groups (WAF guide, "AWS Managed Rules rule groups list").
MANAGED_RULE_GROUPS = (
    "AWSManagedRulesCommonRuleSet",
    "AWSManagedRulesKnownBadInputsRuleSet",
    "AWSManagedRulesAmazonIpReputationList",
    "AWSManagedRulesSQLiRuleSet",
)
# Requests one client IP may send in the evaluation window before it is blocked.
RATE_LIMIT_PER_IP = 2000
RATE_WINDOW_SECONDS = 300
# Regions that predate August 2022 also deliver ALB access logs as the region's Elastic Load
# Balancing account (ELB guide, "Enable access logs for your Application Load Balancer"): both
# principals are allowed there, whichever AWS uses.
ELB_ACCOUNT_BY_REGION = {
    "us-east-1": "127311923021", "us-east-2": "033677994240", "us-west-1": "027434742980",
    "us-west-2": "797873946194", "af-south-1": "098369216593", "ap-east-1": "754344448648",
    "ap-southeast-3": "589379963580", "ap-south-1": "718504428378", "ap-northeast-3": "383597477331",
    "ap-northeast-2": "600734575887", "ap-southeast-1": "114774131450",
    "ap-southeast-2": "783225319266", "ap-northeast-1": "582318560864",
    "ca-central-1": "985666609251", "eu-central-1": "054676820928", "eu-west-1": "156460612806",
    "eu-west-2": "652711504416", "eu-south-1": "635631232127", "eu-west-3": "009996457667",
    "eu-north-1": "897822967062", "me-south-1": "076674570225", "sa-east-1": "507241528517",
}
LOG_PREFIX = "alb"
# Created once as what it is: elbv2 has no call that changes a load balancer's Type or Scheme.
LOAD_BALANCER_TYPE = "application"
INTERNAL = False
MAX_LOAD_BALANCER_NAME = 32  # CreateLoadBalancer Name: "a maximum of 32 characters"


def load_balancer_name(prefix: str, load_balancer_type: str, internal: bool) -> str:
    """The load balancer's name, which changes with its type and scheme.

    A new type or scheme replaces the load balancer, and Pulumi creates the new one before
    deleting the old (which serves traffic until then): under the same name that create would fail
    (DuplicateLoadBalancerName). The internet-facing application load balancer keeps the name it
    has always had (`<prefix>-app`); any other kind carries its own marker, kept when the prefix
    is cut to fit."""
    if load_balancer_type == "application" and not internal:
        return f"{prefix}-app"[:MAX_LOAD_BALANCER_NAME].rstrip("-")
    marker = f"-{load_balancer_type[:3]}{'-int' if internal else '-ext'}"
    return f"{prefix[:MAX_LOAD_BALANCER_NAME - len(marker)].rstrip('-')}{marker}"


def alb_log_delivery(ctx: AwsContext):
    """Bucket policy statements letting this region's load balancers deliver this account's logs."""
    def statements(bucket_arn: str) -> list[dict]:
        # ELB guide, "Enable access logs for your Application Load Balancer": the log delivery
        # service principal, recommended in every region, plus the region's ELB account where
        # the region predates August 2022 (still supported there).
        principal: dict = {"Service": "logdelivery.elasticloadbalancing.amazonaws.com"}
        elb_account = ELB_ACCOUNT_BY_REGION.get(ctx.region)
        if elb_account:
            principal["AWS"] = f"arn:{ctx.partition}:iam::{elb_account}:root"
        return [{
            "Sid": "LoadBalancerLogDelivery",
            "Effect": "Allow",
            "Principal": principal,
            "Action": "s3:PutObject",
            "Resource": f"{bucket_arn}/{LOG_PREFIX}/AWSLogs/{ctx.account_id}/*",
        }]
    return statements


@dataclass(frozen=True)
class IngressArgs:
    stack: str
    aws: AwsContext
    settings: AppSettings
    holds_phi: bool
    vpc_id: pulumi.Input[str]
    public_subnet_ids: Sequence[pulumi.Input[str]]
    security_group_id: pulumi.Input[str]
    app_port: int
    logs_key_arn: pulumi.Input[str]
    log_retention_days: int


class Ingress(pulumi.ComponentResource):
    load_balancer: aws.lb.LoadBalancer
    target_group: aws.lb.TargetGroup
    https_listener: aws.lb.Listener
    web_acl: aws.wafv2.WebAcl
    dns_name: pulumi.Output[str]
    """The load balancer's DNS name (point the application's name at it)."""
    url: pulumi.Output[str]
    """https://<domain or load balancer name>."""

    def __init__(self, name: str, args: IngressArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("hipaa:components:Ingress", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        ctx, app = args.aws, args.settings
        prefix = f"hipaa-aws-{args.stack}"

        logs = SecureBucket(f"{name}-logs", access_log_target(
            ctx, args.stack, name_scope=f"{args.stack}-lb", force_destroy=not args.holds_phi,
            delivery=alb_log_delivery(ctx)),
            opts=pulumi.ResourceOptions(parent=self, protect=args.holds_phi))  # evidence with PHI
        certificate_arn = self._certificate(name, app, child)

        self.load_balancer = aws.lb.LoadBalancer(
            name, name=load_balancer_name(prefix, LOAD_BALANCER_TYPE, INTERNAL),
            load_balancer_type=LOAD_BALANCER_TYPE, internal=INTERNAL,
            security_groups=[args.security_group_id], subnets=list(args.public_subnet_ids),
            drop_invalid_header_fields=True, enable_deletion_protection=args.holds_phi,
            access_logs=aws.lb.LoadBalancerAccessLogsArgs(
                bucket=logs.bucket_name, prefix=LOG_PREFIX, enabled=True),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[logs.policy]))
        self.dns_name = self.load_balancer.dns_name
        # No fixed name: the port, protocol, target type and VPC can only be set at creation
        # (elbv2 ModifyTargetGroup changes health checks only), so changing any of them replaces
        # the group, and Pulumi creates the new one before deleting the old. A fixed name would
        # make that create fail (DuplicateTargetGroupName); the provider's unique name does not.
        # The listener and the service move to the new group in place before the old one goes;
        # alarms follow its `arn_suffix`.
        self.target_group = aws.lb.TargetGroup(
            name, port=args.app_port, protocol="HTTPS",
            target_type="ip", vpc_id=args.vpc_id, deregistration_delay=30,
            health_check=aws.lb.TargetGroupHealthCheckArgs(
                enabled=True, protocol="HTTPS", path=app.health_check_path, matcher="200-399",
                interval=15, timeout=5, healthy_threshold=2, unhealthy_threshold=3),
            opts=child)
        self.https_listener = aws.lb.Listener(
            f"{name}-https", load_balancer_arn=self.load_balancer.arn, port=HTTPS_PORT,
            protocol="HTTPS", ssl_policy=TLS_POLICY, certificate_arn=certificate_arn,
            default_actions=[aws.lb.ListenerDefaultActionArgs(
                type="forward", target_group_arn=self.target_group.arn)],
            opts=child)
        aws.lb.Listener(
            f"{name}-http", load_balancer_arn=self.load_balancer.arn, port=HTTP_PORT, protocol="HTTP",
            default_actions=[aws.lb.ListenerDefaultActionArgs(
                type="redirect", redirect=aws.lb.ListenerDefaultActionRedirectArgs(
                    protocol="HTTPS", port=str(HTTPS_PORT), status_code="HTTP_301"))],
            opts=child)
        self.web_acl = self._firewall(name, args, child)
        self.url = pulumi.Output.from_input(app.domain_name or self.dns_name).apply(lambda host: f"https://{host}")
        self.register_outputs({"dns_name": self.dns_name, "url": self.url})

    def _certificate(self, name: str, app: AppSettings, child: pulumi.ResourceOptions) -> pulumi.Input[str]:
        """The given ACM certificate, or one issued for the domain with DNS validation."""
        if app.certificate_arn:
            return app.certificate_arn
        assert app.hosted_zone_id and app.domain_name  # settings require both without a certificate
        # Replaced create-before-destroy (Pulumi's default): ACM refuses to delete a certificate a
        # listener still uses (DeleteCertificate: ResourceInUseException), so the listener must
        # move to the new certificate before the old one is deleted (SDK docstring of
        # aws.acm.Certificate recommends create-before-destroy for a certificate in use).
        certificate = aws.acm.Certificate(
            name, domain_name=app.domain_name, validation_method="DNS",
            options=aws.acm.CertificateOptionsArgs(certificate_transparency_logging_preference="ENABLED"),
            opts=child)
        option = certificate.domain_validation_options[0]
        record = aws.route53.Record(
            f"{name}-validation", zone_id=app.hosted_zone_id, name=option.resource_record_name,
            type=option.resource_record_type, records=[option.resource_record_value], ttl=300,
            allow_overwrite=True, opts=child)
        validation = aws.acm.CertificateValidation(
            name, certificate_arn=certificate.arn, validation_record_fqdns=[record.fqdn], opts=child)
        return validation.certificate_arn

    def _firewall(self, name: str, args: IngressArgs, child: pulumi.ResourceOptions) -> aws.wafv2.WebAcl:
        prefix = f"hipaa-aws-{args.stack}"
        acl = aws.wafv2.WebAcl

        def visibility(metric: str) -> aws.wafv2.WebAclRuleVisibilityConfigArgs:
            return aws.wafv2.WebAclRuleVisibilityConfigArgs(
                cloudwatch_metrics_enabled=True, metric_name=metric, sampled_requests_enabled=True)

        rules = [aws.wafv2.WebAclRuleArgs(
            name=group, priority=priority, override_action=aws.wafv2.WebAclRuleOverrideActionArgs(
                none=aws.wafv2.WebAclRuleOverrideActionNoneArgs()),
            statement=aws.wafv2.WebAclRuleStatementArgs(
                managed_rule_group_statement=aws.wafv2.WebAclRuleStatementManagedRuleGroupStatementArgs(
                    name=group, vendor_name="AWS")),
            visibility_config=visibility(group))
            for priority, group in enumerate(MANAGED_RULE_GROUPS)]
        rules.append(aws.wafv2.WebAclRuleArgs(
            name="rate-limit-per-ip", priority=len(MANAGED_RULE_GROUPS),
            action=aws.wafv2.WebAclRuleActionArgs(block=aws.wafv2.WebAclRuleActionBlockArgs()),
            statement=aws.wafv2.WebAclRuleStatementArgs(
                rate_based_statement=aws.wafv2.WebAclRuleStatementRateBasedStatementArgs(
                    limit=RATE_LIMIT_PER_IP, aggregate_key_type="IP",
                    evaluation_window_sec=RATE_WINDOW_SECONDS)),
            visibility_config=visibility("rate-limit-per-ip")))
        web_acl = acl(
            name, name=f"{prefix}-app", scope="REGIONAL",
            description="Managed rule groups and a per-IP rate limit in front of the application",
            default_action=aws.wafv2.WebAclDefaultActionArgs(allow=aws.wafv2.WebAclDefaultActionAllowArgs()),
            rules=rules, visibility_config=aws.wafv2.WebAclVisibilityConfigArgs(
                cloudwatch_metrics_enabled=True, metric_name=f"{prefix}-app", sampled_requests_enabled=True),
            opts=child)
        aws.wafv2.WebAclAssociation(
            name, resource_arn=self.load_balancer.arn, web_acl_arn=web_acl.arn, opts=child)
        # WAF delivers only to log groups whose name starts with aws-waf-logs- (WAF guide).
        group = aws.cloudwatch.LogGroup(
            f"{name}-waf", name=f"aws-waf-logs-{prefix}", retention_in_days=args.log_retention_days,
            kms_key_id=args.logs_key_arn, opts=pulumi.ResourceOptions(parent=self, protect=args.holds_phi))
        # URIs and query strings can carry PHI: the group gets a masking policy (log_data_protection.py).
        self.waf_log_group_name = group.name
        aws.wafv2.WebAclLoggingConfiguration(
            name, resource_arn=web_acl.arn, log_destination_configs=[group.arn],
            # Credentials and session cookies never reach the log.
            redacted_fields=[
                aws.wafv2.WebAclLoggingConfigurationRedactedFieldArgs(
                    single_header=aws.wafv2.WebAclLoggingConfigurationRedactedFieldSingleHeaderArgs(
                        name="authorization")),
                aws.wafv2.WebAclLoggingConfigurationRedactedFieldArgs(
                    single_header=aws.wafv2.WebAclLoggingConfigurationRedactedFieldSingleHeaderArgs(
                        name="cookie")),
            ],
            opts=child)
        return web_acl
