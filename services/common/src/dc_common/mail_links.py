"""The links in the e-mails to a household: signed, expiring, for one service of one household.

Flanders lets a household without an online account confirm or contest a service from the
e-mail it receives. services-mgmt signs the link when it writes the mail; the gateway's portal
opens it without a login. The link names the service, the household and the version of the
service the mail was about; the portal treats it as spent once the household acted on the
service, or the service changed, after that version (a change brings a new mail with a new
link), so it serves once.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import timedelta

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from pydantic import SecretStr

from dc_common.internal import required

SALT = "dc-mail-link"


class LinkExpired(Exception):
    """Signed by the platform, but older than links live."""


class LinkInvalid(Exception):
    """Not a link the platform signed (mistyped, cut off or forged)."""


@dataclass(frozen=True)
class MailLink:
    service_id: str
    user_number: str
    version: int
    """The service's version the mail was written for."""


def link_secret(own: SecretStr | None, internal_token: SecretStr | None) -> str:
    """The key that signs the links: its own setting, else derived from the internal secret
    (never the secret itself); the sender and the reader must share it."""
    if own is not None:
        return own.get_secret_value()
    key = required(internal_token).get_secret_value().encode()
    return hmac.new(key, SALT.encode(), hashlib.sha256).hexdigest()


class MailLinks:
    def __init__(self, secret: str, *, lifetime: timedelta) -> None:
        self._signer = URLSafeTimedSerializer(secret, salt=SALT)
        self._lifetime = lifetime

    def sign(self, link: MailLink) -> str:
        return self._signer.dumps([link.service_id, link.user_number, link.version])

    def read(self, token: str) -> MailLink:
        try:
            service_id, user_number, version = self._signer.loads(
                token, max_age=int(self._lifetime.total_seconds())
            )
        except SignatureExpired as expired:
            raise LinkExpired() from expired
        except (BadSignature, ValueError, TypeError) as bad:
            raise LinkInvalid() from bad
        if not (isinstance(service_id, str) and isinstance(user_number, str)):
            raise LinkInvalid()
        if not isinstance(version, int):
            raise LinkInvalid()
        return MailLink(service_id, user_number, version)
