"""Oracle VM Manager 3.x, read GET-only over its Web Services REST API (docs/readiness.md)."""
