"""WAFv2: web ACLs log requests."""

from __future__ import annotations

from collections.abc import Iterable

from .framework import AUDIT_CONTROLS, Metadata, Stack, stack_policy

WEB_ACL = ("aws:wafv2/webAcl:WebAcl",)
WAF_LOGGING = ("aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration",)


def _waf_logging(stack: Stack) -> Iterable[tuple[str, str]]:
    for acl in stack.of_type(*WEB_ACL):
        def check(acl=acl) -> Iterable[str]:
            if not stack.attached(acl, WAF_LOGGING, "resourceArn"):
                yield "Attach a WebAclLoggingConfiguration to this web ACL."
        yield from stack.judge(acl, check)


POLICIES = [
    stack_policy(Metadata("aws-wafv2-logging", "WAF web ACLs must log requests.",
                          AUDIT_CONTROLS, "Attach aws.wafv2.WebAclLoggingConfiguration.",
                          config_rules=("wafv2-logging-enabled",), service="wafv2"), _waf_logging),
]
