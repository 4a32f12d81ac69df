"""Test-only agents with a deliberate timing defect, to prove the real-time verdicts still catch one.

Each module is a self-contained script that patches the reference implementation and then runs
the server process exactly as `python -m environments.local.serverd SERVER_DIR` would. The local
and docker drivers run it instead of serverd when OVM_TEST_AGENT_WRAPPER names its file (they copy
it into a container's server directory); nothing in ovmref or the drivers imports it.
"""
