"""structlog for every process: JSON in production, readable in development.

No national number is ever written to a log. The code logs ids that are not personal (a
company, a grant, a service, an import) and, where a person must be followed, a keyed
:func:`pseudonym`. As a safety net, :func:`configure_logging` also masks anything that looks
like a Belgian national number (11 digits passing the mod-97 check, also written
``YY.MM.DD-SSS.CC``) in every structlog event (:func:`mask_national_numbers`) and in every record
the standard-library handler it installs writes (:class:`NationalNumberFilter`: uvicorn's access
log, httpx, temporalio...).
"""

import hashlib
import hmac
import logging
import re
import secrets
import sys
from collections.abc import Mapping, MutableMapping
from typing import Any

import structlog
from opentelemetry import trace
from pydantic import SecretStr
from structlog.typing import EventDict

from dc_common.belgian_numbers import national_number_century
from dc_common.settings import ServiceSettings

MASK = "<national-number>"

# 11 digits, or the written form 85.03.12-124.61, not part of a longer run of letters or digits
# (so a user number, a login, a hash or a UUID is never taken for one).
_CANDIDATE = re.compile(
    r"(?<![0-9A-Za-z])"
    r"(?:\d{11}|\d{2}\.\d{2}\.\d{2}[-.]\d{3}\.\d{2})"
    r"(?![0-9A-Za-z])"
)
_PSEUDONYM_LABEL = b"dc-log-pseudonym"

#: The one processor chain every logger uses; changed in place, so loggers cached before a
#: later :func:`configure_logging` (or :func:`structlog.testing.capture_logs`) follow it.
_PROCESSORS: list[structlog.types.Processor] = []
_pseudonym_key = secrets.token_bytes(32)


def mask_text(text: str) -> str:
    """``text`` with every national number in it replaced by :data:`MASK`."""

    def replace(match: re.Match[str]) -> str:
        digits = re.sub(r"\D", "", match.group())
        return MASK if national_number_century(digits) is not None else match.group()

    return _CANDIDATE.sub(replace, text)


def _mask_value(value: Any) -> Any:
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, bool) or value is None or isinstance(value, float):
        return value
    if isinstance(value, int):
        text = str(value)
        return MASK if mask_text(text) != text else value
    if isinstance(value, Mapping):
        return {key: _mask_value(item) for key, item in value.items()}
    if type(value) in (list, tuple, set, frozenset):
        return type(value)(_mask_value(item) for item in value)
    # Anything else (a model, an exception...) is rendered by its repr: mask that if need be.
    text = repr(value)
    masked = mask_text(text)
    return value if masked == text else masked


def mask_national_numbers(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: mask national numbers in every value of the event (and in the
    formatted exception, when it runs after ``format_exc_info``)."""
    return {key: _mask_value(value) for key, value in event_dict.items()}


class NationalNumberFilter(logging.Filter):
    """Standard-library filter: the record's message (its arguments merged in), exception and
    stack text, with every national number masked. Never drops a record."""

    _formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # arguments that do not fit: mask what is there
            message = f"{record.msg} {record.args}"
        masked = mask_text(message)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_text(record.exc_text)
        if record.stack_info:
            record.stack_info = mask_text(record.stack_info)
        return True


def pseudonym(value: str) -> str:
    """A keyed pseudonym of a personal id (a national number), to follow one person through the
    logs without writing who they are. The same value gives the same pseudonym in every process
    configured with the same key (see :func:`configure_logging`)."""
    digest = hmac.new(_pseudonym_key, value.encode(), hashlib.sha256).hexdigest()
    return f"p-{digest[:16]}"


class _CurrentStderr:
    """``sys.stderr`` as it is when a line is written, not when logging was configured (a test
    harness, or a daemon, may replace it meanwhile)."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def add_trace_id(_logger: object, _method: str, event: EventDict) -> EventDict:
    """The trace a line belongs to, when one is being recorded (``docs/operations.md``)."""
    context = trace.get_current_span().get_span_context()
    if context.is_valid:
        event.setdefault("trace_id", format(context.trace_id, "032x"))
    return event


def configure_logging(
    *, json: bool = False, level: str = "INFO", pseudonym_key: SecretStr | None = None
) -> None:
    """structlog's chain (with the masking processor just before the renderer) and, when the
    root logger has no handler yet, a standard-library handler to stderr with the masking
    filter. ``pseudonym_key``: the secret the pseudonyms are keyed with (a key derived from it);
    without one the process keeps a random key, so its pseudonyms match only its own."""
    global _pseudonym_key
    if pseudonym_key is not None and pseudonym_key.get_secret_value():
        secret = pseudonym_key.get_secret_value().encode()
        _pseudonym_key = hmac.new(secret, _PSEUDONYM_LABEL, hashlib.sha256).digest()
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer()
    )
    _PROCESSORS[:] = [
        structlog.contextvars.merge_contextvars,
        add_trace_id,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
        mask_national_numbers,
        renderer,
    ]
    structlog.configure(
        processors=_PROCESSORS,
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level)),
        logger_factory=structlog.PrintLoggerFactory(_CurrentStderr()),  # type: ignore[arg-type]
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(_CurrentStderr())
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
    handler.addFilter(NationalNumberFilter())
    logging.basicConfig(level=level, handlers=[handler])


def configure_logging_for(settings: ServiceSettings) -> None:
    """Logging as a service's settings say, pseudonyms keyed by the internal secret (so every
    process of a deployment gives one person the same pseudonym)."""
    configure_logging(
        json=settings.log_json, level=settings.log_level, pseudonym_key=settings.internal_token
    )
