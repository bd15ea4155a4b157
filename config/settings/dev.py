"""Embedded default (`bin/serve`): SQLite file, eager tasks, console e-mail, debug OFF.

With DEBUG off the demo shows the product's own French error pages (templates/404.html…), never
Django's debug pages; WhiteNoise serves the static files. Set DJANGO_DEBUG=1 to debug locally.
"""

from .base import *  # noqa: F403

DEBUG = env.bool("DJANGO_DEBUG", default=False)  # noqa: F405
# Static files straight from the app folders too, so `runserver` works before `collectstatic`.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG
# The demo's logins work without an authenticator app; PPGDID_SECOND_FACTOR=1 shows the second factor.
PPGDID_SECOND_FACTOR = env.bool("PPGDID_SECOND_FACTOR", default=False)  # noqa: F405
