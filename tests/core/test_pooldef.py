"""Pool definition files: good ones load, impossible ones name file, line and problem."""

from __future__ import annotations

import pytest

from environments.pooldef import PoolDefinitionError, parse_pool_definition
from ovmref.release import Release

GOOD = """\
release: "2.2"
storage: nfs
cluster_root: example.com:/OVS
servers:
  - {name: server1, memory_mb: 8192, roles: [master, utility, vm]}
  - {name: server2, memory_mb: 8192}
guests:
  - {name: vm1, memory_mb: 2048, preferred: [server2]}
  - {name: vm2, ha: false}
"""


def test_good_definition_loads() -> None:
    d = parse_pool_definition(GOOD, "pool.yaml")
    assert d.release is Release.R2_2
    assert [s.name for s in d.pool.servers] == ["server1", "server2"]
    assert d.guests[0].preferred == ("server2",) and d.guests[0].policy == "manual"
    assert d.guests[1].ha is False and d.guests[1].policy == "auto"


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ('release: "4.0"\nservers: [{name: a}]\n', 1, "unknown Oracle VM release"),
        ('release: "2.2"\n', 1, "missing 'servers'"),
        ('release: "2.2"\nservers: []\n', 2, "non-empty list"),
        ('release: "2.2"\nservers:\n  - {name: s1}\n  - {name: s1}\n', 4, "defined twice"),
        (
            'release: "2.2"\nservers:\n  - {name: s1}\nguests:\n  - {name: vm1, preferred: [s9]}\n',
            5,
            "not a server",
        ),
        (
            'release: "2.2"\nservers:\n  - {name: s1, memory_mb: 1024}\n'
            "guests:\n  - {name: v, memory_mb: 4096}\n",
            5,
            "more than any server",
        ),
        ('release: "2.2"\nnode_slots: 2\nservers: [{name: a}, {name: b}, {name: c}]\n', 3, "node slots"),
        ('release: "2.2"\nstorage: nfs\ncluster_root: /dev/sdb1\nservers: [{name: a}]\n', 3, "does not suit"),
        ('release: "2.2"\nservers: [{name: a, colour: red}]\n', 2, "unknown key 'colour'"),
        ('release: "2.2"\nservers: [{name: a, roles: [boss]}]\n', 2, "unknown role"),
        (
            'release: "2.2"\nservers:\n  - {name: a, roles: [master]}\n  - {name: b, roles: [master]}\n',
            3,
            "only one Server Pool Master",
        ),
        ("release: [2.2\n", 2, "not valid YAML"),
    ],
)
def test_impossible_definitions_name_file_line_and_problem(text: str, line: int, words: str) -> None:
    with pytest.raises(PoolDefinitionError) as info:
        parse_pool_definition(text, "pool.yaml")
    assert str(info.value).startswith(f"pool.yaml:{line}: "), str(info.value)
    assert words in str(info.value)
