"""Transition tables of the state machines the pool is made of (after python-h11's `_state.py`).

One module per machine: `power` (an Oracle VM Server, as the harness powers it) and `guest` (a guest's
record in the server pool master's database). Each table says, for every state, which events may
happen there and the state each one leads to, and why, citing the documents; whatever is not in the
table raises `IllegalTransition` and changes nothing. `markdown` draws a table for the docs.
"""
