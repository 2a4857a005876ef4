"""The coverage matrix (issue 18) is a proof, not a picture: every pulumi-aws type of a HIPAA-eligible
service that has an input for one of the seven control families (or is a primary data store) has a
row in docs/coverage-matrix.md, and every cell names a policy of the family that reads the type, or
an explanation with a known reason and an AWS documentation page.

The contract lives in docs/coverage/matrix.py (`*_problems`); these tests hold the shipped data to
it, and check that each way the data can be wrong is caught (a test that cannot fail proves nothing).
Sources of the AWS facts are the data files' `page` entries (checked to be docs.aws.amazon.com or
aws.amazon.com URLs) and the SDK's input types (pulumi-aws `<Resource>Args` classes).
"""

from __future__ import annotations

import re
from collections import defaultdict

from docs.coverage import scope  # puts policy/ on sys.path
from docs.coverage import matrix
from docs.coverage.policy_reads import policy_reads, reads_type, types_read
from docs.coverage.pulumi_aws_inputs import ITEM
from hipaa_policies import ALL_POLICIES

DOCUMENT = matrix.HERE.parent / "coverage-matrix.md"
ROW = re.compile(r"^\| `(aws:[^`]+)`", re.M)
PAGE = "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/Overview.Encryption.html"


def _by_module(messages: list[str]) -> str:
    """Problems grouped by pulumi-aws module, so a failure reads as a to-do list per service."""
    grouped: dict[str, list[str]] = defaultdict(list)
    for message in messages:
        token = message.split(" ", 1)[0]
        grouped[matrix.module_of(token) if token.startswith("aws:") else "-"].append(message)
    return "\n".join(f"[{module}]\n  " + "\n  ".join(items) for module, items in sorted(grouped.items()))


# ---------------------------------------------------------------- the shipped data

def test_every_policy_of_the_pack_says_which_families_it_enforces():
    assert matrix.family_problems(matrix.policy_families(), {p.name for p in ALL_POLICIES}) == []


def test_rule_files_and_explanations_name_types_pulumi_aws_has_and_cite_aws():
    records, errors = matrix.explanations()
    assert matrix.rule_problems(matrix.RULES) + list(errors) + matrix.explanation_problems(records) == []


def test_every_cell_and_every_hit_is_answered():
    empty = [m for m in matrix.cell_problems(matrix.rows()) if "is named but reads nothing" not in m]
    assert not empty, f"{len(empty)} unanswered cells:\n{_by_module(empty)}"


def test_every_policy_named_in_a_cell_reads_that_type():
    named = [m for m in matrix.cell_problems(matrix.rows()) if "is named but reads nothing" in m]
    assert named == []


def test_groups_and_primary_stores_name_types_in_scope():
    assert matrix.group_problems() == []


def test_every_in_scope_type_has_one_row_in_the_document():
    rows = ROW.findall(DOCUMENT.read_text(encoding="utf-8"))
    assert sorted(rows) == scope.in_scope()


def test_every_primary_data_store_answers_at_rest_backup_and_deletion_explicitly():
    for row in matrix.rows():
        if row.primary_store:
            for c in row.cells:
                if c.family in matrix.EXPLICIT_FOR_STORES:
                    assert c.auto is None, (row.type, c.family)


# ---------------------------------------------------------------- each failure is caught

def _explanation(**changes) -> matrix.Explanation:
    hit = next(h for h in scope.hits() if h.type == "aws:rds/instance:Instance" and h.family == "at-rest")
    base = dict(type=hit.type, family="at-rest", path=matrix.dotted(hit.path), reason="aws-always",
                why="A reason.", page=PAGE, file="test.yaml")
    return matrix.Explanation(**{**base, **changes})


def test_a_well_formed_explanation_passes():
    assert matrix.explanation_problems([_explanation()]) == []


def test_an_unknown_reason_a_foreign_page_or_no_why_is_caught():
    (reason,) = matrix.explanation_problems([_explanation(reason="because")])
    assert "unknown reason 'because'" in reason
    (page,) = matrix.explanation_problems([_explanation(page="https://example.com/aws")])
    assert "is not an AWS documentation URL" in page
    (blank,) = matrix.explanation_problems([_explanation(why=" ")])
    assert blank.endswith("says no why")


def test_a_type_pulumi_aws_lacks_or_a_path_that_is_no_hit_is_caught():
    (made_up,) = matrix.explanation_problems([_explanation(type="aws:rds/madeUp:MadeUp")])
    assert "has no resource type aws:rds/madeUp:MadeUp" in made_up
    (stale,) = matrix.explanation_problems([_explanation(path="notAnInput")])
    assert "not a hit path of this family" in stale
    assert matrix.rule_problems(["aws:rds/madeUp:MadeUp"]) == [
        f"rule files: pulumi-aws {matrix.pulumi_aws_version()} has no resource type aws:rds/madeUp:MadeUp"]


