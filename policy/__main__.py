"""The HIPAA policy pack.

`pulumi preview --policy-pack policy --policy-pack-config policy/config/<stack>.json`
"""

from pulumi_policy import EnforcementLevel

from hipaa_policies import ALL_POLICIES
from hipaa_policies.analyzer_service import serve

# pulumi-policy's PolicyPack, served by an Analyzer service that skips policies not written for a
# resource's type before converting its properties (hipaa_policies/analyzer_service.py).
serve(
    name="hipaa-aws",
    description="Refuses AWS resources that break the HIPAA Security Rule controls of this project.",
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=ALL_POLICIES,
)
