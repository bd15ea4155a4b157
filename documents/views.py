"""The documents page of a case, the upload, the letters, the permission-checked download and the
territory's letter templates."""

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views import View

from audit import reads as audit_reads
from audit.models import Section
from permissions import reads
from permissions.policy import case_or_404, log_denial, policy
from permissions.visibility import case_access

from . import access, services
from .forms import LetterForm, LetterTemplateForm, UploadForm
from .kinds import LETTER_KINDS, DocumentKind
from .letters import template_text
from .models import Document, LetterTemplate
from .placeholders import PLACEHOLDERS
from .selectors import case_panel


def _page(request, case, *, upload_form=None, letter_form=None, status=200):
    case_access_ = case_access(request.user, case)
    panel = case_panel(request.user, case, case_access_)
    kinds = access.upload_kinds(case_access_, case)
    return render(
        request,
        "documents/case.html",
        {
            "nav": "cases",
            "case": case,
            "panel": panel,
            "upload_form": upload_form or (UploadForm(kinds=kinds) if kinds else None),
            "letter_form": letter_form or (LetterForm() if panel.can_generate else None),
        },
        status=status,
    )


class CaseDocumentsView(LoginRequiredMixin, View):
    def get(self, request, case_pk):
        return _page(request, case_or_404(request, case_pk))


class UploadView(LoginRequiredMixin, View):
    def post(self, request, case_pk):
        case = case_or_404(request, case_pk)
        kinds = access.upload_kinds(case_access(request.user, case), case)
        if not kinds:
            log_denial(request, "document_upload", "case", case.pk)
            raise Http404
        form = UploadForm(request.POST, request.FILES, kinds=kinds)
        if form.is_valid():
            try:
                services.document_upload(
                    actor=request.user, case=case, kind=form.cleaned_data["kind"], upload=form.cleaned_data["file"]
                )
            except PermissionDenied:
                raise Http404 from None
            except ValidationError as error:
                form.add_error("file", error.messages)
            else:
                messages.success(request, _("Document enregistré."))
                return redirect("documents:case", case_pk=case.pk)
        return _page(request, case, upload_form=form)


class LetterView(LoginRequiredMixin, View):
    def post(self, request, case_pk):
        case = case_or_404(request, case_pk)
        if not access.may_generate(request.user, case_access(request.user, case), case):
            log_denial(request, "letter_generate", "case", case.pk)
            raise Http404
        form = LetterForm(request.POST)
        if form.is_valid():
            try:
                document = services.letter_generate(actor=request.user, case=case, kind=form.cleaned_data["kind"])
            except PermissionDenied:
                raise Http404 from None
            except ValidationError as error:
                form.add_error(None, error.messages)
            else:
                # Straight to the download: the browser saves the PDF, the page stays where it was.
                return redirect("documents:download", pk=document.pk)
        return _page(request, case, letter_form=form)


class DownloadView(LoginRequiredMixin, View):
    """Only here do stored files leave the server, as attachments, each download a logged read."""

    def get(self, request, pk):
        document = Document.objects.filter(pk=pk, case__in=policy.queryset_for(request.user)).first()
        if document is None:
            log_denial(request, "document_download", "document", pk)
            raise Http404
        case = case_or_404(request, document.case_id, section="document")
        if not (document.file and access.may_read(case_access(request.user, case), document.kind)):
            log_denial(request, "document_download", "document", pk)
            raise Http404
        try:
            handle = document.file.open("rb")
        except FileNotFoundError:
            raise Http404 from None
        audit_reads.log_read(request.user, case, Section.DOCUMENT)
        reads.log_read(request.user, case, "document")
        name = f"{document.kind.replace('_', '-')}-{case.reference}.{document.extension}"
        response = FileResponse(handle, as_attachment=True, filename=name, content_type=document.content_type)
        response["Cache-Control"] = "private, no-store"
        return response


class TemplateListView(LoginRequiredMixin, View):
    def get(self, request):
        departements = access.template_departements(request.user)
        if not departements:
            log_denial(request, "letter_template", "page", "-")
            raise Http404
        saved = {
            (t.departement, t.kind): t
            for t in LetterTemplate.objects.filter(departement__in=departements).select_related("updated_by")
        }
        rows = [
            (departement, DocumentKind(kind).label, kind, saved.get((departement, kind)))
            for departement in departements
            for kind in LETTER_KINDS
        ]
        return render(request, "documents/templates.html", {"rows": rows, "nav": "templates"})


class TemplateEditView(LoginRequiredMixin, View):
    def check(self, request, departement, kind):
        if kind not in LETTER_KINDS or departement not in access.template_departements(request.user):
            log_denial(request, "letter_template", "departement", departement)
            raise Http404

    def render_form(self, request, departement, kind, form):
        context = {
            "form": form,
            "departement": departement,
            "kind_label": DocumentKind(kind).label,
            "placeholders": PLACEHOLDERS.items(),
            "nav": "templates",
        }
        return render(request, "documents/template_edit.html", context)

    def get(self, request, departement, kind):
        self.check(request, departement, kind)
        text = template_text(departement, kind)
        form = LetterTemplateForm(initial={"subject": text.subject, "body": text.body})
        return self.render_form(request, departement, kind, form)

    def post(self, request, departement, kind):
        self.check(request, departement, kind)
        form = LetterTemplateForm(request.POST)
        if form.is_valid():
            try:
                services.template_save(
                    actor=request.user,
                    departement=departement,
                    kind=kind,
                    subject=form.cleaned_data["subject"],
                    body=form.cleaned_data["body"],
                )
            except PermissionDenied:
                raise Http404 from None
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, _("Modèle de courrier enregistré."))
                return redirect("documents:templates")
        return self.render_form(request, departement, kind, form)
