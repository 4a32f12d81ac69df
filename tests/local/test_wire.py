"""The JSON line codec gives back exactly what was sent (values and types) and refuses anything else."""

from __future__ import annotations

import dataclasses
import json
import math
from collections import OrderedDict
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from environments.local.wire import WireError, decode, encode
from ovmref import control as ctl
from ovmref.failover import messages as m
from ovmref.failover import requests as r
from ovmref.failover.pooldb import GuestRecord, PoolDB, ServerRecord
from ovmref.heartbeat.network import Keepalive, NetHeartbeat
from ovmref.release import Release
from ovmref.timing import O2CBTimings

# One realistic instance of every class that must travel; the list is written out by hand so that
# a class the codec forgets to register fails here instead of at the first send.
EXAMPLES: list[object] = [
    m.StartGuestCmd("vm-web01", 2048, 2),
    m.StartGuestCmd("vm-web01", 2048, 2, expect=frozenset({(3, 0x5E1F00D), (1, 0x77)})),
    m.StartFailed("vm-web01", 2, "lease held by ovs1", holder=(0, 0x1234)),
    m.StopGuestCmd("vm-db02", "server is being drained"),
    m.MigrateGuestCmd("vm-db02", target=2, memory_mb=4096, vcpus=4),
    m.MigrateIn("vm-db02", 4096, 4, source=(1, 0xDEADBEEF01)),
    m.ShutdownCmd(restart=True),
    m.MasterAnnounce(master=2),
    m.BecomeMaster(from_node=0),
    m.Hello(node=1, generation=0x1234ABCD5678, guests=("vm-a", "vm-b"), started=True),
    m.Hello(node=4, generation=7, guests=()),
    m.GuestRunning("vm-a", 1),
    m.GuestStopped("vm-a", 1, "stopped by the Manager"),
    m.GuestCrashed("vm-b", 3),
    m.StartFailed("vm-c", 0, "not enough memory: 512 MB free, 2048 MB needed"),
    m.Leaving(node=2, restart=False),
    r.SetPoolHA(True),
    r.CreateGuest("vm-web01", 2048, 2, ha=True, preferred=("ovs1", "ovs3")),
    r.SetGuestHA("vm-web01", False),
    r.StartGuest("vm-web01"),
    r.StopGuest("vm-web01"),
    r.MigrateGuest("vm-web01", "ovs2"),
    r.ShutdownServer("ovs2", migrate=True, restart=True),
    r.ShutdownServer("ovs3", migrate=False, delete=True),
    r.SetMaintenance("ovs1", on=True),
    r.SetInboundLock("ovs1", locked=True),
    r.SetMaster("ovs3"),
    r.AddServer("ovs4", 3, 16384, 8, roles=("vm", "utility")),
    Keepalive.from_timings(O2CBTimings()),
    ServerRecord("ovs1", 0, 32768, 16, roles={"vm", "utility"}, state="active", generation=99),
    GuestRecord("vm-a", 1024, 1, ha=True, preferred=("ovs1",), server="ovs1", state="running",
                lease_holders=frozenset({(2, 0), (1, 7)})),
    Release.R2_2,
    ctl.PeerAdded(3, "ovs4", ("10.0.0.14", 7777)),
    ctl.ClusterServicesStopped(),
    ctl.AgentDaemon(running=False),
]
MESSAGE_CLASSES = [c for c in vars(m).values() if isinstance(c, type) and dataclasses.is_dataclass(c)]
REQUEST_CLASSES = [c for c in vars(r).values() if isinstance(c, type) and dataclasses.is_dataclass(c)]
CONTROL_CLASSES = [c for c in vars(ctl).values() if isinstance(c, type) and dataclasses.is_dataclass(c)]


