"""Tamper evidence: every history row and read joins its case's hash chain; the command finds edits."""

import threading
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, connections

from audit import bulk
from audit.chain import history_models, unchained_rows, verify_chain
from audit.models import AuditChainHead, AuditEntry, Section, chain_key
from audit.reads import log_read
from cases.audit import acting_as
from cases.models import Household, HouseholdMember

pytestmark = pytest.mark.django_db


def verify(*args):
    out, err = StringIO(), StringIO()
    try:
        call_command("verify_audit_chain", *args, stdout=out, stderr=err)
    except CommandError as exc:
        return False, out.getvalue() + err.getvalue() + str(exc)
    return True, out.getvalue() + err.getvalue()


def test_every_history_row_and_read_is_chained_and_the_chain_verifies(rehoused, world):
    log_read(world.auditor, rehoused, Section.HEALTH)
    assert list(unchained_rows()) == []
    entries = AuditEntry.objects.filter(chain=chain_key(rehoused.pk)).order_by("seq")
    assert [e.seq for e in entries] == list(range(1, entries.count() + 1))
    assert entries.first().prev_hash == ""
    assert all(e.prev_hash == p.hash for p, e in zip(entries, entries[1:], strict=False))
    sources = {e.source for e in entries}
    assert {"cases.historicalcase", "cases.historicaldiagnostic", "audit.historicalgroupobjectpermission"} <= sources
    assert "audit.accesslog" in sources
    ok, output = verify()
    assert ok, output
    assert "0 rompue(s)" in output


def _entry_for(history_row):
    return AuditEntry.objects.get(source=type(history_row)._meta.label_lower, source_id=str(history_row.pk))


def test_a_history_row_edited_in_sql_is_reported(rehoused):
    row = rehoused.history.order_by("history_date")[3]
    entry = _entry_for(row)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE cases_historicalcase SET refusal_count = 7 WHERE history_id = %s",
            [row.pk],
        )
    ok, output = verify()
    assert not ok
    assert f"case:{rehoused.pk} entrée n°{entry.seq} (id {entry.pk})" in output
    assert "ligne source modifiée (cases.historicalcase" in output


def test_an_entry_edited_in_sql_is_reported(rehoused):
    entry = AuditEntry.objects.filter(chain=chain_key(rehoused.pk)).order_by("seq")[5]
    with connection.cursor() as cursor:
        cursor.execute("UPDATE audit_auditentry SET actor_id = 999 WHERE id = %s", [entry.pk])
    broken = verify_chain(chain_key(rehoused.pk))
    assert (broken.seq, broken.entry_id) == (entry.seq, entry.pk)
    assert "entrée modifiée" in broken.problem


def test_a_deleted_entry_or_a_cut_tail_is_reported(rehoused):
    key = chain_key(rehoused.pk)
    entries = list(AuditEntry.objects.filter(chain=key).order_by("seq"))
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditentry WHERE id = %s", [entries[-1].pk])
    assert "fin de chaîne supprimée" in verify_chain(key).problem
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditentry WHERE id = %s", [entries[2].pk])
    broken = verify_chain(key)
    assert broken.seq == entries[3].seq and "entrée manquante" in broken.problem


def test_a_deleted_history_row_and_a_raw_insert_are_reported(world):
    household = world.household()
    case = world.flag(household)
    first = case.history.order_by("history_date").first()
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM cases_historicalcase WHERE history_id = %s", [first.pk])
    assert "ligne source supprimée" in verify_chain(chain_key(case.pk)).problem

    other = world.household()
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO cases_historicalhouseholdmember (id, first_name, last_name, relationship, birth_date,"
            " shared_custody, pregnancy, household_id, history_date, history_type, history_change_reason)"
            " VALUES (99999, 'X', 'Y', 'child', '2015-01-01', false, false, %s, '2026-01-01', '+', '')",
            [other.pk],
        )
    ok, output = verify()
    assert not ok
    assert "NON CHAÎNÉE cases.historicalhouseholdmember" in output


def test_audit_rows_are_append_only(world):
    case = world.flag()
    entry = AuditEntry.objects.filter(chain=chain_key(case.pk)).first()
    with pytest.raises(ValidationError):
        entry.save()
    with pytest.raises(ValidationError):
        entry.delete()
    read = log_read(world.auditor, case, Section.HEALTH)
    with pytest.raises(ValidationError):
        read.save()


def test_bulk_helpers_write_history_and_chain_it(world):
    household = world.household()
    with acting_as(world.social_worker, "Import"):
        members = bulk.bulk_create_with_history(
            [
                HouseholdMember(
                    household=household, first_name=n, last_name="B", relationship="child", birth_date="2015-01-01"
                )
                for n in ("A", "C")
            ],
            HouseholdMember,
            reason="Import des membres",
        )
    rows = HouseholdMember.history.filter(household_id=household.pk)
    assert rows.count() == 2
    assert {r.history_user for r in rows} == {world.social_worker}
    assert {r.history_change_reason for r in rows} == {"Import des membres"}
    assert len(members) == 2
    assert list(unchained_rows()) == []


def test_history_models_cover_the_case_record():
    labels = {m.instance_type._meta.label_lower for m in history_models()}
    assert {
        "cases.household",
        "cases.householdmember",
        "cases.case",
        "cases.casecriterion",
        "cases.diagnostic",
        "cases.committeereview",
        "cases.proposal",
        "cases.caleoldecision",
        "cases.householdreply",
        "permissions.membership",
        "workflows.caseprocess",
        "guardian.groupobjectpermission",
        "guardian.userobjectpermission",
    } <= labels


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_writers_on_one_case_never_fork_its_chain(world):
    if connection.vendor != "postgresql":
        pytest.skip("real row locks need PostgreSQL")
    case = world.flag()
    household = Household.objects.get(pk=case.household_id)
    barrier = threading.Barrier(2)
    errors = []

    def writer(n):
        try:
            barrier.wait()
            for i in range(10):
                if n:
                    log_read(world.auditor, case, Section.HEALTH)
                else:
                    with acting_as(world.social_worker, "Concurrence"):
                        household.phone = f"06000000{i:02d}"
                        household.save()
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer, args=(n,)) for n in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    key = chain_key(case.pk)
    assert verify_chain(key) is None
    head = AuditChainHead.objects.get(chain=key)
    assert head.seq == AuditEntry.objects.filter(chain=key).count()
