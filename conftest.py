"""Repository-wide pytest setup: the conformance plugin and the step library.

This is the only place the plugin is registered (no pytest11 entry point),
so it is never loaded twice.
"""

pytest_plugins = ["conformance.plugin", "steps"]
