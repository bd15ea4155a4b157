"""Access administration pages (/habilitations/): memberships, protection, sharing, break-the-glass.

Every object comes through a scoped selector: out of scope is a 404 (logged), never a 403 that
would confirm the object exists. A page a role never uses answers 403.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from cases.forms_common import attach_errors
from cases.models import Commune

from . import services
from .forms import MembershipForm, ProtectionForm, ReasonForm, ShareForm
from .models import CaseShare
from .policy import Action, case_or_404, log_denial, policy
from .presenters import VisibleCase


def _admin_only(request) -> None:
    if not services.can_manage_memberships(request.user):
        log_denial(request, "manage_memberships", "page", "memberships")
        raise PermissionDenied


@login_required
@require_http_methods(["GET"])
def membership_list(request):
    _admin_only(request)
    show_all = request.GET.get("tous") == "1"
    memberships = (
        services.manageable_memberships(request.user)
        .select_related("user", "organisation")
        .prefetch_related("communes")
        .order_by("organisation__name", "user__username", "role")
    )
    if not show_all:
        memberships = memberships.filter(is_active=True)
    return render(
        request,
        "permissions/membership_list.html",
        {
            "memberships": memberships[:500],
            "show_all": show_all,
            "page_title": _("Habilitations"),
            "nav": "memberships",
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def membership_create(request):
    _admin_only(request)
    user = request.user
    territory = services.admin_territory(user)
    communes = Commune.objects.all() if services.is_system_admin(user) else Commune.objects.filter(pk__in=territory)
    kwargs = {
        "organisations": services.manageable_organisations(user).order_by("name"),
        "roles": services.grantable_roles(user),
        "communes": communes,
    }
    form = MembershipForm(request.POST or None, **kwargs)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.membership_create(
                actor=user,
                user=data["user"],
                organisation=data["organisation"],
                role=data["role"],
                communes=data["communes"],
                reason=data["reason"],
            )
        except ValidationError as error:
            attach_errors(form, error)
        else:
            messages.success(request, _("Le rattachement est enregistré."))
            return redirect("permissions:membership_list")
    return render(
        request,
        "permissions/form_page.html",
        {"form": form, "page_title": _("Nouveau rattachement"), "submit": _("Enregistrer")},
    )


@login_required
@require_http_methods(["GET", "POST"])
def membership_deactivate(request, pk):
    _admin_only(request)
    membership = services.manageable_memberships(request.user).filter(pk=pk).first()
    if membership is None:
        log_denial(request, "membership_deactivate", "membership", pk)
        raise Http404
    form = ReasonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.membership_deactivate(
                actor=request.user, membership=membership, reason=form.cleaned_data["reason"]
            )
        except ValidationError as error:
            attach_errors(form, error)
        else:
            messages.success(request, _("Le rattachement est désactivé."))
            return redirect("permissions:membership_list")
    return render(
        request,
        "permissions/form_page.html",
        {
            "form": form,
            "page_title": _("Désactiver un rattachement"),
            "intro": str(membership),
            "submit": _("Désactiver"),
            "danger": True,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def case_protection(request, case_pk):
    case = case_or_404(request, case_pk, action=Action.PROTECT, section="protection")
    form = ProtectionForm(request.POST or None, initial={"is_protected": case.is_protected})
    if request.method == "POST" and form.is_valid():
        try:
            services.case_protect(
                actor=request.user,
                case=case,
                is_protected=form.cleaned_data["is_protected"],
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as error:
            attach_errors(form, error)
        else:
            messages.success(request, _("La protection du dossier est enregistrée."))
            return redirect("permissions:case_protection", case_pk=case.pk)
    return render(
        request,
        "permissions/form_page.html",
        {
            "form": form,
            "page_title": _("Protection du dossier %(ref)s") % {"ref": case.reference},
            "intro": _(
                "Un dossier protégé (victime de violences, ou à la demande du ménage) : adresse et coordonnées "
                "masquées pour tous sauf le référent et son encadrant ; pas de recherche par nom hors de "
                "votre organisation ; chaque consultation est tracée."
            ),
            "submit": _("Enregistrer"),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def break_glass(request, case_pk):
    qs = policy.queryset_for(request.user, Action.BREAK_GLASS).filter(is_protected=True)
    case = case_or_404(request, case_pk, action=Action.BREAK_GLASS, section="break_glass_form", queryset=qs)
    form = ReasonForm(request.POST or None)
    opened = None
    if request.method == "POST" and form.is_valid():
        try:
            services.break_glass_open(actor=request.user, case=case, reason=form.cleaned_data["reason"])
        except ValidationError as error:
            attach_errors(form, error)
        else:
            # Reload: the access just opened changes what the page may show.
            case = case_or_404(request, case.pk, action=Action.BREAK_GLASS, section="break_glass")
            opened = VisibleCase(request.user, case).section("household")
    return render(
        request,
        "permissions/break_glass.html",
        {
            "form": form,
            "case": case,
            "opened": opened,
            "minutes": services.break_glass_minutes(),
            "page_title": _("Accès exceptionnel au dossier %(ref)s") % {"ref": case.reference},
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def case_shares(request, case_pk):
    case = case_or_404(request, case_pk, section="shares")
    can_share = policy.can(request.user, Action.SHARE, case)
    if request.method == "POST" and not can_share:
        log_denial(request, Action.SHARE, "case", case.pk)
        raise Http404
    form = ShareForm(request.POST or None, case=case) if can_share else None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.case_share_create(
                actor=request.user,
                case=case,
                category=data["category"],
                organisation=data["organisation"],
                reason=data["reason"],
                ends_on=data["ends_on"],
            )
        except ValidationError as error:
            attach_errors(form, error)
        else:
            messages.success(request, _("Le partage est enregistré."))
            return redirect("permissions:case_shares", case_pk=case.pk)
    return render(
        request,
        "permissions/case_shares.html",
        {
            "case": case,
            "shares": services.shares_visible_to(request.user, case),
            "form": form,
            "can_share": can_share,
            "today": timezone.localdate(),
            "page_title": _("Partages d'information du dossier %(ref)s") % {"ref": case.reference},
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def share_revoke(request, pk):
    cases = policy.queryset_for(request.user, Action.SHARE)
    share = CaseShare.objects.filter(pk=pk, case__in=cases).select_related("case", "organisation").first()
    if share is None:
        log_denial(request, "share_revoke", "caseshare", pk)
        raise Http404
    form = ReasonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.case_share_revoke(actor=request.user, share=share, reason=form.cleaned_data["reason"])
        except ValidationError as error:
            attach_errors(form, error)
        else:
            messages.success(request, _("Le partage est révoqué."))
            return redirect("permissions:case_shares", case_pk=share.case_id)
    return render(
        request,
        "permissions/form_page.html",
        {
            "form": form,
            "page_title": _("Révoquer un partage"),
            "intro": str(share),
            "submit": _("Révoquer"),
            "danger": True,
        },
    )
