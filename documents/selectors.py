"""What the case page shows of the documents: the papers the user may read and the steps' checklist."""

from dataclasses import dataclass, field

from django.urls import reverse

from . import access
from .kinds import DocumentKind, needed_kinds
from .models import Document


@dataclass
class Panel:
    documents: list = field(default_factory=list)  # uploaded papers the user may read, newest first
    letters: list = field(default_factory=list)  # generated letters the user may read
    checklist: list = field(default_factory=list)  # (label, present) for the papers the steps need
    can_upload: bool = False
    can_generate: bool = False
    url: str = ""

    @property
    def missing(self) -> int:
        return sum(1 for _label, present in self.checklist if not present)

    @property
    def shown(self) -> bool:
        return bool(self.documents or self.letters or self.checklist or self.can_upload or self.can_generate)


def case_panel(user, case, case_access) -> Panel:
    """One query (the case's documents); `case_access` is the page's permissions.visibility.CaseAccess."""
    rows = list(Document.objects.filter(case_id=case.pk).select_related("created_by"))
    readable = [d for d in rows if access.may_read(case_access, d.kind)]
    present = {d.kind for d in readable if d.file}
    checklist = [
        (DocumentKind(kind).label, kind in present) for kind in needed_kinds(case) if access.may_read(case_access, kind)
    ]
    return Panel(
        documents=[d for d in readable if not d.generated],
        letters=[d for d in readable if d.generated],
        checklist=checklist,
        can_upload=bool(access.upload_kinds(case_access, case)),
        can_generate=access.may_generate(user, case_access, case),
        url=reverse("documents:case", args=[case.pk]),
    )
