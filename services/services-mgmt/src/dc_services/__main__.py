"""``python -m dc_services``: the services-mgmt HTTP API."""

from dc_common.service_app import serve
from dc_services.api import create_app
from dc_services.settings import ServicesSettings


def main() -> None:
    settings = ServicesSettings()
    serve(create_app(settings), settings.host, settings.port)


if __name__ == "__main__":
    main()
