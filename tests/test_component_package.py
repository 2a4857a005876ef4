"""The components as a Pulumi package (`hipaa-aws`, provider/ and components/package/), tested the way
`pulumi package add` meets it: the plugin is started as the Python language host starts a source-based
plugin, its schema is read over the provider gRPC protocol and validated against the package schema's
JSON Schema, and the consumer examples in examples/ use only what that schema declares.

Sources:
- pulumi-language-python RunPlugin (github.com/pulumi/pulumi sdk/python/cmd/pulumi-language-python/
  main.go, v3.259.0-14-g1b59498): a plugin directory with a `__main__.py` runs as
  `python <plugin directory> <engine address>`, with the consumer's directory as working directory.
- pulumi.provider.server.main (pulumi 3.272.0, installed): the provider prints its port on stdout,
  then serves the ResourceProvider service (GetSchema with version 0).
- pulumi.provider.experimental.analyzer (installed): tokens `<package>:index:<class>`, inputs from the
  TypedDict annotations of `__init__`'s `args`, outputs from the class's annotations.
- tests/data/pulumi-package.schema.json: github.com/pulumi/pulumi pkg/codegen/schema/pulumi.json at
  commit 1b5949891b3cefcb9974752b24a5ecef0acc86c8 (git blob 3a3c2e0f3046cda0ad5c06a5c979b813f4d099e0),
  vendored unchanged.
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
import typing
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Optional

import grpc
import jsonschema
import pulumi
from pulumi.errors import InputPropertyError
import pytest
import yaml
from pulumi.provider.experimental.component import ComponentProvider
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc
from pydantic import BaseModel

from components.package import PACKAGE_NAME, PACKAGE_VERSION
from components.package import environment as package_environment
from components.package.environment import OUTPUT_ATTRIBUTES, HipaaEnvironment, environment_settings
from components.package.secure_bucket import SecureBucket
from components.settings import Settings
from preflight.program_runner import run_program
from preflight.stack_config import load_stack_config
from tests.conftest import cached_run, stack_config

ROOT = Path(__file__).resolve().parent.parent
PLUGIN_DIR = ROOT / "provider"
EXAMPLES = ROOT / "examples"
SCHEMA_FILE = ROOT / "tests" / "data" / "pulumi-package.schema.json"
UPSTREAM_BLOB = "3a3c2e0f3046cda0ad5c06a5c979b813f4d099e0"
ENVIRONMENT = f"{PACKAGE_NAME}:index:HipaaEnvironment"
BUCKET = f"{PACKAGE_NAME}:index:SecureBucket"


# --- the plugin, started as the CLI starts it -----------------------------------------------------

@pytest.fixture(scope="module")
def served_schema(tmp_path_factory) -> dict[str, Any]:
    """The schema the plugin serves: `python provider <engine address>` from a consumer's directory
    (a loopback address nothing listens on: GetSchema does not call the engine)."""
    consumer_dir = tmp_path_factory.mktemp("consumer")
    process = subprocess.Popen([sys.executable, str(PLUGIN_DIR), "127.0.0.1:1"], cwd=consumer_dir,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert process.stdout is not None
        first_line = process.stdout.readline().decode().strip()
        if not first_line.isdigit():
            process.kill()
            stderr = process.stderr.read().decode() if process.stderr else ""
            raise AssertionError(f"the plugin printed no port: {first_line!r}\n{stderr}")
        with grpc.insecure_channel(f"127.0.0.1:{first_line}") as channel:
            stub = provider_pb2_grpc.ResourceProviderStub(channel)
            response = stub.GetSchema(provider_pb2.GetSchemaRequest(version=0), timeout=60)
        return json.loads(response.schema)
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_plugin_manifest_is_a_python_source_plugin():
    """PulumiPlugin.yaml (docs "PulumiPlugin.yaml Reference"; workspace.PluginProject): runtime python,
    run from the repository's venv, whose requirements are the program's."""
    manifest = yaml.safe_load((PLUGIN_DIR / "PulumiPlugin.yaml").read_text())
    assert manifest["runtime"]["name"] == "python"
    assert set(manifest) <= {"runtime", "packages", "requiredPulumiVersion"}  # PluginProject's fields
    venv = (PLUGIN_DIR / manifest["runtime"]["options"]["virtualenv"]).resolve()
    assert venv == ROOT / "venv"
    assert "-r ../requirements.txt" in (PLUGIN_DIR / "requirements.txt").read_text().splitlines()
    # The language host runs a plugin directory's __main__.py: the root's is the stack program.
    assert (PLUGIN_DIR / "__main__.py").is_file()


def _vendored_schema() -> dict[str, Any]:
    return json.loads(SCHEMA_FILE.read_text())


def test_vendored_schema_is_the_upstream_file():
    """Unchanged from the pulumi repository: its git blob id is the upstream one."""
    data = SCHEMA_FILE.read_bytes()
    blob = hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()  # noqa: S324 - git's object id
    assert blob == UPSTREAM_BLOB


def _ecma_pattern(validator, pattern: str, instance, schema) -> Iterator[jsonschema.ValidationError]:
    """`pattern` with the schema's ECMA-262 named groups `(?<name>...)` read as Python's `(?P<name>...)`
    (JSON Schema 2020-12 says patterns are ECMA-262; Python's re spells named groups differently)."""
    if validator.is_type(instance, "string") and not re.search(pattern.replace("(?<", "(?P<"), instance):
        yield jsonschema.ValidationError(f"{instance!r} does not match {pattern!r}")


PackageSchemaValidator = jsonschema.validators.extend(
    jsonschema.Draft202012Validator, {"pattern": _ecma_pattern})


def _package_errors(schema: Mapping[str, Any]) -> list[str]:
    validator = PackageSchemaValidator(_vendored_schema())
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(schema)]


