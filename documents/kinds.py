"""The kinds of documents of a case: their visibility categories and the papers each step needs.

One place for both rules: the upload, the download, the case's checklist and the letters read them.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from cases.choices import CaseStatus
from permissions.categories import Category as C


class DocumentKind(models.TextChoices):
    COMED_DECISION = "comed_decision", _("Décision de la COMED (DALO)")
    TAX_NOTICE = "tax_notice", _("Avis d'imposition")
    IDENTITY = "identity", _("Pièce d'identité ou titre de séjour")
    PAYSLIPS = "payslips", _("Bulletins de salaire ou justificatifs de ressources")
    CALEOL_FILE = "caleol_file", _("Dossier CALEOL")
    SIGNED_LEASE = "signed_lease", _("Bail signé")
    OTHER = "other", _("Autre document")
    # Generated here, never uploaded.
    OFFER_LETTER = "offer_letter", _("Courrier de proposition de logement")
    REMINDER_LETTER = "reminder_letter", _("Courrier de rappel avant la date limite de réponse")
    REFUSAL_LETTER = "refusal_letter", _("Courrier après un refus")


K = DocumentKind

# The categories of the visibility matrix (shared/visibility.md) a document of each kind holds. A user
# reads it only with a full read (R or W, never "summary only": a paper is free content) of each;
# uploading needs write (W) on them. Anything else ("other") is treated as the social narrative.
KIND_CATEGORIES: dict[str, tuple[str, ...]] = {
    K.COMED_DECISION: (C.CRITERIA,),
    K.TAX_NOTICE: (C.RESOURCES,),
    K.IDENTITY: (C.IDENTITY,),
    K.PAYSLIPS: (C.RESOURCES,),
    K.CALEOL_FILE: (C.DECISIONS,),
    K.SIGNED_LEASE: (C.DECISIONS,),
    K.OTHER: (C.NARRATIVE,),
    # A letter names the household, carries its address and the proposal.
    K.OFFER_LETTER: (C.IDENTITY, C.ADDRESS, C.DECISIONS),
    K.REMINDER_LETTER: (C.IDENTITY, C.ADDRESS, C.DECISIONS),
    K.REFUSAL_LETTER: (C.IDENTITY, C.ADDRESS, C.DECISIONS),
}
LETTER_KINDS = (K.OFFER_LETTER, K.REMINDER_LETTER, K.REFUSAL_LETTER)
UPLOAD_KINDS = tuple(k for k in K if k not in LETTER_KINDS)


def dalo_only(case) -> bool:
    return case.is_dalo


# The papers each step needs (a condition on the case, or None for every case). The checklist of a case
# covers its current step and the steps before it.
STEP_NEEDS: dict[str, tuple[tuple[str, object], ...]] = {
    CaseStatus.DIAGNOSTIC: ((K.IDENTITY, None), (K.TAX_NOTICE, None), (K.PAYSLIPS, None)),
    CaseStatus.COMMITTEE: ((K.COMED_DECISION, dalo_only),),
    CaseStatus.PROPOSAL: (),
    CaseStatus.CALEOL: ((K.CALEOL_FILE, None),),
    CaseStatus.REPLY: (),
    CaseStatus.LEASE: ((K.SIGNED_LEASE, None),),
}
STEP_ORDER = list(STEP_NEEDS)


def needed_kinds(case) -> list[str]:
    """The kinds of paper the case's steps so far need, in step order (none once the case is closed)."""
    if case.status not in STEP_NEEDS:
        return []
    reached = STEP_ORDER[: STEP_ORDER.index(case.status) + 1]
    return [kind for step in reached for kind, condition in STEP_NEEDS[step] if condition is None or condition(case)]
