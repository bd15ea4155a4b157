"""The writers of documents and letter templates: one transaction each, history and audit entries.

A file reaches the storage only once it has passed the content check, and leaves it again if the row
cannot be written: a refused upload leaves neither a file nor a row.
"""

import uuid

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.audit import stating
from cases.models import Case
from permissions.policy import log_denial
from permissions.visibility import case_access
from workflows.services import audited

from . import access, content, letters
from .kinds import LETTER_KINDS, DocumentKind
from .models import Document, LetterTemplate
from .placeholders import check_template


def _locked(case_id: int) -> Case:
    # The case row locked for the transaction (no key lock: the case's other writers are not blocked for
    # foreign keys); rights are re-checked on it.
    return (
        Case.objects.select_related("household__commune", "organisation")
        .select_for_update(of=("self",), no_key=True)
        .get(pk=case_id)
    )


def _store(document: Document, name: str, data) -> tuple:
    """Save the file, then the row; if the row fails the file is removed before the error goes on.
    Returns (storage, name) for the caller to remove if its transaction rolls back afterwards."""
    document.file.save(name, data, save=False)
    try:
        document.save()
    except BaseException:
        document.file.storage.delete(document.file.name)
        raise
    return document.file.storage, document.file.name


def document_upload(*, actor, case: Case, kind: str, upload) -> Document:
    """Store one checked paper of `kind` on the case (PDF, JPEG or PNG by content, ≤ 10 MB)."""
    extension, content_type = content.checked(upload)  # before anything is written
    stored = None
    try:
        with audited(actor, _("Document déposé : %(kind)s") % {"kind": DocumentKind(kind).label}):
            locked = _locked(case.pk)
            if not access.may_upload(case_access(actor, locked), locked, kind):
                log_denial(actor, "document_upload", "case", locked.pk)
                raise PermissionDenied
            document = Document(case=locked, kind=kind, content_type=content_type, size=upload.size, created_by=actor)
            stored = _store(document, f"{uuid.uuid4().hex}.{extension}", upload)
    except BaseException:
        if stored is not None:  # the row was written, then its transaction rolled back
            stored[0].delete(stored[1])
        raise
    return document


def letter_generate(*, actor, case: Case, kind: str) -> Document:
    """Generate one letter to the household as PDF and keep it on the case (listed with its documents)."""
    if kind not in LETTER_KINDS:
        raise ValidationError({"kind": _("Ce courrier n'existe pas.")})
    stored = None
    try:
        with audited(actor, _("Courrier généré : %(kind)s") % {"kind": DocumentKind(kind).label}):
            locked = _locked(case.pk)
            if not access.may_generate(actor, case_access(actor, locked), locked):
                log_denial(actor, "letter_generate", "case", locked.pk)
                raise PermissionDenied
            proposal = letters.proposal_for(locked, kind)
            pdf = letters.letter_pdf(locked, kind, proposal)
            document = Document(
                case=locked,
                kind=kind,
                proposal=proposal,
                content_type="application/pdf",
                size=len(pdf),
                created_by=actor,
            )
            stored = _store(document, f"{uuid.uuid4().hex}.pdf", ContentFile(pdf))
    except BaseException:
        if stored is not None:
            stored[0].delete(stored[1])
        raise
    return document


def template_save(*, actor, departement: str, kind: str, subject: str, body: str) -> LetterTemplate:
    """A territory admin sets its département's text of one letter (history kept)."""
    if departement not in access.template_departements(actor) or kind not in LETTER_KINDS:
        log_denial(actor, "letter_template", "departement", departement)
        raise PermissionDenied
    check_template(subject, body)
    with audited(actor, _("Modèle de courrier modifié")):
        row = LetterTemplate.objects.select_for_update().filter(departement=departement, kind=kind).first()
        row = row or LetterTemplate(departement=departement, kind=kind)
        row.subject, row.body, row.updated_by = subject.strip(), body.strip(), actor
        row.full_clean()
        row.save()
    return row


def documents_forget(case: Case, rule: str) -> int:
    """The case is being anonymised: each document keeps its row (kind, dates) without its file, and the
    files leave the storage once the anonymisation commits (a rollback keeps them). Returns the count."""
    names = []
    now = timezone.now()
    with stating(_("Anonymisation (%(rule)s) : fichier supprimé") % {"rule": rule}):
        for document in Document.objects.filter(case_id=case.pk).exclude(file=""):
            names.append((document.file.storage, document.file.name))
            document.file = ""
            document.file_deleted_at = now
            document.save()

    def delete_files():
        for storage, name in names:
            storage.delete(name)

    transaction.on_commit(delete_files)
    return len(names)
