"""The application's PostgreSQL sessions run without JIT compilation (config/settings/base.py)."""

import pytest
from django.db import connection


@pytest.mark.django_db
def test_postgresql_sessions_have_no_jit():
    if connection.vendor != "postgresql":
        pytest.skip("a PostgreSQL setting")
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone()[0] == "off"
