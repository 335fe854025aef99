"""Evaluation of ARM template language expressions.

Parsing is tests/python/arm_expr.py's (`parse` gives the raw tree: literals,
{"call": f, "args": [...]}, {"prop": [base, "p"...]}, {"index": [x, i]}); this module gives
the trees their ARM meaning. Function names are case-insensitive, object property access
too (as in ARM). `if` evaluates only the branch it picks.

uniqueString and guid are ARM's real algorithms:
  * uniqueString(a, b...) joins its arguments with '-', hashes the UTF-8 bytes with the
    64-bit MurmurHash variant of Microsoft's ResourceStack library (two 32-bit lanes, the
    MurmurHash3 x86 constants, seed 0) and writes the 64 bits (and a zero bit) as 13 characters of
    lower-case RFC 4648 base32. uniqueString('test') == 'rbgf3xv4ufgzg' is checked in the
    tests (that value is quoted identically by several independent implementations).
  * guid(a, b...) is the RFC 4122 version-5 UUID of the '-'-joined arguments (UTF-8) in the
    namespace 11fb06fb-712d-4ddd-98c7-e71bbd588830, as Microsoft documents.
"""

from __future__ import annotations

import base64
import json
import re
import struct
import urllib.parse
import uuid
from typing import Any, Callable

import arm_expr  # tests/python

GUID_NAMESPACE = uuid.UUID("11fb06fb-712d-4ddd-98c7-e71bbd588830")
_MASK = 0xFFFFFFFF


class EvalError(Exception):
    """A template language error (becomes InvalidTemplate, worded by the caller's context)."""


# ----------------------------------------------------------------------------- hashing

def _rotl(x: int, r: int) -> int:
    return ((x << r) | (x >> (32 - r))) & _MASK


def _fmix(h: int) -> int:
    h = ((h ^ (h >> 16)) * 0x85EBCA6B) & _MASK
    h = ((h ^ (h >> 13)) * 0xC2B2AE35) & _MASK
    return h ^ (h >> 16)


def murmur64(data: bytes) -> int:
    """The two-lane 64-bit MurmurHash of ARM's uniqueString (see the module doc)."""
    c1, c2 = 0x239B961B, 0xAB0E9789
    h1 = h2 = 0
    n = len(data)
    body = n - n % 8
    for i in range(0, body, 8):
        k1, k2 = struct.unpack_from("<II", data, i)
        k1 = (_rotl((k1 * c1) & _MASK, 15) * c2) & _MASK
        h1 = (_rotl(h1 ^ k1, 19) + h2) & _MASK
        h1 = (h1 * 5 + 0x561CCD1B) & _MASK
        k2 = (_rotl((k2 * c2) & _MASK, 17) * c1) & _MASK
        h2 = (_rotl(h2 ^ k2, 13) + h1) & _MASK
        h2 = (h2 * 5 + 0x0BCAA747) & _MASK
    tail = data[body:]
    if tail:
        k1 = int.from_bytes(tail[:4], "little")
        h1 ^= (_rotl((k1 * c1) & _MASK, 15) * c2) & _MASK
        if len(tail) > 4:
            k2 = int.from_bytes(tail[4:], "little")
            h2 ^= (_rotl((k2 * c2) & _MASK, 17) * c1) & _MASK
    h1 ^= n
    h2 ^= n
    h1 = (h1 + h2) & _MASK
    h2 = (h2 + h1) & _MASK
    h1, h2 = _fmix(h1), _fmix(h2)
    h1 = (h1 + h2) & _MASK
    h2 = (h2 + h1) & _MASK
    return (h2 << 32) | h1


def unique_string(*parts: str) -> str:
    h = murmur64("-".join(parts).encode("utf-8"))
    alphabet = "abcdefghijklmnopqrstuvwxyz234567"
    # 13 characters of 5 bits = 65 bits: the last one is the low 4 bits and a zero bit.
    return "".join(alphabet[((h << (5 * i)) & 0xFFFFFFFFFFFFFFFF) >> 59] for i in range(13))


def arm_guid(*parts: str) -> str:
    return str(uuid.uuid5(GUID_NAMESPACE, "-".join(parts)))


# ----------------------------------------------------------------------------- values

