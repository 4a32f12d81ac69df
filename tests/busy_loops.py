"""CPU-bound busy loops beside a real-time run: the load under which its verdicts must not change.

Each loop is a child process spinning on the CPU, bounded twice: it ends by itself after
`limit_s`, and the context manager kills it (by its own pid, nothing else) when the block ends,
also after an exception.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
from collections.abc import Iterator

SPIN = "import time\nend = time.monotonic() + {limit}\nwhile time.monotonic() < end:\n    pass\n"


@contextlib.contextmanager
def busy_loops(count: int = 2, limit_s: float = 3600.0) -> Iterator[list[subprocess.Popen[bytes]]]:
    """`count` processes each keeping a CPU busy, for at most `limit_s` seconds."""
    loops: list[subprocess.Popen[bytes]] = []
    try:
        for _ in range(count):
            loops.append(
                subprocess.Popen(
                    [sys.executable, "-c", SPIN.format(limit=float(limit_s))],
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        yield loops
    finally:
        for loop in loops:
            loop.kill()
        for loop in loops:
            loop.wait(timeout=30)
