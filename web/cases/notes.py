"""The case notes and contact log page (/dossiers/<id>/notes/): the notes the user may read, and the
form to write one or to correct one (a correction is a new note). Writes: workflows.notes."""

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l
from django.views import View

from cases.choices import NoteKind
from cases.forms_common import attach_errors
from permissions.categories import CATEGORY_LABELS
from permissions.delegations import DateInput, PersonChoiceField
from permissions.visibility import case_access
from web.tasks.views import scoped_case
from workflows import notes


class NoteForm(forms.Form):
    kind = forms.ChoiceField(label=_l("Type de contact"), choices=NoteKind.choices)
    contact_date = forms.DateField(label=_l("Date du contact"), widget=DateInput)
    category = forms.ChoiceField(
        label=_l("Catégorie (qui pourra lire la note)"),
        help_text=_l("Seules les personnes autorisées à voir cette catégorie d'information liront la note."),
    )
    text = forms.CharField(label=_l("Note"), widget=forms.Textarea(attrs={"rows": 4}), max_length=5000)
    mentioned = PersonChoiceField(
        label=_l("Signaler la note à un collègue (facultatif)"), queryset=None, required=False
    )
    corrects = forms.TypedChoiceField(label=_l("Corrige la note"), coerce=int, required=False, empty_value=None)

    def __init__(self, *args, categories, mentionable, correctable, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = [(c, CATEGORY_LABELS[c]) for c in categories]
        self.fields["mentioned"].queryset = mentionable
        self.fields["corrects"].choices = [("", _("Aucune (nouvelle note)"))] + [
            (n.pk, f"{n.get_kind_display()} du {n.contact_date:%d/%m/%Y}") for n in correctable
        ]
        self.fields["contact_date"].error_messages["invalid"] = _("Saisissez une date valide (jj/mm/aaaa).")


class CaseNotesView(LoginRequiredMixin, View):
    def context(self, request, case, form=None):
        access = case_access(request.user, case)
        shown = notes.visible_notes(request.user, case, access)
        categories = notes.writable_categories(request.user, case) if case.is_open else []
        if categories and form is None:
            initial = {"contact_date": timezone.localdate(), "corrects": request.GET.get("corrige") or None}
            form = self.make_form(request, case, categories, shown, initial=initial)
        return {
            "case": case,
            "notes": shown,
            "form": form if categories else None,
            "nav": "cases",
            "labels": CATEGORY_LABELS,
        }

    def make_form(self, request, case, categories, shown, data=None, initial=None):
        mentionable = notes.mention_candidates(request.user, case)
        return NoteForm(
            data,
            initial=initial,
            categories=categories,
            mentionable=_as_queryset(mentionable),
            correctable=shown,
        )

    def get(self, request, pk):
        case = scoped_case(request, pk)
        return render(request, "cases/notes.html", self.context(request, case))

    def post(self, request, pk):
        case = scoped_case(request, pk)
        categories = notes.writable_categories(request.user, case) if case.is_open else []
        if not categories:
            raise Http404
        shown = notes.visible_notes(request.user, case)
        form = self.make_form(request, case, categories, shown, data=request.POST)
        if form.is_valid():
            try:
                notes.note_add(actor=request.user, case=case, **form.cleaned_data)
            except PermissionDenied:
                raise Http404 from None
            except ValidationError as error:
                attach_errors(form, error)
            else:
                messages.success(request, _("Note enregistrée."))
                return redirect("cases:notes", pk=case.pk)
        return render(request, "cases/notes.html", self.context(request, case, form))


def _as_queryset(users):
    return get_user_model().objects.filter(pk__in=[u.pk for u in users]).order_by("last_name", "first_name", "pk")
