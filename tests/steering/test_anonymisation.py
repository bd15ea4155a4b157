"""An anonymised case (privacy retention, cases.events.case_anonymised) loses the income of its allocation
records in the live rows and in every history row; the quotas still count its quartile; the chain holds."""

from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection, transaction

from audit.models import Redaction
from cases.audit import acting_as
from privacy import services
from steering import aggregates, figures
from steering.models import Allocation

from .builders import EPCI_TPM
from .test_figures import YEAR_2026

pytestmark = pytest.mark.django_db


def income_values_in_steering_tables() -> list:
    """Every income value still stored in the allocation table and its history table, read by SQL."""
    found = []
    with connection.cursor() as cursor:
        for table in ("steering_allocation", "steering_historicalallocation"):
            cursor.execute(
                f"SELECT annual_income, income_per_uc FROM {table} "  # noqa: S608 - our table names
                "WHERE annual_income IS NOT NULL OR income_per_uc IS NOT NULL"
            )
            found += [(table, *row) for row in cursor.fetchall()]
    return found


def quotas(territory):
    q = figures.quotas(figures.scope_for(territory.admin), YEAR_2026, EPCI_TPM)
    return q["territory_q1"], q["territory_others"], [c["achieved"] for c in q["contingents"]]


def test_anonymisation_scrubs_allocation_income_live_and_history(territory, world):
    allocation = Allocation.objects.get(case=territory.rehoused[0])
    with transaction.atomic(), acting_as(world.social_worker, "correction des ressources"):
        allocation.annual_income, allocation.income_per_uc = Decimal("9100"), Decimal("9100")  # a second history row
        allocation.save()
    before = quotas(territory)
    assert income_values_in_steering_tables()  # the test can fail: there is income to scrub
    ids = [c.pk for c in territory.rehoused]

    services.anonymise_cases(ids, "identity", "conservation identity 24 mois (83)")

    assert income_values_in_steering_tables() == []
    scrubbed = Allocation.objects.get(pk=allocation.pk)
    # What the statistics need stays: the quartile code, the consumption units, the threshold applied.
    assert (scrubbed.quartile, scrubbed.consumption_units, scrubbed.quartile_threshold) == (
        1,
        Decimal("1.0"),
        Decimal("10000.00"),
    )
    assert Redaction.objects.filter(source="steering.historicalallocation").count() == 8 + 1
    aggregates.refresh_dirty()
    assert quotas(territory) == before
    aggregates.rebuild()
    assert quotas(territory) == before
    call_command("verify_audit_chain", stdout=StringIO())  # raises CommandError on a broken chain


def test_the_scrub_is_idempotent_over_several_rules(territory):
    case = territory.rehoused[1]
    services.anonymise_cases([case.pk], "identity", "conservation identity 24 mois (83)")
    redactions = Redaction.objects.count()
    services.anonymise_cases([case.pk], "contact", "conservation contact 24 mois (83)")
    assert Redaction.objects.filter(source="steering.historicalallocation").count() == 1
    assert Redaction.objects.count() == redactions + Redaction.objects.filter(rule__contains="contact").count()
    assert income_values_in_steering_tables() != []  # the other cases keep theirs
    assert not Allocation.objects.filter(case=case, annual_income__isnull=False).exists()
    call_command("verify_audit_chain", stdout=StringIO())
