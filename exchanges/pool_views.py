"""Pages of the exchanges with the State's priority-pool tool (/echanges/etat/: the export, and the
upload of the tool's results) and of the SIAO's referrals (/echanges/siao/). The export is open to
territory administrators and State services (exchanges.state_pool.require_exporter), the uploads to
territory administrators; an upload runs as the application import does (Celery job, result page)."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_safe

from permissions.policy import log_denial
from permissions.roles import Role

from . import access, state_pool
from .forms import LayoutUploadForm
from .layouts import POOL_EXPORT, POOL_RESULTS, SIAO_REFERRALS
from .models import JobKind
from .views import start_job


@login_required
@require_http_methods(["GET", "POST"])
def state_pool_page(request):
    state_pool.require_exporter(request)
    can_import = any(g.role == Role.TERRITORY_ADMIN for g in state_pool.exporter_grants(request.user))
    if request.method == "POST" and not can_import:
        log_denial(request, "import", "page", "state_pool_results")
        raise PermissionDenied
    form = LayoutUploadForm(request.POST or None, request.FILES or None) if can_import else None
    if request.method == "POST" and form.is_valid():
        job = start_job(request, form, JobKind.POOL_RESULTS, POOL_RESULTS.key)
        return redirect("exchanges:job", pk=job.pk)
    jobs = access.jobs(request.user).filter(kind=JobKind.POOL_RESULTS)[:10] if can_import else []
    context = {"form": form, "export": POOL_EXPORT, "results": POOL_RESULTS, "jobs": jobs, "nav": "exchanges"}
    return render(request, "exchanges/state_pool.html", context)


@login_required
@require_safe
def state_pool_export(request):
    communes = state_pool.require_exporter(request)
    content, _count = state_pool.export_text(request.user, communes)
    response = HttpResponse(content, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{state_pool.export_file_name()}"'
    return response


@login_required
@require_http_methods(["GET", "POST"])
def siao_page(request):
    access.require_importer(request)
    form = LayoutUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        job = start_job(request, form, JobKind.SIAO, SIAO_REFERRALS.key)
        return redirect("exchanges:job", pk=job.pk)
    jobs = access.jobs(request.user).filter(kind=JobKind.SIAO)[:10]
    return render(
        request, "exchanges/siao.html", {"form": form, "layout": SIAO_REFERRALS, "jobs": jobs, "nav": "exchanges"}
    )
