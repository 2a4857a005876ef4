"""Generate docs/architecture.md (and docs/architecture.svg) from what the program registers for prod.

    venv/bin/python docs/generate_architecture.py          # rewrite the document and the picture
    venv/bin/python docs/generate_architecture.py --check  # exit 1 when either is stale

The program runs once, under Pulumi's mock runtime (as `make preflight` runs it), and the diagram is
drawn from the registrations alone, so a new component appears without a change here:

- every ComponentResource is a box joined to its parent component by a thick grey line (frames
  nested in frames are routed badly by the SVG renderer); the account layer (the `AccountLayer`
  subtree) and the environment layer are the two outer frames; KMS keys used are named in the box;
- an arrow B -> A means a resource in component A takes an output of a resource in component B
  (a property dependency): data or a reference flows from B to A;
- subnets are grouped into tiers by their `Tier` tag, and a dotted arrow says which components
  place resources in which tier;
- the request path (internet -> internet-facing load balancer -> the service behind its target
  group -> the database) is drawn thick when those resources exist.

The SVG is rendered from the same Mermaid text by the npm package beautiful-mermaid (pure
JavaScript, no browser), installed on first use into venv/share/npm. `--check` needs neither node
nor the package: the SVG carries the SHA-256 of the Mermaid text it was drawn from.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from preflight.program_runner import (  # noqa: E402
    ProgramError,
    ProgramRun,
    RecordedResource,
    project_program,
    run_program,
)
from preflight.stack_config import load_stack_config  # noqa: E402

STACK = "prod"
DOCUMENT = ROOT / "docs" / "architecture.md"
PICTURE = ROOT / "docs" / "architecture.svg"
NPM_DIR = ROOT / "venv" / "share" / "npm"
RENDERER = "beautiful-mermaid@1.1.3"
BACKGROUND, FOREGROUND = "#ffffff", "#1f2933"
ACCOUNT_LAYER = "AccountLayer"
SUBNET = "aws:ec2/subnet:Subnet"
NAT_GATEWAY = "aws:ec2/natGateway:NatGateway"
VPC_ENDPOINT = "aws:ec2/vpcEndpoint:VpcEndpoint"
LOAD_BALANCERS = ("aws:lb/loadBalancer:LoadBalancer", "aws:alb/loadBalancer:LoadBalancer")
LISTENERS = ("aws:lb/listener:Listener", "aws:alb/listener:Listener")
SERVICES = ("aws:ecs/service:Service", "aws:autoscaling/group:Group")
DATABASES = ("aws:rds/instance:Instance", "aws:rds/cluster:Cluster")
DEFAULT_DB_PORTS = {
    "postgres": 5432,
    "aurora-postgresql": 5432,
    "mysql": 3306,
    "aurora-mysql": 3306,
    "mariadb": 3306,
}
TIER_ORDER = ("public", "app", "data")

# What an arrow carries, named after the type of the resource whose output is taken.
CARRIED = {
    "aws:kms/key:Key": "KMS key",
    "aws:kms/alias:Alias": "KMS key",
    "aws:ec2/subnet:Subnet": "subnets",
    "aws:ec2/securityGroup:SecurityGroup": "security group",
    "aws:ec2/vpc:Vpc": "VPC",
    "aws:s3/bucket:Bucket": "bucket",
    "aws:s3/bucketV2:BucketV2": "bucket",
    "aws:cloudwatch/logGroup:LogGroup": "log group",
    "aws:rds/instance:Instance": "database",
    "aws:rds/cluster:Cluster": "database",
    "aws:iam/role:Role": "role",
    "aws:sns/topic:Topic": "alert topic",
    "aws:cloudtrail/trail:Trail": "trail",
    "aws:lb/targetGroup:TargetGroup": "target group",
    "aws:lb/loadBalancer:LoadBalancer": "load balancer",
    "aws:ecs/cluster:Cluster": "cluster",
    "aws:ecs/service:Service": "service",
    "aws:ecr/repository:Repository": "image repository",
    "aws:secretsmanager/secret:Secret": "secret",
    "aws:acm/certificate:Certificate": "certificate",
    "aws:elasticache/replicationGroup:ReplicationGroup": "cache",
    "aws:cloudwatch/contributorInsightRule:ContributorInsightRule": "insight rule",
    "aws:wafv2/webAcl:WebAcl": "web ACL",
    "aws:guardduty/detector:Detector": "detector",
}
KEY_LABEL = "KMS key"
NETWORK_PLACEMENT = {"security group", "VPC"}


@dataclass
class Component:
    urn: str
    type: str
    name: str
    parent: Optional[str]  # the enclosing component's URN
    children: list[str] = field(default_factory=list)
    resources: list[RecordedResource] = field(default_factory=list)

    @property
    def kind(self) -> str:
        return self.type.rsplit(":", 1)[-1]

    @property
    def node_id(self) -> str:
        return "c_" + re.sub(r"\W", "_", f"{self.kind}_{self.name}")


@dataclass
class Architecture:
    stack: str
    components: dict[str, Component]
    edges: dict[tuple[str, str], set[str]]  # (from URN, to URN) -> what is carried
    tiers: dict[str, dict[str, int]]  # tier -> {"subnets": n, "NAT gateways": n, ...}
    tier_owner: Optional[str]  # the component owning the subnets
    placements: dict[str, set[str]]  # component URN -> tiers it places resources in
    # The request path: (from, to, label), from and to a component URN or "internet".
    path: list[tuple[str, str, str]]
    keys: dict[str, set[str]]  # component URN -> the KMS keys (by name) its resources use

    def layer_of(self, urn: str) -> str:
        current: Optional[str] = urn
        while current:
            if self.components[current].kind == ACCOUNT_LAYER:
                return "account"
            current = self.components[current].parent
        return "environment"


def run_prod() -> ProgramRun:
    try:
        return run_program(project_program(ROOT), load_stack_config(STACK), preview=False)
    except ProgramError as err:
        sys.exit(f"the program failed for stack {STACK!r}, nothing written: {err}")


def _owner(
    resource: RecordedResource,
    by_urn: dict[str, RecordedResource],
    components: dict[str, Component],
) -> Optional[str]:
    """The nearest enclosing component of a resource (the component itself for a component)."""
    current: Optional[RecordedResource] = resource
    while current is not None:
        if current.urn in components:
            return current.urn
        current = by_urn.get(current.parent)
    return None


def _ancestors(urn: str, components: dict[str, Component]) -> list[str]:
    """The enclosing components, nearest first."""
    found: list[str] = []
    current = components[urn].parent
    while current:
        found.append(current)
        current = components[current].parent
    return found


def _tier_of(subnet: RecordedResource) -> str:
    tags = subnet.inputs.get("tags") or {}
    tier = tags.get("Tier") if isinstance(tags, dict) else None
    if isinstance(tier, str) and tier:
        return tier
    for name in TIER_ORDER:
        if name in subnet.name:
            return name
    return "other"


def model(run: ProgramRun) -> Architecture:
    by_urn = {r.urn: r for r in run.resources}
    components = {
        r.urn: Component(r.urn, r.type, r.name, None) for r in run.resources if not r.custom
    }
    for comp in components.values():
        parent = by_urn.get(by_urn[comp.urn].parent)
        comp.parent = _owner(parent, by_urn, components) if parent is not None else None
        if comp.parent:
            components[comp.parent].children.append(comp.urn)
    owner = {r.urn: _owner(r, by_urn, components) for r in run.resources}
    for r in run.resources:
        if r.custom and owner[r.urn]:
            components[owner[r.urn]].resources.append(r)

    # Tiers: subnets by Tier tag; what each component places in them.
    subnet_tier = {r.urn: _tier_of(r) for r in run.of_type(SUBNET)}
    tier_owner = next((owner[u] for u in subnet_tier), None)
    tiers: dict[str, Counter] = defaultdict(Counter)
    for tier in subnet_tier.values():
        tiers[tier]["subnets"] += 1
    placements: dict[str, set[str]] = defaultdict(set)
    for r in run.resources:
        placed = {
            subnet_tier[d]
            for deps in r.property_dependencies.values()
            for d in deps
            if d in subnet_tier
        }
        if not placed or r.type == "aws:ec2/routeTableAssociation:RouteTableAssociation":
            continue
        if owner[r.urn] == tier_owner:
            what = {NAT_GATEWAY: "NAT gateways", VPC_ENDPOINT: "interface endpoints"}.get(r.type)
            for tier in placed:
                if what:
                    tiers[tier][what] += 1
        elif owner[r.urn]:
            placements[owner[r.urn]] |= placed

    # Data flows: property dependencies between different components (not along the tree).
    edges: dict[tuple[str, str], set[str]] = defaultdict(set)
    keys: dict[str, set[str]] = defaultdict(set)
    for r in run.resources:
        target = owner[r.urn]
        if target is None:
            continue
        for deps in r.property_dependencies.values():
            for dep in deps:
                source_resource = by_urn.get(dep)
                source = owner.get(dep)
                if source_resource is None or source is None or source == target:
                    continue
                if source in _ancestors(target, components) or target in _ancestors(
                    source, components
                ):
                    continue
                if source_resource.type == SUBNET:
                    continue  # drawn as placement in a tier
                carried = CARRIED.get(source_resource.type, _noun(source_resource.type))
                edges[(source, target)].add(carried)
                if carried == KEY_LABEL:
                    keys[target].add(
                        source_resource.name.removeprefix(components[source].name + "-")
                    )

    return Architecture(
        run.stack,
        components,
        dict(edges),
        {t: dict(c) for t, c in tiers.items()},
        tier_owner,
        dict(placements),
        _request_path(run, owner),
        dict(keys),
    )


def _noun(type_token: str) -> str:
    """`aws:sns/topicPolicy:TopicPolicy` -> `topic policy`."""
    name = type_token.rsplit(":", 1)[-1]
    return re.sub(r"(?<!^)(?=[A-Z])", " ", name).lower()


def _request_path(run: ProgramRun, owner: dict[str, Optional[str]]) -> list[tuple[str, str, str]]:
    """internet -> internet-facing load balancer -> service behind its target groups -> database."""
    by_urn = {r.urn: r for r in run.resources}
    path: list[tuple[str, str, str]] = []
    balancers = [r for t in LOAD_BALANCERS for r in run.of_type(t) if not r.inputs.get("internal")]
    services = [r for t in SERVICES for r in run.of_type(t)]
    databases = [r for t in DATABASES for r in run.of_type(t)]
    app_components: list[str] = []
    for lb in balancers:
        lb_owner = owner[lb.urn]
        if lb_owner is None:
            continue
        listeners = [
            lst
            for t in LISTENERS
            for lst in run.of_type(t)
            if lb.urn in lst.property_dependencies.get("loadBalancerArn", [])
        ]
        ports = sorted(
            {
                f"{lst.inputs.get('protocol', 'HTTP')} :{int(lst.inputs.get('port', 80))}"
                for lst in listeners
            }
        )
        path.append(("internet", lb_owner, ", ".join(ports) or "HTTP(S)"))
        # Target groups of this balancer's listeners, and the services registered in them.
        groups = {
            d
            for lst in listeners
            for deps in lst.property_dependencies.values()
            for d in deps
            if by_urn.get(d) is not None and by_urn[d].type.endswith("targetGroup:TargetGroup")
        }
        for service in services:
            service_deps = {d for deps in service.property_dependencies.values() for d in deps}
            service_owner = owner[service.urn]
            if service_deps & groups and service_owner and service_owner != lb_owner:
                path.append((lb_owner, service_owner, "target groups"))
                app_components.append(service_owner)
    for db in databases:
        db_owner = owner[db.urn]
        if db_owner is None:
            continue
        engine = str(db.inputs.get("engine", ""))
        port = int(db.inputs.get("port") or DEFAULT_DB_PORTS.get(engine, 0))
        label = f"{engine} :{port}" if port else engine
        for app in dict.fromkeys(app_components):
            path.append((app, db_owner, label))
    return path


# ---------------------------------------------------------------------------------------------
# Mermaid


def _label(*lines: str) -> str:
    return "<br/>".join(line.replace('"', "#quot;") for line in lines if line)


def _component_label(comp: Component, keys: set[str], prefix: str = "") -> str:
    count = len(comp.resources)
    return _label(
        f"<b>{prefix}{comp.kind}</b>",
        f"{comp.name} · {count} resource{'s' if count != 1 else ''}",
        f"keys: {', '.join(sorted(keys))}" if keys else "",
    )


def mermaid(arch: Architecture) -> str:
    comps = arch.components
    lines = ["flowchart TB", '  internet(("Internet"))']

    def ordered(urns: list[str]) -> list[str]:
        return sorted(urns, key=lambda u: (comps[u].kind, comps[u].name))

    def label(urn: str, prefix: str = "") -> str:
        return _component_label(comps[urn], arch.keys.get(urn, set()), prefix)

    contains: list[tuple[str, str]] = []  # (parent node, child node): the component tree

    def emit(urn: str, depth: int) -> None:
        """A node per component, the tree drawn as plain lines: frames nested inside frames are
        routed badly by the SVG renderer, so only the two layers are frames."""
        comp = comps[urn]
        pad = "  " * depth
        lines.append(f'{pad}{comp.node_id}["{label(urn)}"]')
        if urn == arch.tier_owner:
            for tier in _tier_names(arch):
                counts = arch.tiers[tier]
                extra = [f"{what} ×{n}" for what, n in sorted(counts.items()) if what != "subnets"]
                tier_label = _label(f"<b>{tier} subnets ×{counts['subnets']}</b>", *extra)
                lines.append(f'{pad}tier_{tier}[["{tier_label}"]]')
                contains.append((comp.node_id, f"tier_{tier}"))
        for child in ordered([c for c in comp.children if comps[c].kind != ACCOUNT_LAYER]):
            contains.append((comp.node_id, comps[child].node_id))
            emit(child, depth)

    def end(urn: str) -> str:
        return urn if urn == "internet" else comps[urn].node_id

    for root in ordered([u for u, c in comps.items() if c.parent is None]):
        lines.append(f'  subgraph layer_environment["{label(root, "Environment layer: ")}"]')
        for child in ordered(comps[root].children):
            if comps[child].kind != ACCOUNT_LAYER:
                emit(child, 2)
        lines.append("  end")
    for account in ordered([u for u, c in comps.items() if c.kind == ACCOUNT_LAYER]):
        lines.append(f'  subgraph layer_account["{label(account, "Account layer: ")}"]')
        for child in ordered(comps[account].children):
            emit(child, 2)
        lines.append("  end")

    styles: dict[str, list[int]] = defaultdict(list)

    def link(kind: str, text: str) -> None:
        styles[kind].append(sum(len(v) for v in styles.values()))
        lines.append(f"  {text}")

    for parent, child in contains:
        link("tree", f"{parent} --- {child}")
    for src, dst, text in arch.path:
        link("path", f'{end(src)} == "{_label(text)}" ==> {end(dst)}')
    if arch.tiers.get("public", {}).get("NAT gateways"):
        link("placement", 'internet -.-|"outbound only, via NAT"| tier_public')
    for urn in sorted(arch.placements, key=lambda u: (comps[u].kind, comps[u].name)):
        for tier in _tier_names(arch):
            if tier in arch.placements[urn]:
                link("placement", f'{end(urn)} -. "in" .-> tier_{tier}')
    path_pairs = {(a, b) for a, b, _ in arch.path} | {(b, a) for a, b, _ in arch.path}
    for (src, dst), carried in sorted(
        arch.edges.items(), key=lambda e: (comps[e[0][0]].kind, comps[e[0][1]].kind, e[0])
    ):
        data = carried - {KEY_LABEL}
        if src == arch.tier_owner and dst in arch.placements:
            data -= NETWORK_PLACEMENT  # already drawn as the component's place in a tier
        if data and (src, dst) not in path_pairs:
            link("data", f'{end(src)} -- "{_label(", ".join(sorted(data)))}" --> {end(dst)}')
    colours = {
        "tree": "stroke:#bdc3c7,stroke-width:4px",
        "path": "stroke:#c0392b,stroke-width:3px",
        "placement": "stroke:#95a5a6",
        "data": "stroke:#34495e",
    }
    for kind, indexes in styles.items():
        lines.append(f"  linkStyle {','.join(map(str, indexes))} {colours[kind]}")
    return "\n".join(lines) + "\n"


def _tier_names(arch: Architecture) -> list[str]:
    known = [t for t in TIER_ORDER if t in arch.tiers]
    return known + sorted(t for t in arch.tiers if t not in TIER_ORDER)


# ---------------------------------------------------------------------------------------------
# Document


def render(arch: Architecture, diagram: str) -> str:
    comps = arch.components
    types = sorted({c.kind for c in comps.values()})
    lines = [
        "# Architecture",
        "",
        "Generated by `venv/bin/python docs/generate_architecture.py` from what the program registers "
        "for the",
        f"`{arch.stack}` stack under Pulumi's mock runtime (the same run as `make preflight`). Do not "
        "edit by hand;",
        "`make test` fails when this file or `architecture.svg` is stale.",
        "",
        f"{len(comps)} components of {len(types)} types: {', '.join(f'`{t}`' for t in types)}.",
        "",
        "```mermaid",
        diagram.rstrip("\n"),
        "```",
        "",
        "The same diagram as a picture, for viewers without Mermaid: [architecture.svg](architecture.svg).",
        "",
        "## Legend",
        "",
        "| mark | meaning |",
        "|---|---|",
        "| box | a component (a Pulumi ComponentResource): its type, its name, how many AWS resources it "
        "creates itself and the KMS keys (by purpose) those resources encrypt with |",
        "| thick grey line | the component tree: the upper component creates the lower one |",
        "| outer frames | the **environment layer** (every stack) and the **account layer** (only the stack "
        "with `accountBaseline: owned`; every resource kept on delete) |",
        "| `A --> B` (dark) | a resource in B takes an output of a resource in A (a property dependency), "
        "so data or a reference flows from A to B; the label says what: a bucket, a log group, a role, "
        "a target group (KMS keys are in the boxes instead) |",
        "| `A -. in .-> tier` (grey, dotted) | A places resources (load balancer, tasks, database, "
        "endpoints) in that tier's subnets; the network's own security groups and VPC go with it |",
        "| `internet -.- public subnets` (grey, dotted, no arrow) | outbound-only internet access "
        "through the NAT gateways (nothing reaches app or data subnets from the internet) |",
        "| `==>` (red, thick) | the request path: internet, internet-facing load balancer (its listeners), "
        "the service registered in its target groups, the database |",
        "| `[[tier]]` | subnets grouped by their `Tier` tag, one per Availability Zone, with what the "
        "network itself runs there |",
        "",
        "## Components",
        "",
        "| layer | component | name | resources | takes outputs of |",
        "|---|---|---|---|---|",
    ]
    incoming: dict[str, list[str]] = defaultdict(list)
    for (src, dst), carried in arch.edges.items():
        incoming[dst].append(
            f"{comps[src].kind} `{comps[src].name}` ({', '.join(sorted(carried))})"
        )
    for urn in sorted(comps, key=lambda u: (arch.layer_of(u), _path_key(u, comps))):
        comp = comps[urn]
        depth = len(_ancestors(urn, comps))
        name = "&nbsp;&nbsp;" * max(depth - 1, 0) + f"`{comp.name}`"
        lines.append(
            f"| {arch.layer_of(urn)} | {comp.kind} | {name} | {len(comp.resources)} | "
            f"{'; '.join(sorted(incoming[urn])) or '-'} |"
        )
    lines += ["", "## Network tiers", ""]
    if arch.tiers:
        lines += [
            "| tier | subnets | network resources there | components placing resources there |",
            "|---|---|---|---|",
        ]
        for tier in _tier_names(arch):
            counts = arch.tiers[tier]
            extra = ", ".join(
                f"{what} ×{n}" for what, n in sorted(counts.items()) if what != "subnets"
            )
            users = sorted(
                f"{comps[u].kind} `{comps[u].name}`"
                for u, t in arch.placements.items()
                if tier in t
            )
            lines.append(
                f"| {tier} | {counts['subnets']} | {extra or '-'} | {', '.join(users) or '-'} |"
            )
    else:
        lines.append("The program registers no subnets.")
    return "\n".join(lines) + "\n"


def _path_key(urn: str, comps: dict[str, Component]) -> tuple[str, ...]:
    chain = [urn, *_ancestors(urn, comps)]
    return tuple(f"{comps[u].kind}:{comps[u].name}" for u in reversed(chain))


# ---------------------------------------------------------------------------------------------
# Picture


def _digest(diagram: str) -> str:
    return hashlib.sha256(diagram.encode()).hexdigest()


def picture_is_current(diagram: str) -> bool:
    return PICTURE.exists() and f"mermaid-sha256:{_digest(diagram)}" in PICTURE.read_text()


def render_picture(diagram: str) -> str:
    """The diagram as SVG, by beautiful-mermaid under node (installed into venv/share/npm if missing)."""
    node = shutil.which("node")
    if node is None:
        raise RuntimeError("node is not installed: it is needed to draw architecture.svg")
    package = NPM_DIR / "node_modules" / "beautiful-mermaid"
    if not package.exists():
        NPM_DIR.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            ["npm", "install", "--silent", "--no-save", "--prefix", str(NPM_DIR), RENDERER],
            check=True,
        )
    script = (
        "import { renderMermaidSVG } from 'beautiful-mermaid';"
        "let text = ''; process.stdin.on('data', d => text += d);"
        "process.stdin.on('end', () => process.stdout.write(renderMermaidSVG(text, "
        f"{{ bg: '{BACKGROUND}', fg: '{FOREGROUND}' }})));"
    )
    result = subprocess.run(
        [node, "--input-type=module", "-e", script],
        input=diagram,
        cwd=NPM_DIR,
        capture_output=True,
        text=True,
        check=True,
    )
    svg = self_contained(result.stdout)
    stamp = (
        f"<!-- generated by docs/generate_architecture.py; mermaid-sha256:{_digest(diagram)} -->\n"
    )
    return stamp + svg + ("" if svg.endswith("\n") else "\n")


def _mix(percent: float) -> str:
    """CSS color-mix(in srgb, FOREGROUND percent%, BACKGROUND)."""
    fg, bg = (bytes.fromhex(c.lstrip("#")) for c in (FOREGROUND, BACKGROUND))
    return "#" + "".join(
        f"{round(f * percent / 100 + b * (1 - percent / 100)):02x}"
        for f, b in zip(fg, bg, strict=True)
    )


def self_contained(svg: str) -> str:
    """Resolve the renderer's CSS custom properties and color-mix() into plain colours and drop its web
    font import, so any SVG viewer (and an <img> on GitHub, which loads nothing external) draws it."""
    style = re.search(r"<style>.*?</style>", svg, re.S)
    if style is None:
        raise RuntimeError(
            "the renderer's SVG has no <style> block: check docs/generate_architecture.py"
        )
    colours = {"--fg": FOREGROUND, "--bg": BACKGROUND}
    for name, value in re.findall(r"(--_[\w-]+):\s*([^;]+);", style.group(0)):
        mixed = re.search(r"color-mix\(in srgb, var\(--fg\) ([\d.]+)%, var\(--bg\)\)", value)
        colours[name] = _mix(float(mixed.group(1))) if mixed else colours[value.strip()[4:-1]]
    svg = svg.replace(
        style.group(0),
        "<style>text { font-family: system-ui, -apple-system, 'Segoe UI', "
        "Helvetica, Arial, sans-serif; }</style>",
    )
    svg = re.sub(r"var\((--[\w-]+)\)", lambda m: colours[m.group(1)], svg)
    svg = re.sub(r'style="[^"]*--bg:[^"]*"', f'style="background:{BACKGROUND}"', svg, count=1)
    if "var(" in svg or "color-mix" in svg:
        raise RuntimeError(
            "the renderer's SVG still uses CSS variables: check docs/generate_architecture.py"
        )
    return svg


def main(argv: Optional[list[str]] = None, run: Optional[ProgramRun] = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    arch = model(run if run is not None else run_prod())
    diagram = mermaid(arch)
    text = render(arch, diagram)
    if "--check" in argv:
        stale = [
            p.name
            for p, ok in (
                (DOCUMENT, DOCUMENT.exists() and DOCUMENT.read_text() == text),
                (PICTURE, picture_is_current(diagram)),
            )
            if not ok
        ]
        if stale:
            print(f"{', '.join(stale)} stale: run venv/bin/python docs/generate_architecture.py")
            return 1
        return 0
    DOCUMENT.write_text(text)
    print(f"wrote {DOCUMENT}")
    if not picture_is_current(diagram):
        try:
            PICTURE.write_text(render_picture(diagram))
        except (OSError, RuntimeError, subprocess.CalledProcessError) as err:
            print(
                f"could not draw {PICTURE.name} ({err}); it is stale until this runs with node and npm"
            )
            return 1
        print(f"wrote {PICTURE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
