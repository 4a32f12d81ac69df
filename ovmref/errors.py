"""Errors shared by every parser of server configuration files.

A bad file must be reported the way compilers do (`path:line: problem`) so
that a conformance report points the administrator at the exact line.
"""

from __future__ import annotations


class ConfigSyntaxError(ValueError):
    """A configuration file that does not follow its format, at a given line (1-based; 0 = whole file)."""

    def __init__(self, path: str, line: int, message: str) -> None:
        super().__init__(f"{path}:{line}: {message}")
        self.path = path
        self.line = line
        self.message = message

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


Problems = list[ConfigSyntaxError] | None
"""Where a lenient reader puts what it skipped (None: a strict parser raises at the first problem).

A real server's files are read the way their own readers read them (glibc /etc/hosts, bash
sourcing /etc/sysconfig, libmount /etc/fstab): a line they skip is skipped, and told to the caller
that asks; `ovm-conformance check` asks, and reports every one."""


def problem(problems: Problems, error: ConfigSyntaxError) -> None:
    """Raise `error`, or record it when the caller collects problems."""
    if problems is None:
        raise error
    problems.append(error)
