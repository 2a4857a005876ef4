"""A stack policy's answer does not depend on the order the engine lists the resources in.

The engine sends AnalyzeStack's resources in registration order, which differs between runs of
the same program (registrations are asynchronous). A stack policy that linked resources only to
those listed before them, or lost the links of the first resource, would pass a stack on one run
and fail it on the next. Each case below is the project's own preview request with some side
resources removed (so there are violations to lose or invent), re-sent with every resource type
of the request in turn moved to the front, reversed, and shuffled: the verdict must not change.
"""

from __future__ import annotations

import json
import random

import pytest

from preflight.judge import stack_entries
from preflight.policy_pack_client import POLICY_DIR
from tests.conftest import cached_run


def _verdict(pack, resources) -> list[tuple[str, str, str]]:
    return sorted((d.policy, d.urn, d.violation) for d in pack.analyze_stack(resources).diagnostics)


def _orders(entries: list, seed: int):
    """Each type first once (its first resource moved to the front), reversed, and shuffled."""
    firsts = {}
    for index, entry in enumerate(entries):
        firsts.setdefault(entry.type, index)
    for index in firsts.values():
        yield entries[index:index + 1] + entries[:index] + entries[index + 1:]
    yield entries[::-1]
    rnd = random.Random(seed)
    for _ in range(5):
        shuffled = entries[:]
        rnd.shuffle(shuffled)
        yield shuffled


@pytest.mark.parametrize("stack", ["prod", "staging"])
def test_stack_policies_answer_the_same_in_every_order(pack, stack):
    entries = sorted(stack_entries(cached_run(stack, preview=True).engine_resources), key=lambda e: e.urn)
    # Every seventh resource removed: side resources go missing, so some policies must fail.
    request = [e for i, e in enumerate(entries) if i % 7 != 3]
    pack.configure(json.loads((POLICY_DIR / "config" / f"{stack}.json").read_text()))
    try:
        expected = _verdict(pack, request)
        assert any(policy for policy, _, _ in expected), "the case must have violations to compare"
        for order in _orders(request, seed=len(request)):
            assert _verdict(pack, order) == expected, f"order starting with {order[0].urn} changed the verdict"
    finally:
        pack.configure({})
