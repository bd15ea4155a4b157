"""Pages of the reception network (/accueil/). Public pages need no login; the others check the
user's roles (403 for a page not meant for them) and reach objects through reception.access
(404 outside reach). Every refusal is logged without personal data."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from cases.choices import CriterionSource
from cases.forms_common import attach_errors
from cases.models import Commune
from permissions.policy import Action, case_or_404
from permissions.roles import SOCIAL_WORK_ROLES, Role

from . import access, reports, services
from .choices import PreFlagSource, PreFlagStatus, Topic
from .forms import (
    AccessIssueForm,
    ConfirmForm,
    ContactForm,
    DeclineForm,
    DeskForm,
    DeskSearchForm,
    PeriodForm,
    PublishForm,
    ReferralForm,
    ScriptEntryForm,
)
from .guidance import QUESTIONS, QuestionnaireForm, protection_advised, suggest
from .models import CommuneStock, Desk, HouseholdAccess, Network, ScriptEntry
from .stats import commune_figures

# --- public pages ----------------------------------------------------------------------------------


@require_safe
def index(request):
    user = request.user
    tools = {}
    if user.is_authenticated:
        tools = {
            "orient": access.can_orient(user),
            "contact": access.contact_desks(user).exists(),
            "script": access.readable_networks(user).exists(),
            "write_script": access.headed_networks(user).exists(),
            "manage": access.managed_networks(user).exists(),
            "preflags": access.has_role(user, *SOCIAL_WORK_ROLES, Role.RECEPTION),
        }
    return render(request, "reception/index.html", {"tools": tools, "nav": "reception"})


@require_safe
def desks(request):
    form = DeskSearchForm(request.GET or None)
    qs = Desk.objects.filter(is_active=True).select_related("organisation", "commune", "network")
    if form.is_valid():
        text = form.cleaned_data["commune"].strip()
        if text:
            qs = qs.filter(
                Q(commune__name__icontains=text) | Q(commune__postal_codes__icontains=text) | Q(commune_id=text)
            )
        if form.cleaned_data["level"]:
            qs = qs.filter(level=form.cleaned_data["level"])
    return render(request, "reception/desks.html", {"form": form, "desks": qs[:200], "nav": "reception"})


@require_safe
def communes(request):
    """Communes of the networks' territories, with a search."""
    text = (request.GET.get("q") or "").strip()[:80]
    qs = Commune.objects.filter(pk__in=Network.communes.through.objects.values("commune_id")).order_by("name")
    if text:
        qs = qs.filter(Q(name__icontains=text) | Q(postal_codes__icontains=text) | Q(pk=text))
    with_stock = set(CommuneStock.objects.values_list("commune_id", flat=True).distinct())
    return render(
        request, "reception/communes.html", {"communes": qs, "q": text, "with_stock": with_stock, "nav": "reception"}
    )


@require_safe
def commune(request, code):
    found = Commune.objects.filter(pk=code).first() if len(code) == 5 and code.isalnum() else None
    if found is None:
        raise Http404
    desks_here = Desk.objects.filter(is_active=True, commune=found).select_related("organisation")
    return render(
        request,
        "reception/commune.html",
        {"commune": found, "figures": commune_figures(found), "desks": desks_here, "nav": "reception"},
    )


@require_safe
def information(request):
    """The public parts of each network's published script."""
    published = []
    for network in Network.objects.all():
        version = services.published_script(network)
        if version is not None:
            published.append((network, version, version.entries.filter(is_public=True)))
    return render(request, "reception/information.html", {"published": published, "nav": "reception"})


# --- desks (network head, territory admin) ---------------------------------------------------------


@login_required
@require_safe
def desk_manage(request):
    networks = access.managed_networks(request.user)
    access.require(request, networks.exists(), "desk_manage")
    qs = access.managed_desks(request.user).select_related("organisation", "commune", "network")
    return render(request, "reception/desk_manage.html", {"desks": qs, "nav": "reception"})


