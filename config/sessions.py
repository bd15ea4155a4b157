"""Session engine: sessions end after SESSION_COOKIE_AGE (8 hours) without a request.

Django's database sessions, with the expiry pushed back by activity: a request writes the session
again when its stored expiry is more than REFRESH_SECONDS old, so a session ends between 8 hours
minus a minute and 8 hours after the last request. (SESSION_SAVE_EVERY_REQUEST would write the
session row on every page: three more queries per request.)
"""

from datetime import timedelta

from django.conf import settings
from django.contrib.sessions.backends import db
from django.utils import timezone

REFRESH_SECONDS = 60


class SessionStore(db.SessionStore):
    def _get_session_from_db(self):
        stored = super()._get_session_from_db()
        if stored is not None:
            renewed_expiry = timezone.now() + timedelta(seconds=settings.SESSION_COOKIE_AGE - REFRESH_SECONDS)
            if stored.expire_date < renewed_expiry:
                self.modified = True  # saved at the end of the request with a new expiry
        return stored