def test_served_schema_is_a_valid_package_schema(served_schema):
    assert _package_errors(served_schema) == []
    assert served_schema["name"] == PACKAGE_NAME
    assert served_schema["version"] == PACKAGE_VERSION
    # One release version: the pack's (CHANGELOG.md), so the tag `v<version>` pins both.
    assert PACKAGE_VERSION == yaml.safe_load((ROOT / "policy" / "PulumiPolicy.yaml").read_text())["version"]


def test_the_validator_refuses_a_broken_schema(served_schema):
    """The check above can fail: a token the metaschema's token pattern refuses, a version that is not
    semver (the ECMA pattern translated), a property of an unknown kind."""
    broken = json.loads(json.dumps(served_schema))
    broken["version"] = "one"
    broken["resources"]["hipaa-aws:index:0Bad"] = broken["resources"].pop(BUCKET)
    broken["resources"][ENVIRONMENT]["inputProperties"]["owner"]["type"] = "email"
    errors = "\n".join(_package_errors(broken))
    assert "'one' does not match" in errors
    assert "0Bad" in errors
    assert "inputProperties/owner" in errors


def test_everything_a_consumer_sees_is_described(served_schema):
    """The generated SDKs' doc comments: every component, input, output, type, property and enum value
    has a one-paragraph description."""
    def undescribed(where: str, properties: Mapping[str, Any]) -> list[str]:
        return [f"{where}.{name}" for name, prop in properties.items()
                if not prop.get("description") or "\n" in prop["description"]]
    missing = []
    for token, resource in served_schema["resources"].items():
        missing += [] if resource.get("description") else [token]
        missing += undescribed(token, resource["inputProperties"])
        missing += undescribed(token, resource["properties"])
    for token, type_def in served_schema["types"].items():
        missing += [] if type_def.get("description") else [token]
        missing += undescribed(token, type_def.get("properties", {}))
        missing += [f"{token}.{v['name']}" for v in type_def.get("enum", []) if not v.get("description")]
    assert missing == []


def test_resource_tokens_are_the_two_components(served_schema):
    resources = served_schema["resources"]
    assert set(resources) == {ENVIRONMENT, BUCKET}
    assert all(resource["isComponent"] for resource in resources.values())


# --- HipaaEnvironment: its inputs are exactly the stack settings ---------------------------------

def _model_of(annotation: Any) -> Optional[type[BaseModel]]:
    return next((a for a in (annotation, *typing.get_args(annotation))
                 if isinstance(a, type) and issubclass(a, BaseModel)), None)


def _literal_values(annotation: Any) -> Optional[set[str]]:
    for candidate in (annotation, *typing.get_args(annotation)):
        if typing.get_origin(candidate) is typing.Literal:
            return set(typing.get_args(candidate))
    return None


