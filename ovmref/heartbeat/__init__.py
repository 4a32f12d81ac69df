"""o2hb and o2net: the disk and network heartbeats of the O2CB cluster stack, sans-IO."""
