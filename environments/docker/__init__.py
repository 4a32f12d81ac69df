"""Containers that look like Oracle VM Servers, for proving the SSH driver on real sshd and files.

`image` builds the lookalike image locally (no registry needed); `pool` runs a set of them on a
private network and cleans up after itself. Both need the optional `containers` dependencies.
"""