def _assert_mirrors(schema: Mapping[str, Any], model: type[BaseModel], properties: Mapping[str, Any],
                    required: set[str], where: str) -> None:
    """`properties` (a resource's inputs or a type's properties) are the model's fields by their config
    names, required where the model requires them, enums where it takes a Literal, nested types where
    it nests a model."""
    fields = {(f.alias or n): f for n, f in model.model_fields.items() if n != "stack"}
    assert set(properties) - {"stack"} == set(fields), where
    assert required == {name for name, f in fields.items() if f.is_required()}, where
    for name, field in fields.items():
        prop = properties[name]
        nested, literal = _model_of(field.annotation), _literal_values(field.annotation)
        if nested is not None or literal is not None:
            type_def = schema["types"][prop["$ref"].removeprefix("#/types/")]
            if literal is not None:
                assert {v["value"] for v in type_def["enum"]} == literal, f"{where}.{name}"
            else:
                assert nested is not None
                _assert_mirrors(schema, nested, type_def["properties"], set(type_def.get("required", [])),
                                f"{where}.{name}")
        # Settings are validated before anything is created, so they must be known values.
        assert prop.get("plain") is True, f"{where}.{name} must be plain"


def test_environment_inputs_are_the_stack_settings(served_schema):
    """One input per `hipaa-aws:` key of a stack file (components/settings.py), same names, same
    required keys, same enums: the package cannot drift from the settings it validates with."""
    resource = served_schema["resources"][ENVIRONMENT]
    _assert_mirrors(served_schema, Settings, resource["inputProperties"], set(resource["requiredInputs"]),
                    "HipaaEnvironment")
    assert "stack" not in resource["requiredInputs"]  # defaults to the consuming stack's name


def test_environment_outputs_are_the_stack_exports(served_schema):
    """The component's outputs are this project's stack exports, by the same names; the application's
    are optional (a stack without `app` has none, containment's runbooks included)."""
    resource = served_schema["resources"][ENVIRONMENT]
    stack_outputs = cached_run("prod").stack_outputs
    exports = set(stack_outputs)
    assert set(resource["properties"]) == set(OUTPUT_ATTRIBUTES)
    assert exports <= set(resource["properties"])
    application = {"applicationUrl", "loadBalancerDnsName", "imageRepositoryUrl", "ecsCluster",
                   "ecsService", "databaseAccessTaskFamily", "containment"}
    assert set(resource["required"]) == set(OUTPUT_ATTRIBUTES) - application
    # An object export is a type with the export's fields, all of them always set.
    containment_ref = resource["properties"]["containment"]["$ref"]
    containment = served_schema["types"][containment_ref.removeprefix("#/types/")]
    assert set(containment["properties"]) == set(stack_outputs["containment"])
    assert set(containment["required"]) == set(stack_outputs["containment"])
    assert containment["properties"]["automationRoleArns"]["type"] == "object"  # runbook name -> role ARN


def test_bucket_inputs(served_schema):
    """SecureBucket: a purpose; key and access-log bucket may be outputs of other resources; no input
    turns a control off (no encryption, versioning or public-access switch)."""
    resource = served_schema["resources"][BUCKET]
    inputs = resource["inputProperties"]
    assert resource["requiredInputs"] == ["purpose"]
    assert set(inputs) == {"purpose", "kmsKeyArn", "accessLogBucket", "objectLock", "forceDestroy",
                           "nameScope", "tags"}
    assert "plain" not in inputs["kmsKeyArn"] and "plain" not in inputs["accessLogBucket"]
    lock = served_schema["types"][inputs["objectLock"]["$ref"].removeprefix("#/types/")]
    mode = served_schema["types"][lock["properties"]["mode"]["$ref"].removeprefix("#/types/")]
    # S3 PutObjectLockConfiguration DefaultRetention Mode (botocore `s3` model, ObjectLockRetentionMode).
    assert {v["value"] for v in mode["enum"]} == {"GOVERNANCE", "COMPLIANCE"}
    assert set(resource["properties"]) == {"bucketName", "arn"}


