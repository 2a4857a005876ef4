"""Which AWS regions exist, and in which partition, from botocore's `partitions.json`.

That file is the partition data every AWS SDK ships for its endpoint rules (botocore's client
loads it to resolve every service's endpoint): each partition (aws, aws-cn, aws-us-gov, the
isolated ones) with its regions and the pattern its region names follow. It is small (read in a
millisecond, against a tenth of a second for the per-service `endpoints.json` behind
`Session.get_available_regions`) and lists a region as soon as the SDKs can reach it. A region
launched after the installed botocore is missing: upgrading botocore adds it.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Optional

import botocore
from botocore.loaders import create_loader

BOTOCORE_VERSION: str = botocore.__version__


@dataclass(frozen=True)
class Partition:
    name: str
    regions: tuple[str, ...]
    region_pattern: str


@functools.cache
def partitions() -> tuple[Partition, ...]:
    data = create_loader().load_data("partitions")
    found = []
    for entry in data["partitions"]:
        pattern = entry["regionRegex"]
        # `aws-global` and the like are endpoint names, not regions anything can be deployed to.
        regions = tuple(sorted(r for r in entry["regions"] if re.fullmatch(pattern, r)))
        found.append(Partition(entry["id"], regions, pattern))
    return tuple(found)


def partition_of(region: str) -> Optional[str]:
    """The partition `region` is a region of (None: not a region botocore knows)."""
    return next((p.name for p in partitions() if region in p.regions), None)


def known_regions_text(region: str) -> str:
    """What is allowed instead of `region`: the regions of the partition its name looks like
    (the `aws` partition when it looks like none), and the other partitions' names."""
    named = next((p for p in partitions() if re.fullmatch(p.region_pattern, region)), None)
    shown = named or next(p for p in partitions() if p.name == "aws")
    others = ", ".join(p.name for p in partitions() if p is not shown)
    return (f"a region of partition {shown.name}: {', '.join(shown.regions)} (or of {others}; "
            f"botocore {BOTOCORE_VERSION}'s list: a region launched since needs a newer botocore)")
