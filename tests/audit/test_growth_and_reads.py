from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command

from audit.models import AccessLog, AuditEntry, Section
from audit.reads import log_read
from cases.models import Case
from permissions.reads import log_sensitive_reads
from permissions.visibility import Category

pytestmark = pytest.mark.django_db


def test_audit_growth_prints_rows_and_bytes_per_case_and_leaves_nothing(world):
    cases_before, entries_before = Case.objects.count(), AuditEntry.objects.count()
    out = StringIO()
    call_command("audit_growth", stdout=out)
    text = out.getvalue()
    lines = {line.split()[0]: line.split()[1:] for line in text.splitlines() if line and line[0].isalpha()}
    assert float(lines["cases.historicalcase"][0]) >= 10
    assert float(lines["cases.historicalproposal"][0]) == 3  # two offers, one lease date
    total = next(line for line in text.splitlines() if line.startswith("TOTAL"))
    rows, size = total.split()[-2:]
    assert float(rows) > 40 and int(size) > 5000
    assert (Case.objects.count(), AuditEntry.objects.count()) == (cases_before, entries_before)


def test_log_read_records_who_what_and_why(world):
    case = world.flag(is_protected=True)
    entry = log_read(world.supervisor, case, Section.VIOLENCE, reason="  Demande du juge  ")
    assert (entry.user, entry.case, entry.section, entry.reason) == (
        world.supervisor,
        case,
        "violence",
        "Demande du juge",
    )
    assert entry.is_break_glass
    assert AuditEntry.objects.filter(source="audit.accesslog", source_id=str(entry.pk), action="read").exists()
    with pytest.raises(ValidationError):
        log_read(world.supervisor, case, "everything")


def test_log_sensitive_reads_logs_each_sensitive_section_shown(world):
    case = world.flag(is_protected=True)
    logs = log_sensitive_reads(world.social_worker, case, {Category.HEALTH, Category.IDENTITY})
    assert [log.section for log in logs] == [Section.HEALTH, Section.PROTECTED_CASE]
    assert AccessLog.objects.filter(case=case).count() == 2
