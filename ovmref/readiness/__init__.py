"""HA readiness of a pool as read out: its guests, their HA flags, and what HA would do (N+1)."""
