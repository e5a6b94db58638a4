"""``python -m dc_imports``: the imports HTTP API."""

import uvicorn

from dc_imports.api import create_app
from dc_imports.settings import ImportsSettings


def main() -> None:
    settings = ImportsSettings()
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
    )


if __name__ == "__main__":
    main()
