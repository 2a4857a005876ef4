"""Every value the program sends to AWS, checked against AWS's own data.

The real program runs for every stack in `stacks/` (and the state-backend bootstrap) under the mock
runtime; each registered resource's inputs are then checked against:

1. AWS's managed-policy list (moto's copy): every `arn:<partition>:iam::aws:policy/...` anywhere in
   the inputs, JSON documents included, must name an existing policy at its exact path.
2. botocore's service models: enum-valued inputs (tests/aws_reference.py ENUM_INPUTS), and the
   length, range and pattern limits of every input botocore models. Meta-tests keep the tables
   complete: every registered input must map to a botocore member (or be declared provider-only),
   and every enum-valued input of a resource type the program uses must be in ENUM_INPUTS.
3. Dated tables for values AWS documents only in prose (log retention, Backup vault lock days,
   Backup lifecycle, ELB TLS policies, Fargate task sizes, Identity Center session durations, ...),
   compared with botocore's documentation where it repeats them.

Secret inputs are checked as their plain values; JSON documents the provider sends as API
structures (an ECS task definition's containerDefinitions) are parsed and checked like inputs.

Each checker also gets a wrong value in a negative test, so that it is known to fail.
"""

from __future__ import annotations

import copy
import difflib
import functools
import json
import re
from dataclasses import dataclass, field
from typing import Any, Optional
from collections.abc import Iterable, Iterator

import pytest
from pulumi.runtime import rpc

from preflight.program_runner import ProgramRun, project_program, run_program
from preflight.stack_config import PROJECT_DIR, load_stack_config, stack_names
from tests import aws_reference as ref
from tests.conftest import cached_run, owned_run

BOOTSTRAP_DIR = PROJECT_DIR / "bootstrap"
BOOTSTRAP = "bootstrap:prod"  # one bootstrap stack per account; prod's account's
# Each shipped stack, the single-account shape of each (it creates what the organization otherwise
# does: the whole account layer, its own Identity Center permission sets), and the bootstrap.
OWNED = "owned:"
PROGRAMS = [*stack_names(), *(f"{OWNED}{stack}" for stack in stack_names()), BOOTSTRAP]


@functools.cache
def program_run(key: str) -> ProgramRun:
    if key == BOOTSTRAP:
        config = load_stack_config(BOOTSTRAP.split(":", 1)[1], BOOTSTRAP_DIR)
        return run_program(project_program(BOOTSTRAP_DIR), config, preview=False)
    if key.startswith(OWNED):
        return owned_run(key.removeprefix(OWNED))
    return cached_run(key)


def aws_resources(run: ProgramRun) -> list:
    return [r for r in run.resources if r.custom and not r.type.startswith("pulumi:")]


# ---------------------------------------------------------------------------------------------
# Walking inputs
# ---------------------------------------------------------------------------------------------


@dataclass
class Resource:
    """What the checkers read of a registered resource (tests build these by hand too)."""

    urn: str
    type: str
    inputs: dict[str, Any]
    property_dependencies: dict[str, list[str]] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)


def with_json_documents(type_token: str, inputs: dict[str, Any]) -> dict[str, Any]:
    """Inputs with the JSON documents the provider sends as API structures parsed
    (ref.JSON_INPUTS: an ECS task definition's containerDefinitions), so that their values are
    checked like any other input. A document that does not parse is left as text."""
    expanded = dict(inputs)
    for (token, key) in ref.JSON_INPUTS:
        if token == type_token and isinstance(expanded.get(key), str):
            try:
                expanded[key] = json.loads(expanded[key])
            except json.JSONDecodeError:
                pass
    return expanded


def as_checked(resources: Iterable) -> list[Resource]:
    return [Resource(r.urn, r.type, with_json_documents(r.type, r.inputs),
                     dict(getattr(r, "property_dependencies", {}) or {}),
                     dict(getattr(r, "outputs", {}) or {})) for r in resources]


def _is_unknown(value: Any) -> bool:
    return type(value).__name__ == "Unknown"


def _secret_value(value: Any) -> Any:
    """The plain value of a secret input as the mocks record it (pulumi's wire form
    `{<sig key>: <secret sig>, "value": ...}`; the provider sends the plain value to AWS)."""
    if isinstance(value, dict) and value.get(rpc._special_sig_key) == rpc._special_secret_sig:
        return value.get("value")
    return value


