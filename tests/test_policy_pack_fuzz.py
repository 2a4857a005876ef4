"""Property-based fuzzing over gRPC: odd shapes, unknowns and secrets never make the pack fail."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings, strategies as st
from pulumi_policy import proxy

from preflight.policy_pack_client import stack_resource
from tests.policy_cases import CASES

SECRET_SIG = {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270"}
UNKNOWNS = [proxy.UNKNOWN_STRING_VALUE, proxy.UNKNOWN_BOOLEAN_VALUE, proxy.UNKNOWN_NUMBER_VALUE,
            proxy.UNKNOWN_ARRAY_VALUE, proxy.UNKNOWN_OBJECT_VALUE]
TYPES = sorted({c.type for c in CASES} | {"aws:s3/bucket:Bucket", "aws:ec2/vpc:Vpc", "aws:ec2/route:Route",
                                           "aws:backup/selection:Selection", "aws:appmesh/mesh:Mesh"})


def _keys(value, out):
    if isinstance(value, dict):
        for k, v in value.items():
            out.add(k)
            _keys(v, out)
    elif isinstance(value, list):
        for v in value:
            _keys(v, out)
    return out


KEYS = sorted(set().union(*(_keys(c.compliant or {}, set()) for c in CASES)) |
              {"tags", "policy", "DataClassification", "Purpose", "bucket", "protocol"})
scalars = st.one_of(st.none(), st.booleans(), st.integers(-5, 100000), st.floats(allow_nan=False, allow_infinity=False),
                    st.text(max_size=12), st.sampled_from(UNKNOWNS),
                    st.sampled_from(["0.0.0.0/0", "::/0", "aws:kms", "AES256", "phi", "*", "-1", "HTTP", "{not json",
                                     '{"Statement":"x"}', '{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Principal":"*"}]}']))


def secret(children):
    return children.map(lambda v: {**SECRET_SIG, "value": v})


values = st.recursive(scalars, lambda children: st.one_of(
    st.lists(children, max_size=4),
    st.dictionaries(st.sampled_from(KEYS), children, max_size=5),
    secret(children)), max_leaves=20)
props = st.dictionaries(st.sampled_from(KEYS), values, max_size=8)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(type_=st.sampled_from(TYPES), properties=props)
def test_analyze_never_fails_on_odd_input(pack, type_, properties):
    pack.configure({})
    verdict = pack.analyze(type_, properties)  # a gRPC error would raise here
    assert not [d.message for d in verdict.diagnostics if "could not evaluate" in d.message]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(resources=st.lists(st.tuples(st.sampled_from(TYPES), props, st.booleans()), min_size=1, max_size=6))
def test_analyze_stack_never_fails_on_odd_input(pack, resources):
    pack.configure({p: {"holdsPhi": True} for p in ("aws-backup-phi-store-in-plan", "aws-cloudtrail-phi-stack-trail")})
    built = [stack_resource(t, f"r{i}", p) for i, (t, p, _) in enumerate(resources)]
    for i, (_, _, linked) in enumerate(resources):  # random property dependencies, some dangling
        if linked and i:
            built[i].propertyDependencies["bucket"].urns.extend([built[i - 1].urn, "urn:pulumi:x::y::z::gone"])
    verdict = pack.analyze_stack(built)
    assert not [d.message for d in verdict.diagnostics if "could not evaluate" in d.message]
    pack.configure({})
