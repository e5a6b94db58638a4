"""``python -m dc_wallet``: the wallet HTTP API."""

from dc_common.service_app import serve
from dc_wallet.api import create_app
from dc_wallet.settings import WalletSettings


def main() -> None:
    settings = WalletSettings()
    serve(create_app(settings), settings.host, settings.port)


if __name__ == "__main__":
    main()
