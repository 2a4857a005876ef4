"""The layout shows the layers (README "Layout"), and moving code between them moves no resource.

components/ holds the shared pieces (settings, keys, policy documents, tagging, ...) and one folder
per layer, each built on the ones below it:

    account/       the account's region-wide controls (one owner per account and region)
    environment/   what every stack creates: network, keys, storage, database, trail, alarms, backups
    application/   the application tier on top of an environment
    organization/  the AWS Organization every environment lives in (the organization/ project)
    package/       a whole stack composed from its layers, and the `hipaa-aws` component package

A layer imports only shared pieces, its own layer and the layers below it, so a lower layer can be
read, tested and reused without the ones above.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from preflight.stack_config import PROJECT_DIR
from tests.conftest import run_stack

LAYERS = ("account", "environment", "application", "organization", "package")  # bottom to top
COMPONENTS = PROJECT_DIR / "components"


def _layer_of(module: str) -> str | None:
    """`components.<layer>.x` -> layer; a shared module (`components.x`) -> None."""
    parts = module.split(".")
    if parts[0] != "components" or len(parts) < 2:
        return None
    return parts[1] if parts[1] in LAYERS else None


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text())
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append(node.module)
            found.extend(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.extend(alias.name for alias in node.names)
    return found


def test_every_component_module_is_in_a_layer_or_shared():
    folders = {p.name for p in COMPONENTS.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert folders <= set(LAYERS), f"unknown layer folders: {folders - set(LAYERS)}"
    assert {"account", "environment", "application"} <= folders


@pytest.mark.parametrize("path", sorted(COMPONENTS.rglob("*.py")), ids=lambda p: str(p.relative_to(PROJECT_DIR)))
def test_no_layer_imports_one_above_it(path):
    relative = path.relative_to(COMPONENTS).parts
    own = relative[0] if len(relative) > 1 else None
    rank = LAYERS.index(own) if own else -1
    above = [module for module in _imports(path)
             if (layer := _layer_of(module)) and LAYERS.index(layer) > rank]
    assert above == [], f"{path.relative_to(PROJECT_DIR)} ({own or 'shared'}) imports from above: {above}"


# The config the URN lists were recorded under (commit 1b27cb7): both stacks in one account, prod
# owning the account layer, staging external. The stack files have since moved each stack into its
# own organization member account, which deliberately registers fewer resources (no GuardDuty, ...);
# that is a config change, not a URN change, so the URNs are checked under the recorded config.
SHARED = "123456789012"
RECORDED_CONFIG = {
    "prod": {"accountBaseline": "owned", "aws:allowedAccountIds": f'["{SHARED}"]',
             "identityCenter": {"managedBy": "stack"}},
    "staging": {
        "accountBaseline": "external", "aws:allowedAccountIds": f'["{SHARED}"]',
        "identityCenter": {"managedBy": "stack"},
        "keyAdministrators": [f"arn:aws:iam::{SHARED}:role/hipaa-aws/ci/hipaa-aws-staging-deploy",
                              f"arn:aws:iam::{SHARED}:role/hipaa-aws-platform-admin"],
        "app": {"certificateArn":
                f"arn:aws:acm:us-east-1:{SHARED}:certificate/0b5a4f34-1c7e-4d6b-9a1f-3e2d5c6b7a80"},
    },
}


@pytest.mark.parametrize("stack", ["prod", "staging"])
def test_every_urn_of_the_deployed_stacks_is_still_registered(stack):
    """A deployed stack's state is keyed by URN: a resource whose URN changes (a new parent, type or
    name) is deleted and created again unless it carries an alias. tests/data/urns-<stack>.txt holds
    the URNs from before the layers were split; every one must still be registered when the program
    runs with the config they were recorded under."""
    recorded = (PROJECT_DIR / "tests" / "data" / f"urns-{stack}.txt").read_text().splitlines()
    before = {line for line in recorded if line and not line.startswith("#")}
    run = run_stack(stack, overrides=RECORDED_CONFIG[stack])
    assert run.stack_outputs["accountBaseline"] == RECORDED_CONFIG[stack]["accountBaseline"]
    now = {r.urn for r in run.resources}
    assert len(before) > 200
    assert sorted(before - now) == []
