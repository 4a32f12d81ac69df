"""A process that runs a docker-environment pool, closes the driver, then exits, raises or waits.

Used by test_docker_driver.py: `python -m tests.docker.docker_driver_child MODE IMAGE`. After
close() the containers stay, idle, for the process's next pool; they must go with the process.
MODE exit: a normal exit; raise: an uncaught exception; sleep: wait to be killed.
"""

from __future__ import annotations

import json
import sys
import time

from environments.docker.driver import DockerDriver
from environments.model import PoolSpec, ServerSpec
from ovmref.release import Release


def main(mode: str, image: str) -> None:
    driver = DockerDriver(Release.R2_2, seed=3, image=image)
    try:
        built = driver.build_pool(PoolSpec(servers=(ServerSpec("server1"), ServerSpec("server2"))))
        assert built.ok, built.message
        pool = driver.lent.pool
        report = {"pool_id": pool.pool_id, "slots": str(driver.lent.slots.base), "run": str(driver.run_dir)}
    finally:
        driver.close()
    print("READY " + json.dumps(report), flush=True)
    if mode == "raise":
        raise RuntimeError("the run failed")
    while mode == "sleep":
        time.sleep(0.05)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
