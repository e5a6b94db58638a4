"""``python -m dc_identity``: serve the identity API with the settings from the environment."""

from dc_common.service_app import serve
from dc_identity.api import create_app
from dc_identity.settings import IdentitySettings


def main() -> None:
    settings = IdentitySettings()
    serve(create_app(settings), settings.host, settings.port)


if __name__ == "__main__":
    main()