def type_name(value: Any) -> str:
    if value is None:
        return "Null"
    if isinstance(value, bool):
        return "Boolean"
    if isinstance(value, int):
        return "Integer"
    if isinstance(value, float):
        return "Float"
    if isinstance(value, str):
        return "String"
    if isinstance(value, list):
        return "Array"
    return "Object"


def to_text(value: Any) -> str:
    """How ARM turns a value into text (format, concat, string)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"))


def get_property(value: Any, name: str) -> Any:
    if isinstance(value, dict):
        if name in value:
            return value[name]
        for k, v in value.items():
            if k.lower() == name.lower():
                return v
        raise EvalError(f"The language expression property '{name}' doesn't exist, available properties are "
                        f"'{', '.join(value)}'.")
    raise EvalError(f"The language expression property '{name}' can't be evaluated, the value is of type "
                    f"'{type_name(value)}'.")


def arm_equals(a: Any, b: Any) -> bool:
    if type_name(a) != type_name(b):
        return False
    if isinstance(a, dict):
        keys_a = {k.lower(): v for k, v in a.items()}
        keys_b = {k.lower(): v for k, v in b.items()}
        return keys_a.keys() == keys_b.keys() and all(arm_equals(keys_a[k], keys_b[k]) for k in keys_a)
    if isinstance(a, list):
        return len(a) == len(b) and all(arm_equals(x, y) for x, y in zip(a, b))
    return a == b


def deep_union(a: dict, b: dict) -> dict:
    out = dict(a)
    for k, v in b.items():
        match = next((ok for ok in out if ok.lower() == k.lower()), None)
        if match is not None and isinstance(out[match], dict) and isinstance(v, dict):
            out[match] = deep_union(out[match], v)
        else:
            if match is not None:
                del out[match]
            out[k] = v
    return out


_FORMAT_ITEM = re.compile(r"\{(\d+)(?:,(-?\d+))?(?::([^}]*))?\}")


def dotnet_format(fmt: str, args: list[Any]) -> str:
    out, i = [], 0
    while i < len(fmt):
        ch = fmt[i]
        if fmt.startswith("{{", i):
            out.append("{")
            i += 2
        elif fmt.startswith("}}", i):
            out.append("}")
            i += 2
        elif ch == "{":
            m = _FORMAT_ITEM.match(fmt, i)
            if not m or int(m.group(1)) >= len(args):
                raise EvalError("Unable to evaluate template language function 'format': Index (zero based) must "
                                "be greater than or equal to zero and less than the size of the argument list.")
            value, spec = args[int(m.group(1))], m.group(3)
            if spec and isinstance(value, int) and not isinstance(value, bool):
                kind, digits = spec[0].upper(), int(spec[1:] or 0)
                text = {"D": f"{value:0{digits}d}", "X": f"{value:0{digits}X}", "N": f"{value:,.{digits}f}"}.get(
                    kind, str(value))
                if spec[0] == "x":
                    text = text.lower()
            else:
                text = to_text(value)
            width = int(m.group(2) or 0)
            text = text.rjust(width) if width > 0 else text.ljust(-width)
            out.append(text)
            i = m.end()
        elif ch == "}":
            raise EvalError("Unable to evaluate template language function 'format': Input string was not in a "
                            "correct format.")
        else:
            out.append(ch)
            i += 1
    return "".join(out)


# Every ARM template function name (to tell "not a function" from "not modelled here").
ARM_FUNCTIONS = {n.lower() for n in (
    "add", "and", "array", "base64", "base64ToJson", "base64ToString", "bool", "coalesce", "concat", "contains",
    "copyIndex", "createArray", "createObject", "dataUri", "dataUriToString", "dateTimeAdd", "dateTimeFromEpoch",
    "dateTimeToEpoch", "deployment", "div", "empty", "endsWith", "environment", "equals", "extensionResourceId",
    "false", "filter", "first", "float", "format", "greater", "greaterOrEquals", "guid", "if", "indexOf", "int",
    "intersection", "items", "join", "json", "last", "lastIndexOf", "length", "less", "lessOrEquals", "list",
    "listAccountSas", "listKeys", "listSecrets", "lambda", "lambdaVariables", "managementGroup",
    "managementGroupResourceId", "map", "mapValues", "max", "min", "mod", "mul", "newGuid", "not", "null",
    "objectKeys", "or", "padLeft", "parameters", "parseCidr", "pickZones", "providers", "range", "reduce",
    "reference", "references", "replace", "resourceGroup", "resourceId", "shallowMerge", "skip", "sort", "split",
    "startsWith", "string", "sub", "subscription", "subscriptionResourceId", "substring", "take", "tenant",
    "tenantResourceId", "toLower", "toObject", "toUpper", "trim", "true", "tryGet", "union", "uniqueString",
    "uri", "uriComponent", "uriComponentToString", "utcNow", "variables", "cidrHost", "cidrSubnet", "groupBy",
    "indexFromEnd", "tryIndexFromEnd", "buildUri", "parseUri", "resourceInfo")}


def called_functions(node: Any) -> set[str]:
    out: set[str] = set()

    def walk(n: Any) -> None:
        if isinstance(n, dict):
            if "call" in n:
                out.add(n["call"].lower())
            for v in n.values():
                walk(v)
        elif isinstance(n, list):
            for v in n:
                walk(v)
    walk(node)
    return out


def parse_string(text: str) -> Any:
    """Raw tree of a template string, or the literal (ARM's '[[' escape applied)."""
    try:
        return arm_expr.string_value(text, strict=True)
    except arm_expr.ArmExprError as exc:
        first = str(exc).splitlines()[0]
        raise EvalError(f"Unable to parse language expression '{text[1:-1]}': {first}") from None


def is_expression(text: Any) -> bool:
    return isinstance(text, str) and text.startswith("[") and text.endswith("]") and not text.startswith("[[")


# ----------------------------------------------------------------------------- evaluator

class Evaluator:
    """Evaluates expressions for one template instance. `host` supplies what depends on the
    deployment: parameters(), variables(), resourceGroup(), reference() and friends
    (see engine.Context)."""

    def __init__(self, host):
        self.host = host
        self.allow_reference = True
        self.allow_utc = False
        self.copy_indexes: dict[str | None, int] = {}

    # -- JSON values --------------------------------------------------------------------

    def value(self, value: Any) -> Any:
        if isinstance(value, str):
            raw = parse_string(value)
            return self.expr(raw) if not isinstance(raw, str) else raw
        if isinstance(value, list):
            return [self.value(v) for v in value]
        if isinstance(value, dict):
            if "copy" in value and isinstance(value["copy"], list) and all(
                    isinstance(c, dict) and "input" in c for c in value["copy"]):
                return self._property_copy(value)
            out = {}
            for k, v in value.items():
                key = self.value(k) if is_expression(k) else parse_string(k) if k.startswith("[[") else k
                if not isinstance(key, str):
                    raise EvalError(f"The object key '{k}' must evaluate to a string.")
                out[key] = self.value(v)
            return out
        return value

    def _property_copy(self, value: dict) -> dict:
        out = {k: self.value(v) for k, v in value.items() if k != "copy"}
        for loop in value["copy"]:
            count = self.value(loop.get("count", 0))
            if not isinstance(count, int) or count < 0:
                raise EvalError(f"The copy count of property '{loop.get('name')}' must be a non-negative integer.")
            items = []
            for i in range(count):
                self.copy_indexes[loop["name"].lower()] = i
                self.copy_indexes[None] = i
                items.append(self.value(loop["input"]))
            self.copy_indexes.pop(loop["name"].lower(), None)
            out[loop["name"]] = items
        return out

    # -- expression trees ---------------------------------------------------------------

    def expr(self, node: Any) -> Any:
        if node is None or isinstance(node, (str, int, bool)):
            return node
        if isinstance(node, list):
            return [self.expr(n) for n in node]
        if "call" in node:
            return self.call(node["call"], node["args"])
        if "prop" in node:
            base, *names = node["prop"]
            value = self.expr(base)
            for name in names:
                value = get_property(value, name)
            return value
        if "index" in node:
            base, index = self.expr(node["index"][0]), self.expr(node["index"][1])
            if isinstance(base, list):
                if not isinstance(index, int) or isinstance(index, bool):
                    raise EvalError(f"The language expression array index '{index}' must be an integer.")
                if not 0 <= index < len(base):
                    raise EvalError(f"The language expression property array index '{index}' is out of bounds.")
                return base[index]
            if isinstance(base, dict) and isinstance(index, str):
                return get_property(base, index)
            raise EvalError(f"The language expression index '{index}' can't be applied to a value of type "
                            f"'{type_name(base)}'.")
        raise EvalError(f"Unsupported expression node {node!r}.")

    def call(self, name: str, raw_args: list) -> Any:
        lower = name.lower()
        if lower == "if":
            if len(raw_args) != 3:
                raise self._arity("if", "3")
            cond = self.expr(raw_args[0])
            if not isinstance(cond, bool):
                raise EvalError(f"The template language function 'if' expects its first parameter to be of type "
                                f"'Boolean'. The provided value is of type '{type_name(cond)}'.")
            return self.expr(raw_args[1] if cond else raw_args[2])
        fn = _FUNCTIONS.get(lower)
        if fn is None and lower.startswith("list") and "." not in name:
            # listKeys, listAccountSas, list{Anything}: a POST action on a resource (host).
            args = [self.expr(a) for a in raw_args]
            _need(name, args, 2, 3)
            if not self.allow_reference:
                raise EvalError(f"The template function '{name}' is not expected at this location. Please see "
                                "https://aka.ms/arm-functions-resource for usage details.")
            return self.host.list_action(name, args[0], args[1], args[2] if len(args) > 2 else None)
        if fn is None:
            if "." in name:
                raise EvalError(f"The template function '{name}' is not defined (user-defined functions are not "
                                "modelled by the fake ARM endpoint).")
            if lower in ARM_FUNCTIONS:
                raise EvalError(f"The template function '{name}' is not modelled by the fake ARM endpoint.")
            raise EvalError(f"The template function '{name}' is not valid. Please see "
                            "https://aka.ms/arm-functions for usage details.")
        args = [self.expr(a) for a in raw_args]
        return fn(self, name, args)

    @staticmethod
    def _arity(name: str, expected: str) -> EvalError:
        return EvalError(f"Unable to evaluate template language function '{name}': function requires {expected} "
                         "argument(s).")


def _need(name: str, args: list, low: int, high: int | None = None) -> None:
    high = low if high is None else high
    if not low <= len(args) <= high:
        wanted = str(low) if low == high else f"{low} to {high}" if high < 99 else f"at least {low}"
        raise Evaluator._arity(name, wanted)


def _strings(name: str, args: list) -> list[str]:
    for a in args:
        if not isinstance(a, str):
            raise EvalError(f"Unable to evaluate template language function '{name}': all function arguments must be "
                            f"string literals. Please see https://aka.ms/arm-functions for usage details.")
    return args


def _int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise EvalError(f"The template language function '{name}' expects an integer. The provided value is of "
                        f"type '{type_name(value)}'.")
    return value


def _fn(names: str):
    def register(f: Callable) -> Callable:
        for n in names.split():
            _FUNCTIONS[n.lower()] = f
        return f
    return register


_FUNCTIONS: dict[str, Callable[[Evaluator, str, list], Any]] = {}


# deployment-dependent functions: delegated to the host
@_fn("parameters")
def _parameters(ev, name, args):
    _need(name, args, 1)
    return ev.host.parameter(args[0])


@_fn("variables")
def _variables(ev, name, args):
    _need(name, args, 1)
    return ev.host.variable(args[0])


@_fn("resourceGroup")
def _resource_group(ev, name, args):
    if args:
        raise EvalError("The template function 'resourceGroup' does not take arguments in a JSON template.")
    return ev.host.resource_group()


@_fn("subscription")
def _subscription(ev, name, args):
    _need(name, args, 0)
    return ev.host.subscription()


@_fn("tenant")
def _tenant(ev, name, args):
    _need(name, args, 0)
    return ev.host.tenant()


@_fn("deployment")
def _deployment(ev, name, args):
    _need(name, args, 0)
    return ev.host.deployment()


@_fn("environment")
def _environment(ev, name, args):
    _need(name, args, 0)
    return ev.host.environment()


@_fn("reference")
def _reference(ev, name, args):
    _need(name, args, 1, 3)
    if not ev.allow_reference:
        raise EvalError("The template function 'reference' is not expected at this location. Please see "
                        "https://aka.ms/arm-functions-resource for usage details.")
    full = len(args) == 3 and isinstance(args[2], str) and args[2].lower() == "full"
    if len(args) == 3 and not full:
        raise EvalError("The template function 'reference' expects its third argument to be 'Full'.")
    return ev.host.reference(args[0], args[1] if len(args) > 1 else None, full)


@_fn("resourceId")
def _resource_id(ev, name, args):
    return ev.host.resource_id(_strings(name, args))


@_fn("subscriptionResourceId")
def _subscription_resource_id(ev, name, args):
    return ev.host.subscription_resource_id(_strings(name, args))


@_fn("tenantResourceId")
def _tenant_resource_id(ev, name, args):
    args = _strings(name, args)
    _need(name, args, 2, 99)
    return "/providers/" + args[0] + "".join(f"/{t}/{n}" for t, n in zip(args[0].split("/")[1:], args[1:]))


@_fn("extensionResourceId")
def _extension_resource_id(ev, name, args):
    args = _strings(name, args)
    _need(name, args, 3, 99)
    return ev.host.extension_resource_id(args[0], args[1], args[2:])


@_fn("copyIndex")
def _copy_index(ev, name, args):
    loop, offset = None, 0
    for a in args:
        if isinstance(a, str):
            loop = a.lower()
        else:
            offset = _int(name, a)
    if loop not in ev.copy_indexes:
        raise EvalError("The template function 'copyIndex' is not expected at this location. The function can only "
                        "be used in a resource with copy specified.")
    return ev.copy_indexes[loop] + offset


@_fn("utcNow")
def _utc_now(ev, name, args):
    if not ev.allow_utc:
        raise EvalError("The template function 'utcNow' is not expected at this location. The function can only be "
                        "used with parameter default values.")
    return ev.host.utc_now(args[0] if args else "yyyyMMddTHHmmssZ")


@_fn("newGuid")
def _new_guid(ev, name, args):
    if not ev.allow_utc:
        raise EvalError("The template function 'newGuid' is not expected at this location. The function can only "
                        "be used with parameter default values.")
    return str(uuid.uuid4())


# pure functions
@_fn("true")
def _true(ev, name, args):
    _need(name, args, 0)
    return True


@_fn("false")
def _false(ev, name, args):
    _need(name, args, 0)
    return False


@_fn("null")
def _null(ev, name, args):
    _need(name, args, 0)
    return None


@_fn("format")
def _format(ev, name, args):
    _need(name, args, 1, 99)
    if not isinstance(args[0], str):
        raise EvalError("The template language function 'format' expects its first parameter to be of type 'String'.")
    return dotnet_format(args[0], args[1:])


@_fn("concat")
def _concat(ev, name, args):
    if args and all(isinstance(a, list) for a in args):
        return [x for a in args for x in a]
    if any(isinstance(a, (list, dict)) for a in args):
        raise EvalError("The template language function 'concat' expects its parameters to be either all arrays "
                        "or all strings, integers or booleans.")
    return "".join(to_text(a) for a in args)


@_fn("uniqueString")
def _unique_string(ev, name, args):
    _need(name, args, 1, 99)
    return unique_string(*_strings(name, args))


@_fn("guid")
def _guid(ev, name, args):
    _need(name, args, 1, 99)
    return arm_guid(*_strings(name, args))


@_fn("toLower")
def _to_lower(ev, name, args):
    _need(name, args, 1)
    return _strings(name, args)[0].lower()


@_fn("toUpper")
def _to_upper(ev, name, args):
    _need(name, args, 1)
    return _strings(name, args)[0].upper()


@_fn("trim")
def _trim(ev, name, args):
    _need(name, args, 1)
    return _strings(name, args)[0].strip()


@_fn("take skip")
def _take_skip(ev, name, args):
    _need(name, args, 2)
    value, n = args[0], max(_int(name, args[1]), 0)
    if not isinstance(value, (str, list)):
        raise EvalError(f"The template language function '{name}' expects its first parameter to be a string or an "
                        f"array. The provided value is of type '{type_name(value)}'.")
    return value[:n] if name.lower() == "take" else value[n:]


@_fn("first last")
def _first_last(ev, name, args):
    _need(name, args, 1)
    value = args[0]
    if not value:
        return "" if isinstance(value, str) else None
    return value[0] if name.lower() == "first" else value[-1]


@_fn("length")
def _length(ev, name, args):
    _need(name, args, 1)
    if not isinstance(args[0], (str, list, dict)):
        raise EvalError(f"The template language function 'length' expects a string, an array or an object. The "
                        f"provided value is of type '{type_name(args[0])}'.")
    return len(args[0])


@_fn("empty")
def _empty(ev, name, args):
    _need(name, args, 1)
    return args[0] is None or (isinstance(args[0], (str, list, dict)) and len(args[0]) == 0)


@_fn("contains")
def _contains(ev, name, args):
    _need(name, args, 2)
    container, item = args
    if isinstance(container, str):
        return to_text(item) in container
    if isinstance(container, list):
        return any(arm_equals(x, item) for x in container)
    if isinstance(container, dict):
        return isinstance(item, str) and any(k.lower() == item.lower() for k in container)
    raise EvalError("The template language function 'contains' expects a string, an array or an object.")


@_fn("startsWith endsWith")
def _starts_ends(ev, name, args):
    _need(name, args, 2)
    a, b = (s.lower() for s in _strings(name, args))
    return a.startswith(b) if name.lower() == "startswith" else a.endswith(b)


@_fn("indexOf lastIndexOf")
def _index_of(ev, name, args):
    _need(name, args, 2)
    if isinstance(args[0], list):
        hits = [i for i, x in enumerate(args[0]) if arm_equals(x, args[1])]
        return (hits[0] if name.lower() == "indexof" else hits[-1]) if hits else -1
    a, b = (s.lower() for s in _strings(name, args))
    return a.find(b) if name.lower() == "indexof" else a.rfind(b)


@_fn("substring")
def _substring(ev, name, args):
    _need(name, args, 1, 3)
    text = _strings(name, args[:1])[0]
    start = _int(name, args[1]) if len(args) > 1 else 0
    length = _int(name, args[2]) if len(args) > 2 else len(text) - start
    if start < 0 or length < 0 or start + length > len(text):
        raise EvalError("The index and length parameters must refer to a location within the string.")
    return text[start:start + length]


@_fn("replace")
def _replace(ev, name, args):
    _need(name, args, 3)
    a, b, c = _strings(name, args)
    return a.replace(b, c)


@_fn("split")
def _split(ev, name, args):
    _need(name, args, 2)
    text = _strings(name, args[:1])[0]
    seps = args[1] if isinstance(args[1], list) else [args[1]]
    pattern = "|".join(re.escape(s) for s in _strings(name, seps))
    return re.split(pattern, text) if pattern else [text]


@_fn("join")
def _join(ev, name, args):
    _need(name, args, 2)
    if not isinstance(args[0], list):
        raise EvalError("The template language function 'join' expects an array.")
    return _strings(name, [args[1]])[0].join(to_text(x) for x in args[0])


@_fn("padLeft")
def _pad_left(ev, name, args):
    _need(name, args, 2, 3)
    pad = args[2] if len(args) > 2 else " "
    return to_text(args[0]).rjust(_int(name, args[1]), pad)


@_fn("string")
def _string(ev, name, args):
    _need(name, args, 1)
    return to_text(args[0])


@_fn("int")
def _to_int(ev, name, args):
    _need(name, args, 1)
    try:
        return int(args[0])
    except (TypeError, ValueError):
        raise EvalError(f"The template language function 'int' cannot convert '{args[0]}' to an integer.") from None


@_fn("bool")
def _to_bool(ev, name, args):
    _need(name, args, 1)
    value = args[0]
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    if isinstance(value, int):
        return value != 0
    raise EvalError(f"The template language function 'bool' cannot convert '{value}' to a boolean.")


@_fn("json")
def _json(ev, name, args):
    _need(name, args, 1)
    try:
        return json.loads(_strings(name, args)[0])
    except json.JSONDecodeError as exc:
        raise EvalError(f"The template language function 'json' has an invalid parameter: {exc}.") from None


@_fn("base64")
def _base64(ev, name, args):
    _need(name, args, 1)
    return base64.b64encode(_strings(name, args)[0].encode()).decode()


@_fn("base64ToString")
def _base64_to_string(ev, name, args):
    _need(name, args, 1)
    return base64.b64decode(_strings(name, args)[0]).decode()


@_fn("uri")
def _uri(ev, name, args):
    _need(name, args, 2)
    return urllib.parse.urljoin(*_strings(name, args))


@_fn("uriComponent")
def _uri_component(ev, name, args):
    _need(name, args, 1)
    return urllib.parse.quote(_strings(name, args)[0], safe="")


@_fn("uriComponentToString")
def _uri_component_to_string(ev, name, args):
    _need(name, args, 1)
    return urllib.parse.unquote(_strings(name, args)[0])


@_fn("array")
def _array(ev, name, args):
    _need(name, args, 1)
    return args[0] if isinstance(args[0], list) else [args[0]]


@_fn("createArray")
def _create_array(ev, name, args):
    return list(args)


@_fn("createObject")
def _create_object(ev, name, args):
    if len(args) % 2:
        raise EvalError("The template language function 'createObject' must have an even number of parameters.")
    keys = _strings(name, args[0::2])
    return dict(zip(keys, args[1::2]))


@_fn("union")
def _union(ev, name, args):
    _need(name, args, 1, 99)
    if all(isinstance(a, dict) for a in args):
        out: dict = {}
        for a in args:
            out = deep_union(out, a)
        return out
    if all(isinstance(a, list) for a in args):
        out_list: list = []
        for a in args:
            for x in a:
                if not any(arm_equals(x, y) for y in out_list):
                    out_list.append(x)
        return out_list
    raise EvalError("The template language function 'union' expects all parameters to be objects or all to be arrays.")


@_fn("intersection")
def _intersection(ev, name, args):
    _need(name, args, 2, 99)
    if all(isinstance(a, dict) for a in args):
        return {k: v for k, v in args[0].items() if all(k in o and arm_equals(o[k], v) for o in args[1:])}
    return [x for x in args[0] if all(any(arm_equals(x, y) for y in o) for o in args[1:])]


@_fn("coalesce")
def _coalesce(ev, name, args):
    return next((a for a in args if a is not None), None)


@_fn("tryGet")
def _try_get(ev, name, args):
    _need(name, args, 2, 99)
    value = args[0]
    for key in args[1:]:
        try:
            value = get_property(value, key) if isinstance(key, str) else value[key]
        except (EvalError, IndexError, TypeError, KeyError):
            return None
    return value


@_fn("objectKeys")
def _object_keys(ev, name, args):
    _need(name, args, 1)
    return list(args[0])


@_fn("items")
def _items(ev, name, args):
    _need(name, args, 1)
    return [{"key": k, "value": v} for k, v in sorted(args[0].items(), key=lambda kv: kv[0].lower())]


@_fn("range")
def _range(ev, name, args):
    _need(name, args, 2)
    return list(range(_int(name, args[0]), _int(name, args[0]) + _int(name, args[1])))


@_fn("min max")
def _min_max(ev, name, args):
    values = args[0] if len(args) == 1 and isinstance(args[0], list) else args
    return (min if name.lower() == "min" else max)(_int(name, v) for v in values)


@_fn("not")
def _not(ev, name, args):
    _need(name, args, 1)
    if not isinstance(args[0], bool):
        raise EvalError("The template language function 'not' expects a boolean.")
    return not args[0]


@_fn("and or")
def _and_or(ev, name, args):
    _need(name, args, 2, 99)
    if not all(isinstance(a, bool) for a in args):
        raise EvalError(f"The template language function '{name}' expects boolean parameters.")
    return all(args) if name.lower() == "and" else any(args)


@_fn("equals")
def _equals(ev, name, args):
    _need(name, args, 2)
    return arm_equals(args[0], args[1])


@_fn("less lessOrEquals greater greaterOrEquals")
def _compare(ev, name, args):
    _need(name, args, 2)
    a, b = args
    if type_name(a) != type_name(b) or not isinstance(a, (int, str)):
        raise EvalError(f"The template language function '{name}' expects two integers or two strings.")
    op = name.lower()
    return {"less": a < b, "lessorequals": a <= b, "greater": a > b, "greaterorequals": a >= b}[op]


@_fn("add sub mul div mod")
def _arith(ev, name, args):
    _need(name, args, 2)
    a, b = (_int(name, x) for x in args)
    op = name.lower()
    if op in ("div", "mod") and b == 0:
        raise EvalError(f"The template language function '{name}' cannot divide by zero.")
    if op == "div":
        q = abs(a) // abs(b)
        return q if (a >= 0) == (b >= 0) else -q
    if op == "mod":
        return a - b * _arith(ev, "div", [a, b])
    return {"add": a + b, "sub": a - b, "mul": a * b}[op]
