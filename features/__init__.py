"""The feature suite: Gherkin scenarios (*.feature) and the rule catalog (rules.yaml), shipped as package data."""