def leaves(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """(path, scalar) pairs of an input tree; list elements are `name[]`; secrets are unwrapped."""
    value = _secret_value(value)
    if isinstance(value, dict):
        for key, item in value.items():
            yield from leaves(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from leaves(item, path + "[]")
    elif value is not None and not _is_unknown(value):
        yield path, value


def values_at(inputs: dict[str, Any], path: str) -> list[Any]:
    return [v for p, v in leaves(inputs) if p == path]


def shown(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return repr(value)


def finding(resource: Resource, path: str, value: Any, allowed: str, source: str) -> str:
    return f"{resource.urn}: {path} = {shown(value)}; allowed: {allowed} [{source}]"


# ---------------------------------------------------------------------------------------------
# Checkers (each returns findings; an empty list means every value is allowed)
# ---------------------------------------------------------------------------------------------


def strings_in(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    for p, v in leaves(value, path):
        if isinstance(v, str):
            yield p, v


def check_managed_policy_arns(resources: Iterable[Resource]) -> list[str]:
    """Every AWS managed policy ARN (in any input, JSON documents included) exists at its path."""
    policies = ref.managed_policies()
    source = f"{ref.MANAGED_POLICY_SOURCE}; moto {policies.version}, data as of {policies.as_of}"
    findings = []
    for resource in resources:
        for path, text in strings_in(resource.inputs):
            for match in ref.MANAGED_POLICY_ARN.finditer(text):
                partition, policy_path, name = match.groups()
                arn = match.group(0)
                if policies.paths.get(name) == policy_path:
                    continue
                if name in policies.paths:
                    allowed = f"{policies.arn(name, partition)} (AWS managed policy {name} has path " \
                              f"{policies.paths[name]!r}, not {policy_path!r})"
                else:
                    close = [policies.arn(c, partition)
                             for c in difflib.get_close_matches(name, list(policies.paths), n=3)]
                    allowed = f"an AWS managed policy; no policy is named {name!r}" + \
                              (f" (close: {', '.join(close)})" if close else "")
                findings.append(finding(resource, path, arn, allowed, source))
    return findings


def check_enum_inputs(resources: Iterable[Resource]) -> list[str]:
    findings = []
    for resource in resources:
        for (type_token, path), (service, shape_name) in ref.ENUM_INPUTS.items():
            if type_token != resource.type:
                continue
            allowed = ref.enum_values(service, shape_name)
            for value in values_at(resource.inputs, path):
                if ref.sent_enum_value(type_token, path, value) not in allowed:
                    findings.append(finding(resource, path, value, ", ".join(allowed),
                                            f"botocore {ref.botocore_version()} {service} {shape_name}"))
    return findings


def check_prose_inputs(resources: Iterable[Resource]) -> list[str]:
    findings = []
    for resource in resources:
        for (type_token, path), table in ref.PROSE_INPUTS.items():
            if type_token != resource.type:
                continue
            for value in values_at(resource.inputs, path):
                if not table.allows(value):
                    findings.append(finding(resource, path, value, table.describe(), table.source.cite()))
    return findings


def check_backup_lifecycles(resources: Iterable[Resource], default_region: str = "us-east-1") -> list[str]:
    """Plan and copy lifecycles: 90 days after cold storage, and inside the target vault's lock."""
    resources = list(resources)
    # Locks by (vault name, region).
    locks = {(r.inputs.get("backupVaultName"), r.inputs.get("region") or default_region): r.inputs
             for r in resources if r.type == "aws:backup/vaultLockConfiguration:VaultLockConfiguration"}
    # A copy action names its destination by ARN: the registered vault with that ARN, else the ARN.
    vaults = {r.outputs["arn"]: (r.inputs.get("name"), r.inputs.get("region") or default_region)
              for r in resources if r.type == "aws:backup/vault:Vault" and r.outputs.get("arn")}
    findings = []
    lock_source = ref.BACKUP_VAULT_LOCK_MIN_RETENTION_DAYS.source.cite()
    cold_source = ref.BACKUP_LIFECYCLE_SOURCE.cite()

    def check(resource, path, lifecycle, lock, vault):
        delete_after = lifecycle.get("deleteAfter")
        if delete_after == ref.BACKUP_KEEP_INDEFINITELY:
            delete_after = None
        cold = lifecycle.get("coldStorageAfter")
        if cold is not None and cold != ref.BACKUP_KEEP_INDEFINITELY and delete_after is not None and \
                delete_after < cold + ref.BACKUP_COLD_STORAGE_MINIMUM_DAYS:
            findings.append(finding(resource, f"{path}.deleteAfter", delete_after,
                                    f">= coldStorageAfter + {ref.BACKUP_COLD_STORAGE_MINIMUM_DAYS} "
                                    f"= {shown(cold + ref.BACKUP_COLD_STORAGE_MINIMUM_DAYS)}", cold_source))
        if lock is None:
            return
        low, high = lock.get("minRetentionDays"), lock.get("maxRetentionDays")
        if delete_after is None:
            if high is not None:
                findings.append(finding(resource, f"{path}.deleteAfter", None,
                                        f"<= {shown(high)} (maxRetentionDays of the lock on vault {vault})",
                                        lock_source))
            return
        if (low is not None and delete_after < low) or (high is not None and delete_after > high):
            bounds = f"{shown(low) if low is not None else 1}..{shown(high) if high is not None else 36500}"
            findings.append(finding(resource, f"{path}.deleteAfter", delete_after,
                                    f"{bounds} (the vault lock on {vault})", lock_source))

    for resource in resources:
        if resource.type != "aws:backup/plan:Plan":
            continue
        region = resource.inputs.get("region") or default_region
        for rule in resource.inputs.get("rules") or []:
            vault = rule.get("targetVaultName")
            check(resource, "rules[].lifecycle", rule.get("lifecycle") or {}, locks.get((vault, region)),
                  f"{vault} ({region})")
            for action in rule.get("copyActions") or []:
                arn = str(action.get("destinationVaultArn") or "")
                match = re.match(r"arn:[\w-]+:backup:([\w-]+):\d*:backup-vault:(.+)$", arn)
                destination = vaults.get(arn) or ((match.group(2), match.group(1)) if match else None)
                lock = locks.get(destination) if destination else None
                check(resource, "rules[].copyActions[].lifecycle", action.get("lifecycle") or {}, lock,
                      f"{destination[0]} ({destination[1]})" if destination else arn)
    return findings


def check_vault_lock_order(resources: Iterable[Resource]) -> list[str]:
    findings = []
    for resource in resources:
        if resource.type != "aws:backup/vaultLockConfiguration:VaultLockConfiguration":
            continue
        low, high = resource.inputs.get("minRetentionDays"), resource.inputs.get("maxRetentionDays")
        if low is not None and high is not None and low > high:
            findings.append(finding(resource, "maxRetentionDays", high, f">= minRetentionDays ({shown(low)})",
                                    ref.BACKUP_VAULT_LOCK_MAX_RETENTION_DAYS.source.cite()))
    return findings


def _task_units(value: Any, unit: str, per_unit: int) -> Optional[int]:
    """CPU units or MiB of a task definition's cpu/memory ("1024", "1 vCPU", "2 GB"), as ECS reads them."""
    text = str(value).strip()
    if re.fullmatch(r"\d+", text):
        return int(text)
    match = re.fullmatch(rf"(\d+(?:\.\d+)?)\s*{unit}", text, re.IGNORECASE)
    return round(float(match.group(1)) * per_unit) if match else None


def check_fargate_task_sizes(resources: Iterable[Resource]) -> list[str]:
    """A Fargate task definition's cpu and memory are one of the documented combinations."""
    table = ref.FARGATE_TASK_SIZES
    findings = []
    for resource in resources:
        if resource.type != "aws:ecs/taskDefinition:TaskDefinition" or \
                "FARGATE" not in (resource.inputs.get("requiresCompatibilities") or []):
            continue
        cpu = _task_units(resource.inputs.get("cpu"), "vcpu", 1024)
        memory = _task_units(resource.inputs.get("memory"), "gb", 1024)
        if cpu not in table.memory_by_cpu:
            findings.append(finding(resource, "cpu", resource.inputs.get("cpu"),
                                    f"one of {', '.join(map(str, table.memory_by_cpu))} (Fargate)",
                                    table.source.cite()))
        elif memory not in table.memory_by_cpu[cpu]:
            allowed = table.memory_by_cpu[cpu]
            findings.append(finding(resource, "memory", resource.inputs.get("memory"),
                                    f"with cpu {cpu}: {allowed[0]}..{allowed[-1]} MiB in steps of "
                                    f"{allowed[1] - allowed[0]} (Fargate)", table.source.cite()))
    return findings


def _pattern(text: str) -> Optional[re.Pattern]:
    try:
        return re.compile(text)
    except re.error:
        return None  # Java-only syntax (\p{L}...): not checked


def check_botocore_constraints(resources: Iterable[Resource]) -> list[str]:
    """Length, range and pattern limits botocore models for the members the inputs are sent as.

    Strings that derive from other resources' outputs (mock values) are not checked."""
    findings = []
    for resource in resources:
        for path, value in leaves(resource.inputs):
            if ref.not_sent_reason(resource.type, path):
                continue
            member = ref.resolve(resource.type, path)
            if member is None:
                continue
            meta = member.metadata
            service = ref.API_MODELS[resource.type].service
            source = f"botocore {ref.botocore_version()} {service} {member.name}"
            numeric = isinstance(value, (int, float)) and not isinstance(value, bool)
            if member.type_name in ("integer", "long", "double", "float") and numeric:
                low, high = meta.get("min"), meta.get("max")
                if (low is not None and value < low) or (high is not None and value > high):
                    findings.append(finding(resource, path, value, f"{low}..{high}", source))
                elif member.type_name in ("integer", "long") and value != int(value):
                    findings.append(finding(resource, path, value, "an integer", source))
            elif member.type_name == "string" and isinstance(value, str):
                if resource.property_dependencies.get(path.split(".")[0].removesuffix("[]")):
                    continue
                low, high = meta.get("min"), meta.get("max")
                if (low is not None and len(value) < low) or (high is not None and len(value) > high):
                    findings.append(finding(resource, path, f"{value[:80]}... ({len(value)} characters)"
                                            if len(value) > 80 else value, f"length {low}..{high}", source))
                pattern = _pattern(meta["pattern"]) if "pattern" in meta else None
                if pattern is not None and not pattern.search(value):
                    findings.append(finding(resource, path, value, f"matching /{meta['pattern']}/", source))
    return findings


def unmapped_inputs(resources: Iterable[Resource]) -> list[str]:
    """Meta: registered inputs the tables cannot place, or enums/documented values they lack."""
    problems = []
    for resource in resources:
        if resource.type not in ref.API_MODELS:
            problems.append(f"{resource.urn}: resource type {resource.type} is not in "
                            "aws_reference.API_MODELS (say which botocore shapes its inputs are sent as)")
            continue
        for path, _ in leaves(resource.inputs):
            if ref.not_sent_reason(resource.type, path):
                continue
            member = ref.resolve(resource.type, path)
            if member is None:
                problems.append(f"{resource.urn}: {path} matches no botocore member of "
                                f"{ref.API_MODELS[resource.type].shapes} (add a rename or a not_sent reason)")
                continue
            key = (resource.type, path)
            if getattr(member, "enum", None) and key not in ref.ENUM_INPUTS:
                service = ref.API_MODELS[resource.type].service
                problems.append(f"{resource.urn}: {path} is botocore enum {service} {member.name} "
                                "but not in ENUM_INPUTS")
            if ref.documented_valid_values(member) and key not in ref.PROSE_INPUTS \
                    and key not in ref.DOCUMENTED_VALUES_NOT_CHECKED and key not in ref.ENUM_INPUTS:
                problems.append(f"{resource.urn}: {path} has documented valid values "
                                f"{ref.documented_valid_values(member)} but no table in PROSE_INPUTS")
    return problems


# ---------------------------------------------------------------------------------------------
# The program's values
# ---------------------------------------------------------------------------------------------


def program_findings(checker) -> list[str]:
    out = []
    for key in PROGRAMS:
        out.extend(checker(as_checked(aws_resources(program_run(key)))))
    return sorted(set(out))


def test_every_program_runs_and_registers_aws_resources():
    for key in PROGRAMS:
        assert aws_resources(program_run(key)), key


def test_aws_managed_policy_arns_exist_at_their_paths():
    findings = program_findings(check_managed_policy_arns)
    assert findings == [], "AWS managed policies that do not exist:\n" + "\n".join(findings)


def test_the_program_references_managed_policies():
    # The check above is not vacuous.
    arns = {m.group(0) for key in PROGRAMS for r in as_checked(aws_resources(program_run(key)))
            for _, s in strings_in(r.inputs) for m in ref.MANAGED_POLICY_ARN.finditer(s)}
    assert len(arns) >= 3, arns


def test_enum_inputs_hold_botocore_enum_values():
    findings = program_findings(check_enum_inputs)
    assert findings == [], "values outside botocore's enums:\n" + "\n".join(findings)


def test_values_aws_documents_in_prose_are_allowed():
    findings = program_findings(check_prose_inputs) + program_findings(check_vault_lock_order)
    assert findings == [], "values outside AWS's documented tables:\n" + "\n".join(findings)


def test_fargate_task_sizes_are_documented_combinations():
    findings = program_findings(check_fargate_task_sizes)
    assert findings == [], "Fargate task sizes AWS refuses:\n" + "\n".join(findings)


def test_backup_lifecycles_fit_cold_storage_and_vault_locks():
    findings = []
    for key in PROGRAMS:
        run = program_run(key)
        region = "us-east-1" if key == BOOTSTRAP else load_stack_config(key.removeprefix(OWNED)).region
        findings.extend(check_backup_lifecycles(as_checked(aws_resources(run)), region))
    assert findings == [], "backup retention the vault locks or cold storage refuse:\n" + "\n".join(findings)


def test_the_backup_check_finds_the_program_vault_locks():
    # Shorten the program's copy retention below the copy vault's lock: the check must see it.
    run = program_run("prod")
    resources = as_checked(aws_resources(run))
    plan = next(r for r in resources if r.type == "aws:backup/plan:Plan")
    rules = copy.deepcopy(plan.inputs["rules"])
    copied = [a for rule in rules for a in rule.get("copyActions") or []]
    assert copied, "prod copies backups to a second region"
    for action in copied:
        action["lifecycle"]["deleteAfter"] = 1
    for rule in rules:
        rule["lifecycle"]["deleteAfter"] = 1
    plan.inputs = {**plan.inputs, "rules": rules}
    findings = check_backup_lifecycles(resources, load_stack_config("prod").region)
    assert any("copyActions[].lifecycle.deleteAfter = 1" in f and "-copy" in f for f in findings), findings
    assert any("rules[].lifecycle.deleteAfter = 1" in f for f in findings), findings


def test_inputs_respect_botocore_length_range_and_pattern_limits():
    findings = program_findings(check_botocore_constraints)
    assert findings == [], "values outside botocore's limits:\n" + "\n".join(findings)


def test_checks_reach_the_program_values():
    # The enum and prose checks read values that are really there (not vacuous).
    checked = {(r.type, path) for key in PROGRAMS for r in as_checked(aws_resources(program_run(key)))
               for path in {p for p, _ in leaves(r.inputs)}}
    assert len(checked & set(ref.ENUM_INPUTS)) >= 15, checked & set(ref.ENUM_INPUTS)
    assert ("aws:cloudwatch/logGroup:LogGroup", "retentionInDays") in checked
    assert ("aws:backup/vaultLockConfiguration:VaultLockConfiguration", "changeableForDays") in checked
    assert ("aws:lb/listener:Listener", "sslPolicy") in checked
    assert ("aws:ssoadmin/permissionSet:PermissionSet", "sessionDuration") in checked
    assert ("aws:ecs/taskDefinition:TaskDefinition",
            "containerDefinitions[].logConfiguration.logDriver") in checked
    assert ("aws:ssm/parameter:Parameter", "value") in checked  # a secret input, unwrapped
    assert len(checked & set(ref.BOOLEAN_ENUM_INPUTS)) >= 2


# ---------------------------------------------------------------------------------------------
# Meta-tests: the tables are complete and true
# ---------------------------------------------------------------------------------------------


def test_every_registered_input_maps_to_a_botocore_member_or_is_provider_only():
    problems = program_findings(unmapped_inputs)
    assert problems == [], "\n".join(problems)


def _sdk_enum_paths(type_token: str) -> dict[str, str]:
    out = {}
    for path in ref.pulumi_input_paths(type_token):
        if ref.not_sent_reason(type_token, path):
            continue
        member = ref.resolve(type_token, path)
        if member is not None and getattr(member, "enum", None):
            out[path] = member.name
    return out


@pytest.mark.parametrize("type_token", sorted(ref.API_MODELS))
def test_enum_table_lists_every_enum_valued_input_of_the_type(type_token):
    """All of pulumi-aws's inputs of the type that botocore models as enums, set today or not."""
    service = ref.API_MODELS[type_token].service
    found = {path: (service, name) for path, name in _sdk_enum_paths(type_token).items()}
    listed = {path: shape for (t, path), shape in ref.ENUM_INPUTS.items() if t == type_token}
    missing = {p: s for p, s in found.items() if p not in listed}
    assert missing == {}, f"{type_token}: enum-valued inputs missing from ENUM_INPUTS: {missing}"


@pytest.mark.parametrize("key", sorted(ref.ENUM_INPUTS), ids=lambda k: f"{k[0]}:{k[1]}")
def test_enum_table_entries_are_real_pulumi_inputs_and_botocore_enums(key):
    type_token, path = key
    service, shape_name = ref.ENUM_INPUTS[key]
    assert ref.enum_values(service, shape_name)
    assert path in ref.pulumi_input_paths(type_token) or ref.json_document_of(type_token, path), \
        f"pulumi-aws has no input {path} on {type_token}"
    member = ref.resolve(type_token, path)
    assert member is not None and member.name == shape_name, (key, member)


@pytest.mark.parametrize("key", sorted(ref.PROSE_INPUTS), ids=lambda k: f"{k[0]}:{k[1]}")
def test_prose_table_entries_are_real_pulumi_inputs(key):
    type_token, path = key
    assert path in ref.pulumi_input_paths(type_token), f"pulumi-aws has no input {path} on {type_token}"


def test_every_program_resource_type_has_an_api_model():
    types = {r.type for key in PROGRAMS for r in aws_resources(program_run(key))}
    assert types - set(ref.API_MODELS) == set()


def _prose_tables():
    seen = {}
    for table in ref.PROSE_INPUTS.values():
        seen[id(table)] = table
    return list(seen.values())


@pytest.mark.parametrize("table", [t for t in _prose_tables() if t.source.botocore_doc],
                         ids=lambda t: ".".join(t.source.botocore_doc[1:]))
def test_prose_tables_agree_with_botocore_documentation(table):
    service, shape_name, member_name = table.source.botocore_doc
    member = ref.shape(service, shape_name).members[member_name]
    assert not getattr(member, "enum", None), "botocore now models it as an enum: move it to ENUM_INPUTS"
    text = ref.plain_documentation(member)
    for quote in table.source.quotes:
        assert quote in text, (quote, text)
    if isinstance(table, ref.AllowedValues):
        assert ref.documented_valid_values(member) == table.values, text
    else:
        assert table.source.quotes, "a range needs the sentences that state it"


def test_fargate_task_size_table_agrees_with_botocore_documentation():
    service, shape_name, member_name = ref.FARGATE_TASK_SIZES.source.botocore_doc
    text = ref.plain_documentation(ref.shape(service, shape_name).members[member_name])
    for quote in ref.FARGATE_TASK_SIZES.source.quotes:
        assert quote in text, (quote, text)
    assert len(ref.FARGATE_TASK_SIZES.source.quotes) == len(ref.FARGATE_TASK_SIZES.memory_by_cpu)


def test_boolean_enum_conversions_send_enum_values():
    for (type_token, path), converted in ref.BOOLEAN_ENUM_INPUTS.items():
        service, shape_name = ref.ENUM_INPUTS[(type_token, path)]
        assert set(converted) == {True, False}
        assert set(converted.values()) <= set(ref.enum_values(service, shape_name)), (type_token, path)


def test_log_retention_is_not_yet_a_botocore_enum():
    member = ref.shape("logs", "PutRetentionPolicyRequest").members["retentionInDays"]
    assert member.type_name == "integer" and not getattr(member, "enum", None)


def test_elb_policy_table_holds_every_policy_moto_knows():
    moto_policies = ref.moto_data_module("elbv2/ssl_policies.py").SSL_POLICIES
    assert len(moto_policies) > 10
    assert set(moto_policies) - set(ref.ELB_SSL_POLICIES.values) == set()
    assert len(set(ref.ELB_SSL_POLICIES.values)) == len(ref.ELB_SSL_POLICIES.values)


def test_moto_managed_policy_list_is_loaded():
    policies = ref.managed_policies()
    assert len(policies.paths) > 1000
    assert policies.paths["AWSBackupServiceRolePolicyForBackup"] == "/service-role/"
    assert policies.paths["AWSBackupServiceRolePolicyForS3Backup"] == "/"


# ---------------------------------------------------------------------------------------------
# Negative tests: each checker reports a wrong value
# ---------------------------------------------------------------------------------------------

URN = "urn:pulumi:test::hipaa-aws::{}::wrong"


def fake(type_token: str, inputs: dict[str, Any], deps: Optional[dict] = None) -> Resource:
    return Resource(URN.format(type_token), type_token, inputs, deps or {})


def test_a_managed_policy_at_the_wrong_path_is_reported():
    wrong = "arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForS3Backup"
    findings = check_managed_policy_arns([
        fake("aws:iam/rolePolicyAttachment:RolePolicyAttachment", {"role": "r", "policyArn": wrong})])
    assert len(findings) == 1
    assert URN.format("aws:iam/rolePolicyAttachment:RolePolicyAttachment") in findings[0]
    assert "policyArn" in findings[0] and wrong in findings[0]
    assert "arn:aws:iam::aws:policy/AWSBackupServiceRolePolicyForS3Backup" in findings[0]


def test_a_managed_policy_inside_a_json_document_is_checked():
    document = json.dumps({"Statement": [{"Effect": "Deny", "Action": "iam:AttachRolePolicy", "Resource": "*",
                                          "Condition": {"ArnEquals": {"iam:PolicyARN": [
                                              "arn:aws:iam::aws:policy/AdministratorAccess",
                                              "arn:aws:iam::aws:policy/NoSuchPolicyForTests"]}}}]})
    findings = check_managed_policy_arns([fake("aws:iam/policy:Policy", {"policy": document})])
    assert len(findings) == 1 and "NoSuchPolicyForTests" in findings[0] and "policy =" in findings[0]


def test_a_right_managed_policy_is_accepted():
    assert check_managed_policy_arns([fake("aws:iam/role:Role", {"managedPolicyArns": [
        "arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup",
        "arn:aws-us-gov:iam::aws:policy/AWSBackupServiceRolePolicyForS3Restore"]})]) == []


def test_wildcard_managed_policy_patterns_are_not_policies():
    document = json.dumps({"Condition": {"ArnLike": {"iam:PolicyARN": [
        "arn:aws:iam::aws:policy/service-role/*", "arn:aws:iam::aws:policy/AWSBackup*"]}}})
    assert check_managed_policy_arns([fake("aws:iam/policy:Policy", {"policy": document})]) == []


def test_a_storage_class_outside_the_enum_is_reported():
    findings = check_enum_inputs([fake("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", {
        "rules": [{"status": "Enabled", "transitions": [{"days": 90, "storageClass": "GLACIER"},
                                                          {"days": 180, "storageClass": "GLACIER_X"}]}]})])
    assert len(findings) == 1
    assert "rules[].transitions[].storageClass = 'GLACIER_X'" in findings[0]
    assert "DEEP_ARCHIVE" in findings[0] and "TransitionStorageClass" in findings[0]


def test_a_guardduty_feature_outside_the_enum_is_reported():
    findings = check_enum_inputs([fake("aws:guardduty/detectorFeature:DetectorFeature", {
        "detectorId": "d", "name": "EKS_RUNTIME_MONITORING", "status": "ON",
        "additionalConfigurations": [{"name": "EKS_ADDON_MANAGEMENT", "status": "ENABLED"},
                                     {"name": "ECS_AGENT", "status": "ENABLED"}]})])
    assert len(findings) == 2
    assert any("status = 'ON'" in f and "ENABLED, DISABLED" in f for f in findings)
    assert any("additionalConfigurations[].name = 'ECS_AGENT'" in f for f in findings)


def test_a_retention_outside_the_documented_values_is_reported():
    findings = check_prose_inputs([fake("aws:cloudwatch/logGroup:LogGroup", {"retentionInDays": 2190}),
                                   fake("aws:cloudwatch/logGroup:LogGroup", {"retentionInDays": 0}),
                                   fake("aws:cloudwatch/logGroup:LogGroup", {"retentionInDays": 2192.0})])
    assert len(findings) == 1
    assert "retentionInDays = 2190" in findings[0] and "2192" in findings[0]
    assert "API_PutRetentionPolicy.html" in findings[0]


def test_vault_lock_days_outside_the_documented_ranges_are_reported():
    findings = check_prose_inputs([fake("aws:backup/vaultLockConfiguration:VaultLockConfiguration", {
        "backupVaultName": "v", "changeableForDays": 2, "minRetentionDays": 0, "maxRetentionDays": 36501})])
    assert len(findings) == 3
    assert any("changeableForDays = 2" in f and "3 to 36500" in f for f in findings)
    findings = check_vault_lock_order([fake("aws:backup/vaultLockConfiguration:VaultLockConfiguration", {
        "backupVaultName": "v", "minRetentionDays": 30, "maxRetentionDays": 7})])
    assert len(findings) == 1 and "maxRetentionDays = 7" in findings[0]


def test_an_unknown_tls_policy_is_reported():
    findings = check_prose_inputs([fake("aws:lb/listener:Listener", {
        "protocol": "HTTPS", "sslPolicy": "ELBSecurityPolicy-TLS13-1-2-2099-01"})])
    assert len(findings) == 1 and "sslPolicy = 'ELBSecurityPolicy-TLS13-1-2-2099-01'" in findings[0]
    assert "ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09" in findings[0]


def test_a_backup_lifecycle_outside_the_vault_lock_is_reported():
    lock = "aws:backup/vaultLockConfiguration:VaultLockConfiguration"
    copy_vault = "arn:aws:backup:us-west-2:123456789012:backup-vault:copy"
    resources = [
        fake(lock, {"backupVaultName": "main", "minRetentionDays": 7, "maxRetentionDays": 400}),
        fake(lock, {"backupVaultName": "copy", "region": "us-west-2", "minRetentionDays": 30,
                    "maxRetentionDays": 400}),
        fake("aws:backup/plan:Plan", {"rules": [
            {"ruleName": "daily", "targetVaultName": "main", "lifecycle": {"deleteAfter": 3},
             "copyActions": [{"destinationVaultArn": copy_vault, "lifecycle": {"deleteAfter": 14}}]},
            {"ruleName": "cold", "targetVaultName": "main",
             "lifecycle": {"coldStorageAfter": 30, "deleteAfter": 100}},
        ]}),
    ]
    findings = check_backup_lifecycles(resources)
    assert len(findings) == 3, findings
    assert any("rules[].lifecycle.deleteAfter = 3" in f and "7..400" in f for f in findings)
    assert any("rules[].copyActions[].lifecycle.deleteAfter = 14" in f and "30..400" in f for f in findings)
    assert any("deleteAfter = 100" in f and ">= coldStorageAfter + 90 = 120" in f for f in findings)


def test_values_outside_botocore_limits_are_reported():
    findings = check_botocore_constraints([
        fake("aws:iam/accountPasswordPolicy:AccountPasswordPolicy",
             {"minimumPasswordLength": 200, "passwordReusePrevention": 24}),
        fake("aws:backup/vault:Vault", {"name": "hipaa aws prod"}),
        fake("aws:kms/key:Key", {"rotationPeriodInDays": 30}),
        fake("aws:backup/vault:Vault", {"name": "x" * 60}, deps={"name": ["urn:other"]}),  # from an output
    ])
    assert len(findings) == 3, findings
    assert any("minimumPasswordLength = 200" in f and "6..128" in f for f in findings)
    assert any("name = 'hipaa aws prod'" in f and "BackupVaultName" in f for f in findings)
    assert any("rotationPeriodInDays = 30" in f and "90..2560" in f for f in findings)


def test_an_enum_inside_a_json_document_is_checked():
    containers = json.dumps([{"name": "app", "image": "x", "logConfiguration": {"logDriver": "cloudwatch"},
                              "portMappings": [{"containerPort": 8443, "protocol": "tcp"}]}])
    findings = check_enum_inputs(as_checked([fake("aws:ecs/taskDefinition:TaskDefinition",
                                                  {"containerDefinitions": containers})]))
    assert len(findings) == 1, findings
    assert "containerDefinitions[].logConfiguration.logDriver = 'cloudwatch'" in findings[0]
    assert "awslogs" in findings[0] and "LogDriver" in findings[0]


def test_booleans_sent_as_enums_are_converted_before_the_check():
    service = "aws:ecs/service:Service"
    assert check_enum_inputs([fake(service, {"networkConfiguration": {"assignPublicIp": False}}),
                              fake(service, {"networkConfiguration": {"assignPublicIp": True}}),
                              fake("aws:lb/loadBalancer:LoadBalancer", {"internal": False})]) == []
    findings = check_enum_inputs([fake(service, {"networkConfiguration": {"assignPublicIp": "yes"}})])
    assert len(findings) == 1 and "ENABLED, DISABLED" in findings[0]


def test_metric_dimensions_are_checked_as_dimension_values():
    alarm = "aws:cloudwatch/metricAlarm:MetricAlarm"
    resources = [fake(alarm, {"dimensions": {"LoadBalancer": "app/x/1"}}),
                 fake(alarm, {"metricQueries": [{"metric": {"dimensions": {"WebACL": "x" * 1025}}}]})]
    assert unmapped_inputs(resources) == []
    findings = check_botocore_constraints(resources)
    assert len(findings) == 1 and "metricQueries[].metric.dimensions.WebACL" in findings[0]
    assert "DimensionValue" in findings[0]


def test_a_fargate_size_outside_the_table_is_reported():
    definition = "aws:ecs/taskDefinition:TaskDefinition"
    findings = check_fargate_task_sizes([
        fake(definition, {"requiresCompatibilities": ["FARGATE"], "cpu": "1024", "memory": "2048"}),
        fake(definition, {"requiresCompatibilities": ["FARGATE"], "cpu": "1 vCPU", "memory": "4 GB"}),
        fake(definition, {"requiresCompatibilities": ["FARGATE"], "cpu": "512", "memory": "512"}),
        fake(definition, {"requiresCompatibilities": ["FARGATE"], "cpu": "384", "memory": "1024"}),
        fake(definition, {"requiresCompatibilities": ["EC2"], "cpu": "384", "memory": "100"}),
    ])
    assert len(findings) == 2, findings
    assert any("memory = '512'" in f and "with cpu 512: 1024..4096 MiB" in f for f in findings)
    assert any("cpu = '384'" in f and "256, 512, 1024" in f for f in findings)


def test_session_durations_delays_and_rate_windows_outside_their_tables_are_reported():
    findings = check_prose_inputs([
        fake("aws:ssoadmin/permissionSet:PermissionSet", {"sessionDuration": "PT13H"}),
        fake("aws:ssoadmin/permissionSet:PermissionSet", {"sessionDuration": "PT1H30M"}),
        fake("aws:ssoadmin/permissionSet:PermissionSet", {"sessionDuration": "PT30M"}),
        fake("aws:lb/targetGroup:TargetGroup", {"deregistrationDelay": 3601}),
        fake("aws:lb/targetGroup:TargetGroup", {"deregistrationDelay": 30}),
        fake("aws:wafv2/webAcl:WebAcl", {"rules": [
            {"statement": {"rateBasedStatement": {"evaluationWindowSec": 900}}},
            {"statement": {"rateBasedStatement": {"evaluationWindowSec": 300}}}]}),
    ])
    assert len(findings) == 4, findings
    assert any("evaluationWindowSec = 900" in f and "60, 120, 300, 600" in f for f in findings)
    assert any("sessionDuration = 'PT13H'" in f and "60 to 720 minutes" in f for f in findings)
    assert any("sessionDuration = 'PT30M'" in f for f in findings)
    assert any("deregistrationDelay = 3601" in f and "0 to 3600" in f for f in findings)


def test_unmapped_inputs_and_missing_enum_entries_are_reported():
    saved = ref.ENUM_INPUTS.pop(("aws:ec2/flowLog:FlowLog", "trafficType"))
    try:
        problems = unmapped_inputs([
            fake("aws:ec2/flowLog:FlowLog", {"trafficType": "ALL", "vpcId": "vpc-1", "madeUpInput": "x"}),
            fake("aws:made/up:Thing", {"a": 1}),
        ])
    finally:
        ref.ENUM_INPUTS[("aws:ec2/flowLog:FlowLog", "trafficType")] = saved
    assert len(problems) == 3, problems
    assert any("trafficType is botocore enum ec2 TrafficType" in p for p in problems)
    assert any("madeUpInput matches no botocore member" in p for p in problems)
    assert any("aws:made/up:Thing is not in aws_reference.API_MODELS" in p for p in problems)


def test_a_documented_value_without_a_table_is_reported():
    saved = ref.PROSE_INPUTS.pop(("aws:rds/instance:Instance", "storageType"))
    try:
        problems = unmapped_inputs([fake("aws:rds/instance:Instance", {"storageType": "gp3"})])
    finally:
        ref.PROSE_INPUTS[("aws:rds/instance:Instance", "storageType")] = saved
    assert len(problems) == 1 and "documented valid values" in problems[0] and "gp3" in problems[0]
