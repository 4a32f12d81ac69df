"""Shared test setup: `pytester` lets plugin tests run pytest in a sandbox, as a user would."""

pytest_plugins = ["pytester"]
