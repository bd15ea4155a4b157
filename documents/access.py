"""Who may read, upload and generate which document on a case: the visibility matrix, nothing else."""

from django.db.models import Q

from cases.models import Commune
from permissions.policy import Action, memberships_of, policy
from permissions.roles import Role
from permissions.visibility import CaseAccess, R, W

from .kinds import KIND_CATEGORIES, LETTER_KINDS, UPLOAD_KINDS, DocumentKind


def may_read(access: CaseAccess, kind: str) -> bool:
    """A full read (R or W) of every category the kind holds; "summary only" reads no paper."""
    return all(access.category_level(c) in (R, W) for c in KIND_CATEGORIES[kind])


def may_upload(access: CaseAccess, case, kind: str) -> bool:
    return case.is_open and kind in UPLOAD_KINDS and all(access.category_level(c) == W for c in KIND_CATEGORIES[kind])


def upload_kinds(access: CaseAccess, case) -> list[str]:
    return [kind for kind in UPLOAD_KINDS if may_upload(access, case, kind)]


def may_generate(user, access: CaseAccess, case) -> bool:
    """Letters: whoever may change the case (its social workers, their supervisor) and read all a letter holds."""
    return case.is_open and may_read(access, DocumentKind.OFFER_LETTER) and policy.can(user, Action.CHANGE, case)


def letter_kinds() -> tuple:
    return LETTER_KINDS


def template_departements(user) -> list[str]:
    """The départements whose letter templates the user edits: a territory admin's (one query)."""
    communes = set()
    for grant in memberships_of(user):
        if grant.role == Role.TERRITORY_ADMIN:
            communes |= grant.commune_ids
    if not communes:
        return []
    return sorted(set(Commune.objects.filter(Q(insee_code__in=communes)).values_list("departement", flat=True)))
