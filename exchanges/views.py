"""Upload page of the application import (/echanges/imports/), the job's progress and result page,
and its report (CSV). Territory administrators only (403 otherwise); another organisation's job: 404."""

import io

from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_safe

from . import access, readers
from .forms import UploadForm
from .models import ImportJob, JobKind, JobStatus
from .tasks import progress_key, run_import

SUMMARY_DEFAULTS = dict.fromkeys(("lines", "created", "updated", "unchanged", "rejected", "conflicts"), 0) | {
    "verdict": "",
    "file_error": "",
    "messages": [],
}


def start_job(request, form, kind: str, mapping: str) -> ImportJob:
    """The uploaded file of a valid upload form as a job of its author, run by Celery once the request commits."""
    upload = form.cleaned_data["file"]
    content = upload.read()
    job = ImportJob.objects.create(
        kind=kind,
        created_by=request.user,
        organisation_id=access.organisation_id(request.user),
        mapping=mapping,
        file_name=upload.name[-200:],
        content=content,
        summary={"total": readers.count_lines(io.BytesIO(content), upload.name)},
        dry_run=form.cleaned_data["dry_run"],
        skip_invalid=form.cleaned_data["skip_invalid"],
    )
    transaction.on_commit(lambda: run_import.delay(job.pk))
    return job


@login_required
@require_http_methods(["GET", "POST"])
def imports(request):
    access.require_importer(request)
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        job = start_job(request, form, JobKind.APPLICATIONS, form.cleaned_data["mapping"])
        return redirect("exchanges:job", pk=job.pk)
    jobs = access.jobs(request.user).select_related("created_by")[:20]
    return render(request, "exchanges/imports.html", {"form": form, "jobs": jobs, "nav": "exchanges"})


@login_required
@require_safe
def job(request, pk):
    access.require_importer(request)
    item = access.job_or_404(request, pk)
    running = item.status in (JobStatus.PENDING, JobStatus.RUNNING)
    context = {
        "job": item,
        "running": running,
        "lines": (cache.get(progress_key(item.pk)) or 0) if running else item.summary.get("lines", 0),
        "total": item.summary.get("total") or 0,
        "summary": SUMMARY_DEFAULTS | item.summary,
        "nav": "exchanges",
    }
    return render(request, "exchanges/job.html", context)


@login_required
@require_safe
def job_report(request, pk):
    access.require_importer(request)
    item = access.job_or_404(request, pk)
    response = HttpResponse(
        "\ufeff" + (item.report or "ligne;colonne;type;message\r\n"), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="import-{item.pk}-rapport.csv"'
    return response
