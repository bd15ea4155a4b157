import io
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from cases.audit import acting_as

from . import access, mappings
from .applications import Importer
from .files import Report
from .models import ImportJob, JobKind, JobStatus
from .siao import SiaoImport
from .state_pool import ResultsImport

LINE_IMPORTS = {JobKind.POOL_RESULTS: ResultsImport, JobKind.SIAO: SiaoImport}


def progress_key(job_id: int) -> str:
    return f"exchanges:job:{job_id}:lines"


def run_job(job: ImportJob) -> ImportJob:
    """Run an import job as its author, with the import's reason on every history row. The lines
    done so far go to the cache (the transaction hides them from other connections until the end)."""
    job.status = JobStatus.RUNNING
    job.save(update_fields=["status"])
    report = io.StringIO()
    reason = f"Import n° {job.pk} ({job.mapping})"
    try:
        with acting_as(job.created_by, reason):
            options = {
                "reason": reason,
                "allowed_communes": access.territory(job.created_by),
                "dry_run": job.dry_run,
                "skip_invalid": job.skip_invalid,
                "report": Report(report),
                "progress": lambda lines: cache.set(progress_key(job.pk), lines, 3600),
            }
            if job.kind in LINE_IMPORTS:  # the State tool's results, the SIAO's referrals
                importer = LINE_IMPORTS[job.kind](actor=job.created_by, job=job, **options)
            else:
                importer = Importer(mappings.get(job.mapping), **options)
            result = importer.run_file(io.BytesIO(bytes(job.content)), job.file_name)
    except Exception:
        job.status, job.finished_at = JobStatus.FAILED, timezone.now()
        job.summary = {"file_error": "L'import a échoué : aucune donnée n'a été enregistrée."}
        job.content = b""  # the file's personal data is not kept once it has run (no job runs twice)
        job.save(update_fields=["status", "finished_at", "summary", "content"])
        raise
    job.summary = {"total": job.summary.get("total")} | result.as_dict() | {"verdict": result.verdict}
    job.report = report.getvalue()
    job.status, job.finished_at = JobStatus.DONE, timezone.now()
    job.content = b""
    job.save(update_fields=["summary", "report", "status", "finished_at", "content"])
    return job


@shared_task(name="exchanges.run_import", ignore_result=True, soft_time_limit=3600, time_limit=3900)
def run_import(job_id: int) -> None:
    job = ImportJob.objects.select_related("created_by").get(pk=job_id)
    if job.status == JobStatus.PENDING:  # a redelivered message does not import twice
        run_job(job)


def purge_jobs(now=None) -> int:
    """Import jobs finished more than PPGDID_IMPORT_JOBS_KEPT_DAYS ago are deleted with their report (the
    report's lines name rows of a file, not households; the records the import wrote keep its number in
    their history). Returns how many were deleted."""
    kept_since = (now or timezone.now()) - timedelta(days=settings.PPGDID_IMPORT_JOBS_KEPT_DAYS)
    deleted, _ = ImportJob.objects.filter(finished_at__lt=kept_since).delete()
    return deleted


@shared_task(name="exchanges.purge_jobs", ignore_result=True)
def purge_jobs_task() -> int:
    return purge_jobs()
