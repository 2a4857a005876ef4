"""The organization layer (the `organization/` project, run from the management account): its
settings, the organization with its OUs and member accounts, the providers into member accounts,
the guardrails, the central security services and the organization trail."""
