"""Retention: rules at their boundary dates, anonymisation of live and history rows, the chain after
anonymisation (and its failure on any other change), legal holds, documents, the beat task."""

from datetime import timedelta
from io import StringIO

import pytest
import time_machine
from dateutil.relativedelta import relativedelta
from django.apps import apps
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from audit.chain import history_models, unchained_rows
from audit.models import AuditEntry, Redaction
from cases.models import Case, CaseCriterion, Household, HouseholdMember
from privacy import services
from privacy.export import store
from privacy.models import Anonymisation, LegalHold, RetentionRule, SubjectAccessExport
from privacy.tasks import apply_retention_task

pytestmark = pytest.mark.django_db

SECRETS = [
    "Enfantsecret",
    "Camille",
    "0611223344",
    "0699887766",
    "0600000000",
    "ancien.courriel@example.org",
    "menage.secret@example.org",
    "12 rue Imaginaire",
    "Auteurprésumé",
    "Bailleursecret",
    "Asthme sévère",
    "Récit détaillé",
    "Parent isolé",
    "Ménage hébergé, besoin",
    "Hébergé chez un ami",
]


def run(*args):
    out = StringIO()
    call_command("apply_retention", "--no-progress", *args, stdout=out)
    return out.getvalue()


def verify():
    out, err = StringIO(), StringIO()
    try:
        call_command("verify_audit_chain", stdout=out, stderr=err)
    except CommandError as exc:
        return False, out.getvalue() + err.getvalue() + str(exc)
    return True, out.getvalue()


def due_at(case):
    return case.closed_at + relativedelta(months=24)


def secrets_of(case):
    household = case.household
    return [*SECRETS, household.applicant_last_name, household.nud]


def tables_holding(texts) -> dict:
    """{table: [texts found]} over every history table and the case tables, read by SQL."""
    tables = {m._meta.db_table for m in history_models()}
    tables |= {apps.get_model(label)._meta.db_table for label in ("cases.household", "cases.householdmember")}
    tables |= {"cases_case", "cases_diagnostic", "cases_casecriterion"}
    found = {}
    with connection.cursor() as cursor:
        for table in sorted(tables):
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608 - our table names
            blob = "\n".join(str(value) for row in cursor.fetchall() for value in row)
            hits = [t for t in texts if t in blob]
            if hits:
                found[table] = hits
    return found


def test_the_fixture_has_communes_to_avoid_in_history(closed_case):
    listed = closed_case.diagnostic.history.model.areas_to_avoid.model
    assert listed.objects.count() >= 1


def test_dry_run_at_the_boundary_lists_by_rule_and_writes_nothing(closed_case):
    with time_machine.travel(due_at(closed_case) - timedelta(seconds=1), tick=False):
        assert "Aucun dossier à anonymiser." in run("--dry-run")
    with time_machine.travel(due_at(closed_case), tick=False):
        output = run("--dry-run")
    assert "[simulation] Règle Identité (83, 24 mois après clôture, à confirmer par le DPO)" in output
    assert f"ids {closed_case.pk}" in output
    assert "[simulation] Règle Violences" in output
    assert "cases.household : 1 ligne(s) courante(s)" in output
    assert "Règle Ressources" not in output  # statistics: kept
    assert not Redaction.objects.exists()
    assert not Anonymisation.objects.exists()
    assert Household.objects.get(pk=closed_case.household_id).phone == "0699887766"


def test_a_territory_rule_replaces_the_default(closed_case):
    RetentionRule.objects.create(departement="83", category="contact", months_after_closure=6, source="DPO du Var")
    with time_machine.travel(closed_case.closed_at + relativedelta(months=6), tick=False):
        output = run()
    assert "Règle Coordonnées (83, 6 mois après clôture, à confirmer par le DPO)" in output
    household = Household.objects.get(pk=closed_case.household_id)
    assert (household.phone, household.email) == ("", "")
    assert household.applicant_last_name != "Anonyme"  # identity: still 24 months
    assert set(Anonymisation.objects.values_list("category", flat=True)) == {"contact"}