def test_other_resource_must_name_a_type_and_a_policy_that_reads_it():
    (no_type,) = matrix.explanation_problems([_explanation(reason="other-resource", path="*")])
    assert "must name the pulumi-aws type" in no_type
    (not_read,) = matrix.explanation_problems([_explanation(
        reason="other-resource", path="*", family="logging", other_types=("aws:ec2/vpc:Vpc",),
        other_policy="aws-rds-logs-exported")])
    assert not_read.endswith("aws-rds-logs-exported does not read aws:ec2/vpc:Vpc")
    (made_up,) = matrix.explanation_problems([_explanation(
        reason="other-resource", path="*", other_types=("aws:rds/madeUp:MadeUp",))])
    assert made_up.endswith("(aws:rds/madeUp:MadeUp is not one)")
    (wrong_family,) = matrix.explanation_problems([_explanation(
        reason="other-resource", path="*", other_types=("aws:rds/cluster:Cluster",),
        other_policy="aws-rds-logs-exported")])
    assert "is not a policy of family at-rest" in wrong_family
    assert matrix.explanation_problems([_explanation(
        reason="other-resource", path="*", family="logging", other_types=("aws:rds/cluster:Cluster",),
        other_policy="aws-rds-logs-exported")]) == []


def test_a_policy_missing_from_the_families_file_or_unknown_to_the_pack_is_caught():
    assert matrix.family_problems({}, {"aws-made-up"}) == [
        "policy aws-made-up is missing from docs/coverage/policy_families.yaml"]
    assert matrix.family_problems({"aws-made-up": {"families": ["at-rest"]}}, set()) == [
        "policy_families.yaml names aws-made-up, which is not a policy of the pack"]
    assert matrix.family_problems({"p": {"families": ["encryption"]}, "q": {"families": []}}, {"p", "q"}) == [
        "policy_families.yaml: p: unknown family 'encryption'",
        "policy_families.yaml: q enforces no family: say what it enforces (why)"]


def test_an_unanswered_hit_and_a_store_without_an_answer_are_empty_cells():
    unread = matrix.Cell("aws:x/y:Y", "at-rest", (), (matrix.PathAnswer("kmsKeyId"),), None, None)
    assert unread.empty and unread.unanswered == ["kmsKeyId"]
    assert matrix.cell_problems([matrix.Row("aws:x/y:Y", "Other services", False, (unread,))]) == [
        "aws:x/y:Y at-rest: hit paths kmsKeyId are answered by no policy of the family that reads them "
        "and no explanation"]
    # A hit is an input of pulumi-aws: "no-property" cannot be its answer.
    no_property = _explanation(reason="no-property")
    answer = matrix.PathAnswer("kmsKeyId", (), no_property)
    claimed = matrix.Cell("aws:x/y:Y", "at-rest", (), (answer,), None, None)
    assert matrix.cell_problems([matrix.Row("aws:x/y:Y", "Other services", False, (claimed,))]) == [
        "aws:x/y:Y at-rest: kmsKeyId is an input of pulumi-aws: no-property cannot answer it "
        "(judge it, or give the real reason)"]
    # A primary data store (by service_groups.yaml's patterns) gets no automatic answer for at-rest,
    # backup or deletion, but does for the other families.
    store = "aws:fsx/madeUpFileSystem:MadeUpFileSystem"
    assert scope.primary_store(store)
    assert matrix.cell(store, "backup", [], {}).empty
    assert matrix.cell(store, "network", [], {}).auto
    explained = {(store, "backup", "*"): _explanation(type=store, family="backup", path="*")}
    assert not matrix.cell(store, "backup", [], explained).empty


def test_a_policy_answers_a_hit_only_when_it_reads_that_input_or_one_inside_it():
    read = frozenset({"logging.targetBucket", "versioning"})
    assert matrix.reads_path(read, "logging")
    assert matrix.reads_path(read, "logging.targetBucket")
    assert not matrix.reads_path(read, "loggingConfig")
    assert not matrix.reads_path(read, "versioning.mfaDelete")


def test_a_missing_row_in_the_document_is_caught():
    text = DOCUMENT.read_text(encoding="utf-8")
    first = scope.in_scope()[0]
    dropped = "\n".join(line for line in text.splitlines() if not line.startswith(f"| `{first}`"))
    assert sorted(ROW.findall(dropped)) != scope.in_scope()


# ---------------------------------------------------------------- how policies are found to read

def test_a_stack_policy_reads_the_types_it_asks_the_stack_for_and_their_inputs():
    """Stack policies declare no types: running one on a recording stack finds them."""
    types = types_read("aws-s3-bucket-has-access-logging")
    assert types is not None and "aws:s3/bucket:Bucket" in types
    reads = policy_reads("aws-s3-bucket-has-access-logging", "aws:s3/bucket:Bucket")
    assert ("logging", "targetBucket") in reads
    assert not policy_reads("aws-s3-bucket-has-access-logging", "aws:rds/instance:Instance")


def test_a_policy_that_reads_only_resource_options_still_reads_its_declared_types():
    """hipaa-phi-store-protected judges Pulumi's `protect` option, no input."""
    assert not policy_reads("hipaa-phi-store-protected", "aws:dynamodb/table:Table")
    assert reads_type("hipaa-phi-store-protected", "aws:dynamodb/table:Table")
    assert not reads_type("hipaa-phi-store-protected", "aws:ec2/vpc:Vpc")


def test_a_resource_policy_reads_its_declared_types_and_nested_inputs():
    reads = policy_reads("aws-rds-storage-encrypted", "aws:neptune/cluster:Cluster")
    assert {("storageEncrypted",), ("kmsKeyArn",)} <= reads
    assert all(ITEM not in p or p.index(ITEM) > 0 for p in reads)
