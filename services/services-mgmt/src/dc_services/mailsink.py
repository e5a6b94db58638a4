"""A local SMTP server for the embedded default: keeps every message in a Maildir under var/."""

import argparse
import asyncio
import mailbox
from email.message import Message
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Mailbox

DEFAULT_MAILDIR = Path("var/mail")


def read_messages(maildir: Path = DEFAULT_MAILDIR) -> list[Message]:
    """Every message the sink received, oldest first (for developers and tests)."""
    if not maildir.exists():
        return []
    box = mailbox.Maildir(maildir, create=False)
    messages = sorted(box, key=lambda message: message.get_date())
    return list(messages)


def start(host: str, port: int, maildir: Path) -> Controller:
    for folder in ("cur", "new", "tmp"):
        (maildir / folder).mkdir(parents=True, exist_ok=True)
    controller = Controller(Mailbox(maildir), hostname=host, port=port)
    controller.start()
    return controller


async def _serve_forever() -> None:
    await asyncio.Event().wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=1025)
    parser.add_argument("--maildir", type=Path, default=DEFAULT_MAILDIR)
    args = parser.parse_args()
    controller = start(args.host, args.port, args.maildir)
    print(
        f"mail sink on smtp://{args.host}:{args.port}, messages in {args.maildir}/new", flush=True
    )
    try:
        asyncio.run(_serve_forever())
    except KeyboardInterrupt:
        pass
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
