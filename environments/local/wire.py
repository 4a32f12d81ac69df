"""JSON lines exchanged by the processes of a local pool (agent to agent over TCP, driver to server).

Not pickle: agents listen on TCP ports and unpickling runs code. Plain JSON is
not enough either: messages carry tuples, sets, dicts with int keys, an Enum
and dataclasses, and the receiver must get exactly those back (an
`expect=(node, gen)` that arrived as a list would never equal a lease holder).
So values are tagged, and only the classes registered below can be built from
the wire: a peer can name no other class.

A JSON object with a key starting with "__" is always one of these forms
(a plain dict with such a key is sent as "__dict", so it cannot pass for one):

    {"__tuple": [...]}   {"__set": [...]}   {"__frozenset": [...]}
    {"__dict": [[key, value], ...]}              non-str keys, or str keys starting with "__"
    {"__enum": "release.Release", "v": "2.1"}
    {"__t": "messages.Hello", "f": {"node": 1, ...}}   every field, no more, no less
"""

from __future__ import annotations

import dataclasses
import enum
import json
from types import ModuleType

from ovmref import control
from ovmref.failover import messages, pooldb, requests
from ovmref.heartbeat import network
from ovmref.release import Release

_DATACLASS_MODULES: tuple[ModuleType, ...] = (messages, requests, network, pooldb, control)
_ENUM_CLASSES: tuple[type[enum.Enum], ...] = (Release,)
_EXCERPT_CHARS = 120


class WireError(ValueError):
    """A value that cannot be sent, or a line that is not a message this codec produced."""


def _tag(cls: type) -> str:
    return f"{cls.__module__.rsplit('.', 1)[-1]}.{cls.__qualname__}"


def _dataclass_registry() -> dict[str, tuple[type, tuple[str, ...]]]:
    """Public dataclasses defined in the registered modules: tag -> (class, field names)."""
    registry: dict[str, tuple[type, tuple[str, ...]]] = {}
    for module in _DATACLASS_MODULES:
        for name, obj in vars(module).items():
            if (isinstance(obj, type) and dataclasses.is_dataclass(obj)
                    and obj.__module__ == module.__name__ and not name.startswith("_")):
                fields = dataclasses.fields(obj)
                if any(not f.init for f in fields):
                    raise TypeError(f"{_tag(obj)} has init=False fields; the wire codec cannot rebuild it")
                registry[_tag(obj)] = (obj, tuple(f.name for f in fields))
    return registry


_CLASSES_BY_TAG = _dataclass_registry()
_CLASS_TAGS: dict[type, tuple[str, tuple[str, ...]]] = {
    cls: (tag, names) for tag, (cls, names) in _CLASSES_BY_TAG.items()
}
_ENUMS_BY_TAG: dict[str, type[enum.Enum]] = {_tag(cls): cls for cls in _ENUM_CLASSES}
_ENUM_TAGS: dict[type, str] = {cls: tag for tag, cls in _ENUMS_BY_TAG.items()}
_PLAIN_TYPES = frozenset({type(None), bool, int, float, str, list, tuple, set, frozenset, dict})

_Json = None | bool | int | float | str | list["_Json"] | dict[str, "_Json"]


def _excerpt(data: bytes | bytearray | str) -> str:
    if len(data) <= _EXCERPT_CHARS:
        return repr(data)
    unit = "bytes" if isinstance(data, bytes | bytearray) else "chars"
    return f"{data[:_EXCERPT_CHARS]!r}... ({len(data)} {unit})"


def _dumps(doc: _Json) -> str:
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=True)


# ---- encoding ---------------------------------------------------------------------------
def encode(obj: object) -> bytes:
    """One compact JSON document and a newline; raises WireError for values it cannot carry exactly."""
    try:
        return (_dumps(_enc(obj, "$")) + "\n").encode("ascii")
    except (ValueError, RecursionError) as exc:  # WireError, or json's own limits (huge ints, depth)
        if isinstance(exc, WireError):
            raise
        raise WireError(f"cannot encode {_excerpt(repr(obj))}: {exc}") from exc


def _enc(obj: object, where: str) -> _Json:
    t = type(obj)
    if t not in _PLAIN_TYPES:
        if t in _ENUM_TAGS:
            assert isinstance(obj, enum.Enum)
            return {"__enum": _ENUM_TAGS[t], "v": _enc(obj.value, f"{where}.value")}
        if t in _CLASS_TAGS:
            tag, names = _CLASS_TAGS[t]
            return {"__t": tag, "f": {n: _enc(getattr(obj, n), f"{where}.{n}") for n in names}}
        raise WireError(
            f"cannot encode {t.__module__}.{t.__qualname__} at {where}: only JSON scalars, list, tuple, "
            f"set, frozenset, dict, Release and the dataclasses of "
            f"{', '.join(m.__name__ for m in _DATACLASS_MODULES)} travel on the wire"
        )
    if obj is None or isinstance(obj, bool | int | float | str):
        return obj
    if isinstance(obj, list):
        return [_enc(x, f"{where}[{i}]") for i, x in enumerate(obj)]
    if isinstance(obj, tuple):
        return {"__tuple": [_enc(x, f"{where}[{i}]") for i, x in enumerate(obj)]}
    if isinstance(obj, set | frozenset):
        # sorted by their JSON text so equal sets give equal lines, whatever the element types
        items = sorted((_enc(x, f"{where}{{}}") for x in obj), key=_dumps)
        return {"__frozenset" if isinstance(obj, frozenset) else "__set": items}
    assert isinstance(obj, dict)
    if all(type(k) is str and not k.startswith("__") for k in obj):
        return {k: _enc(v, f"{where}.{k}") for k, v in obj.items()}
    return {"__dict": [[_enc(k, f"{where}<key {k!r}>"), _enc(v, f"{where}[{k!r}]")] for k, v in obj.items()]}


