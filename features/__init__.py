"""The feature suite: Gherkin scenarios (*.feature) and the rule catalog (rules.yaml), as package data."""
