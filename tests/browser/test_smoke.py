import pytest

from .support import check_a11y

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_admin_login(people):
    from cases.models import Commune

    assert Commune.objects.count() > 10
    ts = people.open("ts")
    ts.page.goto("/admin/login/")
    ts.step("login")
    check_a11y(ts, "admin-login")
