"""Which of Oracle VM Manager's VMs is which guest `xm list` shows: by the Vm's id, never its name.

A 3.x server names a guest's Xen domain by the Vm's id, and the Manager's `Vm.name` is the guest's
simple name:
- the agent writes `name = '<vm id>'` and `OVM_simple_name = '<name>'` into the guest's
  /OVS/Repositories/<repo>/VirtualMachines/<vm id>/vm.cfg (a real 3.x vm.cfg: find_string index id
  57398263217, `name = '0004fb0000060000cfe2da48f9e2120e'`; a real path
  `.../VirtualMachines/0004fb00000600003114ee2da8afa5b7/vm.cfg:OVM_simple_name = 'Turnos.Online'`:
  index id 26698157426);
- administrators' scripts on 3.x servers take each `xm list` name, find the directory of that name
  under /OVS/Repositories and print its OVM_simple_name as the VM's name (index id 9229510481), or
  grep `xm list` for a vm.cfg's `name` (index id 9795522643);
- the Manager's Vm ids have that shape, `"value": "0004fb00000600006f8e65a5d245ea0c"` beside
  `"name": "Test3.0"` (AndreyMenezes/fog-oracle lib/fog/oracle/requests/compute/list_vms.rb).
So a domain is matched to the Vm whose `id.value` is its name. A Vm whose *name* equals a domain's
name, but not its id, is not taken for it: the mismatch is said. Nothing is dropped silently: a
domain no Vm matches, and a Vm the Manager places on a server whose `xm list` does not show it, are
each reported with the server named.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from environments.manager.facts import ManagerVm


@dataclass(frozen=True)
class Unlisted:
    """A domain `xm list` shows that no Vm of the Manager has as its id."""

    guest: str
    server: str
    named_like: ManagerVm | None  # a Vm whose name (not id) is the domain's name, if any


@dataclass(frozen=True)
class Unseen:
    """A Vm the Manager says runs on a server whose `xm list` does not show it."""

    vm: ManagerVm


@dataclass(frozen=True)
class VmMatch:
    by_guest: Mapping[str, ManagerVm]  # xm list name -> the Vm with that id
    unlisted: tuple[Unlisted, ...]
    unseen: tuple[Unseen, ...]

    def notes(self, where: str) -> list[str]:
        """One line for each mismatch, naming the guest, its server and the Manager."""
        out = []
        for u in self.unlisted:
            line = f"guest {u.guest!r} runs on {u.server} (xm list), but {where} lists no Vm with that id"
            if u.named_like is not None:
                line += (
                    f"; its Vm named {u.guest!r} has id {u.named_like.id!r} (matched by id, not name:"
                    " its facts are not used)"
                )
            out.append(line + ": its Manager facts are unknown")
        for s in self.unseen:
            out.append(
                f"{where} says Vm {s.vm.name!r} (id {s.vm.id!r}) runs on {s.vm.server}, but `xm list` on "
                f"{s.vm.server} does not show it"
            )
        return out


def match_vms(
    guests: Iterable[tuple[str, str]], vms: Sequence[ManagerVm], read_servers: Iterable[str]
) -> VmMatch:
    """guests: (xm list name, server) of every domain read; read_servers: the servers whose `xm list`
    was read (a Vm placed on a server that was not read is neither seen nor unseen)."""
    by_id = {vm.id: vm for vm in vms}
    by_name: dict[str, ManagerVm] = {}
    for vm in vms:
        by_name.setdefault(vm.name, vm)
    matched: dict[str, ManagerVm] = {}
    unlisted = []
    for guest, server in guests:
        found = by_id.get(guest)
        if found is not None:
            matched[guest] = found
        else:
            unlisted.append(Unlisted(guest, server, by_name.get(guest)))
    read = set(read_servers)
    shown = {vm.id for vm in matched.values()}
    unseen = tuple(
        Unseen(vm) for vm in vms if vm.server is not None and vm.server in read and vm.id not in shown
    )
    return VmMatch(matched, tuple(unlisted), unseen)
