"""Load balancers: HTTPS-only listeners with modern TLS and ACM certificates, access logs,
deletion protection, WAF."""

from __future__ import annotations

from collections.abc import Iterable

from pulumi_policy import Severity

from .framework import (
    ACCESS_CONTROL, AUDIT_CONTROLS, TRANSMISSION_SECURITY, Metadata, Resource,
    Stack, not_applicable, resource_policy, stack_policy,
)

LB = ("aws:lb/loadBalancer:LoadBalancer", "aws:alb/loadBalancer:LoadBalancer")
LISTENER = ("aws:lb/listener:Listener", "aws:alb/listener:Listener")
CLASSIC = ("aws:elb/loadBalancer:LoadBalancer",)
WAF_ASSOCIATION = ("aws:wafv2/webAclAssociation:WebAclAssociation",)
TLS_POLICIES = {"type": "array", "items": {"type": "string"}, "default": [
    "ELBSecurityPolicy-TLS13-1-2-2021-06", "ELBSecurityPolicy-TLS13-1-2-Res-2021-06",
    "ELBSecurityPolicy-TLS13-1-3-2021-06", "ELBSecurityPolicy-TLS13-1-2-FIPS-2023-04",
    "ELBSecurityPolicy-TLS-1-2-2017-01", "ELBSecurityPolicy-TLS-1-2-Ext-2018-06",
    "ELBSecurityPolicy-FS-1-2-Res-2020-10"],
    "description": "SSL policies allowed on HTTPS/TLS listeners (TLS 1.2 or newer only)."}


def _meta(name, description, control, remediation, rules=(), **kw) -> Metadata:
    return Metadata(name, description, control, remediation, config_rules=tuple(rules),
                    service="elb", **kw)


# Listener protocols (botocore `elbv2` ProtocolEnum; CreateListener.Protocol says which load balancer
# type takes which). HTTPS and TLS terminate TLS at the load balancer with an sslPolicy. QUIC and
# TCP_QUIC (Network Load Balancer) pass QUIC through to the targets, and QUIC always carries TLS 1.3
# (RFC 9001; ELB "Listeners for your Network Load Balancers": QUIC v1 only). TCP, UDP and TCP_UDP
# listeners pass the bytes through unread: "If you must ensure that the targets decrypt TLS traffic
# instead of the load balancer, you can create a TCP listener on port 443" (same page), so TLS end to
# end is a TCP listener; the load balancer cannot see whether the stream is encrypted.
TLS_PROTOCOLS = ("HTTPS", "TLS")
ENCRYPTED_PROTOCOLS = TLS_PROTOCOLS + ("QUIC", "TCP_QUIC")
PASSTHROUGH_PROTOCOLS = ("TCP", "UDP", "TCP_UDP")


def _https_only(r: Resource) -> Iterable[str]:
    protocol = r.props.get("protocol")
    if protocol in ENCRYPTED_PROTOCOLS:
        return
    if protocol == "HTTP":
        actions = list(r.props.each("defaultActions"))
        if actions and all(a.get("type") == "redirect" and a.get("redirect", "protocol") == "HTTPS"
                           for a in actions):
            return
        yield "Use protocol HTTPS, or make every default action a redirect to HTTPS."
    elif protocol in PASSTHROUGH_PROTOCOLS:
        not_applicable(f"A {protocol} listener passes traffic through to the targets unread, so its encryption is "
                       "end to end, the targets' (AWS ELB guide: Listeners for your Network Load Balancers); "
                       "use a TLS listener to terminate TLS at the load balancer.")
    elif protocol is None:
        # A Gateway Load Balancer's listener has neither (botocore `elbv2` CreateListener: "You can't
        # specify a protocol for a Gateway Load Balancer", nor a port): it hands GENEVE-encapsulated
        # packets to inspection appliances. Any other listener has a port, and an Application Load
        # Balancer's protocol then defaults to HTTP (pulumi-aws lb.Listener docstring).
        if not r.props.is_set("port"):
            not_applicable("A Gateway Load Balancer listener has no protocol or port (botocore elbv2 "
                           "CreateListener): it forwards GENEVE-encapsulated traffic to appliances, which "
                           "see the traffic's own encryption.")
        yield "Set protocol to HTTPS (or TLS)."


def _tls_policy(r: Resource) -> Iterable[str]:
    if r.props.get("protocol") not in TLS_PROTOCOLS:
        return  # no sslPolicy to set (botocore `elbv2` CreateListener.SslPolicy: HTTPS and TLS listeners)
    if r.props.get("sslPolicy") not in r.config["allowedSslPolicies"]:
        yield "Set sslPolicy to a TLS 1.2+ policy such as ELBSecurityPolicy-TLS13-1-2-2021-06."


ACM = ("aws:acm/certificate:Certificate", "aws:acm/certificateValidation:CertificateValidation")
CERTIFICATE_MESSAGE = "Set certificateArn to an ACM certificate."


