"""``python -m dc_gateway``: the public API on http://127.0.0.1:8000 by default."""

import uvicorn

from dc_gateway.api import create_app
from dc_gateway.settings import GatewaySettings


def main() -> None:
    settings = GatewaySettings()
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
    )


if __name__ == "__main__":
    main()
