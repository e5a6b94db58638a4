"""The test session shares one internal secret, as the processes of a deployment do: every
settings object built in a test, and every worker process a test starts, reads it."""

import os
import secrets

from dc_common.internal import TOKEN_VARIABLE

os.environ.setdefault(TOKEN_VARIABLE, secrets.token_urlsafe(24))