def _acm_certificates(stack: Stack) -> Iterable[tuple[str, str]]:
    """A certificate issued in the same stack is known only after creation; the listener's property
    dependency on the ACM certificate (or its validation) is what proves it is ACM at preview."""
    for listener in stack.of_type(*LISTENER):
        def check(listener=listener) -> Iterable[str]:
            if listener.props.get("protocol") not in ("HTTPS", "TLS"):
                return
            if listener.props.is_unknown("certificateArn"):
                sources = listener.property_dependencies.get("certificateArn", [])
                if sources and all(source.type in ACM for source in sources):
                    return
            certificate = listener.props.get("certificateArn")  # unknown and unlinked: not judged
            if not isinstance(certificate, str) or ":acm:" not in certificate:
                yield CERTIFICATE_MESSAGE
        yield from stack.judge(listener, check)


def _lb_settings(r: Resource) -> Iterable[str]:
    protect = r.config["requireDeletionProtection"]
    if r.props.get("loadBalancerType") == "gateway":
        if protect and r.props.bool("enableDeletionProtection") is not True:
            yield "Set enableDeletionProtection to true."
        return  # gateway load balancers have no access logs or HTTP headers
    if r.props.bool("accessLogs", "enabled") is not True or not r.props.is_set("accessLogs", "bucket"):
        yield "Set accessLogs with enabled=true and the access-log bucket."
    if protect and r.props.bool("enableDeletionProtection") is not True:
        yield "Set enableDeletionProtection to true."
    if r.props.get("loadBalancerType") in (None, "application") and \
            r.props.bool("dropInvalidHeaderFields") is not True:
        yield "Set dropInvalidHeaderFields to true."


def _classic(r: Resource) -> Iterable[str]:
    for listener in r.props.each("listeners"):
        if str(listener.get("lbProtocol")).upper() not in ("HTTPS", "SSL"):
            yield "Use HTTPS or SSL for every listener's lbProtocol."
        elif ":acm:" not in str(listener.get("sslCertificateId")):
            yield "Set listeners[].sslCertificateId to an ACM certificate."
    if r.props.bool("crossZoneLoadBalancing") is False:
        yield "Set crossZoneLoadBalancing to true."
    if r.props.bool("accessLogs", "enabled") is False or not r.props.is_set("accessLogs", "bucket"):
        yield "Set accessLogs with the access-log bucket."


def _waf(stack: Stack) -> Iterable[tuple[str, str]]:
    for lb in stack.of_type(*LB):
        def check(lb=lb) -> Iterable[str]:
            if lb.props.bool("internal") is True or lb.props.get("loadBalancerType") not in (None, "application"):
                return
            if not stack.attached(lb, WAF_ASSOCIATION, "resourceArn"):
                yield "Associate a WAFv2 web ACL (WebAclAssociation) with this internet-facing load balancer."
        yield from stack.judge(lb, check)


POLICIES = [
    resource_policy(_meta("aws-lb-listener-https-only", "Load balancer listeners must serve HTTPS only (HTTP may only redirect).",
                          TRANSMISSION_SECURITY, "Use HTTPS/TLS listeners; make HTTP listeners redirect to HTTPS.",
                          ["alb-http-to-https-redirection-check", "elb-tls-https-listeners-only"]),
                    LISTENER, _https_only),
    resource_policy(_meta("aws-lb-listener-modern-tls", "HTTPS listeners must use a TLS 1.2+ policy.",
                          TRANSMISSION_SECURITY, "Set sslPolicy from allowedSslPolicies.",
                          ["elb-predefined-security-policy-ssl-check"],
                          config={"allowedSslPolicies": TLS_POLICIES}), LISTENER, _tls_policy),
    stack_policy(_meta("aws-lb-listener-acm-certificate", "HTTPS listeners must use an ACM certificate.",
                       TRANSMISSION_SECURITY, "Set certificateArn to an ACM certificate ARN (or to an aws.acm "
                       "certificate issued in the stack).", ["elbv2-acm-certificate-required"]),
                 _acm_certificates),
    resource_policy(_meta("aws-lb-logging-and-protection", "Load balancers must log requests, resist deletion and drop invalid headers.",
                          AUDIT_CONTROLS, "Set accessLogs, enableDeletionProtection and dropInvalidHeaderFields.",
                          ["elb-logging-enabled", "elb-deletion-protection-enabled"],
                          config={"requireDeletionProtection": {
                              "type": "boolean", "default": True,
                              "description": "Require deletion protection (a stack without PHI that "
                                             "`pulumi destroy` must remove sets false)."}}),
                    LB, _lb_settings),
    resource_policy(_meta("aws-elb-classic-secure", "Classic load balancers must use HTTPS/SSL with ACM certificates, cross-zone balancing and access logs.",
                          TRANSMISSION_SECURITY, "Prefer an Application Load Balancer; otherwise fix listeners, crossZoneLoadBalancing and accessLogs.",
                          ["elb-tls-https-listeners-only", "elb-acm-certificate-required",
                           "elb-cross-zone-load-balancing-enabled", "elb-logging-enabled"]), CLASSIC, _classic),
    stack_policy(_meta("aws-lb-waf-associated", "Internet-facing application load balancers must be protected by AWS WAF.",
                       ACCESS_CONTROL, "Add aws.wafv2.WebAclAssociation(resource_arn=lb.arn, web_acl_arn=...).",
                       ["alb-waf-enabled"], severity=Severity.MEDIUM), _waf),
]
