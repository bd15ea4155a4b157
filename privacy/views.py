from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from audit.models import Section
from audit.reads import log_read

from . import dpo, export
from .access import subject_access_case_or_404
from .services import retention_status

CONTENT_TYPES = {"pdf": "application/pdf", "json": "application/json; charset=utf-8"}


@login_required
@require_GET
def subject_access(request, pk):
    """The page of a case's art. 15 export: what it contains, the two formats, the retention status."""
    case = subject_access_case_or_404(request, pk)
    return render(
        request,
        "privacy/subject_access.html",
        {
            "case": case,
            "status": retention_status(case),
            "holds": case.legal_holds.order_by("-placed_at"),
            "exports": case.subject_access_exports.select_related("requested_by").order_by("-created_at")[:20],
            "page_title": "Droit d'accès du ménage",
        },
    )


@login_required
@require_GET
def subject_access_download(request, pk, fmt):
    case = subject_access_case_or_404(request, pk)
    with transaction.atomic():
        pack = export.build(case, request.user)
        content = export.as_pdf(pack) if fmt == "pdf" else export.as_json(pack)
        export.store(case, request.user, fmt, content)
        log_read(request.user, case, Section.SUBJECT_ACCESS)
    response = HttpResponse(content, content_type=CONTENT_TYPES[fmt])
    response["Content-Disposition"] = f'attachment; filename="droit-acces-{case.reference}.{fmt}"'
    return response


@login_required
@require_GET
def dpo_view(request):
    """The DPO's read log (filters by GET: ids, flags and dates only, no personal data in the URL)."""
    organisations = dpo.dpo_or_404(request)
    form = dpo.ReadLogFilter(request.GET or None, organisations=organisations)
    data = form.cleaned_data if form.is_bound and form.is_valid() else {}
    qs = dpo.reads(organisations, data) if not form.is_bound or form.is_valid() else dpo.reads(organisations, {})[:0]
    export = request.GET.get("format")
    if export in ("csv", "signalements") and (not form.is_bound or form.is_valid()):
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        if export == "csv":
            response["Content-Disposition"] = 'attachment; filename="journal-des-consultations.csv"'
            dpo.write_csv(response, qs)
        else:
            response["Content-Disposition"] = 'attachment; filename="signalements.csv"'
            dpo.write_flags_csv(response, dpo.flags(qs))
        return response
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "privacy/dpo.html",
        {
            "form": form,
            "page": page,
            "flags": dpo.flags(qs) if data or not form.is_bound else [],
            "retention": dpo.retention_summary(organisations),
            "threshold": dpo.outside_scope_threshold(),
            "query": _without(request.GET, "page", "format"),
            "page_title": "Protection des données",
        },
    )


def _without(params, *names) -> str:
    params = params.copy()
    for name in names:
        params.pop(name, None)
    return params.urlencode()