def test_object_lock_modes_are_s3s():
    import botocore.session
    model = botocore.session.get_session().get_service_model("s3")
    assert set(model.shape_for("ObjectLockRetentionMode").enum) == {"GOVERNANCE", "COMPLIANCE"}


# --- what Construct does with the inputs ----------------------------------------------------------

def _wire_inputs(stack: str) -> dict[str, Any]:
    """The stack's `hipaa-aws:` settings as a consumer would pass them: camelCase inputs, numbers as
    floats (protobuf Struct numbers are doubles)."""
    def as_wire(value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, (int, dict, list)):
            return value
        if isinstance(value, int):
            return float(value)
        if isinstance(value, dict):
            return {k: as_wire(v) for k, v in value.items()}
        return [as_wire(v) for v in value]

    inputs: dict[str, Any] = {}
    for key, raw in load_stack_config(stack).values.items():
        namespace, _, name = key.partition(":")
        if namespace != "hipaa-aws":
            continue
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            value = raw
        inputs[name] = as_wire(value)
    return inputs


def _mapped_args(component: type, inputs: dict[str, Any]) -> dict[str, Any]:
    """The `args` Construct hands the component: ComponentProvider.map_inputs, as the host runs it."""
    provider = ComponentProvider([HipaaEnvironment, SecureBucket], PACKAGE_NAME, None, PACKAGE_VERSION)
    definition = provider._component_defs[component.__name__]  # noqa: SLF001 - what construct() uses
    return dict(provider.map_inputs(inputs, definition))


def _aws_config(stack: str) -> dict[str, Any]:
    config = load_stack_config(stack)
    return {"region": config.region, "allowedAccountIds": json.dumps(list(config.allowed_account_ids))}


@pytest.mark.parametrize("stack", ["prod", "staging"])
def test_a_stack_file_as_inputs_gives_the_same_settings(stack):
    from components.settings import configured_keys  # noqa: F401 - the program's path, for contrast
    from components.settings import parse_settings
    config = load_stack_config(stack)
    raw = {k.partition(":")[2]: v for k, v in config.values.items() if k.startswith("hipaa-aws:")}
    expected = parse_settings(stack, raw, aws=_aws_config(stack))
    settings = environment_settings("hipaa", _mapped_args(HipaaEnvironment, _wire_inputs(stack)), stack,
                                    _aws_config(stack))
    assert settings == expected


def test_construct_refuses_a_missing_required_input():
    inputs = _wire_inputs("staging")
    del inputs["owner"]
    with pytest.raises(InputPropertyError, match="Missing required input 'owner' on 'HipaaEnvironment'"):
        _mapped_args(HipaaEnvironment, inputs)


def test_bad_inputs_are_refused_with_every_problem_before_anything_is_created():
    """The stack files' validator judges the inputs: every problem at once, named by input."""
    args = _mapped_args(HipaaEnvironment, {**_wire_inputs("staging"), "vpcCidr": "8.8.0.0/16",
                                           "availabilityZoneCount": 1.0, "database": {"engineVersion": "9"}})
    with pytest.raises(pulumi.RunError) as err:
        environment_settings("team-env", args, "staging", _aws_config("staging"))
    message = str(err.value)
    assert f"3 invalid setting(s) in the inputs of {ENVIRONMENT} 'team-env'" in message
    assert "hipaa-aws:vpcCidr = '8.8.0.0/16': must be inside an RFC 1918 private range" in message
    assert "hipaa-aws:availabilityZoneCount = 1" in message
    assert "hipaa-aws:database.engineVersion = '9'" in message
    assert "stacks/Pulumi." not in message


def test_the_region_and_account_come_from_the_consuming_stack():
    """Without `aws:region` and `aws:allowedAccountIds` in the consuming stack's config, nothing is built:
    the same pin on one account and region as this project's stack files."""
    args = _mapped_args(HipaaEnvironment, _wire_inputs("staging"))
    with pytest.raises(pulumi.RunError) as err:
        environment_settings("hipaa", args, "staging", {"region": None, "allowedAccountIds": None})
    assert "aws:region: required but not set" in str(err.value)
    assert "aws:allowedAccountIds: required but not set" in str(err.value)


# --- what the component builds: the project's own stack, under one more parent ---------------------

