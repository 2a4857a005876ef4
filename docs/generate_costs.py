"""Generate docs/costs.md and the README's cost summary from what the program registers per stack.

    venv/bin/python docs/generate_costs.py          # rewrite docs/costs.md and the README block
    venv/bin/python docs/generate_costs.py --check  # exit 1 when either is stale

For every stack in stacks/, the program runs once under Pulumi's mock runtime (as `make preflight`
runs it). The resources that cost money every hour whether or not anyone uses them are counted and
multiplied by the dated AWS list prices in PRICES below, for a 730-hour month. Everything billed by
use (traffic, storage, requests, findings, events) is listed per stack with its pricing page and is
not in the total. A resource kind with no price here is shown as "not priced" and left out of the
total, never guessed.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from preflight.program_runner import (  # noqa: E402
    ProgramError,
    ProgramRun,
    RecordedResource,
    project_program,
    run_program,
)
from preflight.stack_config import StackConfig, load_stack_config  # noqa: E402
from stacks import catalog  # noqa: E402

DOCUMENT = ROOT / "docs" / "costs.md"
README = ROOT / "README.md"
START, END = "<!-- costs:start -->", "<!-- costs:end -->"
HOURS_PER_MONTH = 730
CHECKED = "2026-11-23"


@dataclass(frozen=True)
class Price:
    value: float
    unit: str
    region: str  # "any" where AWS publishes one price for every commercial region
    source: str  # the AWS pricing page
    checked: str  # when the number was looked up
    verified: bool  # the number was read in AWS's own text; False: only third-party sources agree
    evidence: str


_VPC = "https://aws.amazon.com/vpc/pricing/"
_RDS = "https://aws.amazon.com/rds/postgresql/pricing/"
_CW = "https://aws.amazon.com/cloudwatch/pricing/"
_EC = "https://aws.amazon.com/elasticache/pricing/"
_FARGATE = "https://aws.amazon.com/fargate/pricing/"
_WAF = "https://aws.amazon.com/waf/pricing/"
_ELB = "https://aws.amazon.com/elasticloadbalancing/pricing/"

# Dated list prices (USD). `verified` only where the number itself was read in AWS's text (the
# pricing page, its worked examples, or an AWS guide); everything else agrees across third-party
# guides but is marked unverified, here and in the document, until someone reads it on the page.
PRICES: dict[str, Price] = {
    "nat-gateway-hour": Price(
        value=0.045,
        unit="per NAT gateway-hour",
        region="us-east-1",
        source=_VPC,
        checked=CHECKED,
        verified=False,
        evidence="The page's worked example gives $0.045/hour for US East (Ohio); the us-east-1 rate is "
        "rendered "
        "by script and was read only in third-party guides. Data processing ($0.045/GB) is usage.",
    ),
    "public-ipv4-hour": Price(
        value=0.005,
        unit="per public IPv4 address-hour",
        region="any",
        source=_VPC,
        checked=CHECKED,
        verified=False,
        evidence="Charged on every public IPv4 address, in use or idle, since 2024-02-01 (AWS News Blog, "
        '"New - '
        'AWS Public IPv4 Address Charge + Public IP Insights"); the number read only in third-party text.',
    ),
    "interface-endpoint-az-hour": Price(
        value=0.01,
        unit="per interface endpoint per Availability Zone-hour",
        region="us-east-1",
        source="https://aws.amazon.com/privatelink/pricing/",
        checked=CHECKED,
        verified=False,
        evidence="The page bills each endpoint per AZ-hour; its static text shows only the "
        "data-processing tiers "
        "($0.01/GB for the first PB).",
    ),
    "kms-key-month": Price(
        value=1.00,
        unit="per customer managed key-month",
        region="any",
        source="https://aws.amazon.com/kms/pricing/",
        checked=CHECKED,
        verified=True,
        evidence='"Each AWS KMS key that you create in KMS costs $1/month"; automatic rotation adds '
        "$1/month for "
        'each of the first two rotations and nothing after (AWS Security Blog, "The curious case of '
        'faster AWS KMS symmetric key rotation", 2024).',
    ),
    "rds-postgres-db.m7g.large-hour": Price(
        value=0.168,
        unit="per Single-AZ instance-hour (PostgreSQL, db.m7g.large)",
        region="us-east-1",
        source=_RDS,
        checked=CHECKED,
        verified=False,
        evidence="Instance rates are rendered by script on the page; third-party guides only.",
    ),
    "rds-postgres-db.t4g.medium-hour": Price(
        value=0.065,
        unit="per Single-AZ instance-hour (PostgreSQL, db.t4g.medium)",
        region="us-east-1",
        source=_RDS,
        checked=CHECKED,
        verified=False,
        evidence="Instance rates are rendered by script on the page; third-party guides only.",
    ),
    "rds-multi-az-factor": Price(
        value=2.0,
        unit="for Multi-AZ (instance and storage)",
        region="any",
        source="https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_OnDemandDBInstances.html",
        checked=CHECKED,
        verified=True,
        evidence="RDS User Guide: a Multi-AZ DB instance bills instance-hours and provisioned storage "
        "for both the "
        "primary and the standby.",
    ),
    "rds-gp3-gb-month": Price(
        value=0.115,
        unit="per GB-month of gp3 storage (Single-AZ)",
        region="us-east-1",
        source=_RDS,
        checked=CHECKED,
        verified=False,
        evidence="Includes 3,000 IOPS and 125 MiB/s; backup storage up to the database's size is free, "
        "beyond it is "
        "usage.",
    ),
    "rds-performance-insights-7-days": Price(
        value=0.0,
        unit="7 days of Performance Insights retention",
        region="any",
        source=_RDS,
        checked=CHECKED,
        verified=False,
        evidence="The 7-day retention tier carries no charge; longer retention is billed per vCPU-month.",
    ),
    "alb-hour": Price(
        value=0.0225,
        unit="per Application Load Balancer-hour",
        region="us-east-1",
        source=_ELB,
        checked=CHECKED,
        verified=True,
        evidence="The page's worked example for us-east-1 (AWS text as transcribed 2026-09-20).",
    ),
    "alb-lcu-hour": Price(
        value=0.008,
        unit="per LCU-hour",
        region="us-east-1",
        source=_ELB,
        checked=CHECKED,
        verified=True,
        evidence="Usage: an LCU is 25 new connections/s, 3,000 active connections/min, 1 GB/hour to "
        "targets or "
        "1,000 rule evaluations/s, whichever is highest; not in the total.",
    ),
    "waf-web-acl-month": Price(
        value=5.00,
        unit="per web ACL-month",
        region="any",
        source=_WAF,
        checked=CHECKED,
        verified=False,
        evidence="AWS's WAF cost blog says the price is the same in every region; the number read only in "
        "third-party text.",
    ),
    "waf-rule-month": Price(
        value=1.00,
        unit="per rule or rule group in a web ACL-month",
        region="any",
        source=_WAF,
        checked=CHECKED,
        verified=False,
        evidence="A managed rule group counts as one rule; premium groups (Bot Control, fraud control, "
        "anti-DDoS) "
        "add their own subscription and request fees. Requests: $0.60 per million (usage).",
    ),
    "fargate-x86-vcpu-hour": Price(
        value=0.04048,
        unit="per vCPU-hour (Linux/x86)",
        region="us-east-1",
        source=_FARGATE,
        checked=CHECKED,
        verified=True,
        evidence="The ECS pricing page's us-east-1 example: $0.000011244 per vCPU-second (x 3,600 = "
        "$0.04048).",
    ),
    "fargate-x86-gb-hour": Price(
        value=0.004445,
        unit="per GB-hour of memory (Linux/x86)",
        region="us-east-1",
        source=_FARGATE,
        checked=CHECKED,
        verified=False,
        evidence="Third-party guides; the page renders the rate by script.",
    ),
    "fargate-arm-vcpu-hour": Price(
        value=0.03238,
        unit="per vCPU-hour (Linux/ARM)",
        region="us-east-1",
        source=_FARGATE,
        checked=CHECKED,
        verified=False,
        evidence="Third-party guides; the page renders the rate by script.",
    ),
    "fargate-arm-gb-hour": Price(
        value=0.00356,
        unit="per GB-hour of memory (Linux/ARM)",
        region="us-east-1",
        source=_FARGATE,
        checked=CHECKED,
        verified=False,
        evidence="Third-party guides; the page renders the rate by script.",
    ),
    "elasticache-valkey-cache.t4g.small-hour": Price(
        value=0.0256,
        unit="per node-hour (Valkey, cache.t4g.small)",
        region="us-east-1",
        source=_EC,
        checked=CHECKED,
        verified=False,
        evidence="Valkey nodes are listed 20% below Redis OSS; third-party guides only.",
    ),
    "elasticache-redis-cache.t4g.small-hour": Price(
        value=0.032,
        unit="per node-hour (Redis OSS, cache.t4g.small)",
        region="us-east-1",
        source=_EC,
        checked=CHECKED,
        verified=False,
        evidence="Third-party guides only.",
    ),
    "elasticache-valkey-cache.t4g.medium-hour": Price(
        value=0.052,
        unit="per node-hour (Valkey, cache.t4g.medium)",
        region="us-east-1",
        source=_EC,
        checked=CHECKED,
        verified=False,
        evidence="Valkey nodes are listed 20% below Redis OSS; third-party guides only.",
    ),
    "elasticache-redis-cache.t4g.medium-hour": Price(
        value=0.065,
        unit="per node-hour (Redis OSS, cache.t4g.medium)",
        region="us-east-1",
        source=_EC,
        checked=CHECKED,
        verified=False,
        evidence="Third-party guides only.",
    ),
    "elasticache-valkey-cache.m7g.large-hour": Price(
        value=0.1264,
        unit="per node-hour (Valkey, cache.m7g.large)",
        region="us-east-1",
        source=_EC,
        checked=CHECKED,
        verified=False,
        evidence="No source read this rate: it is the Redis OSS rate below less the 20% Valkey discount "
        "the page states for node-based clusters. Confirm on the page.",
    ),
    "elasticache-redis-cache.m7g.large-hour": Price(
        value=0.158,
        unit="per node-hour (Redis OSS, cache.m7g.large)",
        region="us-east-1",
        source=_EC,
        checked=CHECKED,
        verified=False,
        evidence="No source read this rate (the page renders it by script; not in the guides found). "
        "Confirm on the page.",
    ),
    "cloudwatch-alarm-metric-month": Price(
        value=0.10,
        unit="per standard-resolution alarm metric-month",
        region="us-east-1",
        source=_CW,
        checked=CHECKED,
        verified=False,
        evidence="A metric-math alarm bills each metric it reads, an anomaly-detection band three; the "
        "first 10 "
        "alarm metrics per account are free (verified on the page) and not deducted here.",
    ),
    "cloudwatch-high-resolution-alarm-metric-month": Price(
        value=0.30,
        unit="per high-resolution (period under 60 s) alarm metric-month",
        region="us-east-1",
        source=_CW,
        checked=CHECKED,
        verified=False,
        evidence="Third-party guides only.",
    ),
    "cloudwatch-composite-alarm-month": Price(
        value=0.50,
        unit="per composite alarm-month",
        region="us-east-1",
        source=_CW,
        checked=CHECKED,
        verified=False,
        evidence="Third-party guides only.",
    ),
    "contributor-insights-rule-month": Price(
        value=0.50,
        unit="per Contributor Insights rule-month",
        region="us-east-1",
        source=_CW,
        checked=CHECKED,
        verified=False,
        evidence="Plus $0.02 per million matched log events (usage); the first rule per account is free "
        "(verified "
        "on the page) and not deducted here.",
    ),
    "cloudwatch-dashboard-month": Price(
        value=3.00,
        unit="per dashboard-month",
        region="us-east-1",
        source=_CW,
        checked=CHECKED,
        verified=False,
        evidence="The first 3 dashboards per account are free (verified on the page) and not deducted here.",
    ),
    "secret-month": Price(
        value=0.40,
        unit="per secret-month",
        region="us-east-1",
        source="https://aws.amazon.com/secrets-manager/pricing/",
        checked=CHECKED,
        verified=True,
        evidence="The page's examples (AWS text as transcribed 2026-09-20); a replica is another secret, "
        "and a "
        "secret RDS manages for a master password is billed like any other (RDS User Guide). API calls: "
        "$0.05 per 10,000 (usage).",
    ),
    "route53-hosted-zone-month": Price(
        value=0.50,
        unit="per hosted zone-month (first 25)",
        region="any",
        source="https://aws.amazon.com/route53/pricing/",
        checked=CHECKED,
        verified=True,
        evidence="AWS text as transcribed 2026-09-20; queries are usage (alias queries to AWS resources "
        "are free).",
    ),
    "cloudtrail-data-events-100k": Price(
        value=0.10,
        unit="per 100,000 data events",
        region="any",
        source="https://aws.amazon.com/cloudtrail/pricing/",
        checked=CHECKED,
        verified=True,
        evidence='Usage: "The first copy of management events is delivered free of charge"; another copy '
        "costs "
        "$2.00 per 100,000 events.",
    ),
}

# Usage-billed services, listed per stack when the program registers them (never in the total).
USAGE = [
    (
        ("aws:guardduty/detector:Detector",),
        "GuardDuty",
        "per GB of CloudTrail, VPC flow log and DNS events analysed, S3 data events, runtime monitoring "
        "vCPUs, "
        "malware scans; 30-day free trial",
        "https://aws.amazon.com/guardduty/pricing/",
    ),
    (
        ("aws:securityhub/account:Account",),
        "Security Hub",
        "per security check and per finding ingested; 30-day free trial",
        "https://aws.amazon.com/security-hub/pricing/",
    ),
    (
        ("aws:cfg/recorder:Recorder",),
        "AWS Config",
        "per configuration item recorded, plus per conformance pack rule evaluation",
        "https://aws.amazon.com/config/pricing/",
    ),
    (
        ("aws:cloudtrail/trail:Trail",),
        "CloudTrail",
        "first copy of management events free; data events $0.10 per 100,000 (PHI bucket object reads and "
        "writes are recorded)",
        "https://aws.amazon.com/cloudtrail/pricing/",
    ),
    (
        ("aws:backup/plan:Plan", "aws:backup/vault:Vault"),
        "AWS Backup",
        "per GB-month of backups kept (35 daily, 12 monthly) and cross-region copy transfer",
        "https://aws.amazon.com/backup/pricing/",
    ),
    (
        ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2"),
        "S3",
        "per GB-month stored, per request, Glacier Instant Retrieval reads",
        "https://aws.amazon.com/s3/pricing/",
    ),
    (
        ("aws:cloudwatch/logGroup:LogGroup", "aws:ec2/flowLog:FlowLog"),
        "CloudWatch Logs",
        "per GB ingested (flow logs, trail, database, application) and per GB-month archived",
        _CW,
    ),
    (
        ("aws:ec2/natGateway:NatGateway",),
        "NAT gateway data processing",
        "$0.045 per GB through the gateway",
        _VPC,
    ),
    (
        ("aws:ec2/vpcEndpoint:VpcEndpoint",),
        "Interface endpoint data processing",
        "$0.01 per GB (first PB)",
        "https://aws.amazon.com/privatelink/pricing/",
    ),
    (
        ("aws:lb/loadBalancer:LoadBalancer", "aws:alb/loadBalancer:LoadBalancer"),
        "Load balancer capacity units",
        "$0.008 per LCU-hour; one LCU around the clock is $5.84/month",
        _ELB,
    ),
    (("aws:wafv2/webAcl:WebAcl",), "WAF requests", "$0.60 per million requests inspected", _WAF),
    (
        ("aws:kms/key:Key",),
        "KMS requests",
        "$0.03 per 10,000 requests beyond 20,000 free per month",
        "https://aws.amazon.com/kms/pricing/",
    ),
    (
        ("aws:ecr/repository:Repository",),
        "ECR",
        "per GB-month of images stored",
        "https://aws.amazon.com/ecr/pricing/",
    ),
    (
        ("aws:sns/topic:Topic",),
        "SNS",
        "per notification delivered",
        "https://aws.amazon.com/sns/pricing/",
    ),
    (
        ("aws:elasticache/serverlessCache:ServerlessCache",),
        "ElastiCache Serverless",
        "per GB-hour stored and per ElastiCache Processing Unit",
        _EC,
    ),
    (
        ("aws:route53/record:Record",),
        "Route 53 queries",
        "per million queries (alias queries to AWS resources free)",
        "https://aws.amazon.com/route53/pricing/",
    ),
]
USAGE_ALWAYS = [
    (
        "Data transfer out",
        "per GB to the internet and between Availability Zones",
        "https://aws.amazon.com/ec2/pricing/on-demand/",
    )
]

PREMIUM_WAF_GROUPS = {
    "AWSManagedRulesBotControlRuleSet",
    "AWSManagedRulesATPRuleSet",
    "AWSManagedRulesACFPRuleSet",
    "AWSManagedRulesAntiDDoSRuleSet",
}


@dataclass
class Line:
    what: str
    count: float
    count_text: str
    price_keys: tuple[str, ...]
    monthly: Optional[float]  # None: no price in the table
    note: str = ""

    def verified(self) -> bool:
        return all(PRICES[k].verified for k in self.price_keys)


@dataclass
class StackCost:
    stack: str
    region: str
    classification: str
    lines: list[Line] = field(default_factory=list)
    usage: list[tuple[str, str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def total(self) -> float:
        return sum(line.monthly or 0.0 for line in self.lines)

    @property
    def unverified_total(self) -> float:
        return sum(line.monthly or 0.0 for line in self.lines if not line.verified())

    @property
    def unpriced(self) -> list[Line]:
        return [line for line in self.lines if line.monthly is None]


def _num(value: Any, default: float = 0.0) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return default


def _of(run: ProgramRun, *types: str) -> list[RecordedResource]:
    return [r for t in types for r in run.of_type(t)]


def _hourly(key: str, units: float) -> float:
    return units * PRICES[key].value * HOURS_PER_MONTH


def _monthly(key: str, units: float) -> float:
    return units * PRICES[key].value


def _plural(n: float, word: str, words: Optional[str] = None) -> str:
    return f"{n:g} {word if n == 1 else (words or word + 's')}"


# ---------------------------------------------------------------------------------------------
# Counting: one function per kind of fixed cost, each reading only what the program registered.


def nat_gateways(run: ProgramRun) -> list[RecordedResource]:
    return [
        r
        for r in run.of_type("aws:ec2/natGateway:NatGateway")
        if r.inputs.get("connectivityType", "public") != "private"
    ]


def elastic_ips(run: ProgramRun) -> list[RecordedResource]:
    return run.of_type("aws:ec2/eip:Eip")


def internet_facing_balancers(run: ProgramRun) -> list[RecordedResource]:
    return [
        r
        for r in _of(run, "aws:lb/loadBalancer:LoadBalancer", "aws:alb/loadBalancer:LoadBalancer")
        if not r.inputs.get("internal")
    ]


def _balancer_zones(lb: RecordedResource) -> int:
    return len(lb.inputs.get("subnets") or lb.inputs.get("subnetMappings") or [])


def interface_endpoint_placements(run: ProgramRun) -> tuple[int, int]:
    """(interface endpoints, endpoint-AZ placements: each subnet is one billed AZ)."""
    endpoints = [
        r
        for r in run.of_type("aws:ec2/vpcEndpoint:VpcEndpoint")
        if r.inputs.get("vpcEndpointType") == "Interface"
    ]
    return len(endpoints), sum(len(r.inputs.get("subnetIds") or []) for r in endpoints)


def kms_keys(run: ProgramRun) -> list[RecordedResource]:
    return _of(
        run,
        "aws:kms/key:Key",
        "aws:kms/replicaKey:ReplicaKey",
        "aws:kms/externalKey:ExternalKey",
        "aws:kms/replicaExternalKey:ReplicaExternalKey",
    )


def alarm_metrics(alarm: RecordedResource) -> int:
    """Alarm metrics a metric alarm is billed for: one per metric it reads; a Contributor Insights
    rule metric counts as one, an anomaly-detection band as three."""
    queries = alarm.inputs.get("metricQueries") or []
    if not queries:
        return 3 if alarm.inputs.get("thresholdMetricId") else 1
    metrics = sum(1 for q in queries if q.get("metric"))
    for q in queries:
        expression = str(q.get("expression") or "")
        metrics += expression.count("INSIGHT_RULE_METRIC")
        metrics += 2 * expression.count("ANOMALY_DETECTION_BAND")
    return max(metrics, 1)


def _high_resolution(alarm: RecordedResource) -> bool:
    periods = [_num(alarm.inputs.get("period"), 60)]
    periods += [
        _num((q.get("metric") or {}).get("period"), 60)
        for q in alarm.inputs.get("metricQueries") or []
    ]
    return min(periods) < 60


def secrets(run: ProgramRun) -> tuple[int, int]:
    """(Secrets Manager secrets the program creates with their replicas, secrets RDS creates for it)."""
    own = sum(
        1 + len(r.inputs.get("replicas") or [])
        for r in run.of_type("aws:secretsmanager/secret:Secret")
    )
    managed = sum(
        1
        for r in _of(run, "aws:rds/instance:Instance", "aws:rds/cluster:Cluster")
        if r.inputs.get("manageMasterUserPassword")
    )
    return own, managed


def fargate_tasks(run: ProgramRun) -> list[tuple[RecordedResource, Optional[RecordedResource]]]:
    """Each Fargate service with its task definition (None when it cannot be resolved)."""
    by_urn = {r.urn: r for r in run.resources}
    definitions = run.of_type("aws:ecs/taskDefinition:TaskDefinition")
    found = []
    for service in run.of_type("aws:ecs/service:Service"):
        providers = [
            str(s.get("capacityProvider", ""))
            for s in service.inputs.get("capacityProviderStrategies") or []
        ]
        if service.inputs.get(
            "launchType", "FARGATE" if not providers else ""
        ) != "FARGATE" and not any(p.startswith("FARGATE") for p in providers):
            continue
        deps = service.property_dependencies.get("taskDefinition", [])
        definition = next((by_urn[d] for d in deps if d in by_urn), None)
        if definition is None:
            arn = str(service.inputs.get("taskDefinition", ""))
            definition = next(
                (
                    d
                    for d in definitions
                    if arn.endswith(f"/{d.name}") or str(d.inputs.get("family")) in arn
                ),
                None,
            )
        found.append((service, definition))
    return found


def cache_nodes(group: RecordedResource) -> int:
    if group.type.endswith("cluster:Cluster"):
        return int(_num(group.inputs.get("numCacheNodes"), 1))
    if group.inputs.get("numCacheClusters") is not None:
        return int(_num(group.inputs.get("numCacheClusters")))
    shards = int(_num(group.inputs.get("numNodeGroups"), 1))
    return shards * (1 + int(_num(group.inputs.get("replicasPerNodeGroup"), 0)))


# ---------------------------------------------------------------------------------------------


def _price_line(
    what: str, count: float, count_text: str, key: str, monthly: float, note: str = ""
) -> Line:
    return Line(what, count, count_text, (key,), monthly, note)


def _lookup(key: str) -> Optional[Price]:
    return PRICES.get(key)


def estimate(run: ProgramRun, config: StackConfig) -> StackCost:
    classification = str(config.values.get("hipaa-aws:dataClassification", "?"))
    cost = StackCost(run.stack, config.region, classification)
    add = cost.lines.append

    nats = nat_gateways(run)
    if nats:
        add(
            _price_line(
                "NAT gateways",
                len(nats),
                str(len(nats)),
                "nat-gateway-hour",
                _hourly("nat-gateway-hour", len(nats)),
                "hourly; data processing is usage",
            )
        )
    eips = elastic_ips(run)
    if eips:
        add(
            _price_line(
                "Public IPv4 addresses: Elastic IPs",
                len(eips),
                str(len(eips)),
                "public-ipv4-hour",
                _hourly("public-ipv4-hour", len(eips)),
                "the NAT gateways' addresses",
            )
        )
    balancers = internet_facing_balancers(run)
    lb_ips = sum(_balancer_zones(lb) for lb in balancers)
    if lb_ips:
        add(
            _price_line(
                "Public IPv4 addresses: internet-facing load balancers",
                lb_ips,
                str(lb_ips),
                "public-ipv4-hour",
                _hourly("public-ipv4-hour", lb_ips),
                "one per Availability Zone at least; more when the balancer scales out",
            )
        )
    endpoints, placements = interface_endpoint_placements(run)
    if placements:
        add(
            _price_line(
                "Interface VPC endpoints (endpoint x AZ)",
                placements,
                f"{placements} ({endpoints} endpoints)",
                "interface-endpoint-az-hour",
                _hourly("interface-endpoint-az-hour", placements),
            )
        )
    keys = kms_keys(run)
    if keys:
        rotating = sum(1 for k in keys if k.inputs.get("enableKeyRotation"))
        add(
            _price_line(
                "KMS customer managed keys",
                len(keys),
                str(len(keys)),
                "kms-key-month",
                _monthly("kms-key-month", len(keys)),
                f"first year; {rotating} rotate yearly: +${rotating:g}/month from year 2, "
                f"+${2 * rotating:g}/month from year 3 (capped)",
            )
        )
        regions = sorted(
            {str(k.inputs["region"]) for k in keys if k.inputs.get("region")} - {config.region}
        )
        if regions:
            elsewhere = sum(1 for k in keys if k.inputs.get("region") in regions)
            cost.notes.append(
                f"KMS keys in {', '.join(regions)}: {elsewhere} of the {len(keys)} (a backup copy "
                f"region); KMS has one key price in every region."
            )

    for db in run.of_type("aws:rds/instance:Instance"):
        _database_lines(cost, db)
    for lb in _of(run, "aws:lb/loadBalancer:LoadBalancer", "aws:alb/loadBalancer:LoadBalancer"):
        kind = str(lb.inputs.get("loadBalancerType", "application"))
        if kind == "application":
            add(
                _price_line(
                    f"Application Load Balancer `{lb.name}`",
                    1,
                    "1",
                    "alb-hour",
                    _hourly("alb-hour", 1),
                    "hourly; LCUs are usage",
                )
            )
        else:
            add(
                Line(
                    f"{kind.capitalize()} Load Balancer `{lb.name}`",
                    1,
                    "1",
                    (),
                    None,
                    "no price in the table",
                )
            )
    _waf_lines(cost, run)
    _fargate_lines(cost, run)
    _cache_lines(cost, run)
    _monitoring_lines(cost, run)

    own, managed = secrets(run)
    if own + managed:
        text = ", ".join(
            part
            for part in (
                f"{own} created" if own else "",
                f"{managed} managed by RDS" if managed else "",
            )
            if part
        )
        add(
            _price_line(
                "Secrets Manager secrets",
                own + managed,
                f"{own + managed} ({text})",
                "secret-month",
                _monthly("secret-month", own + managed),
            )
        )
    zones = run.of_type("aws:route53/zone:Zone")
    if zones:
        add(
            _price_line(
                "Route 53 hosted zones",
                len(zones),
                str(len(zones)),
                "route53-hosted-zone-month",
                _monthly("route53-hosted-zone-month", len(zones)),
            )
        )
    elif run.of_type("aws:route53/record:Record"):
        cost.notes.append(
            "Route 53: the program adds records to an existing hosted zone (`hostedZoneId`) and "
            "creates none, so no hosted-zone charge is counted."
        )

    registered = {r.type for r in run.resources}
    for types, service, what, url in USAGE:
        if registered & set(types):
            cost.usage.append((service, what, url))
    cost.usage += USAGE_ALWAYS
    for line in cost.lines:
        for key in line.price_keys:
            region = PRICES[key].region
            if region not in ("any", config.region):
                line.monthly = None
                line.note = f"no {config.region} price in the table ({region} only)"
    return cost


def _database_lines(cost: StackCost, db: RecordedResource) -> None:
    engine = str(db.inputs.get("engine", ""))
    klass = str(db.inputs.get("instanceClass", ""))
    multi_az = bool(db.inputs.get("multiAz"))
    factor = PRICES["rds-multi-az-factor"].value if multi_az else 1.0
    deployment = "Multi-AZ (x2)" if multi_az else "Single-AZ"
    factor_key: tuple[str, ...] = ("rds-multi-az-factor",) if multi_az else ()
    key = f"rds-{engine}-{klass}-hour"
    what = f"RDS {engine} `{klass}`, {deployment}"
    if _lookup(key):
        cost.lines.append(Line(what, 1, "1", (key, *factor_key), _hourly(key, factor)))
    else:
        cost.lines.append(
            Line(what, 1, "1", (), None, f"no price for {engine} {klass} in the table")
        )
    storage = _num(db.inputs.get("allocatedStorage"))
    storage_type = str(db.inputs.get("storageType", "gp2"))
    if storage:
        what = f"RDS {storage_type} storage, {deployment}"
        gb = f"{storage:g} GB"
        if storage_type == "gp3":
            cost.lines.append(
                Line(
                    what,
                    storage,
                    gb,
                    ("rds-gp3-gb-month", *factor_key),
                    _monthly("rds-gp3-gb-month", storage * factor),
                    f"allocated; grows with use up to {_num(db.inputs.get('maxAllocatedStorage')):g} GB",
                )
            )
        else:
            cost.lines.append(
                Line(what, storage, gb, (), None, f"no price for {storage_type} in the table")
            )
    if db.inputs.get("performanceInsightsEnabled"):
        retention = _num(db.inputs.get("performanceInsightsRetentionPeriod"), 7)
        if retention <= 7:
            cost.lines.append(
                Line(
                    "RDS Performance Insights, 7-day retention",
                    1,
                    "1",
                    ("rds-performance-insights-7-days",),
                    0.0,
                    "free tier",
                )
            )
        else:
            cost.lines.append(
                Line(
                    f"RDS Performance Insights, {retention:g}-day retention",
                    1,
                    "1",
                    (),
                    None,
                    "billed per vCPU-month: no price in the table",
                )
            )


def _waf_lines(cost: StackCost, run: ProgramRun) -> None:
    acls = run.of_type("aws:wafv2/webAcl:WebAcl")
    if not acls:
        return
    rules = sum(len(acl.inputs.get("rules") or []) for acl in acls)
    rules += len(run.of_type("aws:wafv2/webAclRuleGroupAssociation:WebAclRuleGroupAssociation"))
    managed = [
        str(((rule.get("statement") or {}).get("managedRuleGroupStatement") or {}).get("name"))
        for acl in acls
        for rule in acl.inputs.get("rules") or []
        if (rule.get("statement") or {}).get("managedRuleGroupStatement")
    ]
    cost.lines.append(
        Line(
            "WAF web ACLs",
            len(acls),
            str(len(acls)),
            ("waf-web-acl-month",),
            _monthly("waf-web-acl-month", len(acls)),
        )
    )
    cost.lines.append(
        Line(
            "WAF rules and rule groups",
            rules,
            f"{rules} ({len(managed)} AWS managed groups)",
            ("waf-rule-month",),
            _monthly("waf-rule-month", rules),
            "requests are usage",
        )
    )
    premium = sorted(set(managed) & PREMIUM_WAF_GROUPS)
    if premium:
        cost.lines.append(
            Line(
                f"WAF premium managed groups: {', '.join(premium)}",
                len(premium),
                str(len(premium)),
                (),
                None,
                "subscription and request fees: no price in the table",
            )
        )


def _fargate_lines(cost: StackCost, run: ProgramRun) -> None:
    for service, definition in fargate_tasks(run):
        tasks = _num(service.inputs.get("desiredCount"), 1)
        if definition is None:
            cost.lines.append(
                Line(
                    f"Fargate service `{service.name}`",
                    tasks,
                    _plural(tasks, "task"),
                    (),
                    None,
                    "task definition not found: not priced",
                )
            )
            continue
        vcpu = _num(definition.inputs.get("cpu")) / 1024
        memory_gb = _num(definition.inputs.get("memory")) / 1024
        platform = definition.inputs.get("runtimePlatform") or {}
        arch = "arm" if str(platform.get("cpuArchitecture", "X86_64")).upper() == "ARM64" else "x86"
        if str(platform.get("operatingSystemFamily", "LINUX")).upper() != "LINUX":
            cost.lines.append(
                Line(
                    f"Fargate service `{service.name}` (Windows)",
                    tasks,
                    _plural(tasks, "task"),
                    (),
                    None,
                    "no Windows price in the table",
                )
            )
            continue
        cost.lines.append(
            Line(
                f"Fargate vCPU, service `{service.name}` ({arch})",
                tasks * vcpu,
                f"{_plural(tasks, 'task')} x {vcpu:g} vCPU",
                (f"fargate-{arch}-vcpu-hour",),
                _hourly(f"fargate-{arch}-vcpu-hour", tasks * vcpu),
                "desired count, around the clock",
            )
        )
        cost.lines.append(
            Line(
                f"Fargate memory, service `{service.name}` ({arch})",
                tasks * memory_gb,
                f"{_plural(tasks, 'task')} x {memory_gb:g} GB",
                (f"fargate-{arch}-gb-hour",),
                _hourly(f"fargate-{arch}-gb-hour", tasks * memory_gb),
            )
        )


def _cache_lines(cost: StackCost, run: ProgramRun) -> None:
    for group in _of(
        run, "aws:elasticache/replicationGroup:ReplicationGroup", "aws:elasticache/cluster:Cluster"
    ):
        if group.type.endswith("cluster:Cluster") and group.inputs.get("replicationGroupId"):
            continue  # a member of a replication group, counted there
        nodes = cache_nodes(group)
        engine = str(group.inputs.get("engine", "redis"))
        node_type = str(group.inputs.get("nodeType", ""))
        key = f"elasticache-{engine}-{node_type}-hour"
        what = f"ElastiCache {engine} `{node_type}` nodes"
        if _lookup(key):
            cost.lines.append(Line(what, nodes, str(nodes), (key,), _hourly(key, nodes)))
        else:
            cost.lines.append(
                Line(what, nodes, str(nodes), (), None, f"no price for {engine} {node_type}")
            )


def _monitoring_lines(cost: StackCost, run: ProgramRun) -> None:
    alarms = run.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")
    standard = sum(alarm_metrics(a) for a in alarms if not _high_resolution(a))
    high = sum(alarm_metrics(a) for a in alarms if _high_resolution(a))
    if standard:
        cost.lines.append(
            Line(
                "CloudWatch alarm metrics, standard resolution",
                standard,
                f"{standard} ({sum(1 for a in alarms if not _high_resolution(a))} alarms)",
                ("cloudwatch-alarm-metric-month",),
                _monthly("cloudwatch-alarm-metric-month", standard),
                "a metric-math alarm counts each metric it reads",
            )
        )
    if high:
        cost.lines.append(
            Line(
                "CloudWatch alarm metrics, high resolution",
                high,
                str(high),
                ("cloudwatch-high-resolution-alarm-metric-month",),
                _monthly("cloudwatch-high-resolution-alarm-metric-month", high),
            )
        )
    composite = run.of_type("aws:cloudwatch/compositeAlarm:CompositeAlarm")
    if composite:
        cost.lines.append(
            Line(
                "CloudWatch composite alarms",
                len(composite),
                str(len(composite)),
                ("cloudwatch-composite-alarm-month",),
                _monthly("cloudwatch-composite-alarm-month", len(composite)),
            )
        )
    rules = [
        r
        for r in run.of_type("aws:cloudwatch/contributorInsightRule:ContributorInsightRule")
        if r.inputs.get("ruleState", "ENABLED") == "ENABLED"
    ]
    if rules:
        cost.lines.append(
            Line(
                "CloudWatch Contributor Insights rules",
                len(rules),
                str(len(rules)),
                ("contributor-insights-rule-month",),
                _monthly("contributor-insights-rule-month", len(rules)),
                "matched log events are usage",
            )
        )
    dashboards = run.of_type("aws:cloudwatch/dashboard:Dashboard")
    if dashboards:
        cost.lines.append(
            Line(
                "CloudWatch dashboards",
                len(dashboards),
                str(len(dashboards)),
                ("cloudwatch-dashboard-month",),
                _monthly("cloudwatch-dashboard-month", len(dashboards)),
            )
        )


# ---------------------------------------------------------------------------------------------
# Documents


def stacks() -> list[str]:
    """Every stack of the catalog (stacks/catalog.py): a stack added there gets its table here."""
    return catalog.names(ROOT)


def run_stacks(names: Iterable[str]) -> dict[str, ProgramRun]:
    runs = {}
    for name in names:
        try:
            runs[name] = run_program(project_program(ROOT), load_stack_config(name), preview=False)
        except ProgramError as err:
            sys.exit(f"the program failed for stack {name!r}, nothing written: {err}")
    return runs


def _money(value: Optional[float]) -> str:
    return "not priced" if value is None else f"${value:,.2f}"


def _unit_price(line: Line) -> str:
    if not line.price_keys:
        return "-"
    parts = []
    for key in line.price_keys:
        price = PRICES[key]
        value = (
            f"x{price.value:g}"
            if key == "rds-multi-az-factor"
            else "free:"
            if price.value == 0
            else f"${price.value:g}"
        )
        parts.append(f"{value} {price.unit}")
    return " · ".join(parts)


def oldest_check() -> str:
    return min(p.checked for p in PRICES.values())


INTRO = """\
Generated by `venv/bin/python docs/generate_costs.py` from what the program registers for every stack in
`stacks/` (under Pulumi's mock runtime, as `make preflight` runs it), times the dated AWS list prices in
the table at the end. Do not edit by hand; `make test` fails when this file or the README summary is stale.

A month is {hours} hours. On-demand list prices, before tax, free tiers, credits, Savings Plans or
reserved capacity. **Fixed** means billed every hour the resource exists, whatever the traffic: what a
HIPAA-ready environment costs before its first user. Usage-based charges are listed per stack and are not
in the totals. A price marked **unverified** was not read in AWS's own text (its evidence says where it
comes from): check it on the AWS pricing page before you rely on it."""


def render(costs: list[StackCost]) -> str:
    lines = [
        "# Estimated fixed monthly cost per stack",
        "",
        *INTRO.format(hours=HOURS_PER_MONTH).splitlines(),
        "",
        "| stack | region | data | fixed monthly estimate | of which on unverified prices | prices checked |",
        "|---|---|---|---|---|---|",
    ]
    for cost in costs:
        lines.append(
            f"| `{cost.stack}` | {cost.region} | {cost.classification} | **{_money(cost.total)}** | "
            f"{_money(cost.unverified_total)} | {oldest_check()} |"
        )
    for cost in costs:
        lines += [
            "",
            f"## `{cost.stack}`",
            "",
            "| resource | count | unit price | monthly | price | note |",
            "|---|---|---|---|---|---|",
        ]
        for line in cost.lines:
            status = (
                "-" if not line.price_keys else ("verified" if line.verified() else "unverified")
            )
            lines.append(
                f"| {line.what} | {line.count_text} | {_unit_price(line)} | {_money(line.monthly)} | "
                f"{status} | {line.note or '-'} |"
            )
        lines.append(
            f"| **fixed total** | | | **{_money(cost.total)}** | "
            f"{_money(cost.unverified_total)} on unverified prices | |"
        )
        if cost.unpriced:
            lines += [
                "",
                "Not priced (no price in the table, left out of the total): "
                + "; ".join(line.what for line in cost.unpriced)
                + ".",
            ]
        if cost.notes:
            lines += [""] + [f"- {note}" for note in cost.notes]
        lines += ["", "Usage-based, not in the total:", ""]
        lines += [
            f"- **{service}**: {what} ([pricing]({url}))" for service, what, url in cost.usage
        ]
    lines += [
        "",
        "## Prices",
        "",
        f'Looked up on {oldest_check()} with the AWS pricing pages named below; "verified" means the number '
        "was read in AWS's own text.",
        "",
        "| key | price | unit | region | source | checked | status | evidence |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for key, price in PRICES.items():
        status = "verified" if price.verified else "unverified"
        lines.append(
            f"| `{key}` | {price.value:g} | {price.unit} | {price.region} | {price.source} | "
            f"{price.checked} | {status} | {price.evidence} |"
        )
    return "\n".join(lines) + "\n"


def readme_block(costs: list[StackCost]) -> str:
    rows = ["| stack | fixed monthly estimate | prices checked |", "|---|---|---|"]
    rows += [f"| `{c.stack}` | {_money(c.total)} | {oldest_check()} |" for c in costs]
    return "\n".join([START, *rows, END])


def with_readme_block(readme: str, block: str) -> str:
    pattern = re.compile(re.escape(START) + r".*?" + re.escape(END), re.S)
    if not pattern.search(readme):
        raise SystemExit(f"README.md has no {START} ... {END} block")
    return pattern.sub(lambda _: block, readme, count=1)


def main(
    argv: Optional[list[str]] = None,
    runs: Optional[dict[str, ProgramRun]] = None,
    load: Callable[[str], StackConfig] = load_stack_config,
) -> int:
    argv = sys.argv[1:] if argv is None else argv
    names = stacks()
    runs = runs if runs is not None else run_stacks(names)
    costs = [estimate(runs[name], load(name)) for name in names]
    text = render(costs)
    readme = README.read_text()
    new_readme = with_readme_block(readme, readme_block(costs))
    if "--check" in argv:
        stale = [
            p.name
            for p, ok in (
                (DOCUMENT, DOCUMENT.exists() and DOCUMENT.read_text() == text),
                (README, readme == new_readme),
            )
            if not ok
        ]
        if stale:
            print(f"{' and '.join(stale)} stale: run venv/bin/python docs/generate_costs.py")
            return 1
        return 0
    DOCUMENT.write_text(text)
    print(f"wrote {DOCUMENT}")
    if new_readme != readme:
        README.write_text(new_readme)
        print(f"updated the cost summary in {README}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