# ---- decoding ---------------------------------------------------------------------------
def decode(line: bytes | str) -> object:
    """The value `encode` was given; WireError (with an excerpt of the line) for anything else."""
    if isinstance(line, bytes | bytearray):
        try:
            text = bytes(line).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise WireError(f"not UTF-8 ({exc.reason} at byte {exc.start}): {_excerpt(line)}") from None
    elif isinstance(line, str):
        text = line
    else:
        raise WireError(f"decode takes bytes or str, got {type(line).__name__}")
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise WireError(f"malformed JSON ({exc.msg} at char {exc.pos}): {_excerpt(line)}") from None
    except RecursionError:
        raise WireError(f"JSON nested too deeply: {_excerpt(line)}") from None
    try:
        return _dec(doc, "$")
    except WireError as exc:
        raise WireError(f"{exc}: {_excerpt(line)}") from None
    except RecursionError:
        raise WireError(f"value nested too deeply: {_excerpt(line)}") from None


def _dec(doc: object, where: str) -> object:
    if isinstance(doc, list):
        return [_dec(x, f"{where}[{i}]") for i, x in enumerate(doc)]
    if isinstance(doc, dict):
        if any(k.startswith("__") for k in doc):
            return _dec_tagged(doc, where)
        return {k: _dec(v, f"{where}.{k}") for k, v in doc.items()}
    return doc  # None, bool, int, float, str


def _array(doc: dict[str, object], key: str, where: str) -> list[object]:
    items = doc[key]
    if not isinstance(items, list):
        raise WireError(f"{where}: {key} needs a JSON array, got {type(items).__name__}")
    return [_dec(x, f"{where}[{i}]") for i, x in enumerate(items)]


def _hashable(value: object, where: str) -> object:
    try:
        hash(value)
    except TypeError:
        raise WireError(f"{where}: {type(value).__name__} cannot be a set element or dict key") from None
    return value


def _dec_tagged(doc: dict[str, object], where: str) -> object:
    keys = set(doc)
    if keys == {"__tuple"}:
        return tuple(_array(doc, "__tuple", where))
    if keys == {"__set"}:
        return {_hashable(x, where) for x in _array(doc, "__set", where)}
    if keys == {"__frozenset"}:
        return frozenset(_hashable(x, where) for x in _array(doc, "__frozenset", where))
    if keys == {"__dict"}:
        out: dict[object, object] = {}
        for i, pair in enumerate(_array(doc, "__dict", where)):
            if not isinstance(pair, list) or len(pair) != 2:
                raise WireError(f"{where}: __dict entry {i} is not a [key, value] pair")
            out[_hashable(pair[0], f"{where}<key {i}>")] = pair[1]
        return out
    if keys == {"__enum", "v"}:
        return _dec_enum(doc, where)
    if keys == {"__t", "f"}:
        return _dec_dataclass(doc, where)
    raise WireError(f"{where}: unknown tagged object with keys {sorted(keys)}")


def _dec_enum(doc: dict[str, object], where: str) -> enum.Enum:
    tag = doc["__enum"]
    cls = _ENUMS_BY_TAG.get(tag) if isinstance(tag, str) else None
    if cls is None:
        raise WireError(f"{where}: unknown enum tag {tag!r} (known: {', '.join(sorted(_ENUMS_BY_TAG))})")
    value = _dec(doc["v"], f"{where}.value")
    try:
        return cls(value)
    except ValueError:
        raise WireError(f"{where}: {value!r} is not a value of {tag}") from None


def _dec_dataclass(doc: dict[str, object], where: str) -> object:
    tag, fields = doc["__t"], doc["f"]
    entry = _CLASSES_BY_TAG.get(tag) if isinstance(tag, str) else None
    if entry is None:
        raise WireError(f"{where}: unknown class tag {tag!r}")
    cls, names = entry
    if not isinstance(fields, dict):
        raise WireError(f"{where}: fields of {tag} must be a JSON object, got {type(fields).__name__}")
    missing = [n for n in names if n not in fields]
    extra = sorted(set(fields) - set(names))
    if missing or extra:
        problems = ([f"missing field(s) {', '.join(missing)}"] if missing else []) + (
            [f"unknown field(s) {', '.join(extra)}"] if extra else [])
        raise WireError(f"{where}: {tag} has {' and '.join(problems)}")
    kwargs = {n: _dec(fields[n], f"{where}.{n}") for n in names}
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as exc:
        raise WireError(f"{where}: cannot build {tag}: {exc}") from None
