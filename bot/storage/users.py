"""Who a person is to the bot: one row per platform identity."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class User:
    id: int
    channel: str
    external_id: str
    lang: str
