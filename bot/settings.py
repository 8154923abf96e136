"""Settings from the environment or `.env`; see .env.example for every one of them.

Tokens are SecretStr so they never show up in a repr, a log line or a traceback. Every other
setting is checked here, at start-up, so a bad value stops every command with one line naming
it, instead of a traceback now or a failure hours later when a pulse round opens.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any, get_args

from pydantic import SecretStr, ValidationError, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.pulse.scheduler import LEASE_SECONDS
from flows.model_schema import LANGUAGES
from flows.pulse import DEFAULT_MIN_RESPONSES, MIN_RESPONSES_FLOOR, PulseInputError, check_timezone

MAX_HOURS = 24 * 365
"""Longer than a year is a typo, and far beyond it Python's dates overflow."""
MIN_BODY_BYTES = 1024
MAX_BODY_BYTES = 64 * 1024 * 1024
MAX_SLACK_THREADS = 256
MAX_SLACK_PENDING = 100_000
MAX_TELEGRAM_CONCURRENCY = 1024
MAX_TELEGRAM_RATE = 1000
MAX_SCHEDULER_LEASE = LEASE_SECONDS
"""Seconds: with a try every third of the lease, a dead holder is replaced within 60 s."""
MAX_GRACE_DAYS = 3650

ALLOWED = {
    "maturity_lang": f"must be one of {', '.join(LANGUAGES)}",
    "maturity_timezone": "must be a known time zone such as Europe/Amsterdam",
    "maturity_pulse_min_responses": (
        f"must be a whole number of at least {MIN_RESPONSES_FLOOR}: it is never accepted below "
        f"{MIN_RESPONSES_FLOOR}, or answers could be traced to people"
    ),
    "maturity_pulse_deadline_hours": f"must be a number of hours above 0 and at most {MAX_HOURS}",
    "maturity_pulse_remind_hours": f"must be a number of hours above 0 and at most {MAX_HOURS}",
    "maturity_pulse_lease_seconds": "must be a number of seconds from 1 to 86400",
    "maturity_pulse_scheduler_lease_seconds": (
        f"must be a number of seconds from 1 to {MAX_SCHEDULER_LEASE:g}: a dead scheduler is "
        "replaced within 4/3 of it, which must stay within a minute"
    ),
    "maturity_max_body_bytes": (
        f"must be a whole number of bytes from {MIN_BODY_BYTES} to {MAX_BODY_BYTES}"
    ),
    "maturity_slack_threads": f"must be a whole number from 1 to {MAX_SLACK_THREADS}",
    "maturity_slack_max_pending": f"must be a whole number from 1 to {MAX_SLACK_PENDING}",
    "maturity_telegram_concurrency": (
        f"must be a whole number of updates from 1 to {MAX_TELEGRAM_CONCURRENCY}"
    ),
    "maturity_telegram_rate": (
        f"must be a number of messages a second from 0 (no pacing) to {MAX_TELEGRAM_RATE}"
    ),
    "maturity_log_format": "must be text or json",
    "maturity_workspace_grace_days": f"must be a whole number of days from 0 to {MAX_GRACE_DAYS}",
    "maturity_worker_name": "must be 1-64 characters of A-Z, a-z, 0-9, _ . : and -",
    "maturity_web_url": (
        "must be the dashboard's public base URL, http:// or https:// and a host, without a "
        "path, query or fragment (e.g. https://maturity.example.org)"
    ),
    "maturity_web_session_hours": f"must be a number of hours above 0 and at most {MAX_HOURS}",
}
"""What each checked setting allows, in the words the one-line error uses."""

RANGES: dict[str, tuple[float, float, bool]] = {
    "maturity_pulse_min_responses": (MIN_RESPONSES_FLOOR, math.inf, True),
    "maturity_pulse_deadline_hours": (0, MAX_HOURS, False),
    "maturity_pulse_remind_hours": (0, MAX_HOURS, False),
    "maturity_pulse_lease_seconds": (1, 86400, True),
    "maturity_pulse_scheduler_lease_seconds": (1, MAX_SCHEDULER_LEASE, True),
    "maturity_max_body_bytes": (MIN_BODY_BYTES, MAX_BODY_BYTES, True),
    "maturity_slack_threads": (1, MAX_SLACK_THREADS, True),
    "maturity_slack_max_pending": (1, MAX_SLACK_PENDING, True),
    "maturity_telegram_concurrency": (1, MAX_TELEGRAM_CONCURRENCY, True),
    "maturity_telegram_rate": (0, MAX_TELEGRAM_RATE, True),
    "maturity_workspace_grace_days": (0, MAX_GRACE_DAYS, True),
    "maturity_web_session_hours": (0, MAX_HOURS, False),
}
"""The numbers with bounds: (lowest, highest, whether the lowest itself is allowed)."""

