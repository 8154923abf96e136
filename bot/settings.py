"""Settings from the environment or `.env`; see .env.example for every one of them.

Tokens are SecretStr so they never show up in a repr, a log line or a traceback.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    maturity_db: Path = Path("maturity.db")
    maturity_lang: str | None = None
    maturity_chart_dir: Path = Path("charts")
    maturity_models_dir: Path | None = None
    maturity_timezone: str = "Europe/Amsterdam"
    maturity_pulse_min_responses: int = 5
    maturity_pulse_deadline_hours: float = 48
    maturity_pulse_remind_hours: float = 24
    maturity_pulse_admins: str = ""
    """Comma-separated platform user ids (Slack `U…`) who may start and manage any pulse."""
    maturity_max_body_bytes: int = 1_048_576
    """The largest HTTP request body the Slack and Telegram endpoints read (413 beyond)."""

    telegram_bot_token: SecretStr | None = None
    telegram_base_url: str | None = None
    telegram_base_file_url: str | None = None
    telegram_webhook_secret: SecretStr | None = None

    slack_bot_token: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_api_url: str | None = None

    @property
    def pulse_admins(self) -> frozenset[str]:
        return frozenset(
            part.strip() for part in self.maturity_pulse_admins.split(",") if part.strip()
        )


def load_settings() -> Settings:
    return Settings()
