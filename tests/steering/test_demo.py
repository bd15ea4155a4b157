"""The demo territory shows a year of allocations across contingents, inside and outside QPV."""

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.utils import timezone

from steering import figures
from steering.models import Allocation, TerritoryYear

pytestmark = pytest.mark.django_db


def test_demo_year_of_allocations_is_idempotent_and_meaningful(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        call_command("load_demo", stdout=StringIO())
    assert Allocation.objects.count() >= 60
    assert Allocation.objects.filter(in_qpv=True).exists() and Allocation.objects.filter(in_qpv=False).exists()
    assert Allocation.objects.values("reservataire").distinct().count() == 4  # AL, State, Métropole, own stock
    assert Allocation.objects.filter(quartile=1).exists() and Allocation.objects.filter(quartile=2).exists()
    assert TerritoryYear.objects.filter(year=timezone.localdate().year).exists()
    count = Allocation.objects.count()
    out = StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("load_demo", stdout=out)
    assert "Pilotage : 0 relogement(s) ajouté(s)." in out.getvalue()
    assert Allocation.objects.count() == count

    admin = get_user_model().objects.get(username="admin.territoire")
    today = timezone.localdate()
    twelve_months = figures.Filters(f"{today.year - 1}-{today.month:02d}", f"{today:%Y-%m}")
    data = figures.dashboard(figures.scope_for(admin), twelve_months)
    rehoused = {t.key: t for t in data["tables"]}["relogements_reservataire"].rows
    assert len(rehoused) == 4 and all(isinstance(row[1], int) and row[1] >= 5 for row in rehoused)
    quota = figures.quotas(figures.scope_for(admin), figures.Filters(f"{today.year}-01", f"{today:%Y-%m}"), "248300543")
    assert len(quota["contingents"]) >= 4 and quota["territory_q1"]["total"] > 0
