"""GitHub Actions expressions (`${{ }}` and `if:`), the subset workflows use: literals,
contexts with `.name`/`['name']`, `!`, `==`, `!=`, `<`, `>`, `&&`, `||`, parentheses and
the status and string functions (../shared/github-actions/docs)."""

from __future__ import annotations

import json
import re
from typing import Any, Callable

TOKEN = re.compile(r"""\s*(?:(?P<num>\d+(?:\.\d+)?)|(?P<str>'(?:[^']|'')*')|(?P<op>==|!=|<=|>=|&&|\|\||[!<>()\[\],.*])
                         |(?P<name>[A-Za-z_][A-Za-z0-9_-]*))""", re.X)
EXPR = re.compile(r"\$\{\{(.*?)\}\}", re.S)


def tokens(text: str) -> list[tuple[str, str]]:
    out, pos, text = [], 0, text.strip()
    while pos < len(text):
        m = TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise ValueError(f"cannot read {text[pos:]!r} in {text!r}")
        pos = m.end()
        out.append((m.lastgroup, m.group(m.lastgroup)))
    return out


def truthy(v: Any) -> bool:
    if v is None or v is False or v == "":
        return False
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return v == v and v != 0
    return True


def to_str(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (dict, list)):
        return json.dumps(v)
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def loose_eq(a: Any, b: Any) -> bool:
    if isinstance(a, str) and isinstance(b, str):
        return a.casefold() == b.casefold()
    if isinstance(a, (int, float, bool)) or isinstance(b, (int, float, bool)):
        def num(x):
            if isinstance(x, bool):
                return float(x)
            if x is None or x == "":
                return 0.0
            try:
                return float(x)
            except (TypeError, ValueError):
                return float("nan")
        return num(a) == num(b)
    return a == b


class Evaluator:
    def __init__(self, text: str, contexts: dict, functions: dict[str, Callable[..., Any]]):
        self.toks = tokens(text)
        self.i = 0
        self.text = text
        self.contexts = contexts
        self.functions = {k.lower(): v for k, v in functions.items()}
        self.functions.update({
            "contains": lambda h, n: to_str(n).casefold() in to_str(h).casefold() if not isinstance(h, list)
            else any(loose_eq(x, n) for x in h),
            "startswith": lambda h, n: to_str(h).casefold().startswith(to_str(n).casefold()),
            "endswith": lambda h, n: to_str(h).casefold().endswith(to_str(n).casefold()),
            "format": lambda f, *a: re.sub(r"\{(\d+)\}", lambda m: to_str(a[int(m.group(1))]), to_str(f)),
            "tojson": lambda v: json.dumps(v, indent=2),
            "fromjson": lambda s: json.loads(s),
        })

    def peek(self):
        return self.toks[self.i] if self.i < len(self.toks) else (None, None)

    def take(self, want=None):
        tok = self.peek()
        if tok[0] is None or (want and tok[1] != want):
            raise ValueError(f"expected {want} in {self.text!r}")
        self.i += 1
        return tok

    def parse(self):
        v = self.orexpr()
        if self.i != len(self.toks):
            raise ValueError(f"unexpected {self.peek()[1]!r} in {self.text!r}")
        return v

    def orexpr(self):
        v = self.andexpr()
        while self.peek()[1] == "||":
            self.take()
            r = self.andexpr()
            v = v if truthy(v) else r
        return v

    def andexpr(self):
        v = self.cmp()
        while self.peek()[1] == "&&":
            self.take()
            r = self.cmp()
            v = r if truthy(v) else v
        return v

    def cmp(self):
        v = self.unary()
        while self.peek()[1] in ("==", "!=", "<", ">", "<=", ">="):
            op = self.take()[1]
            r = self.unary()
            if op == "==":
                v = loose_eq(v, r)
            elif op == "!=":
                v = not loose_eq(v, r)
            else:
                v = {"<": v < r, ">": v > r, "<=": v <= r, ">=": v >= r}[op]
        return v

    def unary(self):
        if self.peek()[1] == "!":
            self.take()
            return not truthy(self.unary())
        return self.primary()

    def primary(self):
        kind, val = self.take()
        if kind == "num":
            v: Any = float(val)
        elif kind == "str":
            v = val[1:-1].replace("''", "'")
        elif val == "(":
            v = self.orexpr()
            self.take(")")
        elif kind == "name":
            low = val.lower()
            if self.peek()[1] == "(":
                self.take("(")
                args = []
                if self.peek()[1] != ")":
                    args.append(self.orexpr())
                    while self.peek()[1] == ",":
                        self.take(",")
                        args.append(self.orexpr())
                self.take(")")
                if low not in self.functions:
                    raise ValueError(f"function {val}() is not supported by the runner")
                v = self.functions[low](*args)
            elif low in ("true", "false"):
                v = low == "true"
            elif low == "null":
                v = None
            else:
                if val not in self.contexts:
                    raise ValueError(f"unknown context {val!r} in {self.text!r}")
                v = self.contexts[val]
        else:
            raise ValueError(f"unexpected {val!r} in {self.text!r}")
        while self.peek()[1] in (".", "["):
            if self.take()[1] == ".":
                key = self.take()[1]
            else:
                key = self.orexpr()
                self.take("]")
            v = v.get(key) if isinstance(v, dict) else None
        return v


def evaluate(text: str, contexts: dict, functions: dict | None = None) -> Any:
    return Evaluator(text, contexts, functions or {}).parse()


def interpolate(value: Any, contexts: dict, functions: dict | None = None) -> Any:
    if not isinstance(value, str):
        return value
    return EXPR.sub(lambda m: to_str(evaluate(m.group(1), contexts, functions)), value)
