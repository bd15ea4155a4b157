"""Tests: same as base; the database comes from DATABASE_URL (PostgreSQL in CI) or SQLite."""

from .base import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CELERY_TASK_ALWAYS_EAGER = True
CELERY_BROKER_URL = "memory://"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# WhiteNoise serves the app folders as in the demo; no collected folder is needed (nor warned about).
STATIC_ROOT = None
WHITENOISE_USE_FINDERS = True
# The suite signs supervisors and auditors in with force_login: tests/accounts turns the second factor on.
PPGDID_SECOND_FACTOR = False
