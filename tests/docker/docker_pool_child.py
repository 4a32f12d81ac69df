"""A process that starts a container pool, reports it, then exits, hangs, or raises.

Used by test_docker_pool_cleanup.py: `python -m tests.docker.docker_pool_child MODE IMAGE`.
MODE exit: leave without close() (the atexit hook must clean up), reporting what is left from a
hook that runs after it; sleep: wait to be killed.
"""

from __future__ import annotations

import atexit
import json
import signal
import sys
import time

from environments.docker.owner import LABEL_POOL
from environments.docker.pool import ContainerPool, labelled_resources


def main(mode: str, image: str) -> None:
    # A run started in the background by a non-interactive shell (`nohup ... &`, some CI runners)
    # inherits SIGINT ignored, and Python then never raises KeyboardInterrupt: this child stands
    # for a user pressing Ctrl-C at a terminal, so it takes SIGINT as such a run would.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    pool = ContainerPool(2, image=image)
    # registered before the pool's own hook, so it runs after it (atexit runs last-in, first-out)
    atexit.register(
        lambda: print("AFTER " + json.dumps(labelled_resources(f"{LABEL_POOL}={pool.pool_id}")), flush=True)
    )
    pool.start()
    report = {"pool_id": pool.pool_id, "workdir": str(pool.workdir), "resources": pool.resources()}
    print("READY " + json.dumps(report), flush=True)
    if mode == "exit":
        return
    while True:
        time.sleep(0.05)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
