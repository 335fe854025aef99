"""The subset of Handlebars that pipelines/init/*.hbs may use, rendered like handlebars-rust.

`aibc pipeline init` renders those templates with the handlebars crate (strict mode, no HTML
escaping). This renderer implements only what the templates are allowed to use, and fails on
anything else, so a template that starts needing more is caught here:

* `{{name}}`, `{{a.b}}`, `{{this}}`, `{{@index}}`, `{{@first}}`, `{{@last}}`, `{{../name}}`,
  `{{@root.name}}`, and the same in triple braces (no escaping is done either way);
* `{{#each list}}…{{else}}…{{/each}}`, `{{#if x}}…{{else}}…{{/if}}`, `{{#unless x}}…{{/unless}}`;
* `{{!-- comment --}}` and `{{! comment }}`;
* `\\{{` for a literal `{{` (how the templates write `${{ }}` for Azure Pipelines and GitHub);
* standalone lines: a line holding only a block tag, `{{else}}` or a comment disappears
  with its line break, as in handlebars-rust and handlebars.js.

Strict: a name that is not in the context is an error, as with handlebars-rust's strict mode.
"""

from __future__ import annotations

import re
from typing import Any

TAG = re.compile(r"\\\{\{|\{\{\{\s*(.*?)\s*\}\}\}|\{\{(!--.*?--|!.*?)\}\}|\{\{\s*(.*?)\s*\}\}", re.S)
STANDALONE = re.compile(r"^[ \t]*(\{\{(?:[#/^!]|else\b)[^\n]*?\}\})[ \t]*(?:\r?\n|$)", re.M)


class RenderError(Exception):
    pass


def _strip_standalone(src: str) -> str:
    def one(m: re.Match) -> str:
        tag = m.group(1)
        # Exactly one tag on the line; two tags (e.g. {{#if}}x{{/if}}) are not standalone.
        if tag.count("{{") != 1:
            return m.group(0)
        return tag

    return STANDALONE.sub(one, src)


def parse(src: str, standalone: bool = True) -> list:
    if standalone:
        src = _strip_standalone(src)
    root: list = []
    stack: list[tuple[str, str, list, list | None]] = []  # (helper, arg, body, else_body)
    cur = root
    pos = 0
    for m in TAG.finditer(src):
        if m.start() > pos:
            cur.append(("text", src[pos:m.start()]))
        pos = m.end()
        whole = m.group(0)
        if whole == "\\{{":
            cur.append(("text", "{{"))
            continue
        if m.group(2) is not None:  # comment
            continue
        expr = (m.group(1) if m.group(1) is not None else m.group(3)).strip()
        if expr.startswith("#"):
            parts = expr[1:].split(None, 1)
            helper = parts[0]
            if helper not in ("each", "if", "unless") or len(parts) != 2:
                raise RenderError(f"unsupported block {{{{{expr}}}}}")
            node: list = []
            stack.append((helper, parts[1].strip(), node, None))
            cur = node
        elif expr == "else":
            if not stack:
                raise RenderError("{{else}} outside a block")
            helper, arg, body, els = stack.pop()
            if els is not None:
                raise RenderError("two {{else}} in one block")
            els = []
            stack.append((helper, arg, body, els))
            cur = els
        elif expr.startswith("/"):
            if not stack:
                raise RenderError(f"{{{{{expr}}}}} without an open block")
            helper, arg, body, els = stack.pop()
            if expr[1:].strip() != helper:
                raise RenderError(f"{{{{{expr}}}}} closes {{{{#{helper}}}}}")
            cur = stack[-1][3] if stack and stack[-1][3] is not None else (stack[-1][2] if stack else root)
            cur.append(("block", helper, arg, body, els or []))
        elif re.fullmatch(r"(?:\.\./)*@?[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*|this|\.", expr):
            cur.append(("var", expr))
        else:
            raise RenderError(f"unsupported expression {{{{{expr}}}}} (helpers are not allowed)")
    if stack:
        raise RenderError(f"unclosed {{{{#{stack[-1][0]}}}}}")
    if pos < len(src):
        cur.append(("text", src[pos:]))
    return root


class _Frame:
    def __init__(self, value: Any, data: dict[str, Any]):
        self.value = value
        self.data = data


def _lookup(path: str, frames: list[_Frame], root: Any) -> Any:
    depth = 0
    while path.startswith("../"):
        depth += 1
        path = path[3:]
    if depth >= len(frames):
        raise RenderError(f"{path}: ../ goes above the root")
    frame = frames[-1 - depth]
    if path in ("this", "."):
        return frame.value
    if path.startswith("@root."):
        value: Any = root
        parts = path[len("@root."):].split(".")
    elif path.startswith("@"):
        if path[1:] not in frame.data:
            raise RenderError(f"{path} outside #each")
        return frame.data[path[1:]]
    else:
        value = frame.value
        parts = path.split(".")
    for part in parts:
        if part == "this":
            continue
        if not isinstance(value, dict) or part not in value:
            raise RenderError(f"strict mode: {path!r} is not in the context")
        value = value[part]
    return value


def _truthy(v: Any) -> bool:
    return not (v is None or v is False or v == "" or v == 0 or v == [])


def _text(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (dict, list)):
        raise RenderError(f"cannot print a {type(v).__name__}: {v!r}")
    return str(v)


def _render(nodes: list, frames: list[_Frame], root: Any, out: list[str]) -> None:
    for node in nodes:
        kind = node[0]
        if kind == "text":
            out.append(node[1])
        elif kind == "var":
            out.append(_text(_lookup(node[1], frames, root)))
        else:
            _, helper, arg, body, els = node
            value = _lookup(arg, frames, root)
            if helper == "each":
                if isinstance(value, dict):
                    items = list(value.items())
                elif isinstance(value, list):
                    items = list(enumerate(value))
                else:
                    raise RenderError(f"#each over {arg!r}, a {type(value).__name__}")
                if not items:
                    _render(els, frames, root, out)
                for i, (k, item) in enumerate(items):
                    data = {"index": i, "key": k, "first": i == 0, "last": i == len(items) - 1}
                    _render(body, frames + [_Frame(item, data)], root, out)
            else:
                take = _truthy(value) if helper == "if" else not _truthy(value)
                _render(body if take else els, frames, root, out)


def render(src: str, context: dict, standalone: bool = True) -> str:
    """Render `src`; standalone=False keeps the lines of standalone tags (as blank lines)."""
    out: list[str] = []
    _render(parse(src, standalone), [_Frame(context, {})], context, out)
    return "".join(out)