def _package_run(stack: str, spy: Optional[list] = None, on_component=None):
    """The stack's settings given as the package component's inputs, run under the same mocks as the
    project's program (preflight/program_runner.py); `on_component` sees the component, in the program."""
    args = _mapped_args(HipaaEnvironment, _wire_inputs(stack))
    compose = package_environment.compose_stack

    def recording_compose(name, settings, ctx, opts=None):
        if spy is not None:
            spy.append((settings, opts))
        return compose(name, settings, ctx, opts)

    def program() -> None:
        package_environment.compose_stack = recording_compose
        try:
            component = HipaaEnvironment("hipaa", args)  # the name the project's program gives its own
            if on_component is not None:
                on_component(component)
        finally:
            package_environment.compose_stack = compose
    return run_program(program, stack_config(stack), preview=False)


def _physical(run) -> dict[tuple[str, str], dict[str, Any]]:
    """Each AWS resource's inputs by type and name. Tags and log groups' deletion protection come from
    transforms, which the engine applies (the mocks apply stack transforms only): the next test covers
    those. Final snapshot names end in the time of the run (unused names, by design)."""
    from google.protobuf import json_format

    def comparable(key: str, value: Any) -> Any:
        return re.sub(r"\d{14}$", "<time>", value) if key == "finalSnapshotIdentifier" else value
    return {(r.type, r.name): {k: comparable(k, v) for k, v in json_format.MessageToDict(r.properties).items()
                               if k not in ("tags", "deletionProtectionEnabled")}
            for r in run.resources if r.custom}


@pytest.mark.parametrize("stack", ["prod", "staging"])
def test_the_component_builds_the_projects_stack(stack):
    """Same AWS resources, same names, same inputs as this project's own stack, one level down."""
    run = _package_run(stack)
    assert _physical(run) == _physical(cached_run(stack))
    (inner,) = run.of_type("hipaa:components:HipaaEnvironment")
    assert run.by_urn(inner.parent).type == ENVIRONMENT


def test_the_component_sends_the_stacks_exports():
    """What Construct returns (ComponentProvider.get_state, which reads an object output by its type's
    attribute names and renames them to the schema's) is the project's stack exports, containment's
    fields included."""
    provider = ComponentProvider([HipaaEnvironment, SecureBucket], PACKAGE_NAME, None, PACKAGE_VERSION)
    definition = provider._component_defs[HipaaEnvironment.__name__]  # noqa: SLF001 - what construct() uses
    sent: dict[str, Any] = {}

    def on_component(component: HipaaEnvironment) -> None:
        state = provider.get_state(component, definition)
        pulumi.Output.from_input({"state": state}).apply(lambda v: sent.update(v["state"]))
    _package_run("prod", on_component=on_component)
    exports = cached_run("prod").stack_outputs
    assert sent["containment"] == exports["containment"]
    assert set(sent) == set(exports)


@pytest.mark.parametrize("stack", ["prod", "staging"])
def test_the_component_tags_and_protects_its_descendants(stack):
    """The component passes the stack's transforms as its child's `transforms` option (the engine
    applies those to descendants only): required tags on every taggable resource, and in a PHI stack
    deletion protection on every log group."""
    spy: list = []
    _package_run(stack, spy)
    ((settings, opts),) = spy
    transforms = opts.transforms

    def apply(type_: str, props: dict[str, Any]) -> dict[str, Any]:
        for transform in transforms:
            result = transform(pulumi.ResourceTransformArgs(custom=True, type_=type_, name="x", props=props,
                                                            opts=pulumi.ResourceOptions()))
            props = dict(result.props) if result is not None else props
        return props

    assert apply("aws:s3/bucket:Bucket", {"tags": {"Team": "a"}})["tags"] == {"Team": "a", **settings.tags()}
    protected = apply("aws:cloudwatch/logGroup:LogGroup", {}).get("deletionProtectionEnabled")
    assert protected is (True if settings.holds_phi else None)
    assert settings.holds_phi is (stack == "prod")


# --- the consumer examples use only what the schema declares --------------------------------------

