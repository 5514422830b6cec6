"""Typed settings from loose input (YAML mappings, `KEY=VALUE` overrides), validated strictly.

One coercion rule for every settings dataclass in ssr (training configs and their stage sections,
protocol settings): the target type comes from the dataclass's type hints, read structurally with
`typing.get_origin` / `get_args` (never from the text of a hint). Unknown keys and values of the
wrong kind are `ConfigError`s that name the key, so a typo can never pass silently.
"""

from __future__ import annotations

import dataclasses
import types
from typing import Any, Union, get_args, get_origin, get_type_hints

import yaml

from ssr.errors import ConfigError

_NONE = type(None)


def _kind_name(hint: Any) -> str:
    return getattr(hint, "__name__", None) or str(hint).replace("typing.", "")


def coerce(value: Any, hint: Any, where: str, *, from_text: bool = False) -> Any:
    """`value` as type `hint` (bool, int, float, str, X | None, list[X]); `from_text` parses strings first."""
    if from_text and isinstance(value, str):
        try:
            parsed = yaml.safe_load(value)
        except yaml.YAMLError:
            parsed = value
        # a string-typed setting keeps its text ("1e-3" stays text for a str field)
        value = value if hint is str else parsed
    origin = get_origin(hint)
    if origin in (Union, types.UnionType):
        options = get_args(hint)
        if value is None and _NONE in options:
            return None
        for option in (o for o in options if o is not _NONE):
            try:
                return coerce(value, option, where)
            except ConfigError:
                continue
        raise ConfigError(f"{where}: invalid value {value!r} (expected {_kind_name(hint)})")
    if origin in (list, tuple):
        (item,) = get_args(hint)[:1] or (Any,)
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{where}: invalid value {value!r} (expected a list)")
        items = [coerce(v, item, f"{where}[{i}]") for i, v in enumerate(value)]
        return items if origin is list else tuple(items)
    if hint is Any:
        return value
    ok = False
    if hint is bool:
        ok = isinstance(value, bool)
    elif hint is int:
        ok = isinstance(value, int) and not isinstance(value, bool) or (
            isinstance(value, float) and value.is_integer())
        value = int(value) if ok else value
    elif hint is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        value = float(value) if ok else value
    elif hint is str:
        ok = isinstance(value, str)
    else:
        raise TypeError(f"settings: unsupported type hint {hint!r} at {where}")
    if not ok:
        raise ConfigError(f"{where}: invalid value {value!r} (expected {_kind_name(hint)})")
    return value


def from_mapping(cls: type, data: Any, where: str) -> Any:
    """Build dataclass `cls` from a mapping; nested dataclass fields recurse; unknown keys are errors."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: must be a mapping")
    hints = get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls) if f.init]
    unknown = sorted(set(data) - set(names))
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {unknown} (allowed: {sorted(names)})")
    values = {}
    for key, value in data.items():
        hint = hints[key]
        if dataclasses.is_dataclass(hint):
            values[key] = from_mapping(hint, value, f"{where}.{key}")
        else:
            values[key] = coerce(value, hint, f"{where}.{key}")
    return cls(**values)


def with_overrides(settings: Any, overrides: dict[str, str], what: str) -> Any:
    """A copy of a (frozen) settings dataclass with `KEY=VALUE` text overrides applied and checked."""
    hints = get_type_hints(type(settings))
    names = [f.name for f in dataclasses.fields(settings)]
    values = {}
    for key, text in overrides.items():
        if key not in names:
            raise ConfigError(f"unknown {what} '{key}' (known: {', '.join(names)})")
        values[key] = coerce(text, hints[key], f"{what} '{key}'", from_text=True)
    return dataclasses.replace(settings, **values)


def path_fields(cls: type) -> list[str]:
    """Names of the fields marked `metadata={"path": True}` (resolved against a config's folder)."""
    return [f.name for f in dataclasses.fields(cls) if f.metadata.get("path")]


__all__ = ["coerce", "from_mapping", "with_overrides", "path_fields"]
