"""``python -m dc_services``: the services-mgmt HTTP API."""

import uvicorn

from dc_services.api import create_app
from dc_services.settings import ServicesSettings


def main() -> None:
    settings = ServicesSettings()
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
    )


if __name__ == "__main__":
    main()