LANGUAGES = {
    # language: (program file, constructor pattern (component, then the args' opening brace),
    #            variable binding pattern (variable, component), key/value separator)
    "typescript": ("index.ts", r"new hipaaAws\.(\w+)\(\s*\"[^\"]*\",\s*\{",
                   r"const (\w+) = new hipaaAws\.(\w+)", ":"),
    "go": ("main.go", r"hipaaaws\.New(\w+)\(ctx,\s*\"[^\"]*\",\s*&hipaaaws\.\w+Args\{",
           r"(\w+), err :?= hipaaaws\.New(\w+)", ":"),
    "csharp": ("Program.cs", r"new HipaaAws\.(\w+)\(\"[^\"]*\",\s*new HipaaAws\.\w+Args\s*\{",
               r"var (\w+) = new HipaaAws\.(\w+)", "="),
}


def _lower_first(name: str) -> str:
    return name[:1].lower() + name[1:]


def _block_after(text: str, start: int) -> str:
    """The text between the brace before `start` and its matching closing brace."""
    depth = 1
    for index in range(start, len(text)):
        depth += {"{": 1, "}": -1}.get(text[index], 0)
        if depth == 0:
            return text[start:index]
    raise AssertionError("unbalanced braces")


def _top_level_entries(block: str, separator: str) -> dict[str, str]:
    """`key: value` (or `Key = value`) entries at the block's own level (nested groups dropped)."""
    flat = block
    while True:  # drop nested groups, innermost first, so only the block's own keys remain
        reduced = re.sub(r"\([^()]*\)|\{[^{}]*\}|\[[^\[\]]*\]", "", flat)
        if reduced == flat:
            break
        flat = reduced
    entries = re.findall(rf"(?:^|,)\s*(\w+)\s*{re.escape(separator)}(?![=>])\s*([^,]*)", flat, re.M)
    return {key: value.strip() for key, value in entries}


def _enum_values(schema: Mapping[str, Any], prop: Mapping[str, Any]) -> Optional[set[str]]:
    ref = prop.get("$ref", "")
    type_def = schema["types"].get(ref.removeprefix("#/types/")) if ref.startswith("#/types/") else None
    return {v["value"] for v in type_def["enum"]} if type_def and "enum" in type_def else None


@pytest.mark.parametrize("language", sorted(LANGUAGES))
def test_code_example_uses_only_the_schema(served_schema, language):
    program, constructor, binding, separator = LANGUAGES[language]
    text = re.sub(r"//[^\n]*", "", (EXAMPLES / language / program).read_text())
    resources = served_schema["resources"]
    built = set()
    for match in re.finditer(constructor, text):
        component = match.group(1)
        token = f"{PACKAGE_NAME}:index:{component}"
        assert token in resources, f"{language}: {component} is not in the schema"
        block = _block_after(text, match.end())
        entries = {_lower_first(k) for k in _top_level_entries(block, separator)}
        inputs = resources[token]["inputProperties"]
        assert entries <= set(inputs), f"{language}: {component} has no input {entries - set(inputs)}"
        assert set(resources[token]["requiredInputs"]) <= entries, f"{language}: {component}"
        # An enum input given as a string (TypeScript) or a conversion of one (Go): a value the enum has.
        literals = re.findall(rf"^\s*(\w+)\s*{re.escape(separator)}[^\n]*?\"([^\"]*)\"", block, re.M)
        for key, literal in literals:
            allowed = _enum_values(served_schema, inputs[_lower_first(key)])
            assert allowed is None or literal in allowed, f"{language}: {component}.{key} = {literal!r}"
        built.add(component)
    assert built == {"HipaaEnvironment", "SecureBucket"}
    variables = dict(re.findall(binding, text))
    references = re.findall(rf"\b({'|'.join(variables)})\.(\w+)", text)
    assert references
    for variable, output in references:
        token = f"{PACKAGE_NAME}:index:{variables[variable]}"
        assert _lower_first(output) in resources[token]["properties"], f"{language}: {variable}.{output}"


def _assert_yaml_properties(schema: Mapping[str, Any], declared: Mapping[str, Any], given: Mapping[str, Any],
                            required: list[str], where: str) -> None:
    assert set(given) <= set(declared), f"{where}: no input {set(given) - set(declared)}"
    assert set(required) <= set(given), where
    for key, value in given.items():
        prop = declared[key]
        allowed = _enum_values(schema, prop)
        if allowed is not None:
            assert value in allowed, f"{where}.{key}"
        elif isinstance(value, dict) and "$ref" in prop:
            type_def = schema["types"][prop["$ref"].removeprefix("#/types/")]
            _assert_yaml_properties(schema, type_def["properties"], value, type_def.get("required", []),
                                    f"{where}.{key}")


