"""The mistakes a command reports as one line and exit status 2 (usage or input error)."""


class UserError(Exception):
    """A mistake on the command line or in an input file; printed as one line, exit 2."""