@login_required
@require_http_methods(["GET", "POST"])
def desk_edit(request, pk=None):
    networks = access.managed_networks(request.user)
    access.require(request, networks.exists(), "desk_edit")
    desk = access.object_or_404(request, access.managed_desks(request.user), pk, "desk") if pk else None
    form = DeskForm(request.POST if request.method == "POST" else None, instance=desk, networks=networks)
    if request.method == "POST" and form.is_valid():
        try:
            services.desk_save(actor=request.user, desk=form.instance)
        except ValidationError as error:
            attach_errors(form, error)
        except PermissionDenied:
            raise Http404 from None
        else:
            messages.success(request, _("Le lieu d'accueil est enregistré."))
            return redirect("reception:desk_manage")
    return render(request, "reception/desk_form.html", {"form": form, "desk": desk, "nav": "reception"})


# --- the shared script -----------------------------------------------------------------------------


@login_required
@require_safe
def script(request):
    networks = access.readable_networks(request.user)
    access.require(request, networks.exists(), "script")
    shown = []
    for network in networks.distinct():
        versions = network.script_versions.filter(published_at__isnull=False)
        number = request.GET.get("version")
        version = versions.filter(number=number).first() if number and number.isdigit() else versions.first()
        shown.append((network, version, version.entries.all() if version else [], versions))
    return render(request, "reception/script.html", {"shown": shown, "topics": Topic, "nav": "reception"})


