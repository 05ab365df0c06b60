"""One setting's value checked against its declaration, and the one-line messages users read.

msgspec does the checking (strict: no "60" for 60, no true for 1; numeric bounds, lengths
and allowed values from the field's ``Meta``), one value at a time so that every problem
of a file is reported, each at its own key. Its terse errors are rewritten here into
``expected a number, got a string "x"`` / ``must be <= 604800 seconds (7 days), got 1e+308``:
the unit comes from the same declaration as the bound.

Why msgspec rather than pydantic: both validate stdlib dataclasses from ``Annotated``
constraints; msgspec imports three to four times faster than pydantic on the project
machine (``monitor check`` and every CLI command load settings), and pydantic's advantage,
collecting every error of one model, is one we get anyway by checking key by key.
See docs/settings.md.
"""

from __future__ import annotations

import difflib
import json
import math
import types
from collections.abc import Iterable
from dataclasses import MISSING, dataclass
from functools import cache
from typing import Annotated, Any, Literal, Union, get_args, get_origin, get_type_hints

import msgspec


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """What one field declares: its type without None/Annotated, whether None is allowed, and its Meta."""

    name: str
    base: Any
    optional: bool
    meta: msgspec.Meta | None
    default: Any

    @property
    def unit(self) -> str:
        extra = self.meta.extra if self.meta is not None and self.meta.extra else {}
        return str(extra.get("unit", ""))

    @property
    def doc(self) -> str:
        return (self.meta.description or "") if self.meta is not None else ""

    @property
    def choices(self) -> tuple[str, ...]:
        return tuple(get_args(self.base)) if get_origin(self.base) is Literal else ()

    @property
    def bounds(self) -> dict[str, float]:
        """The numeric bounds set (ge, gt, le, lt)."""
        if self.meta is None:
            return {}
        found = {k: getattr(self.meta, k) for k in ("ge", "gt", "le", "lt")}
        return {k: v for k, v in found.items() if v is not None}


@cache
def field_specs(cls: type) -> dict[str, FieldSpec]:
    """Every field of a settings dataclass with its declaration, in declaration order."""
    hints = get_type_hints(cls, include_extras=True)
    defaults = {
        f.name: (f.default if f.default_factory is MISSING else f.default_factory())
        for f in cls.__dataclass_fields__.values()  # type: ignore[attr-defined]  # cls is a dataclass by contract
    }
    out: dict[str, FieldSpec] = {}
    for name in defaults:
        hint = hints[name]
        meta = None
        if get_origin(hint) is Annotated:
            hint, *extras = get_args(hint)
            metas = [m for m in extras if isinstance(m, msgspec.Meta)]
            meta = metas[0] if metas else None
        optional = False
        if get_origin(hint) in (Union, types.UnionType):
            members = [a for a in get_args(hint) if a is not type(None)]
            optional = len(members) < len(get_args(hint))
            hint = members[0] if len(members) == 1 else Union[tuple(members)]  # noqa: UP007 - built at run time
        out[name] = FieldSpec(name, hint, optional, meta, defaults[name])
    return out


def convert(spec: FieldSpec, value: Any) -> tuple[bool, Any, str]:
    """``(ok, converted, message)`` for one value; the message names what was expected and what came."""
    if value is None and spec.optional:
        return True, None, ""
    if isinstance(value, float) and not math.isfinite(value) and spec.base in (float, int):
        return False, None, f"expected a finite number, got {value}"
    target: Any = Annotated[spec.base, spec.meta] if spec.meta is not None else spec.base
    try:
        return True, msgspec.convert(value, target, strict=True), ""
    except msgspec.ValidationError:
        pass
    try:
        msgspec.convert(value, spec.base, strict=True)
    except msgspec.ValidationError:
        return False, None, _type_message(spec, value)
    return False, None, _bound_message(spec, value)


def _type_message(spec: FieldSpec, value: Any) -> str:
    base = spec.base
    if spec.choices:
        if isinstance(value, str):
            return f"{value!r} is not one of {', '.join(spec.choices)}"
        return f"expected one of {', '.join(spec.choices)}, got {show(value)}"
    expected = {
        bool: "true or false",
        int: "an integer",
        float: "a number",
        str: "a string",
    }.get(base)
    if expected is None and get_origin(base) is tuple:
        expected = "an array of strings"
    return f"expected {expected or getattr(base, '__name__', str(base))}, got {show(value)}"


def _bound_message(spec: FieldSpec, value: Any) -> str:
    meta = spec.meta
    if meta is not None and meta.max_length is not None and isinstance(value, str | list | tuple):
        return f"at most {meta.max_length} characters, got {len(value)}"
    got = f"{value:g}" if isinstance(value, float) else str(value)
    return f"must be {describe_range(spec)}, got {got}"


def describe_range(spec: FieldSpec) -> str:
    """``> 0 and <= 604800 seconds (7 days)``: the bounds with the unit; "" for a field without bounds."""
    if not spec.bounds:
        return ""
    ops = {"ge": ">=", "gt": ">", "le": "<=", "lt": "<"}
    parts = [f"{ops[k]} {number(v)}" for k, v in spec.bounds.items()]
    top = spec.bounds.get("le", spec.bounds.get("lt"))
    unit = f" {spec.unit}" if spec.unit else ""
    extra = human(top, spec.unit) if top is not None else ""
    return f"{' and '.join(parts)}{unit}{extra}"


def number(value: float) -> str:
    """A bound as people write it: 604800, 0.5, never 6.048e+05."""
    if float(value).is_integer() and abs(value) < 1e16:
        return str(int(value))
    return f"{value:g}"


def human(limit: float, unit: str) -> str:
    """`` (7 days)`` after a number of seconds that reads better in days or hours; "" otherwise."""
    if not unit.startswith("seconds") or limit < 120:
        return ""
    for size, name in ((86400, "day"), (3600, "hour"), (60, "minute")):
        if limit >= size and limit % size == 0:
            n = int(limit // size)
            return f" ({n} {name}{'s' if n != 1 else ''})"
    return ""


def from_env(text: str) -> Any:
    """An environment string as the TOML value it spells (true, 60, 1.5, "x")."""
    low = text.strip().lower()
    if low in ("true", "false"):
        return low == "true"
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return text


def suggest(key: str, known: Iterable[str]) -> str:
    """`` (did you mean 'interval'?)`` for a near miss; "" when nothing is close."""
    close = difflib.get_close_matches(key, list(known), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def tname(value: Any) -> str:
    """What a TOML value is, in words."""
    return {
        dict: "a table",
        list: "an array",
        str: "a string",
        bool: "a boolean",
        int: "an integer",
        float: "a number",
    }.get(type(value), type(value).__name__)


def show(value: Any) -> str:
    """A value for an error message: its kind and at most 40 characters of it."""
    text = json.dumps(value, ensure_ascii=False, default=str) if not isinstance(value, dict) else "a table"
    if len(text) > 40:
        text = text[:37] + "..."
    return f"{tname(value)} {text}"


__all__ = ["FieldSpec", "convert", "describe_range", "field_specs", "from_env", "human", "number", "show", "suggest", "tname"]
