"""The cluster root as a server process sees it: real files, real locks, a path that can break."""

from __future__ import annotations

import json
import multiprocessing
import os
import shutil
import tempfile
from collections import defaultdict
from collections.abc import Iterator
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier
from pathlib import Path

import pytest

from environments.local import wire
from environments.local.sharedstore import (
    LEASES_FILE,
    POOLDB_FILE,
    SLOT_BYTES,
    STATE_DIR,
    CorruptStoreError,
    SharedStore,
)
from environments.ocfs2file import (
    MIN_SIZE_BYTES,
    dump_heartbeat,
    format_heartbeat_file,
    heartbeat_region_offset,
    tools_missing,
)
from ovmref.failover.pooldb import GuestRecord, PoolDB, ServerRecord
from ovmref.heartbeat.block import HeartbeatBlock, checksum_ok, decode_block, encode_block
from ovmref.lease import ANY_GENERATION, LeaseTable
from ovmref.release import Release

HB_FILE = "server_pool_hb.img"


@pytest.fixture
def base() -> Iterator[Path]:
    """A scratch directory in RAM when there is one (the OCFS2 image is 72 MiB)."""
    shm = "/dev/shm"
    path = Path(tempfile.mkdtemp(prefix="ovmref-sharedstore-",
                                 dir=shm if os.path.isdir(shm) and os.access(shm, os.W_OK) else None))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def root(base: Path) -> Path:
    path = base / "cluster-root"
    path.mkdir()
    (path / HB_FILE).write_bytes(bytes(64 * 1024))
    return path


@pytest.fixture
def link(base: Path, root: Path) -> Path:
    """Server ovs1's path to the cluster root: a symlink the driver can break."""
    path = base / "ovs1-root"
    path.symlink_to(root)
    return path


def slot(fill: int) -> bytes:
    return bytes([fill]) * SLOT_BYTES


def pool_db() -> PoolDB:
    db = PoolDB(name="pool1", release=Release.R2_2, ha_enabled=True, master="ovs1")
    db.servers["ovs1"] = ServerRecord("ovs1", 0, 32768, 16, roles={"vm", "utility"}, state="active",
                                      generation=0xABCDEF)
    db.servers["ovs2"] = ServerRecord("ovs2", 1, 16384, 8, state="down", inbound_lock=True)
    db.guests["vm-a"] = GuestRecord("vm-a", 2048, 2, ha=True, preferred=("ovs2",), server="ovs1",
                                    state="running")
    db.guests["vm-b"] = GuestRecord("vm-b", 1024, 1, ha=True, lease_holders=frozenset({(1, 0x42)}))
    return db


# ---- heartbeat slots ---------------------------------------------------------------------------
@pytest.mark.parametrize("offset", [0, 4096, 1000])
def test_slots_land_at_offset_plus_node_times_512(root: Path, offset: int) -> None:
    store = SharedStore(root, HB_FILE, offset)
    for node, fill in ((0, 0xA0), (3, 0xA3), (7, 0xA7)):
        store.write_slot(node, slot(fill))
    raw = (root / HB_FILE).read_bytes()
    assert len(raw) == 64 * 1024, "a slot write must not grow or truncate the file"
    expected = bytearray(64 * 1024)
    for node, fill in ((0, 0xA0), (3, 0xA3), (7, 0xA7)):
        expected[offset + node * 512: offset + (node + 1) * 512] = slot(fill)
    assert raw == bytes(expected)
    assert store.read_region([7, 0, 3, 5]) == {7: slot(0xA7), 0: slot(0xA0), 3: slot(0xA3), 5: bytes(512)}
    assert store.read_region([]) == {}


