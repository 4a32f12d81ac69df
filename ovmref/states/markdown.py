"""Draw a transition table as Markdown, for the docs (the step glossary carries both machines)."""

from __future__ import annotations

from collections.abc import Mapping

from ovmref.states.table import E, S, TransitionTable


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def markdown(table: TransitionTable[S, E], shown_as: Mapping[S, str] | None = None) -> str:
    """The states and what each means, a grid of state x event -> next state (blank: the event
    cannot happen there, and raises), and every transition with why it exists."""
    out = [
        "| state | means |" + (" Oracle VM Manager shows |" if shown_as else ""),
        "|---|---|" + ("---|" if shown_as else ""),
    ]
    for state, meaning in table.states.items():
        shown = f" {shown_as[state]} |" if shown_as else ""
        out.append(f"| `{state}` | {_cell(meaning)} |{shown}")
    out += ["", "| event | is |", "|---|---|"]
    out += [f"| `{event}` | {_cell(meaning)} |" for event, meaning in table.events.items()]
    events = list(table.events)
    out += ["", "| from \\ event | " + " | ".join(f"`{e}`" for e in events) + " |"]
    out.append("|---|" + "---|" * len(events))
    for state in table.states:
        cells = [f"`{table.next_state(state, e)}`" if table.allows(state, e) else "" for e in events]
        out.append(f"| `{state}` | " + " | ".join(cells) + " |")
    sources: dict[tuple[E, S, str], list[S]] = {}  # transitions that share their event, target and why
    for t in table.transitions:
        sources.setdefault((t.event, t.target, t.why), []).append(t.source)
    out += ["", "| from | event | to | why |", "|---|---|---|---|"]
    for (event, target, why), froms in sources.items():
        out.append(f"| {', '.join(f'`{s}`' for s in froms)} | `{event}` | `{target}` | {_cell(why)} |")
    return "\n".join(out) + "\n"
