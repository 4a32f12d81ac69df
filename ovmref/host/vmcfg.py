"""A guest's vm.cfg as Oracle VM 3.x keeps it on its repository, read without executing it.

Oracle VM 3 keeps each guest's configuration at
/OVS/Repositories/<repository id>/VirtualMachines/<vm id>/vm.cfg (Oracle VM 3 Concepts,
"Repositories": https://docs.oracle.com/cd/E50245_01/E50249/html/vmcon-repositories-structure.html).
The file is Python syntax, one `key = value` a line, as written by the agent (apache/cloudstack
plugins/hypervisors/ovm3 .../objects/Xen.java puts `OVM_high_availability`, `OVM_simple_name`,
`on_crash`, `memory`, `name`, ...; a real 3.x file quoted in find_string index id 57398263217 has
`OVM_high_availability = False`, `name = '0004fb0000060000cfe2da48f9e2120e'`, `memory = 4096`,
`on_crash = 'restart'`). The guest's `name` is its domain name in `xm list` (the 32-hex VM id).

No public material shows where 3.x vm.cfg keeps a start policy or preferred servers (the Manager
holds `vmStartPolicy`): that stays unknown here. Oracle VM 2.x's vm.cfg has no documented HA key
(the Manager's database holds the flag and the preferred servers): unknown too.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from typing import Any

REPOSITORIES = "/OVS/Repositories"
HA_KEY = "OVM_high_availability"
SIMPLE_NAME_KEY = "OVM_simple_name"
# a directory name a path may be built from: no '/', no leading '.' (so never '..'), no shell words
_DIR_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
VM_CFG_PATH = re.compile(
    r"/OVS/Repositories/(?P<repo>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})/VirtualMachines/"
    r"(?P<vm>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})/vm\.cfg"
)


class VmCfgError(ValueError):
    """A vm.cfg line that is not `key = literal`; the line is named."""


def is_dir_name(name: str) -> bool:
    return _DIR_NAME.fullmatch(name) is not None


def vm_cfg_path(repository: str, vm: str) -> str | None:
    """Where a 3.x guest's vm.cfg is on a repository; None for names no path may be built from."""
    if not (is_dir_name(repository) and is_dir_name(vm)):
        return None
    return f"{REPOSITORIES}/{repository}/VirtualMachines/{vm}/vm.cfg"


def parse_vm_cfg(text: str) -> dict[str, Any]:
    """The file's literal assignments (strings, numbers, booleans, lists); nothing is executed."""
    try:
        tree = ast.parse(text)
    except SyntaxError as exc:
        raise VmCfgError(f"line {exc.lineno}: not Python syntax: {exc.msg}") from None
    values: dict[str, Any] = {}
    for node in tree.body:
        if not (
            isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)
        ):
            raise VmCfgError(f"line {node.lineno}: not a `key = value` assignment")
        try:
            values[node.targets[0].id] = ast.literal_eval(node.value)
        except ValueError:
            raise VmCfgError(
                f"line {node.lineno}: the value of {node.targets[0].id} is not a literal"
            ) from None
    return values


@dataclass(frozen=True)
class GuestConfig:
    """What a vm.cfg says about HA; None where the file does not say."""

    path: str
    ha: bool | None
    simple_name: str | None
    on_crash: str | None
    memory_mb: int | None


def guest_config(path: str, text: str) -> GuestConfig:
    values = parse_vm_cfg(text)
    ha = values.get(HA_KEY)
    simple = values.get(SIMPLE_NAME_KEY)
    crash = values.get("on_crash")
    memory = values.get("memory")
    return GuestConfig(
        path,
        ha if isinstance(ha, bool) else None,
        simple if isinstance(simple, str) else None,
        crash if isinstance(crash, str) else None,
        memory if isinstance(memory, int) and not isinstance(memory, bool) else None,
    )


def format_vm_cfg(name: str, memory_mb: int, vcpus: int, *, ha: bool, simple_name: str) -> str:
    """A vm.cfg in the agent's shape (for the lookalike servers; keys as in the real file above)."""
    lines = {
        "name": repr(name),
        "uuid": repr(f"{name[:8]}-{name[8:12]}-{name[12:16]}-{name[16:20]}-{name[20:32]}"),
        "memory": str(memory_mb),
        "maxvcpus": str(vcpus),
        "vcpus": str(vcpus),
        "on_crash": repr("restart"),
        "on_poweroff": repr("destroy"),
        "on_reboot": repr("restart"),
        HA_KEY: str(ha),
        SIMPLE_NAME_KEY: repr(simple_name),
        "OVM_description": repr(""),
        "guest_os_type": repr("linux"),
    }
    return "".join(f"{key} = {value}\n" for key, value in lines.items())
