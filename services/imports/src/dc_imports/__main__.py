"""``python -m dc_imports``: the imports HTTP API."""

from dc_common.service_app import serve
from dc_imports.api import create_app
from dc_imports.settings import ImportsSettings


def main() -> None:
    settings = ImportsSettings()
    serve(create_app(settings), settings.host, settings.port)


if __name__ == "__main__":
    main()
