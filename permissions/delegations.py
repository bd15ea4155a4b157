"""The delegation pages (/habilitations/absences/): name a colleague for an absence, see who stands in
for whom, end a delegation early. Writes go through permissions.services."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l
from django.views.decorators.http import require_http_methods, require_POST

from . import services
from .models import Delegation
from .policy import log_denial, memberships_of


class PersonChoiceField(forms.ModelChoiceField):
    """People by name, never by login."""

    def label_from_instance(self, obj):
        return obj.get_full_name() or _("Utilisateur n° %(pk)s") % {"pk": obj.pk}


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")


class DelegationForm(forms.Form):
    delegate = PersonChoiceField(label=_l("Remplaçant ou remplaçante"), queryset=None)
    starts_on = forms.DateField(label=_l("Absent(e) du"), widget=DateInput)
    ends_on = forms.DateField(label=_l("au (inclus)"), widget=DateInput)
    reason = forms.CharField(label=_l("Motif"), widget=forms.Textarea(attrs={"rows": 2}), max_length=500)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["delegate"].queryset = services.delegate_candidates(user)
        self.fields["delegate"].help_text = _("Une personne de votre organisation qui exerce les mêmes fonctions.")
        for name in ("starts_on", "ends_on"):
            self.fields[name].error_messages["invalid"] = _("Saisissez une date valide (jj/mm/aaaa).")


@login_required
@require_http_methods(["GET", "POST"])
def delegation_list(request):
    if not memberships_of(request.user):
        log_denial(request, "delegations", "page", "list")
        raise PermissionDenied
    form = DelegationForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            services.delegation_create(actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            for field, errs in error.error_dict.items():
                form.add_error(field if field in form.fields else None, errs)
        else:
            messages.success(request, _("Votre remplaçant est enregistré pour cette période."))
            return redirect("permissions:delegations")
    today = timezone.localdate()
    related = ("delegator", "delegate", "organisation")
    context = {
        "form": form,
        "given": Delegation.objects.filter(delegator=request.user, ends_on__gte=today).select_related(*related),
        "received": Delegation.objects.filter(
            delegate=request.user, ends_on__gte=today, revoked_at__isnull=True
        ).select_related(*related),
        "today": today,
        "page_title": _("Absences et remplacements"),
    }
    return render(request, "permissions/delegations.html", context)


@login_required
@require_POST
def delegation_revoke(request, pk):
    delegation = Delegation.objects.filter(pk=pk, delegator=request.user).first()
    if delegation is None:
        log_denial(request, "delegation_revoke", "delegation", pk)
        raise Http404
    services.delegation_revoke(actor=request.user, delegation=delegation)
    messages.success(request, _("La délégation est terminée."))
    return redirect("permissions:delegations")
