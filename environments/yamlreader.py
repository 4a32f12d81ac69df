"""One reader for the project's YAML files (pool definitions, inventories, the rule catalog).

PyYAML's `safe_load` forgets where a value stood. The files a user writes by hand must be
refused the way a compiler refuses a program, `path:line: problem`, so this reader walks the
composed node tree and keeps every node's line. Each file's reader is a subclass naming its error
class (a LocatedError) and the words its documentation promises; the node walk is written once.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import yaml

from ovmref.errors import LocatedError

_FAST_LOADER: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class YamlReader:
    """Walks a YAML node tree so every value keeps its line number."""

    #: the error a problem raises; a subclass names its own (PoolDefinitionError, ...)
    error: ClassVar[type[LocatedError]] = LocatedError
    #: the line told when no node says where (a file that cannot be read, YAML without a mark)
    unmarked_line: ClassVar[int] = 1
    not_a_mapping: ClassVar[str] = "{what} must be a mapping of keys to values"
    given_twice: ClassVar[str] = "{key!r} is given twice in {what}"
    sort_allowed: ClassVar[bool] = True

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)

    def fail(self, node: yaml.Node | None, message: str) -> LocatedError:
        line = node.start_mark.line + 1 if node is not None else 1
        return self.error(self.path, line, message)

    def read(self, what: str = "the file") -> str:
        """The file's text; a file that cannot be read or is not UTF-8 is one error naming it."""
        line = self.unmarked_line
        try:
            return Path(self.path).read_text(encoding="utf-8")
        except OSError as exc:
            raise self.error(self.path, line, f"cannot read {what}: {exc.strerror or exc}") from None
        except UnicodeDecodeError:
            raise self.error(self.path, line, "not a text file (YAML in UTF-8 expected)") from None

    def compose(self, text: str, empty: str = "the file is empty") -> yaml.Node:
        """The document's root node; invalid YAML and an empty document are errors at their line."""
        try:
            root = yaml.compose(text, Loader=_FAST_LOADER)  # libyaml: ten times faster, the same nodes
        except yaml.YAMLError:
            try:  # the pure-Python reader's marks and words, which the documented messages quote
                root = yaml.compose(text, Loader=yaml.SafeLoader)
            except yaml.YAMLError as exc:
                mark = getattr(exc, "problem_mark", None)
                line = mark.line + 1 if mark is not None else self.unmarked_line
                raise self.error(self.path, line, f"not valid YAML: {getattr(exc, 'problem', exc)}") from None
        if root is None:
            raise self.fail(None, empty)
        return root

    def key(self, node: yaml.Node, what: str) -> str:
        """A mapping's key; a subclass may refuse some (an inventory refuses passwords)."""
        return str(node.value)

    def mapping(
        self, node: yaml.Node, allowed: set[str] | tuple[str, ...], what: str, required: tuple[str, ...] = ()
    ) -> dict[str, yaml.Node]:
        if not isinstance(node, yaml.MappingNode):
            raise self.fail(node, self.not_a_mapping.format(what=what))
        out: dict[str, yaml.Node] = {}
        for key_node, value in node.value:
            key = self.key(key_node, what)
            if key not in allowed:
                listed = ", ".join(sorted(allowed) if self.sort_allowed else allowed)
                raise self.fail(key_node, f"unknown key {key!r} in {what} (allowed: {listed})")
            if key in out:
                raise self.fail(key_node, self.given_twice.format(key=key, what=what))
            out[key] = value
        for key in required:
            if key not in out:
                raise self.fail(node, f"missing field {key!r} in {what}")
        return out

    def sequence(self, node: yaml.Node, what: str) -> list[yaml.Node]:
        if not isinstance(node, yaml.SequenceNode):
            raise self.fail(node, f"{what} must be a list")
        return list(node.value)

    def scalar(self, node: yaml.Node) -> Any:
        """A single value, typed the way YAML types it (2.2 a float, true a bool)."""
        if not isinstance(node, yaml.ScalarNode):
            raise self.fail(node, "expected a single value")
        return yaml.safe_load(yaml.serialize(node))

    def integer(self, node: yaml.Node, what: str, low: int, high: int) -> int:
        value = self.scalar(node)
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            raise self.fail(node, f"{what} must be a whole number from {low} to {high}, got {value!r}")
        return value

    def boolean(self, node: yaml.Node, what: str) -> bool:
        value = self.scalar(node)
        if not isinstance(value, bool):
            raise self.fail(node, f"{what} must be true or false, got {value!r}")
        return value
