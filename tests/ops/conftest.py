"""A `replica` alias on the test database itself (a test mirror), so the routing decision of
cases/routing.py can be seen query by query. Unused unless a test sets PPGDID_READ_REPLICA."""

from django.conf import settings

if "replica" not in settings.DATABASES:
    settings.DATABASES["replica"] = {**settings.DATABASES["default"], "TEST": {"MIRROR": "default"}}
