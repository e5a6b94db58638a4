"""The Jobtracker: the worker's installable web app (a PWA) at ``/app/``, served by the gateway.

Plain JavaScript modules, no build step; the labels come from :mod:`.words` and the gettext
domain ``jobtracker`` (``portal/locale/<lang>/LC_MESSAGES/jobtracker.po``), through
``/app/messages.json``.
"""

from dc_gateway.jobtracker_app.app import mount_jobtracker_app

__all__ = ["mount_jobtracker_app"]
