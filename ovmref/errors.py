"""Errors shared by every parser of server configuration files.

A bad file must be reported the way compilers do (`path:line: problem`) so
that a conformance report points the administrator at the exact line.
"""

from __future__ import annotations


class LocatedError(ValueError):
    """A problem at a line of a file, told as `path:line: message` (line 1-based; 0 = the whole file).

    The one base of every reader's "this file is wrong here" error (server configuration files, pool
    definitions, inventories, the rule catalog), so a caller catches one type and a report points
    at the exact line whatever the file was."""

    def __init__(self, path: object, line: int, message: str) -> None:
        self.path = str(path)
        self.line = line
        self.message = message
        super().__init__(str(self))

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


class ConfigSyntaxError(LocatedError):
    """A configuration file that does not follow its format, at a given line (1-based; 0 = whole file)."""


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
