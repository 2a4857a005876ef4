"""The project as something a team adopts and an auditor traces: an Apache-2.0 LICENSE, a security
policy, and a changelog whose latest release is the policy pack's version (PulumiPolicy.yaml), which
every preflight report and `pulumi policy publish` carry."""

from __future__ import annotations

import hashlib
import re

import yaml

from preflight.stack_config import PROJECT_DIR

# SHA-256 of https://www.apache.org/licenses/LICENSE-2.0.txt, byte for byte the LICENSE file that
# s3transfer and googleapis-common-protos ship in their wheels (venv/.../s3transfer-*.dist-info/LICENSE.txt).
APACHE_2_0_SHA256 = "cfc7749b96f63bd31c3c42b5c471bf756814053e847c10f3eb003417bc523d30"
# Keep a Changelog 1.1.0: "## [version] - YYYY-MM-DD" per release, "## [Unreleased]" on top.
RELEASE = re.compile(r"^## \[(\d+\.\d+\.\d+)\] - (\d{4}-\d{2}-\d{2})$", re.M)
# semver.org 2.0.0, without pre-release or build metadata (a release).
SEMVER = re.compile(r"(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)")


def pack_version() -> str:
    return str(yaml.safe_load((PROJECT_DIR / "policy" / "PulumiPolicy.yaml").read_text())["version"])


def test_the_license_is_the_apache_2_0_text_exactly():
    assert hashlib.sha256((PROJECT_DIR / "LICENSE").read_bytes()).hexdigest() == APACHE_2_0_SHA256


def test_the_changelogs_latest_release_is_the_packs_version():
    text = (PROJECT_DIR / "CHANGELOG.md").read_text()
    assert text.startswith("# Changelog\n") and "## [Unreleased]" in text
    assert text.index("## [Unreleased]") == text.index("## [")  # Unreleased comes first
    releases = RELEASE.findall(text)
    assert releases, "no release entry"
    versions = [v for v, _ in releases]
    assert versions[0] == pack_version() and SEMVER.fullmatch(versions[0])
    # Newest first, no version twice, dates not going forward as the list goes back.
    keys = [tuple(int(p) for p in v.split(".")) for v in versions]
    assert keys == sorted(keys, reverse=True) and len(set(keys)) == len(keys)
    dates = [d for _, d in releases]
    assert dates == sorted(dates, reverse=True)
    # Every version heading has its link reference, the tag being v<version>.
    for version in versions:
        assert re.search(rf"^\[{re.escape(version)}\]: \S+/v{re.escape(version)}$", text, re.M), version
    assert re.search(r"^\[Unreleased\]: \S+/compare/v" + re.escape(versions[0]) + r"\.\.\.HEAD$", text, re.M)


def test_the_changelog_names_the_component_packages_schema_version():
    from components.package import PACKAGE_VERSION

    latest = (PROJECT_DIR / "CHANGELOG.md").read_text().split("\n## [")[2]
    assert PACKAGE_VERSION == pack_version() and f"schema version {PACKAGE_VERSION}" in latest


def test_the_security_policy_says_how_to_report_privately():
    text = (PROJECT_DIR / "SECURITY.md").read_text()
    assert "private vulnerability reporting" in text.lower() and "Report a vulnerability" in text
    assert "## Supported versions" in text and "## Scope" in text
    assert "Do **not** open a public issue" in text
