"""``python -m dc_identity``: serve the identity API with the settings from the environment."""

import uvicorn

from dc_identity.api import create_app
from dc_identity.settings import IdentitySettings


def main() -> None:
    settings = IdentitySettings()
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
    )


if __name__ == "__main__":
    main()