@login_required
@require_http_methods(["GET", "POST"])
def script_draft(request):
    networks = access.headed_networks(request.user)
    access.require(request, networks.exists(), "script_draft")
    network = networks.first()
    if request.POST.get("network"):
        network = access.object_or_404(request, networks, request.POST["network"], "network")
    draft = network.script_versions.filter(published_at__isnull=True).first()
    entry_form = ScriptEntryForm(prefix="fiche")
    publish_form = PublishForm(prefix="publier")
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "start":
                services.script_draft(actor=request.user, network=network)
                messages.success(request, _("Brouillon ouvert : modifiez les fiches puis publiez."))
                return redirect("reception:script_draft")
            if draft is None:
                raise ValidationError(_("Ouvrez d'abord un brouillon."))
            if action == "add":
                entry_form = ScriptEntryForm(request.POST, prefix="fiche", instance=ScriptEntry(version=draft))
                if entry_form.is_valid():
                    services.script_entry_save(actor=request.user, entry=entry_form.instance)
                    messages.success(request, _("Fiche ajoutée au brouillon."))
                    return redirect("reception:script_draft")
            elif action == "publish":
                publish_form = PublishForm(request.POST, prefix="publier")
                if publish_form.is_valid():
                    version = services.script_publish(
                        actor=request.user, version=draft, note=publish_form.cleaned_data["note"]
                    )
                    messages.success(request, _("Version %(n)s publiée.") % {"n": version.number})
                    return redirect("reception:script")
            else:
                raise ValidationError(_("Action inconnue."))
        except ValidationError as error:
            target = publish_form if action == "publish" else entry_form
            attach_errors(target, error)
        except PermissionDenied:
            raise Http404 from None
    return render(
        request,
        "reception/script_draft.html",
        {
            "network": network,
            "draft": draft,
            "entries": draft.entries.all() if draft else [],
            "entry_form": entry_form,
            "publish_form": publish_form,
            "current": services.published_script(network),
            "nav": "reception",
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def script_entry(request, pk):
    headed = access.headed_networks(request.user)
    access.require(request, headed.exists(), "script_entry")
    entries = ScriptEntry.objects.filter(version__network__in=headed, version__published_at__isnull=True)
    entry = access.object_or_404(request, entries, pk, "script_entry")
    form = ScriptEntryForm(request.POST if request.method == "POST" else None, instance=entry, prefix="fiche")
    if request.method == "POST":
        try:
            if request.POST.get("action") == "delete":
                services.script_entry_delete(actor=request.user, entry=entry)
                messages.success(request, _("Fiche retirée du brouillon."))
                return redirect("reception:script_draft")
            if form.is_valid():
                services.script_entry_save(actor=request.user, entry=form.instance)
                messages.success(request, _("Fiche modifiée."))
                return redirect("reception:script_draft")
        except ValidationError as error:
            attach_errors(form, error)
    return render(request, "reception/script_entry.html", {"form": form, "entry": entry, "nav": "reception"})


# --- orientation and contacts ----------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def orientation(request):
    """Questionnaire → suggested criteria → information given, or referral to a social worker."""
    user = request.user
    access.require(request, access.can_orient(user), "orientation")
    desks_qs = access.contact_desks(user)
    step = request.POST.get("etape", "questions") if request.method == "POST" else "questions"
    questionnaire = QuestionnaireForm(request.POST if request.method == "POST" else None, prefix="q")
    context = {"questionnaire": questionnaire, "questions": QUESTIONS, "nav": "reception", "no_desk": not desks_qs}
    if step == "questions" or not questionnaire.is_valid():
        return render(request, "reception/orientation.html", context)
    answers = questionnaire.answers()
    suggestions = suggest(answers)
    data = request.POST if step in ("information", "orienter") else None
    info_form = ContactForm(data if step == "information" else None, desks=desks_qs, prefix="info")
    referral_form = ReferralForm(
        data if step == "orienter" else None,
        desks=desks_qs,
        targets=services.referral_targets(),
        prefix="orienter",
    )
    if step == "information" and info_form.is_valid():
        try:
            services.contact_record(actor=user, **info_form.cleaned_data)
        except ValidationError as error:
            attach_errors(info_form, error)
        except PermissionDenied:
            raise Http404 from None
        else:
            messages.success(request, _("Information délivrée enregistrée."))
            return redirect("reception:orientation")
    if step == "orienter" and referral_form.is_valid():
        preflag = referral_form.instance
        preflag.housing_situation = answers["housing_situation"]
        preflag.criteria = [s.code for s in suggestions]
        preflag.protection_suggested = protection_advised(answers)
        try:
            services.preflag_create(
                actor=user,
                preflag=preflag,
                channel=referral_form.cleaned_data["channel"],
                topics=[Topic.PRIORITY],
            )
        except ValidationError as error:
            attach_errors(referral_form, error)
        except PermissionDenied:
            raise Http404 from None
        else:
            messages.success(
                request,
                _("Orientation transmise à %(org)s : un travailleur social confirmera le pré-signalement.")
                % {"org": preflag.target_organisation},
            )
            return redirect("reception:preflags")
    context.update(suggestions=suggestions, info_form=info_form, referral_form=referral_form, step="resultats")
    return render(request, "reception/orientation_results.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def contact_create(request):
    desks_qs = access.contact_desks(request.user)
    access.require(request, desks_qs.exists(), "contact_create")
    form = ContactForm(request.POST if request.method == "POST" else None, desks=desks_qs)
    if request.method == "POST" and form.is_valid():
        try:
            services.contact_record(actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            attach_errors(form, error)
        else:
            messages.success(request, _("Information délivrée enregistrée."))
            return redirect("reception:contact_create")
    recent = desks_qs.annotate(today=Count("contacts", filter=Q(contacts__on=timezone.localdate()))).values_list(
        "name", "today"
    )
    return render(request, "reception/contact_form.html", {"form": form, "recent": recent, "nav": "reception"})


# --- statistics ------------------------------------------------------------------------------------


def _period(request):
    networks = access.managed_networks(request.user)
    access.require(request, networks.exists(), "stats")
    form = PeriodForm(request.GET or None, networks=networks)
    chosen, start, end = networks, None, None
    if form.is_valid():
        if form.cleaned_data["network"]:
            chosen = networks.filter(pk=form.cleaned_data["network"].pk)
        start, end = form.cleaned_data["start"], form.cleaned_data["end"]
    return form, reports.contacts_in(chosen, start, end)


@login_required
@require_safe
def stats(request):
    form, contacts = _period(request)
    return render(
        request,
        "reception/stats.html",
        {"form": form, "summary": reports.summary(contacts), "query": request.GET.urlencode(), "nav": "reception"},
    )


@login_required
@require_safe
def stats_export(request, fmt):
    _form, contacts = _period(request)
    stamp = timezone.localdate().isoformat()
    if fmt == "csv":
        response = HttpResponse(reports.as_csv(contacts), content_type="text/csv; charset=utf-8")
    else:
        response = HttpResponse(
            reports.as_xlsx(contacts),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    response["Content-Disposition"] = f'attachment; filename="informations-delivrees-{stamp}.{fmt}"'
    return response


# --- pre-flags -------------------------------------------------------------------------------------


@login_required
@require_safe
def preflags(request):
    user = request.user
    access.require(request, access.has_role(user, *SOCIAL_WORK_ROLES, Role.RECEPTION), "preflags")
    qs = access.visible_preflags(user).select_related("target_organisation", "desk")
    deciding = set(access.deciding_preflags(user).values_list("pk", flat=True))
    return render(
        request,
        "reception/preflags.html",
        {
            "pending": [p for p in qs if p.status == PreFlagStatus.PENDING][:100],
            "decided": [p for p in qs if p.status != PreFlagStatus.PENDING][:50],
            "deciding": deciding,
            "nav": "reception",
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def preflag(request, pk):
    access.require(request, access.has_role(request.user, *SOCIAL_WORK_ROLES), "preflag")
    item = access.object_or_404(
        request, access.deciding_preflags(request.user).select_related("desk", "commune"), pk, "preflag"
    )
    pending = item.status == PreFlagStatus.PENDING
    action = request.POST.get("action") if request.method == "POST" else None
    confirm_form = ConfirmForm(
        request.POST if action == "confirm" else None,
        prefix="menage",
        initial={
            "applicant_last_name": item.last_name,
            "applicant_first_name": item.first_name,
            "phone": item.phone,
            "email": item.email,
            "commune": item.commune_id,
            "housing_situation": item.housing_situation,
            "criteria": item.criteria,
            "is_protected": item.protection_suggested,
        },
    )
    decline_form = DeclineForm(request.POST if action == "decline" else None, prefix="decliner")
    if action and not pending:
        messages.error(request, _("Ce pré-signalement a déjà été examiné."))
        return redirect("reception:preflag", pk=item.pk)
    if action == "confirm" and confirm_form.is_valid():
        data = confirm_form.cleaned_data
        try:
            case = services.preflag_confirm(
                actor=request.user,
                preflag=item,
                household=confirm_form.instance,
                criteria=confirm_form.criteria_items(
                    CriterionSource.SIAO if item.source == PreFlagSource.SIAO else CriterionSource.SOCIAL_WORKER
                ),
                is_protected=data["is_protected"],
                is_dalo=data["is_dalo"],
                comed_date=data["comed_decision_date"],
            )
        except ValidationError as error:
            confirm_form.instance.pk = None  # the household was rolled back with the transaction
            attach_errors(confirm_form, error)
        except PermissionDenied:
            raise Http404 from None
        else:
            messages.success(
                request, _("Pré-signalement confirmé : dossier %(ref)s ouvert, diagnostic à faire.") % {"ref": case}
            )
            return redirect("cases:detail", pk=case.pk)
    if action == "decline" and decline_form.is_valid():
        try:
            services.preflag_decline(actor=request.user, preflag=item, reason=decline_form.cleaned_data["reason"])
        except ValidationError as error:
            attach_errors(decline_form, error)
        else:
            messages.success(request, _("Pré-signalement décliné."))
            return redirect("reception:preflags")
    return render(
        request,
        "reception/preflag.html",
        {
            "item": item,
            "pending": pending,
            "confirm_form": confirm_form,
            "decline_form": decline_form,
            "nav": "reception",
        },
    )


# --- household access codes ------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def household_access(request, case_pk):
    case = case_or_404(request, case_pk, action=Action.CHANGE, section="household_access")
    if not case.is_open:
        raise Http404
    desks_qs = Desk.objects.filter(is_active=True).select_related("commune").order_by("-level", "name")
    form = AccessIssueForm(request.POST if request.method == "POST" else None, desks=desks_qs)
    issued = None
    if request.method == "POST" and form.is_valid():
        try:
            item, code = services.access_issue(actor=request.user, case=case, **form.cleaned_data)
        except ValidationError as error:
            attach_errors(form, error)
        except PermissionDenied:
            raise Http404 from None
        else:
            issued = (item, code)
            form = AccessIssueForm(desks=desks_qs)
    accesses = HouseholdAccess.objects.filter(case=case).select_related("desk", "created_by")
    return render(
        request,
        "reception/household_access.html",
        {"case": case, "form": form, "issued": issued, "accesses": accesses, "now": timezone.now(), "nav": "cases"},
    )


@login_required
@require_POST
def household_access_revoke(request, pk):
    item = access.object_or_404(request, HouseholdAccess.objects.select_related("case"), pk, "household_access")
    case_or_404(request, item.case_id, action=Action.CHANGE, section="household_access")
    try:
        services.access_revoke(actor=request.user, item=item)
    except PermissionDenied:
        raise Http404 from None
    messages.success(request, _("Le code d'accès est révoqué : il ne permet plus de se connecter."))
    return redirect("reception:household_access", case_pk=item.case_id)
