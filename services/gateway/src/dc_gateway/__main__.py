"""``python -m dc_gateway``: the public API on http://127.0.0.1:8000 by default."""

from dc_common.service_app import serve
from dc_gateway.api import create_app
from dc_gateway.settings import GatewaySettings


def main() -> None:
    settings = GatewaySettings()
    serve(create_app(settings), settings.host, settings.port)


if __name__ == "__main__":
    main()