_WHOLE = re.compile(r"[+-]?\d+")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    maturity_db: str = "maturity.db"
    """A SQLite file's path, or a PostgreSQL URL (`postgresql://user@host/db`): kept as text,
    since a Path would fold a URL's `//`. bot/storage checks it when it opens the database."""
    maturity_lang: str | None = None
    maturity_chart_dir: Path = Path("charts")
    maturity_models_dir: Path | None = None
    maturity_timezone: str = "Europe/Amsterdam"
    maturity_pulse_min_responses: int = DEFAULT_MIN_RESPONSES
    maturity_pulse_deadline_hours: float = 48
    maturity_pulse_remind_hours: float = 24
    maturity_pulse_lease_seconds: float = 120
    """How long a claimed pulse invitation is held before it may be sent again (a process that
    died between claiming and delivering it leaves the claim behind)."""
    maturity_pulse_scheduler_lease_seconds: float = MAX_SCHEDULER_LEASE
    """How long the lease that makes one process (of all sharing the database) the pulse
    scheduler lasts unrenewed: the longest the schedule can go unrun after its holder died."""
    maturity_pulse_admins: str = ""
    """Comma-separated platform user ids (Slack `U…`) who may start and manage any pulse."""
    maturity_max_body_bytes: int = 1_048_576
    """The largest HTTP request body the Slack and Telegram endpoints read (413 beyond)."""
    maturity_workspace_grace_days: int = 30
    """Days an uninstalled Slack workspace's data is kept (a reinstall in time keeps it)."""
    maturity_slack_threads: int = 8
    """Threads that do the work of acknowledged Slack requests (Web API calls, storage)."""
    maturity_slack_max_pending: int = 1000
    """Acknowledged Slack requests waiting or in work at most; beyond it a user is told the bot
    is busy (nothing is stored) instead of waiting minutes."""
    maturity_telegram_concurrency: int = 128
    """Telegram updates handled at once (one user's are always handled in order). An update
    mostly waits on the Bot API; measured with bench/load_telegram.py on a 2-core machine, many
    at once cost no CPU per update and keep the bot busy when the API answers slowly."""
    maturity_telegram_rate: float = 30
    """Messages a second the Telegram bot sends to all chats together: Telegram's limit is
    about 30; 0 paces nothing (a Bot API server without Telegram's limits, a benchmark)."""
    maturity_log_format: str = "text"
    """Log lines as text (for a terminal) or json (one object a line, for a log collector)."""
    maturity_worker_name: str | None = None
    """This process's name in /metrics and JSON logs (default: its process id)."""
    maturity_web_url: str | None = None
    """The dashboard's public base URL (bot/web): sign-in links are built from it, and its
    cookie is Secure when it is https. Unset: the chat says the dashboard is not set up."""
    maturity_web_session_hours: float = 8
    """How long a dashboard sign-in lasts before the person asks the bot for a new link."""

    telegram_bot_token: SecretStr | None = None
    telegram_base_url: str | None = None
    telegram_base_file_url: str | None = None
    telegram_webhook_secret: SecretStr | None = None

    slack_bot_token: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_api_url: str | None = None
    slack_client_id: str | None = None
    """With SLACK_CLIENT_SECRET: OAuth mode, "Add to Slack" for many workspaces (HTTP mode)."""
    slack_client_secret: SecretStr | None = None
    slack_redirect_uri: str | None = None
    """OAuth mode: the public https URL of /slack/oauth_redirect (default: the app's setting)."""

    @field_validator("maturity_lang", mode="before")
    @classmethod
    def _language(cls, value: Any) -> str | None:
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        if not isinstance(value, str) or value.strip().lower()[:2] not in LANGUAGES:
            raise ValueError(ALLOWED["maturity_lang"])
        return value.strip()

    @field_validator("maturity_timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            check_timezone(value)
        except PulseInputError:
            raise ValueError(ALLOWED["maturity_timezone"]) from None
        return value

    @field_validator(
        "maturity_pulse_min_responses",
        "maturity_max_body_bytes",
        "maturity_slack_threads",
        "maturity_slack_max_pending",
        "maturity_telegram_concurrency",
        "maturity_workspace_grace_days",
        mode="before",
    )
    @classmethod
    def _whole_number(cls, value: Any) -> Any:
        """pydantic takes 5.0 for an int; a count written as 2.5 or 5.0 is a mistake to say."""
        if isinstance(value, str):
            if not _WHOLE.fullmatch(value.strip()):
                raise ValueError("not a whole number")
            return int(value.strip())
        if isinstance(value, float):
            raise ValueError("not a whole number")
        return value

    @field_validator("maturity_log_format", mode="before")
    @classmethod
    def _log_format(cls, value: Any) -> str:
        text = value.strip().lower() if isinstance(value, str) else value
        if text == "":
            return "text"
        if text not in ("text", "json"):
            raise ValueError(ALLOWED["maturity_log_format"])
        return text

    @field_validator("maturity_worker_name", mode="before")
    @classmethod
    def _worker_name(cls, value: Any) -> str | None:
        from bot.observability import WORKER_NAME

        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        if not isinstance(value, str) or not WORKER_NAME.fullmatch(value.strip()):
            raise ValueError(ALLOWED["maturity_worker_name"])
        return value.strip()

    @field_validator("maturity_web_url", mode="before")
    @classmethod
    def _web_url(cls, value: Any) -> str | None:
        """Checked at start-up: a link built from a bad base reaches nobody, and the person
        would only find out by clicking it."""
        from urllib.parse import urlsplit

        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        if not isinstance(value, str):
            raise ValueError(ALLOWED["maturity_web_url"])
        try:
            parts = urlsplit(value.strip())
            parts.port  # noqa: B018 - raises ValueError on a bad port
        except ValueError:
            raise ValueError(ALLOWED["maturity_web_url"]) from None
        if (
            parts.scheme not in ("http", "https")
            or not parts.hostname
            or parts.path not in ("", "/")
            or parts.query
            or parts.fragment
            or parts.username
            or parts.password
        ):
            raise ValueError(ALLOWED["maturity_web_url"])
        return f"{parts.scheme}://{parts.netloc}"

    @field_validator(*RANGES)
    @classmethod
    def _in_range(cls, value: float, info: ValidationInfo) -> float:
        """Refused here, not when used: 0 or less hours would close a round as it opens, nan
        or inf would crash the scheduler's tick then, and 1e300 overflows the date."""
        lowest, highest, lowest_allowed = RANGES[info.field_name]
        above = lowest <= value if lowest_allowed else lowest < value
        if not math.isfinite(value) or not above or value > highest:
            raise ValueError(ALLOWED[info.field_name])
        return value

    @model_validator(mode="after")
    def _remind_before_the_deadline(self) -> Settings:
        if self.maturity_pulse_remind_hours >= self.maturity_pulse_deadline_hours:
            raise ValueError(
                "MATURITY_PULSE_REMIND_HOURS must be less than MATURITY_PULSE_DEADLINE_HOURS "
                f"(got {self.maturity_pulse_remind_hours:g} and "
                f"{self.maturity_pulse_deadline_hours:g}): a reminder after the round closed "
                "reaches nobody"
            )
        return self

    @property
    def pulse_admins(self) -> frozenset[str]:
        return frozenset(
            part.strip() for part in self.maturity_pulse_admins.split(",") if part.strip()
        )


def load_settings() -> Settings:
    """Raises pydantic's ValidationError; `describe` turns it into the line the user sees."""
    return Settings()


def describe(exc: ValidationError) -> str:
    """One line for all the wrong settings: the variable to fix and what it allows. A value is
    quoted back only when it is not a secret, so a mistyped token never lands in a log."""
    parts = []
    for error in exc.errors():
        field = str(error["loc"][0]) if error["loc"] else ""
        if not field:  # a rule between settings: its message names them
            parts.append(str(error.get("msg", "")).removeprefix("Value error, "))
            continue
        name = field.upper() or "a setting"
        allowed = ALLOWED.get(field) or _pydantic_words(error)
        given = error.get("input")
        if _is_secret(field) or not isinstance(given, str | int | float):
            parts.append(f"{name} {allowed}")
        else:
            parts.append(f"{name} {allowed} (got {str(given)[:40]!r})")
    return "; ".join(dict.fromkeys(parts))


def _pydantic_words(error: Any) -> str:
    return "is not valid: " + str(error.get("msg", "")).replace("\n", " ")


def _is_secret(field: str) -> bool:
    """Unknown fields count as secret: better a line without the value than a leaked token."""
    info = Settings.model_fields.get(field)
    return info is None or SecretStr in (info.annotation, *get_args(info.annotation))