def same(a: Any, b: Any) -> bool:
    """Equal, and of the same types all the way down (True is not 1, a tuple is not a list)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, set | frozenset):
        return a == b and all(same(x, next(y for y in b if y == x)) for x in a)
    if isinstance(a, dict):
        return len(a) == len(b) and all(
            same(ka, kb) and same(va, vb) for (ka, va), (kb, vb) in zip(a.items(), b.items(), strict=True)
        )
    if dataclasses.is_dataclass(a):
        return all(same(getattr(a, f.name), getattr(b, f.name)) for f in dataclasses.fields(a))
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    return bool(a == b)


def roundtrip(value: object) -> object:
    line = encode(value)
    assert line.endswith(b"\n") and line.count(b"\n") == 1, line
    back = decode(line)
    assert same(value, back), f"{value!r} came back as {back!r}"
    return back


def test_same_helper_tells_types_apart() -> None:
    assert not same((1, 2), [1, 2])
    assert not same({1: True}, {1: 1})
    assert not same({"a": 1, "b": 2}, {"b": 2, "a": 1})
    assert same({frozenset({1, (2, 3)})}, {frozenset({(2, 3), 1})})


def test_examples_cover_every_message_and_request_class() -> None:
    covered = {type(e) for e in EXAMPLES}
    assert set(MESSAGE_CLASSES) <= covered
    assert set(REQUEST_CLASSES) <= covered
    assert set(CONTROL_CLASSES) <= covered
    assert len(MESSAGE_CLASSES) == 13 and len(REQUEST_CLASSES) == 11 and len(CONTROL_CLASSES) == 3


@pytest.mark.parametrize("value", EXAMPLES, ids=lambda v: type(v).__name__)
def test_realistic_values_round_trip(value: object) -> None:
    roundtrip(value)


@pytest.mark.parametrize(
    "cls",
    [*MESSAGE_CLASSES, *REQUEST_CLASSES, *CONTROL_CLASSES, Keepalive, ServerRecord, GuestRecord, PoolDB],
    ids=lambda c: c.__name__,
)
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_generated_instances_round_trip(cls: type, data: st.DataObject) -> None:
    roundtrip(data.draw(st.from_type(cls)))


def test_pool_database_round_trips_with_sets_tuples_and_none() -> None:
    db = PoolDB(name="pool1", release=Release.R3, ha_enabled=True, master="ovs1")
    db.servers["ovs1"] = ServerRecord("ovs1", 0, 32768, 16, roles={"vm", "utility"}, state="active",
                                      generation=0x1111)
    db.servers["ovs2"] = ServerRecord("ovs2", 1, 16384, 8, state="draining", generation=0x2222,
                                      maintenance=True, inbound_lock=True, drain_restart=True)
    db.servers["ovs3"] = ServerRecord("ovs3", 2, 16384, 8, roles=set(), state="down")
    db.guests["vm-a"] = GuestRecord("vm-a", 2048, 2, ha=True, preferred=("ovs2", "ovs1"), server="ovs1",
                                    state="running", restarts=3)
    db.guests["vm-b"] = GuestRecord("vm-b", 1024, 1, ha=False)
    db.guests["vm-c"] = GuestRecord("vm-c", 512, 1, ha=True, server=None, state="stopped",
                                    restart_elsewhere=True, lease_holders=frozenset({(2, 0x3333)}))
    back = roundtrip(db)
    assert isinstance(back, PoolDB)
    assert back.server_by_node(1) is back.servers["ovs2"]
    assert back.used_memory() == db.used_memory()
    assert back.snapshot() == db


def test_dicts_with_int_and_tuple_keys_sets_and_nested_tuples_round_trip() -> None:
    roundtrip({1: "node one", 2: None, -5: [1.5, -0.0]})
    roundtrip({(0, 7): "holder", (1, 0): frozenset({"a"})})
    roundtrip(((1, (2, (3, ()))), [(), ((),)]))
    roundtrip({"roles": {"vm", "utility"}, "frozen": frozenset({1, 2, (3, 4)}), "empty": set()})
    roundtrip({True: "bool key", 0.5: "float key", None: "none key"})
    roundtrip([float("inf"), float("-inf"), 2**70, -(2**63), "", "ünïcödé \u2028 \x00 \n"])


@pytest.mark.parametrize("key", ["__t", "__tuple", "__set", "__frozenset", "__dict", "__enum", "__x"])
def test_plain_dicts_that_look_like_tags_still_round_trip(key: str) -> None:
    roundtrip({key: "messages.Hello", "f": {"node": 1}})
    roundtrip({key: [1, 2]})
    roundtrip([{"__t": "pooldb.PoolDB", "f": {}, "v": 1}])


def test_lines_are_compact_deterministic_and_split_on_newlines() -> None:
    line = encode({"a": [1, 2], "b": (3,)})
    assert b" " not in line
    assert json.loads(line) == {"a": [1, 2], "b": {"__tuple": [3]}}
    assert encode({3, 1, "x", (2,)}) == encode({(2,), "x", 1, 3})
    stream = b"".join(encode(v) for v in EXAMPLES)
    assert [decode(x) for x in stream.splitlines()] == EXAMPLES
    assert decode(encode(m.GuestRunning("vm", 1)).decode()) == m.GuestRunning("vm", 1)  # str input


_scalars = (st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
            | st.sampled_from(Release))
_hashables = st.recursive(
    _scalars, lambda c: st.lists(c, max_size=3).map(tuple) | st.frozensets(c, max_size=3), max_leaves=8
)
_tagged_names = st.sampled_from(["__t", "__tuple", "__set", "__dict", "__enum", "f", "v"])
_values = st.recursive(
    _scalars,
    lambda c: (
        st.lists(c, max_size=4)
        | st.lists(c, max_size=4).map(tuple)
        | st.dictionaries(st.text() | _tagged_names, c, max_size=4)
        | st.dictionaries(_hashables, c, max_size=4)
        | st.sets(_hashables, max_size=4)
        | st.frozensets(_hashables, max_size=4)
        | st.builds(m.Hello, node=st.integers(0, 254), generation=st.integers(1, 2**64 - 1),
                    guests=st.lists(st.text(), max_size=3).map(tuple))
    ),
    max_leaves=25,
)


@settings(max_examples=300, deadline=None)
@given(_values)
def test_arbitrary_nested_values_round_trip(value: object) -> None:
    roundtrip(value)


# ---- refusals ---------------------------------------------------------------------------------
class _Custom:
    pass


@pytest.mark.parametrize(
    "value",
    [
        b"raw bytes",
        _Custom(),
        OrderedDict(a=1),  # a dict subclass would come back as a plain dict
        {"ok": [1, {2: complex(1, 2)}]},
        NetHeartbeat(0, [1], O2CBTimings()),
        dataclasses.make_dataclass("Hello", [("node", int)])(1),  # same name, not the registered class
    ],
    ids=["bytes", "custom", "ordereddict", "nested-complex", "nethb", "lookalike-dataclass"],
)
def test_values_that_cannot_travel_exactly_are_refused(value: object) -> None:
    with pytest.raises(WireError, match="cannot encode"):
        encode(value)


def test_refusal_says_where_the_bad_value_is() -> None:
    with pytest.raises(WireError, match=r"builtins\.complex at \$\.ok\[1\]\[2\]"):
        encode({"ok": [1, {2: complex(1, 2)}]})


def hello_fields(**override: object) -> dict[str, object]:
    doc = json.loads(encode(m.Hello(1, 2, ("vm",))))
    doc["f"].update(override)
    return doc  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("line", "pattern"),
    [
        (b'{"__t":"messages.Nope","f":{}}\n', r"unknown class tag 'messages\.Nope'"),
        (b'{"__t":"os.system","f":{"command":"true"}}', r"unknown class tag 'os\.system'"),
        (b'{"__t":"network._Peer","f":{}}', r"unknown class tag 'network\._Peer'"),
        (b'{"__t":"messages.GuestRunning","f":{"guest":"vm"}}', r"GuestRunning has missing field\(s\) node"),
        (b'{"__t":"messages.GuestRunning","f":{"guest":"vm","node":1,"extra":2}}',
         r"unknown field\(s\) extra"),
        (b'{"__t":"messages.GuestRunning","f":[1]}', r"must be a JSON object"),
        (b'{"__enum":"release.Release","v":"9.9"}', r"'9\.9' is not a value of release\.Release"),
        (b'{"__enum":"signal.Signals","v":9}', r"unknown enum tag 'signal\.Signals'"),
        (b'{"__set":[[1,2]]}', r"list cannot be a set element"),
        (b'{"__dict":[[1]]}', r"not a \[key, value\] pair"),
        (b'{"__tuple":3}', r"__tuple needs a JSON array"),
        (b'{"__tuple":[],"extra":1}', r"unknown tagged object with keys \['__tuple', 'extra'\]"),
        (b'{"a":{"__bogus":1}}', r"\$\.a: unknown tagged object"),
        (b'{"node": 1', r"malformed JSON"),
        (b"", r"malformed JSON"),
        (b'{"a":1}\n{"b":2}\n', r"malformed JSON \(Extra data"),
        (b"\xff\xfe{}", r"not UTF-8"),
        (b"[" * 100_000 + b"]" * 100_000, r"nested too deeply"),
    ],
    ids=lambda v: v[:30].decode("latin-1") if isinstance(v, bytes) else "",
)
def test_malformed_or_unknown_input_is_a_wire_error(line: bytes, pattern: str) -> None:
    with pytest.raises(WireError, match=pattern):
        decode(line)


def test_decode_error_quotes_a_short_excerpt_of_the_line() -> None:
    junk = b'{"__t":"messages.Nope","f":{"pad":"' + b"x" * 5000 + b'"}}'
    with pytest.raises(WireError) as err:
        decode(junk)
    text = str(err.value)
    assert "messages.Nope" in text and '{"__t":"messages.Nope"' in text
    assert len(text) < 400 and f"({len(junk)} bytes)" in text


def test_a_message_edited_on_the_wire_is_refused_with_the_field_named() -> None:
    doc = hello_fields()
    del doc["f"]["generation"]  # type: ignore[attr-defined]
    with pytest.raises(WireError, match=r"messages\.Hello has missing field\(s\) generation"):
        decode(json.dumps(doc))
    with pytest.raises(WireError, match=r"unknown field\(s\) secret"):
        decode(json.dumps(hello_fields(secret=1)))
