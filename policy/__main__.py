"""The HIPAA policy pack.

`pulumi preview --policy-pack policy --policy-pack-config policy/config/<stack>.json`
"""

from pulumi_policy import EnforcementLevel, PolicyPack

from hipaa_policies import ALL_POLICIES

PolicyPack(
    name="hipaa-aws",
    description="Refuses AWS resources that break the HIPAA Security Rule controls of this project.",
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=ALL_POLICIES,
)