def test_yaml_example_uses_only_the_schema(served_schema):
    project = yaml.safe_load((EXAMPLES / "yaml" / "Pulumi.yaml").read_text())
    resources = served_schema["resources"]
    types = {}
    for name, resource in project["resources"].items():
        token = resource["type"]
        assert token in resources, token
        types[name] = token
        _assert_yaml_properties(served_schema, resources[token]["inputProperties"], resource["properties"],
                                resources[token]["requiredInputs"], name)
    assert set(types.values()) == {ENVIRONMENT, BUCKET}
    references = re.findall(r"\$\{(\w+)\.(\w+)", yaml.safe_dump(project))
    assert references
    for name, output in references:
        assert output in resources[types[name]]["properties"], f"{name}.{output}"


@pytest.mark.parametrize("language", ["typescript", "go", "csharp", "yaml"])
def test_examples_add_this_repositorys_package(language):
    """Each example is a Pulumi project of its language that names this package's plugin directory."""
    project = yaml.safe_load((EXAMPLES / language / "Pulumi.yaml").read_text())
    runtime = project["runtime"]["name"] if isinstance(project["runtime"], dict) else project["runtime"]
    assert runtime == {"typescript": "nodejs", "go": "go", "csharp": "dotnet", "yaml": "yaml"}[language]
    assert (EXAMPLES / language / project["packages"][PACKAGE_NAME]).resolve() == PLUGIN_DIR


# --- SecureBucket ---------------------------------------------------------------------------------

KEY = "arn:aws:kms:us-east-1:111111111111:key/0b5a4f34-1c7e-4d6b-9a1f-3e2d5c6b7a80"


def _bucket_run(inputs: dict[str, Any]):
    args = _mapped_args(SecureBucket, inputs)
    return run_program(lambda: SecureBucket("reports", args), stack_config("staging"), preview=True)


def test_bucket_is_the_projects_secure_bucket():
    from google.protobuf import json_format
    run = _bucket_run({"purpose": "reports", "kmsKeyArn": KEY, "accessLogBucket": "team-access-logs",
                       "objectLock": {"mode": "GOVERNANCE", "days": 30.0}})
    (bucket,) = run.of_type("aws:s3/bucket:Bucket")
    account = json.loads(_aws_config("staging")["allowedAccountIds"])[0]
    assert json_format.MessageToDict(bucket.properties)["bucket"] == f"hipaa-aws-staging-reports-{account}"
    (inner,) = run.of_type("hipaa:components:SecureBucket")
    assert run.by_urn(inner.parent).type == BUCKET
    (encryption,) = run.of_type(
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration")
    rule = json_format.MessageToDict(encryption.properties)["rules"][0]
    assert rule["applyServerSideEncryptionByDefault"] == {"sseAlgorithm": "aws:kms", "kmsMasterKeyId": KEY}
    (lock,) = run.of_type("aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration")
    retention = json_format.MessageToDict(lock.properties)["rule"]["defaultRetention"]
    assert retention == {"mode": "GOVERNANCE", "days": 30}
    (logging,) = run.of_type("aws:s3/bucketLogging:BucketLogging")
    assert json_format.MessageToDict(logging.properties)["targetBucket"] == "team-access-logs"


@pytest.mark.parametrize(("inputs", "message"), [
    ({"purpose": "reports", "accessLogBucket": "logs"}, "SSE-KMS is required"),
    ({"purpose": "reports", "kmsKeyArn": KEY}, "server access logging is required"),
    ({"purpose": "access-logs", "objectLock": {"mode": "GOVERNANCE", "days": 1.0}}, "takes no objectLock"),
    ({"purpose": "reports", "kmsKeyArn": KEY, "accessLogBucket": "logs", "forceDestroy": True,
      "objectLock": {"mode": "COMPLIANCE", "days": 1.0}}, "force_destroy cannot empty a COMPLIANCE-locked"),
])
def test_bucket_refuses_an_unsafe_bucket(inputs, message):
    from preflight.program_runner import ProgramError
    with pytest.raises(ProgramError, match=message):
        _bucket_run(inputs)
