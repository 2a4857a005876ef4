"""The policy pack, driven over the real Analyzer gRPC protocol in its own process."""

from __future__ import annotations

import json
import sys

from pathlib import Path

import pytest
from pulumi.runtime.proto import analyzer_pb2
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE as UNKNOWN

from preflight.policy_pack_client import POLICY_DIR, PolicyConfigError
from tests.policy_cases import ALSO_COMPLIANT, CASES, CONFIG_OVERRIDES, UNKNOWN_ELEMENTS, patched


@pytest.fixture
def configured(pack):
    """The pack with a given config (default: none, so schema defaults apply)."""
    def configure(policy: str | None = None, config: dict | None = None):
        pack.configure({policy: config} if policy and config else {})
        return pack
    yield configure
    pack.configure({})


CASE_IDS = [c.policy for c in CASES]


sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "policy"))


def test_every_resource_policy_has_a_case(pack):
    """Every hand-written resource policy has a Case here; the seven control-family policies are
    data (policy/hipaa_policies/data/controls/<group>.json), each rule file tested rule by rule by
    tests/test_data_controls_<group>.py (checked below)."""
    from hipaa_policies.data_controls import FAMILIES
    resource_policies = {p.name for p in pack.info.policies if p.policy_type == 1}
    assert resource_policies - {f.policy for f in FAMILIES} == {c.policy for c in CASES}


def test_every_control_family_rule_file_has_its_test_file():
    from hipaa_policies.data_controls import RULES_DIR
    tests = Path(__file__).resolve().parent
    missing = [f.name for f in RULES_DIR.glob("*.json") if not (tests / f"test_data_controls_{f.stem}.py").exists()]
    assert missing == []


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_compliant_resource_passes(configured, case):
    if case.compliant is None:  # the policy allows no resource of its type at all
        assert case.mutations
        return
    verdict = configured(case.policy, case.config).analyze(case.type, case.compliant, protect=case.protect)
    assert verdict.messages(case.policy) == []
    assert case.policy not in verdict.not_applicable


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_each_mutation_is_flagged_with_its_exact_message(configured, case):
    pack = configured(case.policy, case.config)
    mutations = case.mutations or [({}, None)]
    for patch, message in mutations:
        verdict = pack.analyze(case.type, patched(case.compliant or {}, patch),
                               protect=patch.get("__protect__", case.protect))
        if message is None:
            continue
        assert message in verdict.messages(case.policy), (patch, verdict.messages(case.policy))
        (diagnostic,) = [d for d in verdict.violations if d.policy == case.policy and d.violation == message]
        assert diagnostic.enforcement in ("mandatory", "advisory")


@pytest.mark.parametrize("case", [c for c in CASES if c.unknown], ids=[c.policy for c in CASES if c.unknown])
def test_an_unknown_value_is_not_judged(configured, case):
    verdict = configured(case.policy, case.config).analyze(
        case.type, patched(case.compliant, {case.unknown: UNKNOWN}), protect=case.protect)
    assert verdict.messages(case.policy) == []
    assert [d.policy for d in verdict.not_judged if d.policy == case.policy] == [case.policy]


@pytest.mark.parametrize("policy,type_,props", ALSO_COMPLIANT, ids=[c[0] for c in ALSO_COMPLIANT])
def test_aws_defaults_and_legitimate_variants_pass(configured, policy, type_, props):
    assert configured().analyze(type_, props).messages(policy) == []


@pytest.mark.parametrize("policy,type_,props", UNKNOWN_ELEMENTS, ids=[c[0] for c in UNKNOWN_ELEMENTS])
def test_an_unknown_element_inside_a_list_or_map_is_not_judged(configured, policy, type_, props):
    verdict = configured().analyze(type_, props)
    assert verdict.messages(policy) == []
    assert policy in [d.policy for d in verdict.not_judged]


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_another_resource_type_is_not_applicable(configured, case):
    other = "aws:appmesh/mesh:Mesh"
    verdict = configured(case.policy, case.config).analyze(other, {"tags": {"DataClassification": "synthetic"}})
    assert verdict.messages(case.policy) == []
    if case.policy not in ("hipaa-no-phi-in-synthetic-stack", "hipaa-baa-eligible-services"):  # every type
        assert case.policy in verdict.not_applicable


@pytest.mark.parametrize("policy,type_,props,config,expected", CONFIG_OVERRIDES,
                         ids=[f"{o[0]}-{i}" for i, o in enumerate(CONFIG_OVERRIDES)])
def test_config_overrides_change_the_verdict(configured, policy, type_, props, config, expected):
    verdict = configured(policy, config).analyze(type_, props)
    assert verdict.messages(policy) == expected


def test_enforcement_level_comes_from_the_pack_config(configured, pack):
    pack.configure({"aws-rds-multi-az": {"enforcementLevel": "advisory"}})
    verdict = pack.analyze("aws:rds/instance:Instance", {"multiAz": False})
    (diagnostic,) = [d for d in verdict.violations if d.policy == "aws-rds-multi-az"]
    assert diagnostic.enforcement == "advisory"
    pack.configure({"aws-rds-multi-az": {"enforcementLevel": "disabled"}})
    assert pack.analyze("aws:rds/instance:Instance", {"multiAz": False}).messages("aws-rds-multi-az") == []


def test_bad_pack_config_is_refused_like_the_cli(pack):
    with pytest.raises(PolicyConfigError, match="aws-ec2-sg-internet-ingress-authorized-ports"):
        pack.configure({"aws-ec2-sg-internet-ingress-authorized-ports": {"allowedPublicPorts": "443"}})
    # The engine accepts a policy name the pack does not have (analyzer/config.go); preflight warns.
    pack.configure({"aws-made-up": {"enforcementLevel": "advisory"}})
    assert any("aws-made-up" in warning for warning in pack.warnings)
    pack.configure({})


@pytest.mark.parametrize("stack", ["prod", "staging"])
def test_stack_config_files_are_valid_and_consistent(pack, stack):
    config = json.loads((POLICY_DIR / "config" / f"{stack}.json").read_text())
    pack.configure(config)  # raises if the CLI would refuse it
    flags = {name: entry["holdsPhi"] for name, entry in config.items()
             if isinstance(entry, dict) and "holdsPhi" in entry}
    schema_flags = {p.name for p in pack.info.policies if "holdsPhi" in p.configSchema.properties}
    assert set(flags) == schema_flags, "every PHI-boundary policy must be told whether the stack holds PHI"
    assert set(flags.values()) == {stack == "prod"}
    pack.configure({})


def test_registry_names_unique_and_metadata_complete(pack):
    policies = list(pack.info.policies)
    names = [p.name for p in policies]
    assert len(names) == len(set(names)) > 100
    for p in policies:
        assert p.name.startswith(("aws-", "hipaa-")) and p.name == p.name.lower(), p.name
        assert p.description.endswith(".") and len(p.description) < 160, p.name
        assert p.framework.name == "HIPAA Security Rule", p.name
        assert p.framework.reference.startswith("164.3"), p.name
        assert p.framework.specification, p.name
        assert p.remediation_steps, p.name
        assert p.severity != 0, p.name
        assert "hipaa" in p.tags, p.name
    mandatory = analyzer_pb2.MANDATORY
    assert sum(p.enforcementLevel == mandatory for p in policies) > 0.9 * len(policies)  # mandatory by default