def test_anonymisation_reaches_live_rows_and_every_history_row(closed_case):
    secrets = secrets_of(closed_case)
    assert tables_holding(secrets)  # the check can fail: the values are there before
    criteria_before = list(CaseCriterion.objects.filter(case=closed_case).values_list("code", flat=True))
    with time_machine.travel(due_at(closed_case) + timedelta(days=1), tick=False):
        output = run()
    assert "ligne(s) d'historique" in output
    assert tables_holding(secrets) == {}
    household = Household.objects.get(pk=closed_case.household_id)
    assert household.applicant_last_name == "Anonyme"
    assert household.applicant_birth_date.isoformat() == "1985-01-01"  # the year stays
    assert household.commune_id == closed_case.household.commune_id  # address → commune
    assert household.monthly_wages == 900  # statistics figures stay
    member = HouseholdMember.objects.get(household=household, relationship="child")
    assert (member.first_name, member.birth_date.isoformat()) == ("", "2015-01-01")
    case = Case.objects.get(pk=closed_case.pk)
    assert (case.status, case.closure_reason, case.is_dalo) == (
        closed_case.status,
        closed_case.closure_reason,
        closed_case.is_dalo,
    )
    assert list(CaseCriterion.objects.filter(case=case).values_list("code", flat=True)) == criteria_before
    assert case.diagnostic.recommended_typology == "T3" and case.diagnostic.urgency == closed_case.diagnostic.urgency
    # The communes to avoid (violence): emptied, and gone from every history row's list.
    assert not case.diagnostic.areas_to_avoid.exists()
    listed = case.diagnostic.history.model.areas_to_avoid.model  # the history m2m rows
    assert listed.objects.count() == 0
    # Every history row of the case's rows, old values included, went through the scrub.
    old_rows = household.history.order_by("history_date")
    assert old_rows.count() >= 3
    assert set(old_rows.values_list("phone", flat=True)) == {""}
    assert Redaction.objects.filter(case=case).count() >= old_rows.count() - 1
    assert set(Anonymisation.objects.filter(case=case).values_list("category", flat=True)) == {
        "identity",
        "contact",
        "address",
        "debts",
        "health",
        "violence",
        "narrative",
        "synthesis",
    }
    ok, out = verify()
    assert ok, out
    assert list(unchained_rows()) == []
    # Idempotent: a second run finds nothing.
    with time_machine.travel(due_at(closed_case) + timedelta(days=40), tick=False):
        assert "Aucun dossier à anonymiser." in run()


def _anonymised(case):
    with time_machine.travel(due_at(case) + timedelta(days=1), tick=False):
        run()
    ok, out = verify()
    assert ok, out


def test_the_chain_fails_on_a_scrubbed_row_changed_again(closed_case):
    _anonymised(closed_case)
    row = closed_case.household.history.order_by("history_date").first()
    with connection.cursor() as cursor:
        cursor.execute("UPDATE cases_historicalhousehold SET phone = '0611223344' WHERE history_id = %s", [row.pk])
    ok, out = verify()
    assert not ok
    assert "ligne source modifiée (cases.historicalhousehold" in out


def test_the_chain_fails_on_a_change_without_redaction(closed_case):
    _anonymised(closed_case)
    row = closed_case.history.order_by("history_date").first()
    with connection.cursor() as cursor:
        cursor.execute("UPDATE cases_historicalcase SET refusal_count = 9 WHERE history_id = %s", [row.pk])
    ok, out = verify()
    assert not ok and "ligne source modifiée (cases.historicalcase" in out


