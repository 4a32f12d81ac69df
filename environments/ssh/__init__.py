"""The `ssh` environment: a real Oracle VM pool, reached over SSH, read-only unless told otherwise.

`inventory` says which servers and how to reach them, `connection` runs
allow-listed commands on one server, `remotefs` shows a server's files to
ovmref's checks through the HostFS port.
"""
