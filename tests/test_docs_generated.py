"""docs/architecture.md (+ .svg), docs/costs.md, docs/coverage-matrix.md and README's cost summary are
current and say what the program registers: the generators' `--check` passes, the diagram names every
component type, the cost document's counts are the program's counts, and every price has an AWS source
and a date."""

from __future__ import annotations

import importlib.util
import re
import sys
from types import ModuleType

import pytest

from preflight.stack_config import PROJECT_DIR, load_stack_config
from tests.conftest import cached_run

DOCS = PROJECT_DIR / "docs"


def _generator(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, DOCS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


costs = _generator("generate_costs")
architecture = _generator("generate_architecture")
coverage_matrix = _generator("generate_coverage_matrix")
STACKS = costs.stacks()


def test_architecture_document_and_picture_are_current():
    """`docs/generate_architecture.py --check`, on the prod run the other tests share."""
    assert architecture.main(["--check"], run=cached_run("prod")) == 0, (
        "run venv/bin/python docs/generate_architecture.py"
    )


def test_cost_document_and_readme_summary_are_current():
    """`docs/generate_costs.py --check`, on the stack runs the other tests share."""
    assert costs.main(["--check"], runs={stack: cached_run(stack) for stack in STACKS}) == 0, (
        "run venv/bin/python docs/generate_costs.py"
    )


def test_coverage_matrix_is_current():
    """`docs/generate_coverage_matrix.py --check` (tests/test_coverage_matrix.py holds its content)."""
    assert coverage_matrix.main(["--check"]) == 0, "run venv/bin/python docs/generate_coverage_matrix.py"


# --- architecture ---------------------------------------------------------------------------


def _mermaid() -> str:
    text = (DOCS / "architecture.md").read_text()
    match = re.search(r"```mermaid\n(.*?)```", text, re.S)
    assert match, "docs/architecture.md has no mermaid block"
    return match.group(1)


def test_architecture_names_every_component_the_prod_program_registers():
    diagram = _mermaid()
    components = [r for r in cached_run("prod").resources if not r.custom]
    assert components
    for component in components:
        kind = component.type.rsplit(":", 1)[-1]
        assert f"<b>{kind}" in diagram or f": {kind}</b>" in diagram, kind
        assert component.name in diagram, component.name


def test_architecture_shows_both_layers_the_tiers_and_the_request_path():
    diagram = _mermaid()
    run = cached_run("prod")
    assert "subgraph layer_environment" in diagram
    if any(r.type.endswith(":AccountLayer") for r in run.resources):
        assert "subgraph layer_account" in diagram
    tiers = {(r.inputs.get("tags") or {}).get("Tier") for r in run.of_type("aws:ec2/subnet:Subnet")}
    for tier in tiers:
        assert f"tier_{tier}[[" in diagram, tier
    if any(not lb.inputs.get("internal") for lb in run.of_type("aws:lb/loadBalancer:LoadBalancer")):
        assert re.search(r"^\s*internet == .* ==> c_", diagram, re.M), (
            "no internet -> load balancer edge"
        )
    by_urn = {r.urn: r for r in run.resources}
    for db in (
        run.of_type("aws:rds/instance:Instance") if run.of_type("aws:ecs/service:Service") else []
    ):
        owner = by_urn[db.parent]  # the component that creates the database
        node = "c_" + re.sub(r"\W", "_", f"{owner.type.rsplit(':', 1)[-1]}_{owner.name}")
        assert re.search(rf"==> {node}$", diagram, re.M), "no app -> database edge"


def test_architecture_picture_is_drawn_from_the_same_mermaid():
    svg = (DOCS / "architecture.svg").read_text()
    assert svg.lstrip().startswith("<!--") and "<svg" in svg
    assert "var(" not in svg, (
        "the SVG must not depend on CSS variables (GitHub shows it as an <img>)"
    )
    assert architecture.picture_is_current(_mermaid())


# --- costs ----------------------------------------------------------------------------------


def _stack_rows(stack: str) -> dict[str, list[str]]:
    """The cost table of one stack in docs/costs.md: first cell -> cells."""
    text = (DOCS / "costs.md").read_text()
    section = re.search(rf"^## `{stack}`\n(.*?)(?=^## )", text, re.S | re.M)
    assert section, f"docs/costs.md has no section for {stack}"
    rows = {}
    for line in section.group(1).splitlines():
        if (
            line.startswith("| ")
            and not line.startswith("| resource")
            and not line.startswith("|---")
        ):
            cells = [c.strip() for c in line.strip("|").split("|")]
            rows[cells[0]] = cells
    return rows


def _count(rows: dict[str, list[str]], label: str) -> int:
    assert label in rows, f"no row {label!r}"
    return int(float(rows[label][1].split()[0]))


def _money(cell: str) -> float:
    return float(cell.strip("*").replace("$", "").replace(",", ""))


def test_costs_cover_every_stack():
    assert STACKS == sorted(
        p.name.split(".")[1] for p in (PROJECT_DIR / "stacks").glob("Pulumi.*.yaml")
    )
    for stack in STACKS:
        assert _stack_rows(stack)


@pytest.mark.parametrize("stack", STACKS)
def test_cost_counts_are_the_programs_counts(stack):
    run = cached_run(stack)
    rows = _stack_rows(stack)
    nat = [
        r
        for r in run.of_type("aws:ec2/natGateway:NatGateway")
        if r.inputs.get("connectivityType") != "private"
    ]
    assert _count(rows, "NAT gateways") == len(nat)
    assert _count(rows, "Public IPv4 addresses: Elastic IPs") == len(run.of_type("aws:ec2/eip:Eip"))
    assert _count(rows, "KMS customer managed keys") == len(run.of_type("aws:kms/key:Key"))
    placements = sum(
        len(r.inputs.get("subnetIds") or [])
        for r in run.of_type("aws:ec2/vpcEndpoint:VpcEndpoint")
        if r.inputs.get("vpcEndpointType") == "Interface"
    )
    assert _count(rows, "Interface VPC endpoints (endpoint x AZ)") == placements
    alarms = run.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")
    row = rows["CloudWatch alarm metrics, standard resolution"]
    assert f"({len(alarms)} alarms)" in row[1]
    for db in run.of_type("aws:rds/instance:Instance"):
        deployment = "Multi-AZ (x2)" if db.inputs.get("multiAz") else "Single-AZ"
        assert f"RDS {db.inputs['engine']} `{db.inputs['instanceClass']}`, {deployment}" in rows
        assert (
            rows[f"RDS gp3 storage, {deployment}"][1]
            == f"{float(db.inputs['allocatedStorage']):g} GB"
        )
    for service in run.of_type("aws:ecs/service:Service"):
        vcpu = next(
            cells
            for label, cells in rows.items()
            if label.startswith(f"Fargate vCPU, service `{service.name}`")
        )
        assert vcpu[1].startswith(f"{float(service.inputs['desiredCount']):g} task")
    if run.of_type("aws:wafv2/webAcl:WebAcl"):
        assert _count(rows, "WAF web ACLs") == len(run.of_type("aws:wafv2/webAcl:WebAcl"))
    managed = sum(
        1
        for db in run.of_type("aws:rds/instance:Instance")
        if db.inputs.get("manageMasterUserPassword")
    )
    if managed:
        assert _count(rows, "Secrets Manager secrets") >= managed


def test_nat_gateways_follow_the_stack_config():
    """One NAT gateway per AZ with natGatewayPerAz, else one in all (prod: 3, staging: 1 as shipped)."""
    for stack in STACKS:
        values = load_stack_config(stack).values
        zones = int(values.get("hipaa-aws:availabilityZoneCount", "3"))
        expected = zones if values.get("hipaa-aws:natGatewayPerAz", "true") == "true" else 1
        assert _count(_stack_rows(stack), "NAT gateways") == expected


@pytest.mark.parametrize("stack", STACKS)
def test_cost_lines_add_up_and_every_fixed_cost_is_priced(stack):
    """Every fixed cost has a price in the table; the table holds us-east-1 prices (and region-free
    ones), so a stack elsewhere shows a partial total whose unpriced lines say which region lacks a
    price, never a guessed number."""
    rows = _stack_rows(stack)
    total = rows.pop("**fixed total**")
    region = load_stack_config(stack).region
    assert not [label for label, cells in rows.items() if cells[3] == "not priced"
                and not cells[5].startswith(f"no {region} price in the table")], (
        "add their prices to PRICES"
    )
    assert sum(_money(cells[3]) for cells in rows.values() if cells[3] != "not priced") == pytest.approx(
        _money(total[3]), abs=0.011
    )
    for label, cells in rows.items():
        assert cells[4] in ("verified", "unverified"), label


def test_every_price_has_an_aws_source_a_date_and_a_status():
    text = (DOCS / "costs.md").read_text()
    table = text.split("## Prices", 1)[1]
    rows = [line for line in table.splitlines() if line.startswith("| `")]
    assert len(rows) == len(costs.PRICES)
    for line in rows:
        key, value, unit, region, source, checked, status, evidence = (
            c.strip() for c in line.strip("|").split("|")
        )
        assert re.fullmatch(r"https://(aws\.amazon\.com|docs\.aws\.amazon\.com)/\S+", source), key
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", checked), key
        assert status in ("verified", "unverified"), key
        assert float(value) >= 0 and unit and region and evidence, key


def test_readme_summary_matches_the_cost_document():
    readme = (PROJECT_DIR / "README.md").read_text()
    block = re.search(re.escape(costs.START) + r"(.*?)" + re.escape(costs.END), readme, re.S)
    assert block, "README.md has no costs block"
    for stack in STACKS:
        total = _stack_rows(stack)["**fixed total**"][3].strip("*")
        assert f"| `{stack}` | {total} | {costs.oldest_check()} |" in block.group(1)
