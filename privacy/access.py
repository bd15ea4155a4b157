"""Who may answer a household's data request on a case: its referent (while the case is in their
scope) or a data-protection officer of the case's organisation. Everyone else: 404, logged."""

from django.db.models import Q
from django.http import Http404

from cases.models import Case
from permissions.policy import Action, log_denial, memberships_of, policy
from permissions.roles import Role

SUBJECT_ACCESS = "subject_access"


def dpo_organisations(user) -> set:
    return {g.organisation_id for g in memberships_of(user) if g.role == Role.DPO}


def is_dpo(user) -> bool:
    return bool(dpo_organisations(user))


def subject_access_cases(user):
    """The cases whose household's data `user` may export."""
    if not getattr(user, "is_authenticated", False):
        return Case.objects.none()
    referent = Q(referent_id=user.pk)
    scope = policy.queryset_for(user, Action.VIEW).filter(referent).values("pk")
    return Case.objects.filter(Q(pk__in=scope) | Q(organisation_id__in=dpo_organisations(user)))


def subject_access_case_or_404(request, pk) -> Case:
    try:
        return subject_access_cases(request.user).select_related("household", "household__commune").get(pk=int(pk))
    except (Case.DoesNotExist, ValueError, TypeError):
        log_denial(request, SUBJECT_ACCESS, "case", pk)
        raise Http404 from None
