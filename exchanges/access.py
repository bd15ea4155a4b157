"""Who may run imports: territory administrators, within their territory. Deny by default; a job
of another organisation is a 404 (logged, ids only)."""

from django.core.exceptions import PermissionDenied
from django.http import Http404

from permissions.policy import log_denial, memberships_of
from permissions.roles import Role

from .models import ImportJob


def _admin_grants(user):
    return [g for g in memberships_of(user) if g.role == Role.TERRITORY_ADMIN]


def require_importer(request) -> None:
    if not _admin_grants(request.user):
        log_denial(request, "import", "page", "exchanges")
        raise PermissionDenied


def organisation_id(user) -> int:
    return _admin_grants(user)[0].organisation_id


def territory(user) -> set[str]:
    """The communes whose households the user may import."""
    return {code for g in _admin_grants(user) for code in g.commune_ids}


def jobs(user):
    return ImportJob.objects.filter(organisation_id__in={g.organisation_id for g in _admin_grants(user)})


def job_or_404(request, pk) -> ImportJob:
    try:
        return jobs(request.user).get(pk=int(pk))
    except (ImportJob.DoesNotExist, ValueError, TypeError):
        log_denial(request, "view", "import_job", pk)
        raise Http404 from None
