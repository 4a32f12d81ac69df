"""Environments a pool can run in, chosen by name (testinfra-style registry, imported lazily).

`sim` is built in; later environments (local processes, docker, ssh) register
here and may need optional dependencies, which fail with an install hint.
"""

from __future__ import annotations

import importlib
from typing import Any

from environments.base import PoolDriver
from ovmref.release import Release

_REGISTRY: dict[str, str] = {
    "sim": "environments.sim.driver:SimDriver",
    "local": "environments.local.driver:LocalDriver",
    "docker": "environments.docker.driver:DockerDriver",
    "ssh": "environments.ssh.driver:SSHDriver",
}


class UnknownEnvironmentError(ValueError):
    pass


def available() -> list[str]:
    return sorted(_REGISTRY)


def create(name: str, release: Release, seed: int, **options: Any) -> PoolDriver:
    """Instantiate the driver registered under `name`."""
    try:
        target = _REGISTRY[name]
    except KeyError:
        raise UnknownEnvironmentError(
            f"unknown environment {name!r}: choose one of {', '.join(available())}"
        ) from None
    module_name, _, cls_name = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:  # an optional dependency is missing
        extra = "ssh" if name == "ssh" else "containers"
        raise UnknownEnvironmentError(
            f"environment {name!r} needs an optional dependency ({exc.name}): "
            f"pip install 'ovm-ha-conformance[{extra}]'"
        ) from exc
    cls = getattr(module, cls_name)
    driver: PoolDriver = cls(release=release, seed=seed, **options)
    return driver
