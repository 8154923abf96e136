"""Telegram: one folder per platform (app wiring, webhook, rendering, texts, team pulse)."""
