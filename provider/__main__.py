"""The entry point of the `hipaa-aws` component package (PulumiPlugin.yaml beside it).

`pulumi package add <this directory, or the repository's git URL + .git/provider>` runs it the way the
Python language host runs a source-based plugin (pulumi-language-python RunPlugin): `python <plugin
directory> <engine address> ...`, which executes this file and makes this directory, not the repository
root, the first entry of sys.path. The components live one level up, so the root is added first.

This directory is the plugin (not the repository root) because the root's `__main__.py` is this
project's own Pulumi program: the language host runs a plugin directory's `__main__.py`, so a
PulumiPlugin.yaml at the root would start the stack program instead of the provider.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pulumi.provider.experimental import component_provider_host  # noqa: E402

from components.package import PACKAGE_NAME, PACKAGE_VERSION  # noqa: E402
from components.package.environment import HipaaEnvironment  # noqa: E402
from components.package.secure_bucket import SecureBucket  # noqa: E402

COMPONENTS = [HipaaEnvironment, SecureBucket]

if __name__ == "__main__":
    # Starts the gRPC provider, prints its port on stdout, serves GetSchema and Construct.
    component_provider_host(COMPONENTS, name=PACKAGE_NAME, version=PACKAGE_VERSION)
