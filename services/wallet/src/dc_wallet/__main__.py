"""``python -m dc_wallet``: the wallet HTTP API."""

import uvicorn

from dc_wallet.api import create_app
from dc_wallet.settings import WalletSettings


def main() -> None:
    settings = WalletSettings()
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
    )


if __name__ == "__main__":
    main()
