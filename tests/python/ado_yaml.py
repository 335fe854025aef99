"""A small evaluator for Azure Pipelines template expressions, enough for pipelines/.

It expands a root pipeline the way Azure DevOps does at compile time, offline:

* `${{ expr }}` in values and keys, with the literals, property access and functions the
  templates use (eq, ne, and, or, not, replace, coalesce, convertToJson, format, lower,
  upper, contains, startsWith, endsWith, length, in, notIn, join);
* `${{ if }}` / `${{ elseif }}` / `${{ else }}` and `${{ each x in ... }}` as mapping keys
  and as sequence items;
* `template:` references in steps, jobs and stages lists and in `extends:`, with typed
  parameters (defaults, required ones, `values:` and the type of each), resolved relative
  to the including file, from the repository root for `/path`, and through
  `resources.repositories` for `path@alias`.

Runtime expressions (`$[ ... ]`) and macros (`$(...)`) are left as text, as the server
leaves them for the agent. Anything outside this subset raises `ExpandError`, so a template
that needs more fails the tests instead of being half-checked.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import yaml

EXPR = re.compile(r"\$\{\{(.*?)\}\}", re.S)
FULL_EXPR = re.compile(r"^\s*\$\{\{(.*)\}\}\s*$", re.S)
DIRECTIVE_IF = re.compile(r"^\s*\$\{\{\s*if\s+(.*?)\s*\}\}\s*$", re.S)
DIRECTIVE_ELSEIF = re.compile(r"^\s*\$\{\{\s*elseif\s+(.*?)\s*\}\}\s*$", re.S)
DIRECTIVE_ELSE = re.compile(r"^\s*\$\{\{\s*else\s*\}\}\s*$")
DIRECTIVE_EACH = re.compile(r"^\s*\$\{\{\s*each\s+([A-Za-z_][A-Za-z0-9_]*)\s+in\s+(.*?)\s*\}\}\s*$", re.S)

PARAM_TYPES = {
    "string", "number", "boolean", "object",
    "step", "stepList", "job", "jobList", "deployment", "deploymentList", "stage", "stageList",
}
# The key a template of each kind holds its content under, and which list kinds may include it.
CONTENT_KEYS = ("stages", "jobs", "steps")


class ExpandError(Exception):
    pass


# --------------------------------------------------------------------------- expressions

TOKEN = re.compile(
    r"""\s*(?:
        (?P<num>-?\d+(?:\.\d+)?)
      | (?P<str>'(?:[^']|'')*')
      | (?P<name>[A-Za-z_][A-Za-z0-9_-]*)
      | (?P<op>[()\[\],.])
    )""",
    re.X,
)


def tokenize(text: str) -> list[tuple[str, str]]:
    pos, out = 0, []
    text = text.strip()
    while pos < len(text):
        m = TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise ExpandError(f"cannot read expression at {text[pos:]!r} in {text!r}")
        pos = m.end()
        kind = m.lastgroup
        out.append((kind, m.group(kind)))
    return out


class Missing:
    """A property that does not exist: null to every function, and false."""

    def __repr__(self) -> str:
        return "<missing>"


MISSING = Missing()


def is_null(v: Any) -> bool:
    return v is None or v is MISSING


def truthy(v: Any) -> bool:
    # Azure Pipelines: null, false, 0, -0 and '' are false; every array and object is true.
    if is_null(v):
        return False
    if isinstance(v, bool):
        return v
    if isinstance(v, (int, float)):
        return v != 0
    if isinstance(v, str):
        return v != ""
    return True


def to_str(v: Any) -> str:
    if is_null(v):
        return ""
    if isinstance(v, bool):
        return "True" if v else "False"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, (int, float, str)):
        return str(v)
    raise ExpandError(f"an {type(v).__name__} cannot be used inside a string: {v!r}")


def to_num(v: Any) -> float:
    if isinstance(v, bool):
        return 1.0 if v else 0.0
    if isinstance(v, (int, float)):
        return float(v)
    if is_null(v):
        return 0.0
    try:
        return float(str(v).strip())
    except ValueError:
        return float("nan")


def equal(a: Any, b: Any) -> bool:
    # The right side is converted to the left side's type; strings compare ignoring case.
    if is_null(a):
        return is_null(b)
    if isinstance(a, bool):
        return a == truthy(b)
    if isinstance(a, (int, float)):
        return to_num(a) == to_num(b)
    if isinstance(a, str):
        return not is_null(b) and not isinstance(b, (dict, list)) and a.casefold() == to_str(b).casefold()
    return a == b


def fn_format(fmt: Any, *args: Any) -> str:
    return re.sub(r"\{(\d+)\}", lambda m: to_str(args[int(m.group(1))]), to_str(fmt))


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "eq": lambda a, b: equal(a, b),
    "ne": lambda a, b: not equal(a, b),
    "and": lambda *a: all(truthy(x) for x in a),
    "or": lambda *a: any(truthy(x) for x in a),
    "not": lambda a: not truthy(a),
    "replace": lambda s, old, new: to_str(s).replace(to_str(old), to_str(new)),
    "coalesce": lambda *a: next((x for x in a if truthy(x) or x is False or x == 0), ""),
    "convertToJson": lambda v: json.dumps(v, indent=2),
    "format": fn_format,
    "lower": lambda s: to_str(s).lower(),
    "upper": lambda s: to_str(s).upper(),
    "contains": lambda h, n: to_str(n).casefold() in to_str(h).casefold(),
    "startsWith": lambda h, n: to_str(h).casefold().startswith(to_str(n).casefold()),
    "endsWith": lambda h, n: to_str(h).casefold().endswith(to_str(n).casefold()),
    "length": lambda v: len(v) if isinstance(v, (str, list, dict)) else 0,
    "in": lambda a, *b: any(equal(a, x) for x in b),
    "notIn": lambda a, *b: not any(equal(a, x) for x in b),
    "join": lambda sep, arr: to_str(sep).join(to_str(x) for x in (arr or [])),
}
FUNCTIONS_CI = {k.lower(): v for k, v in FUNCTIONS.items()}


class Parser:
    def __init__(self, text: str, scope: dict[str, Any], functions: dict[str, Callable[..., Any]] | None = None):
        self.text = text
        self.toks = tokenize(text)
        self.i = 0
        self.scope = scope
        # Runtime-only functions (succeeded(), failed()…) of the pipeline runner.
        self.functions = {**FUNCTIONS_CI, **{k.lower(): v for k, v in (functions or {}).items()}}

    def peek(self) -> tuple[str, str] | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self, value: str | None = None) -> tuple[str, str]:
        tok = self.peek()
        if tok is None or (value is not None and tok[1] != value):
            raise ExpandError(f"expected {value or 'more'} in expression {self.text!r}")
        self.i += 1
        return tok

    def parse(self) -> Any:
        v = self.expr()
        if self.peek() is not None:
            raise ExpandError(f"unexpected {self.peek()[1]!r} in expression {self.text!r}")
        return v

    def expr(self) -> Any:
        kind, val = self.take()
        if kind == "num":
            value: Any = float(val) if "." in val else int(val)
        elif kind == "str":
            value = val[1:-1].replace("''", "'")
        elif kind == "name":
            low = val.lower()
            if self.peek() == ("op", "("):
                self.take("(")
                args = []
                if self.peek() != ("op", ")"):
                    args.append(self.expr())
                    while self.peek() == ("op", ","):
                        self.take(",")
                        args.append(self.expr())
                self.take(")")
                if low not in self.functions:
                    raise ExpandError(f"function {val}() is not supported by the test evaluator")
                value = self.functions[low](*args)
            elif low in ("true", "false"):
                value = low == "true"
            elif low == "null":
                value = None
            else:
                found = next((k for k in self.scope if k.casefold() == val.casefold()), None)
                if found is None:
                    raise ExpandError(f"unknown name {val!r} in expression {self.text!r}")
                value = self.scope[found]
        else:
            raise ExpandError(f"unexpected {val!r} in expression {self.text!r}")
        # Property access: a.b, a['b'], a[0]
        while self.peek() in (("op", "."), ("op", "[")):
            if self.take()[1] == ".":
                key: Any = self.take()[1]
            else:
                key = self.expr()
                self.take("]")
            value = index(value, key)
        return value


def index(value: Any, key: Any) -> Any:
    if isinstance(value, dict):
        if key in value:
            return value[key]
        for k in value:  # property names are case-insensitive
            if isinstance(k, str) and isinstance(key, str) and k.casefold() == key.casefold():
                return value[k]
        return MISSING
    if isinstance(value, list) and isinstance(key, (int, float)):
        i = int(key)
        return value[i] if 0 <= i < len(value) else MISSING
    return MISSING


def evaluate(text: str, scope: dict[str, Any]) -> Any:
    return Parser(text, scope).parse()


def interpolate(s: str, scope: dict[str, Any]) -> Any:
    """A scalar: one whole expression keeps its type; otherwise each one becomes text."""
    m = FULL_EXPR.match(s)
    if m and "${{" not in m.group(1):
        v = evaluate(m.group(1), scope)
        return None if v is MISSING else v
    return EXPR.sub(lambda mm: to_str(evaluate(mm.group(1), scope)), s)


# --------------------------------------------------------------------------- templates


@dataclass
class Param:
    name: str
    type: str
    has_default: bool
    default: Any = None
    values: list[Any] | None = None


def declared_params(doc: dict) -> dict[str, Param]:
    out: dict[str, Param] = {}
    for p in doc.get("parameters") or []:
        if not isinstance(p, dict) or "name" not in p:
            raise ExpandError(f"parameter declaration without a name: {p!r}")
        out[p["name"]] = Param(
            name=p["name"],
            type=p.get("type", "string"),
            has_default="default" in p,
            default=p.get("default"),
            values=p.get("values"),
        )
    return out


def coerce(param: Param, value: Any, where: str) -> Any:
    t = param.type
    if t not in PARAM_TYPES:
        raise ExpandError(f"{where}: parameter {param.name} has unknown type {t!r}")
    if t == "boolean":
        if isinstance(value, bool):
            out: Any = value
        elif isinstance(value, str) and value.strip().lower() in ("true", "false"):
            out = value.strip().lower() == "true"
        else:
            raise ExpandError(f"{where}: parameter {param.name} is boolean, got {value!r}")
    elif t == "number":
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise ExpandError(f"{where}: parameter {param.name} is a number, got {value!r}")
        try:
            out = float(value) if "." in str(value) else int(str(value))
        except ValueError:
            raise ExpandError(f"{where}: parameter {param.name} is a number, got {value!r}") from None
    elif t == "string":
        if isinstance(value, (dict, list)):
            raise ExpandError(f"{where}: parameter {param.name} is a string, got {value!r}")
        out = to_str(value)
    elif t in ("stepList", "jobList", "deploymentList", "stageList"):
        if value is None:
            value = []
        if not isinstance(value, list) or not all(isinstance(x, dict) for x in value):
            raise ExpandError(f"{where}: parameter {param.name} is a {t}, got {value!r}")
        out = value
    elif t in ("step", "job", "deployment", "stage"):
        if not isinstance(value, dict):
            raise ExpandError(f"{where}: parameter {param.name} is a {t}, got {value!r}")
        out = value
    else:
        out = value
    if param.values is not None and not any(equal(v, out) for v in param.values):
        raise ExpandError(f"{where}: parameter {param.name}={out!r} is not one of {param.values}")
    return out


@dataclass
class Expander:
    repo_root: Path
    # alias -> local folder the alias's repository is checked out at
    repositories: dict[str, Path] = field(default_factory=dict)
    loaded: dict[Path, Any] = field(default_factory=dict)
    # every template file that was included, with the parameters it got
    included: list[tuple[Path, dict]] = field(default_factory=list)

    def load(self, path: Path) -> Any:
        if path not in self.loaded:
            self.loaded[path] = yaml.safe_load(path.read_text(encoding="utf-8"))
        return self.loaded[path]

    def resolve(self, ref: str, including: Path) -> Path:
        ref = ref.strip()
        base_root = self.repo_root
        if "@" in ref:
            ref, alias = ref.rsplit("@", 1)
            if alias != "self":
                if alias not in self.repositories:
                    raise ExpandError(f"{including}: template {ref}@{alias}: no repository resource {alias!r}")
                base_root = self.repositories[alias]
            path = base_root / ref.lstrip("/")
        elif ref.startswith("/"):
            path = base_root / ref.lstrip("/")
        else:
            path = including.parent / ref
        path = path.resolve()
        if not path.is_file():
            raise ExpandError(f"{including}: template {ref!r} not found (looked at {path})")
        return path

    # -- values

    def value(self, node: Any, scope: dict, where: Path) -> Any:
        if isinstance(node, str):
            return interpolate(node, scope)
        if isinstance(node, list):
            return self.sequence(node, scope, where)
        if isinstance(node, dict):
            return self.mapping(node, scope, where)
        return node

    def mapping(self, node: dict, scope: dict, where: Path) -> dict:
        out: dict = {}
        chain_open = False  # an if/elseif chain whose branch has not been taken yet
        chain_taken = False
        for key, val in node.items():
            skey = key if isinstance(key, str) else None
            if skey is not None and DIRECTIVE_IF.match(skey):
                chain_taken = truthy(evaluate(DIRECTIVE_IF.match(skey).group(1), scope))
                chain_open = True
                if chain_taken:
                    self.merge(out, self.directive_body(val, scope, where, skey), where)
                continue
            if skey is not None and DIRECTIVE_ELSEIF.match(skey):
                if not chain_open:
                    raise ExpandError(f"{where}: {skey} without an if")
                if not chain_taken and truthy(evaluate(DIRECTIVE_ELSEIF.match(skey).group(1), scope)):
                    chain_taken = True
                    self.merge(out, self.directive_body(val, scope, where, skey), where)
                continue
            if skey is not None and DIRECTIVE_ELSE.match(skey):
                if not chain_open:
                    raise ExpandError(f"{where}: else without an if")
                if not chain_taken:
                    self.merge(out, self.directive_body(val, scope, where, skey), where)
                chain_open = False
                continue
            chain_open = False
            m = DIRECTIVE_EACH.match(skey) if skey is not None else None
            if m:
                for item in self.iterate(evaluate(m.group(2), scope), where):
                    inner = dict(scope)
                    inner[m.group(1)] = item
                    self.merge(out, self.directive_body(val, inner, where, skey), where)
                continue
            k = interpolate(key, scope) if isinstance(key, str) else key
            if isinstance(k, str) and "${{" in k:
                raise ExpandError(f"{where}: unsupported expression key {key!r}")
            if k in out:
                raise ExpandError(f"{where}: key {k!r} set twice")
            out[k] = self.value(val, scope, where)
        return out

    def directive_body(self, val: Any, scope: dict, where: Path, key: str) -> dict:
        if not isinstance(val, dict):
            raise ExpandError(f"{where}: {key} in a mapping must hold a mapping, got {val!r}")
        return self.mapping(val, scope, where)

    @staticmethod
    def merge(out: dict, more: dict, where: Path) -> None:
        for k, v in more.items():
            if k in out:
                raise ExpandError(f"{where}: key {k!r} set twice")
            out[k] = v

    @staticmethod
    def iterate(coll: Any, where: Path) -> list:
        if is_null(coll):
            return []
        if isinstance(coll, list):
            return list(coll)
        if isinstance(coll, dict):
            return [{"key": k, "value": v} for k, v in coll.items()]
        raise ExpandError(f"{where}: each over a {type(coll).__name__}: {coll!r}")

    def sequence(self, node: list, scope: dict, where: Path) -> list:
        out: list = []
        chain_open = False
        chain_taken = False
        for item in node:
            if isinstance(item, dict) and len(item) == 1:
                (key, val), = item.items()
                skey = key if isinstance(key, str) else ""
                mi, me, mel = DIRECTIVE_IF.match(skey), DIRECTIVE_ELSEIF.match(skey), DIRECTIVE_ELSE.match(skey)
                mea = DIRECTIVE_EACH.match(skey)
                if mi or me or mel:
                    if mi:
                        chain_open, chain_taken = True, truthy(evaluate(mi.group(1), scope))
                        take = chain_taken
                    elif not chain_open:
                        raise ExpandError(f"{where}: {skey} without an if")
                    elif me:
                        take = not chain_taken and truthy(evaluate(me.group(1), scope))
                        chain_taken = chain_taken or take
                    else:
                        take = not chain_taken
                        chain_open = False
                    if take:
                        out.extend(self.sequence_body(val, scope, where, skey))
                    continue
                if mea:
                    chain_open = False
                    for x in self.iterate(evaluate(mea.group(2), scope), where):
                        inner = dict(scope)
                        inner[mea.group(1)] = x
                        out.extend(self.sequence_body(val, inner, where, skey))
                    continue
            chain_open = False
            if isinstance(item, dict) and "template" in item and not any(
                k in item for k in ("job", "deployment", "stage", "task", "script", "bash")
            ):
                out.extend(self.include(item, scope, where))
                continue
            if isinstance(item, str) and FULL_EXPR.match(item):
                v = interpolate(item, scope)
                if isinstance(v, list):  # a stepList or jobList inserted whole
                    out.extend(v)
                    continue
                out.append(v)
                continue
            out.append(self.value(item, scope, where))
        return out

    def sequence_body(self, val: Any, scope: dict, where: Path, key: str) -> list:
        if not isinstance(val, list):
            raise ExpandError(f"{where}: {key} in a sequence must hold a sequence, got {val!r}")
        return self.sequence(val, scope, where)

    # -- templates

    def include(self, item: dict, scope: dict, where: Path) -> list:
        extra = set(item) - {"template", "parameters"}
        if extra:
            raise ExpandError(f"{where}: template reference with unexpected keys {sorted(extra)}")
        path = self.resolve(interpolate(item["template"], scope), where)
        passed = self.value(item.get("parameters") or {}, scope, where)
        body = self.instantiate(path, passed)
        keys = [k for k in CONTENT_KEYS if k in body]
        if len(keys) != 1:
            raise ExpandError(f"{path}: a template included in a list needs exactly one of {CONTENT_KEYS}")
        return body[keys[0]]

    def instantiate(self, path: Path, passed: dict) -> dict:
        doc = self.load(path)
        if not isinstance(doc, dict):
            raise ExpandError(f"{path}: not a mapping")
        params = declared_params(doc)
        unknown = set(passed) - set(params)
        if unknown:
            raise ExpandError(f"{path}: got parameters it does not declare: {sorted(unknown)}")
        values: dict[str, Any] = {}
        for name, p in params.items():
            if name in passed:
                values[name] = coerce(p, passed[name], str(path))
            elif p.has_default:
                values[name] = coerce(p, p.default, str(path)) if p.default is not None else p.default
            else:
                raise ExpandError(f"{path}: required parameter {name!r} not supplied")
        self.included.append((path, values))
        rest = {k: v for k, v in doc.items() if k != "parameters"}
        return self.mapping(rest, {"parameters": values}, path)

    def expand_root(self, path: Path, overrides: dict | None = None) -> dict:
        """A root pipeline: its runtime parameters take their defaults (or `overrides`)."""
        path = path.resolve()
        doc = self.load(path)
        params = declared_params(doc)
        overrides = overrides or {}
        values = {}
        for name, p in params.items():
            if name in overrides:
                values[name] = coerce(p, overrides[name], str(path))
            elif p.has_default:
                values[name] = coerce(p, p.default, str(path))
            else:
                # Azure DevOps asks for it when the run is queued; a triggered run fails.
                raise ExpandError(f"{path}: runtime parameter {name} has no default: a value is required")
        rest = {k: v for k, v in doc.items() if k != "parameters"}
        scope = {"parameters": values}
        if "extends" in rest:
            ext = rest.pop("extends")
            tpath = self.resolve(interpolate(ext["template"], scope), path)
            passed = self.value(ext.get("parameters") or {}, scope, path)
            body = self.instantiate(tpath, passed)
            out = self.mapping(rest, scope, path)
            self.merge(out, body, path)
            return out
        return self.mapping(rest, scope, path)


def repositories_of(doc: dict, known: dict[str, Path]) -> dict[str, Path]:
    """alias -> local path for each `resources.repositories` entry whose `name` is known."""
    out = {}
    for repo in ((doc.get("resources") or {}).get("repositories") or []):
        alias, name = repo.get("repository"), repo.get("name")
        if name in known:
            out[alias] = known[name]
    return out
