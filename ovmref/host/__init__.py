"""An Oracle VM Server as files: install layout, names, sysconfig, HA setup procedure."""