def test_read_region_is_one_pread_and_reads_zeros_past_the_end(root: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    store = SharedStore(root, HB_FILE, 64 * 1024 - 2 * 512)  # room for nodes 0 and 1 only
    store.write_slot(1, slot(0x11))
    calls: list[tuple[int, int]] = []
    real_pread = os.pread

    def counting_pread(fd: int, length: int, offset: int) -> bytes:
        calls.append((length, offset))
        return real_pread(fd, length, offset)

    monkeypatch.setattr(os, "pread", counting_pread)
    got = store.read_region([1, 4, 2])
    assert calls == [(4 * 512, 64 * 1024 - 512)], "one pread spanning slots 1..4"
    assert got == {1: slot(0x11), 2: bytes(512), 4: bytes(512)}


def test_bad_slot_writes_are_refused_before_touching_the_file(root: Path) -> None:
    store = SharedStore(root, HB_FILE, 0)
    with pytest.raises(ValueError, match="must be 512 bytes, got 511"):
        store.write_slot(0, bytes(511))
    with pytest.raises(ValueError, match=r"node number must be 0\.\.254, got 255"):
        store.write_slot(255, slot(1))
    with pytest.raises(ValueError, match="got -1"):
        store.read_region([0, -1])
    assert (root / HB_FILE).read_bytes() == bytes(64 * 1024)


def test_missing_heartbeat_file_is_an_oserror_naming_it(root: Path) -> None:
    store = SharedStore(root, "no-such.img", 0)
    with pytest.raises(FileNotFoundError, match=r"no-such\.img"):
        store.write_slot(0, slot(1))
    assert not (root / "no-such.img").exists(), "the heartbeat file is formatted, never created here"


# ---- storage loss -------------------------------------------------------------------------------
@pytest.mark.parametrize("how", ["dangling", "removed"])
def test_a_broken_root_path_fails_every_operation_and_recovers_when_repaired(
    base: Path, root: Path, link: Path, how: str
) -> None:
    store = SharedStore(link, HB_FILE, 512)
    store.write_slot(1, slot(0x51))
    assert store.acquire_lease("master", 1, 77, None).granted
    store.store_pooldb(pool_db())

    link.unlink()
    if how == "dangling":
        link.symlink_to(base / "storage-gone")
    operations = {
        "write_slot": lambda: store.write_slot(1, slot(0x52)),
        "read_region": lambda: store.read_region([0, 1]),
        "acquire_lease": lambda: store.acquire_lease("guest:vm-a", 1, 77, None),
        "acquire_lease(takeover)": lambda: store.acquire_lease("master", 2, 88, (1, ANY_GENERATION)),
        "release_lease": lambda: store.release_lease("master", 1, 77),
        "lease_holders": store.lease_holders,
        "load_pooldb": store.load_pooldb,
        "store_pooldb": lambda: store.store_pooldb(pool_db()),
    }
    for what, op in operations.items():
        with pytest.raises(OSError) as err:
            op()  # type: ignore[no-untyped-call]
        assert str(link) in str(err.value), f"{what}: the error must name the path: {err.value}"
    assert not (base / "storage-gone").exists(), "nothing may be created through a broken path"

    if how == "dangling":
        link.unlink()
    link.symlink_to(root)
    assert store.read_region([1]) == {1: slot(0x51)}
    assert store.lease_holders() == {"master": (1, 77)}
    assert store.load_pooldb() == pool_db()


# ---- leases ---------------------------------------------------------------------------------------
def test_leases_follow_the_lease_table_and_persist_across_servers(root: Path, link: Path) -> None:
    ovs1 = SharedStore(link, HB_FILE, 0)
    ovs2 = SharedStore(root, HB_FILE, 0)  # another server, another path to the same root
    assert ovs1.lease_holders() == {}
    first = ovs1.acquire_lease("guest:vm-a", 0, 11, None)
    assert (first.granted, first.holder, first.token) == (True, (0, 11), 1)
    assert ovs1.acquire_lease("guest:vm-a", 0, 11, None).token == 1, "re-acquiring keeps the token"
    refused = ovs2.acquire_lease("guest:vm-a", 1, 22, None)
    assert (refused.granted, refused.holder, refused.token) == (False, (0, 11), 1)
    assert not ovs2.acquire_lease("guest:vm-a", 1, 22, (0, 99)).granted, "stale generation"
    assert not ovs2.acquire_lease("guest:vm-a", 1, 22, (2, ANY_GENERATION)).granted, "wrong node"
    taken = ovs2.acquire_lease("guest:vm-a", 1, 22, (0, ANY_GENERATION))
    assert (taken.granted, taken.holder, taken.token) == (True, (1, 22), 2)
    assert not ovs1.release_lease("guest:vm-a", 0, 11), "the old holder cannot release it any more"
    assert ovs1.acquire_lease("master", 0, 11, None).granted
    assert ovs1.lease_holders() == ovs2.lease_holders() == {"guest:vm-a": (1, 22), "master": (0, 11)}
    assert ovs2.release_lease("guest:vm-a", 1, 22)
    again = ovs1.acquire_lease("guest:vm-a", 0, 12, None)
    assert again.token == 3, "tokens keep growing after a release"

    on_disk = json.loads((root / STATE_DIR / LEASES_FILE).read_text())
    table = LeaseTable.from_dict(on_disk)
    assert table.holders() == {"guest:vm-a": (0, 12), "master": (0, 11)}
    assert table.to_dict() == on_disk
    assert sorted(os.listdir(root / STATE_DIR)) == ["leases.json", "leases.lock"], "no temp files left"


def test_lease_table_dict_round_trip_keeps_tokens_of_released_leases() -> None:
    t = LeaseTable()
    t.acquire("a", 0, 5)
    t.acquire("a", 1, 6, expect=(0, ANY_GENERATION))
    t.acquire("b", 2, 7)
    t.release("b", 2, 7)
    back = LeaseTable.from_dict(json.loads(json.dumps(t.to_dict())))
    assert back.to_dict() == t.to_dict()
    assert back.holders() == {"a": (1, 6)}
    assert back.acquire("b", 3, 8).token == 2
    assert back.acquire("a", 2, 9, expect=(1, 6)).token == 3


@pytest.mark.parametrize(
    ("content", "pattern"),
    [
        (b"{not json", "not valid JSON"),
        (b"", "not valid JSON"),
        (b"[]", "expected a JSON object, got list"),
        (b'{"leases": {}}', "expected keys 'leases' and 'tokens'"),
        (b'{"leases": {"x": {"holder": [1], "token": 1}}, "tokens": {"x": 1}}', r"holder must be \[node"),
        (b'{"leases": {"x": {"holder": [1, 2], "token": 5}}, "tokens": {"x": 1}}', "has token 5 but"),
        (b'{"leases": {"x": {"holder": [1, true], "token": 1}}, "tokens": {"x": 1}}', "must be an integer"),
    ],
)
def test_a_corrupt_lease_file_is_an_error_naming_the_file(root: Path, content: bytes, pattern: str) -> None:
    (root / STATE_DIR).mkdir()
    (root / STATE_DIR / LEASES_FILE).write_bytes(content)
    store = SharedStore(root, HB_FILE, 0)
    for op in (store.lease_holders, lambda: store.acquire_lease("x", 1, 2, None)):
        with pytest.raises(CorruptStoreError, match=pattern) as err:
            op()
        assert str(root / STATE_DIR / LEASES_FILE) in str(err.value)
    assert (root / STATE_DIR / LEASES_FILE).read_bytes() == content, "a corrupt table is never overwritten"


RACE_LEASE = "guest:vm-contended"
RACERS = 8
ROUNDS = 200


Grants = list[tuple[int, tuple[int, int]]]  # (token, holder) of every granted acquire


def _racer(root: str, node: int, start: Barrier, results: Queue[tuple[int, Grants]]) -> None:
    """Look at the holder, then take the lease over from exactly that holder (or release our own)."""
    store = SharedStore(Path(root), HB_FILE, 0)
    me = (node, 1000 + node)
    grants: Grants = []
    start.wait()
    for i in range(ROUNDS):
        seen = store.lease_holders().get(RACE_LEASE)
        if seen == me and i % 5 == 0:
            store.release_lease(RACE_LEASE, *me)
            continue
        expect = None if seen is None or seen == me else seen if i % 2 else (seen[0], ANY_GENERATION)
        outcome = store.acquire_lease(RACE_LEASE, node, me[1], expect)
        if outcome.granted:
            assert outcome.holder == me
            grants.append((outcome.token, me))
        else:
            assert outcome.holder != me
    results.put((node, grants))


def test_racing_processes_never_share_a_lease_token(root: Path) -> None:
    ctx = multiprocessing.get_context("fork")
    start = ctx.Barrier(RACERS)
    results: Queue[tuple[int, Grants]] = ctx.Queue()
    procs = [ctx.Process(target=_racer, args=(str(root), n, start, results), name=f"racer-{n}")
             for n in range(RACERS)]
    for p in procs:
        p.start()
    log = [results.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=30)
        assert p.exitcode == 0, f"{p.name} exited with {p.exitcode}"

    holders_by_token: dict[int, set[tuple[int, int]]] = defaultdict(set)
    for _node, grants in log:
        for token, holder in grants:
            holders_by_token[token].add(holder)
    shared = {t: h for t, h in holders_by_token.items() if len(h) > 1}
    assert not shared, f"tokens granted to more than one holder: {shared}"
    last = max(holders_by_token)
    assert sorted(holders_by_token) == list(range(1, last + 1)), "every new holder saw its grant"
    table = LeaseTable.from_dict(json.loads((root / STATE_DIR / LEASES_FILE).read_text()))
    assert table.to_dict()["tokens"] == {RACE_LEASE: last}
    assert last > 2 * RACERS, f"only {last} changes of holder: the racers did not contend"
    assert len({h for hs in holders_by_token.values() for h in hs}) == RACERS


# ---- pool database --------------------------------------------------------------------------------
def test_pool_database_round_trips_and_is_replaced_whole(root: Path, link: Path) -> None:
    master = SharedStore(link, HB_FILE, 0)
    other = SharedStore(root, HB_FILE, 0)
    assert master.load_pooldb() is None
    db = pool_db()
    master.store_pooldb(db)
    loaded = other.load_pooldb()
    assert loaded == db and loaded is not db
    assert isinstance(loaded, PoolDB) and loaded.servers["ovs1"].roles == {"vm", "utility"}
    assert loaded.guests["vm-b"].lease_holders == {(1, 0x42)}
    db.guests["vm-a"].server = None
    db.guests["vm-a"].state = "stopped"
    db.master = "ovs2"
    other.store_pooldb(db)
    assert master.load_pooldb() == db
    assert wire.decode((root / STATE_DIR / POOLDB_FILE).read_bytes()) == db
    assert sorted(os.listdir(root / STATE_DIR)) == [POOLDB_FILE], "no temp files left"


@pytest.mark.parametrize(
    ("content", "pattern"),
    [
        (b'{"__t":"pooldb.PoolDB","f":{"name":"p"', "malformed JSON"),
        (b'{"__t":"pooldb.PoolDB","f":{"name":"p"}}', "missing field"),
        (wire.encode(["not", "a", "db"]), "holds a list, not a pool database"),
    ],
)
def test_a_corrupt_pool_database_is_an_error_naming_the_file(root: Path, content: bytes,
                                                             pattern: str) -> None:
    (root / STATE_DIR).mkdir()
    (root / STATE_DIR / POOLDB_FILE).write_bytes(content)
    with pytest.raises(CorruptStoreError, match=pattern) as err:
        SharedStore(root, HB_FILE, 0).load_pooldb()
    assert str(root / STATE_DIR / POOLDB_FILE) in str(err.value)


# ---- a real OCFS2 heartbeat file ----------------------------------------------------------------
@pytest.mark.skipif(bool(tools_missing()),
                    reason=f"ocfs2-tools not installed (missing: {', '.join(tools_missing())})")
def test_debugfs_sees_the_heartbeats_written_through_the_store(base: Path, link: Path, root: Path) -> None:
    image = root / "ocfs2-hb.img"
    region = format_heartbeat_file(image, MIN_SIZE_BYTES)
    assert heartbeat_region_offset(image) == region.offset
    store = SharedStore(link, image.name, region.offset)
    gens = {0: 0x0123456789ABCDEF, 2: 0x00000000DEADBEEF}

    def beat(seq: int) -> None:
        for node, gen in gens.items():
            store.write_slot(node, encode_block(HeartbeatBlock(seq=seq + node, node=node, generation=gen,
                                                               dead_ms=62000)))

    beat(0x6B025A00)
    first = {d.slot: d for d in dump_heartbeat(image)}
    assert sorted(first) == [0, 2]
    for node, gen in gens.items():
        d = first[node]
        assert (d.node, d.seq, d.generation, d.dead_ms) == (node, 0x6B025A00 + node, gen, 62000)

    beat(0x6B025A05)
    second = {d.slot: d for d in dump_heartbeat(image)}
    assert sorted(second) == [0, 2]
    for node in gens:
        assert second[node].seq == 0x6B025A05 + node > first[node].seq
        assert second[node].cksum != first[node].cksum

    read = store.read_region([0, 1, 2])
    assert read[1] == bytes(SLOT_BYTES)
    assert all(checksum_ok(read[n]) and decode_block(read[n]).seq == 0x6B025A05 + n for n in gens)
