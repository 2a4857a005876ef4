"""The components as a Pulumi package (`hipaa-aws`) that programs in any Pulumi language consume with
`pulumi package add` (README, "Using the components from another language").

Pulumi's Python component provider host (pulumi.provider.experimental) infers the package schema
from these classes' type annotations: each component's `__init__` takes `args`, a TypedDict of
types the schema can express (str, int, float, bool, lists, string-keyed maps, enums, nested
TypedDicts, `pulumi.Input`; no unions other than Optional). Resource tokens are
`hipaa-aws:index:<class name>`. The adapters here build this project's existing components as their
children, so the project's own stacks keep their URNs. Served by provider/__main__.py.

No `from __future__ import annotations` in this package: the host reads the annotations at run
time (inspect.get_annotations), which postponed annotations would turn into strings.
"""

from pathlib import Path

import yaml

PACKAGE_NAME = "hipaa-aws"
"""The package's name: its resource tokens are `hipaa-aws:index:<Component>`."""
PACKAGE_VERSION: str = yaml.safe_load(
    (Path(__file__).resolve().parents[2] / "policy" / "PulumiPolicy.yaml").read_text())["version"]
"""The schema's version: the project's one release version (CHANGELOG.md), the policy pack's, whose
release tag `v<version>` is what `pulumi package add <repository>.git/provider@v<version>` pins."""
