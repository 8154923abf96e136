"""Log lines for an operator: today's text, or one JSON object a line (MATURITY_LOG_FORMAT=json)
for a log collector, each with the request id of the request whose work wrote it.

What never reaches a log line, whoever writes it: a token or secret (ours are redacted by value,
tracebacks included, and anything shaped like a Slack token, a Slack signature or a Telegram bot
token by pattern), and a request's body. Our own modules never log a body; libraries do (Bolt
writes bodies, and for a bad signature the signature, into some messages), so a library's
message that speaks of a body, payload or signature is replaced by a neutral line. A body can
hold a user's answers, and a flood of large bodies would fill the disk.

The request id lives in a context variable: set when a request arrives (bot/observability/
requests.py), copied into the thread that does its work, read by every line written there.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import uuid
from collections.abc import Iterable
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import TextIO

from bot.observability import worker_name

LOG_FORMATS = ("text", "json")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
QUIET = {
    "httpx": logging.WARNING,  # a line per call, with the URL (Telegram's carries the token)
    "transitions": logging.WARNING,  # a line per state change
    "apscheduler.executors.default": logging.WARNING,  # two lines per pulse tick
}

REQUEST_ID: ContextVar[str | None] = ContextVar("maturity_request_id", default=None)
"""The id of the HTTP request (a Slack request, a Telegram webhook update) being handled."""

SECRET_SHAPES = re.compile(
    r"xox[a-z]-[A-Za-z0-9-]{6,}"  # Slack bot, user and legacy tokens
    r"|xapp-[A-Za-z0-9-]{6,}"  # Slack app-level tokens
    r"|v0=[0-9a-fA-F]{64}"  # Slack request signatures
    r"|\b[0-9]{5,12}:[A-Za-z0-9_-]{30,}"  # Telegram bot tokens
)
REDACTED = "<redacted>"
NEUTRAL = "a library's message about a request (its content is never logged)"


def new_request_id() -> str:
    return uuid.uuid4().hex


class RedactSecrets(logging.Filter):
    """Keeps the given secrets, and anything shaped like a token or a signature, out of a log
    line, tracebacks included (URLs and exceptions carry them)."""

    def __init__(self, *secrets: str) -> None:
        super().__init__()
        self.secrets = sorted({s for s in secrets if s}, key=len, reverse=True)

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        return SECRET_SHAPES.sub(REDACTED, text)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        record.msg, record.args = self.redact(message), None
        if record.exc_info:  # another handler may have cached the traceback text already
            text = record.exc_text or logging.Formatter().formatException(record.exc_info)
            record.exc_text = self.redact(text)
        return True


class WithoutRequestContent(logging.Filter):
    """A message that speaks of a request's body, payload or signature is replaced by a neutral
    line; everything else passes unchanged. For libraries' loggers (Bolt copies the filters of
    the logger it is given to every logger it makes); our own lines never hold content."""

    WORDS = ("body", "signature", "request (", "payload")

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage().lower()
        if any(word in message for word in self.WORDS):
            record.msg = NEUTRAL
            record.args = ()
            record.exc_info = record.exc_text = None  # a traceback's message may quote it too
        return True


class Scrubbed(logging.Filter):
    """The filter of every handler we install: libraries' request content out, secrets out,
    and the request id on the record (read in the thread that logs, so it is that work's)."""

    def __init__(self, *secrets: str) -> None:
        super().__init__()
        self.content = WithoutRequestContent()
        self.secrets = RedactSecrets(*secrets)

    def filter(self, record: logging.LogRecord) -> bool:
        if not _ours(record.name):
            self.content.filter(record)
        self.secrets.filter(record)
        if not hasattr(record, "request_id"):
            record.request_id = REQUEST_ID.get()
        return True


def _ours(name: str) -> bool:
    return (name == "bot" or name.startswith("bot.")) and name != "bot.slack.bolt"


class TextLines(logging.Formatter):
    """Today's format, with the request id at the end of a request's lines."""

    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        request_id = getattr(record, "request_id", None)
        return f"{line} [request {request_id}]" if request_id else line


class JsonLines(logging.Formatter):
    """One JSON object a line: time (UTC, ISO 8601), level, logger, message, worker, and
    request_id and exception when there are."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, str] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "worker": worker_name(),
        }
        request_id = getattr(record, "request_id", None)
        if request_id:
            entry["request_id"] = request_id
        if record.exc_info or record.exc_text:
            entry["exception"] = record.exc_text or self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False)


class _Handler(logging.StreamHandler):
    """Ours, so a second setup replaces it instead of adding another."""


def setup_logging(
    log_format: str = "text", *, secrets: Iterable[str] = (), stream: TextIO | None = None
) -> None:
    """Log INFO and above to stderr as `log_format` (text or json), scrubbed (see the module).

    Like logging.basicConfig, it leaves a root logger that has handlers already (a host
    program's, pytest's) with those handlers, and only adds the scrubbing to them."""
    if log_format not in LOG_FORMATS:
        raise ValueError(f"log format must be one of {', '.join(LOG_FORMATS)}")
    root = logging.getLogger()
    scrub = Scrubbed(*secrets)
    for old in [h for h in root.handlers if isinstance(h, _Handler)]:
        root.removeHandler(old)
    if root.handlers:
        for handler in root.handlers:
            handler.addFilter(scrub)
    else:
        handler = _Handler(stream or sys.stderr)
        handler.setFormatter(JsonLines() if log_format == "json" else TextLines())
        handler.addFilter(scrub)
        root.addHandler(handler)
        root.setLevel(logging.INFO)
    for name, level in QUIET.items():
        logging.getLogger(name).setLevel(level)