def test_the_chain_fails_on_a_forged_or_removed_redaction(closed_case):
    _anonymised(closed_case)
    redaction = Redaction.objects.filter(source="cases.historicalhousehold").first()
    with connection.cursor() as cursor:
        cursor.execute("UPDATE audit_redaction SET rule = 'autre' WHERE id = %s", [redaction.pk])
    ok, out = verify()
    assert not ok and "ligne source modifiée (audit.redaction" in out
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_redaction WHERE id = %s", [redaction.pk])
    ok, out = verify()
    assert not ok
    assert "cases.historicalhousehold" in out or "ligne source supprimée (audit.redaction" in out


def test_a_redaction_recorded_before_the_row_entry_is_not_accepted(closed_case):
    """A redaction must be chained after the entry of the row it covers."""
    row = closed_case.household.history.order_by("history_date").first()
    entry = AuditEntry.objects.get(source="cases.historicalhousehold", source_id=str(row.pk))
    from audit.chain import _redacted

    later = Redaction(source=entry.source, source_id=entry.source_id, digest_before=entry.row_digest, digest_after="x")
    assert _redacted(entry, "x", {(entry.source, entry.source_id): [(later, entry.seq + 1)]})
    assert not _redacted(entry, "x", {(entry.source, entry.source_id): [(later, entry.seq - 1)]})
    assert not _redacted(entry, "x", {(entry.source, entry.source_id): [(later, None)]})
    assert not _redacted(entry, "y", {(entry.source, entry.source_id): [(later, entry.seq + 1)]})


def test_documents_are_deleted_from_storage(closed_case, world, media, django_capture_on_commit_callbacks):
    export = store(closed_case, world.social_worker, "json", b'{"nom": "secret"}')
    path = media / export.json_file.name
    assert path.exists()
    with time_machine.travel(due_at(closed_case) + timedelta(days=1), tick=False):
        with django_capture_on_commit_callbacks(execute=False) as deletions:
            output = run()
    assert "1 document(s) supprimé(s)" in output
    assert path.exists()  # until the anonymisation commits
    for delete in deletions:
        delete()
    assert not path.exists()
    export = SubjectAccessExport.objects.get(pk=export.pk)
    assert export.json_file.name == ""
    assert export.history.first().json_file == ""  # its history rows are scrubbed too


def test_a_legal_hold_suspends_every_rule_until_lifted(closed_case, world):
    with pytest.raises(ValidationError) as refused:
        services.place_hold(world.supervisor, closed_case, LegalHold.Kind.DALO_APPEAL, "  ")
    assert "Indiquez le motif du gel" in str(refused.value)
    hold = services.place_hold(world.supervisor, closed_case, LegalHold.Kind.DALO_APPEAL, "Recours au TA")
    assert hold.history.get().history_user == world.supervisor  # audited
    with time_machine.travel(due_at(closed_case) + timedelta(days=1), tick=False):
        assert "Aucun dossier à anonymiser." in run()
        assert services.retention_status(closed_case) == "held"
        assert closed_case.pk in services.held_case_ids()
        services.lift_hold(world.supervisor, hold, "Jugement rendu")
        assert services.retention_status(closed_case) == "due"
        run()
        assert services.retention_status(closed_case) == "done"
    assert Household.objects.get(pk=closed_case.household_id).applicant_last_name == "Anonyme"


def test_another_open_case_of_the_household_keeps_its_identity(closed_case, world):
    world.flag(household=closed_case.household)
    with time_machine.travel(due_at(closed_case) + timedelta(days=1), tick=False):
        assert "Aucun dossier à anonymiser." in run()


def test_the_monthly_beat_task_applies_retention(closed_case):
    entry = settings.CELERY_BEAT_SCHEDULE["retention-monthly"]
    assert entry["task"] == "privacy.apply_retention"
    assert entry["schedule"].day_of_month == {1}
    with time_machine.travel(due_at(closed_case) + timedelta(days=1), tick=False):
        assert apply_retention_task.delay().get() == 8  # one case, eight rules
    assert Anonymisation.objects.filter(case=closed_case).count() == 8
