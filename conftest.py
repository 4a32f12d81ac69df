"""Repository-wide pytest setup: the conformance plugin and the step library.

`python3 -m pytest features` in a checkout loads them from here; `ovm-conformance run` loads them
with `-p conformance.plugin -p steps` (pytest registers a plugin once under its module name, so a
run that sees both gets each once). There is no pytest11 entry point: installing the package does
not put the plugin into unrelated pytest runs.
"""

pytest_plugins = ["conformance.plugin", "steps"]
