"""`ovm-conformance rules`: the rule catalog, as a table or JSON, for one or more releases."""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from conformance.catalog import Catalog, Rule, load_catalog
from conformance.errors import UserError
from conformance.options import parse_releases
from conformance.render_json import catalog_fields
from conformance.statuses import EXIT_CODE_HELP

EXAMPLES = """\
examples:
  ovm-conformance rules                        every rule
  ovm-conformance rules --release 3.x          the rules stated for Oracle VM 3.x
  ovm-conformance rules --release 2.1,2.2 --format json
"""


def add_parser(sub: Any) -> None:
    rules = sub.add_parser(
        "rules",
        help="list the rule catalog",
        description="Lists every documented HA rule: its id, releases, kind, what checking it on a real "
        "pool needs, and its statement.",
        epilog=EXAMPLES + "\n" + EXIT_CODE_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    rules.add_argument("--release", default="all", help="2.1, 2.2, 3.x, a comma list, or all (default)")
    rules.add_argument("--format", choices=("table", "json"), default="table")
    rules.add_argument("--catalog", type=Path, help="catalog file (default: the suite's rules.yaml)")
    rules.set_defaults(handler=cmd_rules)


def cmd_rules(args: argparse.Namespace, extra: list[str]) -> int:
    if extra:
        raise UserError(f"unexpected arguments after '--': {' '.join(extra)}")
    catalog = load_catalog(args.catalog)
    releases = parse_releases(args.release)
    rules = tuple(r for r in catalog.rules if any(r.applies_to(release) for release in releases))
    if args.format == "json":
        print(json.dumps([catalog_fields(r) for r in rules], indent=2, ensure_ascii=False))
    else:
        print(_rule_table(catalog, rules))
    return 0


def _rule_table(catalog: Catalog, rules: Sequence[Rule]) -> str:
    rows = [("ID", "RELEASES", "KIND", "CHECKS", "STATEMENT")]
    rows += [(r.id, ",".join(x.value for x in r.releases), r.kind, r.checks, r.statement) for r in rules]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = [
        "  ".join(cell.ljust(w) for cell, w in zip(row[:4], widths, strict=True)) + "  " + row[4]
        for row in rows
    ]
    lines.append(f"{len(rules)} of {len(catalog.rules)} rules")
    return "\n".join(lines)
