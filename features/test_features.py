"""Binds every scenario of every .feature file in this directory as a test (pytest-bdd)."""

from pytest_bdd import scenarios

scenarios(".")
