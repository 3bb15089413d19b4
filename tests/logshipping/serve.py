"""The service process as `amf1 serve` runs it, for the end-to-end redaction test.

Logging is configured from the environment exactly as in production (`logshipping.configure()`),
then uvicorn serves `service.app.create_app` with its own logging and access log disabled.
"""

from __future__ import annotations

import uvicorn

import logshipping
from service.app import create_app
from service.settings import Settings


def main() -> None:
    """Configure logging from AMF1_* variables and serve until SIGTERM."""
    logshipping.configure()
    settings = Settings()
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
    )


if __name__ == "__main__":
    main()
