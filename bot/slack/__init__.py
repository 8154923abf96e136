"""Slack: one folder per platform (app wiring, HTTP door, rendering, texts, team pulse)."""
