"""The upload page: territory administrators only, run as a Celery task (eager in tests), result page
and report; another organisation's job is a 404."""

from datetime import timedelta
from html import unescape
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from cases.models import Household
from exchanges.models import ImportJob, JobStatus
from exchanges.tasks import purge_jobs
from permissions.roles import Role
from tests.factories import LA_SEYNE, NANTES, TOULON, member

SAMPLES = Path(__file__).with_name("samples")
pytestmark = pytest.mark.django_db


@pytest.fixture
def upload(client, django_capture_on_commit_callbacks):
    def post(name="registre.csv", **data):
        file = SimpleUploadedFile(name, (SAMPLES / name).read_bytes())
        with django_capture_on_commit_callbacks(execute=True):  # the task starts on commit
            return client.post(reverse("exchanges:imports"), {"file": file, "mapping": "registre@1", **data})

    return post


@pytest.fixture
def admin(client):
    user = member(Role.TERRITORY_ADMIN, communes=[TOULON, LA_SEYNE])
    client.force_login(user)
    return user


def test_upload_runs_the_import_and_shows_the_result(client, admin, upload):
    response = upload(skip_invalid="on")
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("exchanges:job", args=[job.pk])
    assert job.status == JobStatus.DONE and job.summary["total"] == 3
    assert bytes(job.content) == b""  # the uploaded file (names, incomes) is not kept once imported
    page = client.get(response["Location"]).content.decode()
    assert "Import enregistré." in page
    assert "commune hors de votre territoire" in page  # the Nantes line, outside this territory
    assert Household.objects.count() == 2
    assert Household.history.filter(history_change_reason=f"Import n° {job.pk} (registre@1)").count() == 2
    assert Household.history.first().history_user_id == admin.pk
    report = client.get(reverse("exchanges:job_report", args=[job.pk]))
    assert report["Content-Type"].startswith("text/csv")
    assert "4;Code INSEE commune;rejet;commune hors de votre territoire" in report.content.decode("utf-8-sig")


def test_without_skip_invalid_nothing_is_imported(client, admin, upload):
    upload()
    job = ImportJob.objects.get()
    assert job.summary["rejected"] == 1 and not Household.objects.exists()
    assert "rien n'a été importé" in unescape(client.get(reverse("exchanges:job", args=[job.pk])).content.decode())


def test_a_wrong_file_type_gets_a_french_message(client, admin):
    file = SimpleUploadedFile("notes.txt", b"bonjour")
    response = client.post(reverse("exchanges:imports"), {"file": file, "mapping": "registre@1"})
    assert response.status_code == 200
    assert "Format non pris en charge : fichier .csv ou .xlsx attendu." in response.content.decode()
    assert not ImportJob.objects.exists()


def test_other_roles_get_403_and_other_organisations_404(client, admin, upload):
    upload(skip_invalid="on")
    job = ImportJob.objects.get()
    other_admin = member(Role.TERRITORY_ADMIN, communes=[NANTES])
    client.force_login(other_admin)
    assert client.get(reverse("exchanges:job", args=[job.pk])).status_code == 404
    assert client.get(reverse("exchanges:job_report", args=[job.pk])).status_code == 404
    client.force_login(member(Role.SOCIAL_WORKER))
    assert client.get(reverse("exchanges:imports")).status_code == 403
    assert client.get(reverse("exchanges:job", args=[job.pk])).status_code == 403


def test_finished_jobs_and_their_reports_are_purged_after_the_kept_period(client, admin, upload, settings):
    settings.PPGDID_IMPORT_JOBS_KEPT_DAYS = 30
    upload(skip_invalid="on")
    upload(name="registre.csv", skip_invalid="on")
    old, recent = ImportJob.objects.order_by("pk")
    ImportJob.objects.filter(pk=old.pk).update(finished_at=timezone.now() - timedelta(days=31))
    pending = ImportJob.objects.create(
        created_by=admin, organisation=old.organisation, mapping="registre@1", file_name="x.csv", content=b"x"
    )
    assert purge_jobs() == 1
    assert set(ImportJob.objects.values_list("pk", flat=True)) == {recent.pk, pending.pk}
    assert client.get(reverse("exchanges:job", args=[old.pk])).status_code == 404
    assert Household.objects.count() == 2  # what the imports wrote stays
