"""An evaluator of CloudWatch Logs JSON filter patterns, for the pattern features this program uses.

Written from AWS's CloudWatch Logs user guide, "Filter pattern syntax for metric filters, subscription
filters, filter log events, and Live Tail" and its section "Using filter patterns to match terms in
JSON log events" (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html;
also the archived awsdocs/amazon-cloudwatch-logs-user-guide doc_source/FilterAndPatternSyntax.md),
read 2026-12-06. What it implements, as those pages say:

- A JSON pattern is `{ ... }`; a log event that is not a JSON object never matches it.
- `SELECTOR OPERATOR VALUE`: the selector starts at `$` and walks `.name` properties (letters, digits,
  `-`, `_`) and `[n]` array elements. It must point to a value node (a string or a number): one that
  points to an object, an array or nothing makes the condition false, for `=` and `!=` alike.
- Strings: `=` and `!=`, the value quoted or bare (bare only letters, digits, `_`). An asterisk is a
  wildcard at the start or the end of the value ("`*Event` matches PutEvent, `Event*` matches EventId";
  `*` alone matches any value); "`Ev*ent` will only match the actual string `Ev*ent`": in the middle it
  is a literal asterisk. Matching is case sensitive.
- Numbers: `=`, `!=`, `<`, `>`, `<=`, `>=` against an integer or decimal with an optional sign; a value
  node that is not a number does not match.
- `&&` and `||` combine conditions, with parentheses; "the syntax follows standard order of operations
  () > && > ||".

Not implemented (the program uses none; a pattern with them raises `PatternError`, so a test never
passes on a feature the evaluator does not know): IS NULL, NOT EXISTS, IS TRUE/FALSE, regular
expressions (`%...%`), term and space-delimited patterns.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any
from collections.abc import Callable

_TOKEN = re.compile(r"""
    \s*(?:
      (?P<lpar>\() | (?P<rpar>\)) | (?P<and>&&) | (?P<or>\|\|)
    | (?P<op>!=|<=|>=|=|<|>)
    | (?P<selector>\$(?:\.[A-Za-z0-9_-]+|\[\d+\])*)
    | "(?P<quoted>(?:[^"\\]|\\.)*)"
    | (?P<number>[+-]?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?(?![A-Za-z0-9_*.]))
    | (?P<bare>[A-Za-z0-9_*.]+)
    )""", re.VERBOSE)
_UNSUPPORTED = ("IS NULL", "NOT EXISTS", "IS TRUE", "IS FALSE", "%")


class PatternError(ValueError):
    """The pattern is not valid JSON filter-pattern syntax, or uses a feature not implemented here."""


@dataclass(frozen=True)
class _Condition:
    path: tuple[str | int, ...]
    op: str
    value: str | float
    is_number: bool


Matcher = Callable[[Any], bool]


def _tokens(body: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    while pos < len(body):
        if body[pos:].strip() == "":
            break
        match = _TOKEN.match(body, pos)
        if not match or match.end() == pos:
            raise PatternError(f"cannot read the pattern at {body[pos:pos + 20]!r}")
        kind = match.lastgroup
        assert kind is not None
        out.append((kind, match.group(kind)))
        pos = match.end()
    return out


def _path(selector: str) -> tuple[str | int, ...]:
    return tuple(int(index) if index else name
                 for name, index in re.findall(r"\.([A-Za-z0-9_-]+)|\[(\d+)\]", selector))


def _lookup(event: Any, path: tuple[str | int, ...]) -> tuple[bool, Any]:
    node = event
    for step in path:
        if isinstance(step, int):
            if not isinstance(node, list) or step >= len(node):
                return False, None
            node = node[step]
        else:
            if not isinstance(node, dict) or step not in node:
                return False, None
            node = node[step]
    return True, node


def _string_matches(actual: str, expected: str) -> bool:
    if expected == "*":
        return True
    starts, ends = expected.startswith("*"), expected.endswith("*")
    core = expected[1 if starts else 0:len(expected) - 1 if ends else len(expected)]
    if starts and ends:
        return core in actual
    if starts:
        return actual.endswith(core)
    if ends:
        return actual.startswith(core)
    return actual == expected


def _holds(condition: _Condition, event: Any) -> bool:
    found, node = _lookup(event, condition.path)
    if not found or isinstance(node, (dict, list)) or node is None or isinstance(node, bool):
        return False
    if condition.is_number:
        if not isinstance(node, (int, float)):
            return False
        left, right = float(node), float(condition.value)
        return {"=": left == right, "!=": left != right, "<": left < right, ">": left > right,
                "<=": left <= right, ">=": left >= right}[condition.op]
    text = node if isinstance(node, str) else json.dumps(node)
    same = _string_matches(text, str(condition.value))
    return same if condition.op == "=" else not same


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]]):
        self.tokens, self.pos = tokens, 0

    def _peek(self) -> str:
        return self.tokens[self.pos][0] if self.pos < len(self.tokens) else "end"

    def _take(self, kind: str) -> str:
        if self._peek() != kind:
            raise PatternError(f"expected {kind}, found {self._peek()}")
        self.pos += 1
        return self.tokens[self.pos - 1][1]

    def parse(self) -> Matcher:
        matcher = self._or()
        if self._peek() != "end":
            raise PatternError(f"unexpected {self._peek()} after a complete expression")
        return matcher

    def _or(self) -> Matcher:
        parts = [self._and()]
        while self._peek() == "or":
            self._take("or")
            parts.append(self._and())
        return parts[0] if len(parts) == 1 else (lambda event: any(p(event) for p in parts))

    def _and(self) -> Matcher:
        parts = [self._term()]
        while self._peek() == "and":
            self._take("and")
            parts.append(self._term())
        return parts[0] if len(parts) == 1 else (lambda event: all(p(event) for p in parts))

    def _term(self) -> Matcher:
        if self._peek() == "lpar":
            self._take("lpar")
            inner = self._or()
            self._take("rpar")
            return inner
        path = _path(self._take("selector"))
        op = self._take("op")
        kind = self._peek()
        if kind == "number":
            condition = _Condition(path, op, float(self._take("number")), True)
        elif kind in ("quoted", "bare"):
            if op not in ("=", "!="):
                raise PatternError(f"{op} compares numbers only; strings take = or !=")
            raw = self._take(kind)
            text = re.sub(r"\\(.)", r"\1", raw) if kind == "quoted" else raw
            condition = _Condition(path, op, text, False)
        else:
            raise PatternError(f"expected a value after {op}, found {kind}")
        return lambda event: _holds(condition, event)


def compile_pattern(pattern: str) -> Matcher:
    """A function telling whether one parsed JSON log event matches the JSON filter pattern."""
    text = pattern.strip()
    if not (text.startswith("{") and text.endswith("}")):
        raise PatternError("only JSON filter patterns ({ ... }) are implemented")
    body = text[1:-1]
    if any(feature in body.upper() for feature in _UNSUPPORTED):
        raise PatternError(f"the pattern uses a feature not implemented here: {pattern!r}")
    return _Parser(_tokens(body)).parse()


def matches(pattern: str, message: str) -> bool:
    """Whether the log event `message` (its raw text) matches `pattern`, as CloudWatch Logs decides."""
    matcher = compile_pattern(pattern)
    try:
        event = json.loads(message)
    except json.JSONDecodeError:
        return False
    return isinstance(event, dict) and matcher(event)
