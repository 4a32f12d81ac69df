"""`ovm-conformance campaign`: seeded random pools and fault schedules, checked for HA's invariants.

A schedule (schedule.py) is a pool, its guests and timed faults. It is run
by rendering it as a Gherkin scenario in the project's own step vocabulary
(gherkin.py) and executing that scenario's lines with the step definitions
themselves (interpreter.py), so a violation found here is, word for word,
a scenario that fails the same way under pytest-bdd. Hypothesis draws the
schedules (strategies.py) and shrinks each violation (search.py); shards of
the campaign run as pytest tests, so pytest-xdist spreads them over cores
and machines (shards.py); the report reuses the suite's renderers (report.py).
"""
