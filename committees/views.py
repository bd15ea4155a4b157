"""Committee pages. Every object is found through a scoped selector: a user not seated on the
committee (or, for a case, outside the case policy) gets a 404."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from cases.forms_common import attach_errors
from permissions.policy import Action, log_denial, policy
from workflows.services import StepConflict, StepHeldElsewhere

from . import selectors, services
from .documents import decision_letter_pdf, decision_lines, tally_line
from .forms import (
    AgendaAddForm,
    AmendmentForm,
    AttendanceForm,
    DecisionForm,
    ProcedureCancelForm,
    ProcedureOpenForm,
    RecusalForm,
    SessionForm,
    ShowOfHandsForm,
    VoteForm,
)
from .models import CommitteeMember, Minutes, Session, SessionDecision, Vote, VoteChoice, WrittenProcedure
from .synthesis import committee_roles, synthesis

Function = CommitteeMember.Function


def _session_url(session):
    return reverse("committees:session", args=[session.pk])


def _item_url(item):
    return reverse("committees:item", args=[item.session_id, item.pk])


# --- committees ---------------------------------------------------------------------------------------


@login_required
def committee_list(request):
    seats = selectors.seats_of(request.user).select_related("committee", "organisation")
    rows = []
    for seat in seats:
        upcoming = seat.committee.sessions.exclude(status=Session.Status.CLOSED).order_by("starts_at")
        rows.append({"seat": seat, "committee": seat.committee, "upcoming": list(upcoming[:3])})
    return render(request, "committees/committee_list.html", {"rows": rows, "nav": "committees"})


@login_required
def committee_detail(request, pk):
    committee, seat = selectors.committee_for(request, pk)
    form = SessionForm()
    if request.method == "POST":
        form = SessionForm(request.POST)
        if form.is_valid():
            try:
                session = services.session_create(actor=request.user, committee=committee, **form.cleaned_data)
            except ValidationError as error:
                attach_errors(form, error)
            except PermissionDenied:
                raise Http404 from None
            else:
                messages.success(request, _("Séance planifiée."))
                return redirect(_session_url(session))
    members = committee.members.filter(is_active=True).select_related("user", "organisation")
    return render(
        request,
        "committees/committee_detail.html",
        {
            "committee": committee,
            "seat": seat,
            "members": members,
            "sessions": committee.sessions.all(),
            "procedures": committee.procedures.select_related("case"),
            "form": form if seat.is_bureau else None,
            "communes": committee.communes.all(),
            "nav": "committees",
        },
    )


# --- session ------------------------------------------------------------------------------------------


def _session_context(request, session, seat, **forms):
    # A fixed number of queries whatever the number of items: the votes, recusals and attendance are
    # read once for the whole agenda.
    items = list(selectors.agenda(session))
    present = selectors.present_member_ids(session)
    votes = Vote.objects.filter(item__session=session)
    if not seat.is_bureau:
        votes = votes.filter(member=seat)  # only the bureau sees the tally of the others' votes
    votes = list(votes.select_related("member"))
    my_votes = {vote.item_id: vote.choice for vote in votes if vote.member_id == seat.pk}
    tallies = selectors.tallies(session, items, votes, present) if seat.is_bureau else {}
    rows = []
    now = timezone.now()
    for item in items:
        rows.append(
            {
                "item": item,
                "my_vote": VoteChoice(my_votes[item.pk]).label if item.pk in my_votes else None,
                "tally": tallies[item.pk].rows(item.kind) if seat.is_bureau else None,
                "decision": getattr(item, "decision", None),
                "waiting_days": (now - item.waiting_since).days if item.waiting_since else None,
            }
        )
    editable = session.status != Session.Status.CLOSED
    is_secretary = seat.function == Function.SECRETARY
    context = {
        "session": session,
        "committee": session.committee,
        "seat": seat,
        "rows": rows,
        "quorum": selectors.quorum(session, present_ids=present),
        "present": present,
        "can_edit_agenda": editable and is_secretary,
        "is_secretary": is_secretary,
        "minutes": Minutes.objects.filter(session=session).defer("pdf").first(),  # the page shows its version
        "nav": "committees",
    }
    if context["can_edit_agenda"]:
        visible = policy.queryset_for(request.user, Action.VIEW)
        context["add_form"] = forms.get("add_form") or AgendaAddForm(
            cases=selectors.eligible_cases(session).filter(pk__in=visible.values("pk"))
        )
    if seat.is_bureau and session.status == Session.Status.OPEN:
        context["attendance_form"] = forms.get("attendance_form") or AttendanceForm(session=session, present=present)
    return context


@login_required
def session_detail(request, pk):
    session, seat = selectors.session_for(request, pk)
    return render(request, "committees/session_detail.html", _session_context(request, session, seat))


def conflict_message(conflict: StepConflict):
    """The conflict's text; for a step held outside the committee, with the link to the case's step,
    where its holder releases it and a supervisor of the holder's organisation reassigns it."""
    if isinstance(conflict, StepHeldElsewhere):
        url = reverse("cases:detail", args=[conflict.case_id]) + "#etape-ouverte"
        return format_html('{} <a href="{}">{}</a>', str(conflict), url, _("Libérer ou réattribuer l'étape"))
    return str(conflict)


def _run(request, action, success_message, *, on_error_url):
    """Call a service from a POST; conflicts and refusals come back as a message on the page."""
    try:
        action()
    except StepConflict as conflict:
        messages.error(request, conflict_message(conflict))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    except PermissionDenied as denied:
        messages.error(request, str(denied) or _("Cette action ne vous est pas permise."))
    else:
        if success_message:
            messages.success(request, success_message)
    return redirect(on_error_url)


def _session_action(service, success_message):
    """A POST on a session that calls one service and comes back to the session page."""

    @login_required
    @require_POST
    def view(request, pk):
        session, _seat = selectors.session_for(request, pk)
        return _run(
            request,
            lambda: service(actor=request.user, session=session),
            success_message,
            on_error_url=_session_url(session),
        )

    return view


session_open = _session_action(services.session_open, gettext_lazy("Séance ouverte. Notez les présences."))
session_close = _session_action(services.session_close, gettext_lazy("Séance close. Le procès-verbal est disponible."))


@login_required
@require_POST
def attendance(request, pk):
    session, seat = selectors.session_for(request, pk)
    form = AttendanceForm(request.POST, session=session)
    if not form.is_valid():
        context = _session_context(request, session, seat, attendance_form=form)
        return render(request, "committees/session_detail.html", context, status=400)
    return _run(
        request,
        lambda: services.attendance_set(
            actor=request.user, session=session, present_member_ids=[m.pk for m in form.cleaned_data["present"]]
        ),
        _("Présences enregistrées."),
        on_error_url=_session_url(session),
    )


@login_required
@require_POST
def agenda_add(request, pk):
    session, seat = selectors.session_for(request, pk)
    visible = policy.queryset_for(request.user, Action.VIEW)
    form = AgendaAddForm(request.POST, cases=selectors.eligible_cases(session).filter(pk__in=visible.values("pk")))
    if form.is_valid():
        try:
            services.agenda_add(actor=request.user, session=session, case=form.cleaned_data["case"])
        except ValidationError as error:
            attach_errors(form, error)
        except (StepConflict, PermissionDenied) as error:
            form.add_error(None, str(error) or _("Cette action ne vous est pas permise."))
        else:
            messages.success(request, _("Dossier inscrit à l'ordre du jour."))
            return redirect(_session_url(session))
    context = _session_context(request, session, seat, add_form=form)
    return render(request, "committees/session_detail.html", context, status=400)


@login_required
@require_POST
def agenda_fill(request, pk):
    session, seat = selectors.session_for(request, pk)
    added = []

    def fill():
        added.append(services.agenda_fill(actor=request.user, session=session))

    response = _run(request, fill, "", on_error_url=_session_url(session))
    if added:
        messages.success(request, _("%(n)s dossier(s) ajouté(s), du plus urgent au moins urgent.") % {"n": added[0]})
    return response


# --- agenda item --------------------------------------------------------------------------------------


def _item_context(request, session, seat, item, **forms):
    decision = SessionDecision.objects.filter(item=item).select_related("review").first()
    vote = item.votes.filter(member=seat).first()
    recused = item.recusals.filter(member=seat).exists()
    open_for_votes = session.status != Session.Status.CLOSED and decision is None
    may_decide = (
        session.status == Session.Status.OPEN
        and decision is None
        and not recused
        and (
            seat.function == Function.CHAIR
            or (seat.is_bureau and session.committee.decision_mode == session.committee.DecisionMode.MAJORITY)
        )
    )
    context = {
        "session": session,
        "committee": session.committee,
        "seat": seat,
        "item": item,
        "case": item.case,
        "sheet": synthesis(item.case, request.user),
        "my_vote": vote,
        "recused": recused,
        "recusals": item.recusals.select_related("member__user", "member__organisation"),
        "tally": selectors.tally(item) if seat.is_bureau else None,
        "tally_rows": selectors.tally(item).rows(item.kind) if seat.is_bureau else None,
        "quorum": selectors.quorum(session, item),
        "decision": decision,
        "decision_lines": _decision_lines(decision),
        "amendments": decision.amendments.select_related("amended_by") if decision else [],
        "nav": "committees",
    }
    if open_for_votes and seat.has_vote and not recused:
        initial = {"choice": vote.choice, "comment": vote.comment} if vote else None
        context["vote_form"] = forms.get("vote_form") or VoteForm(item=item, initial=initial)
    if open_for_votes:
        recusal_form = forms.get("recusal_form") or RecusalForm(seat=seat, item=item)
        if recusal_form.fields["member"].queryset.exists():
            context["recusal_form"] = recusal_form
    if may_decide:
        context["decision_form"] = forms.get("decision_form") or DecisionForm(item=item)
    if seat.function == Function.SECRETARY and session.status == Session.Status.OPEN and decision is None:
        voters = _hand_voters(session, item)
        if voters:
            context["hands_form"] = forms.get("hands_form") or ShowOfHandsForm(item=item, voters=voters)
    if decision and seat.is_bureau:
        context["amendment_form"] = forms.get("amendment_form") or AmendmentForm(review=decision.review)
    return context


def _hand_voters(session, item):
    """Who may vote by show of hands: voting members present and not recused on this item."""
    present = selectors.present_member_ids(session)
    recused = set(item.recusals.values_list("member_id", flat=True))
    return [m for m in selectors.voting_members(session.committee) if m.pk in present and m.pk not in recused]


def _decision_lines(decision):
    if decision is None:
        return []
    return [*decision_lines(decision.review, decision), tally_line(decision.tally, decision.item.kind)]


def _item(request, pk, item_pk):
    session, seat = selectors.session_for(request, pk)
    return session, seat, selectors.item_for(request, session, item_pk)


def _render_item(request, session, seat, item, status=200, **forms):
    context = _item_context(request, session, seat, item, **forms)
    return render(request, "committees/item_detail.html", context, status=status)


@login_required
def item_detail(request, pk, item_pk):
    session, seat, item = _item(request, pk, item_pk)
    return _render_item(request, session, seat, item)


@login_required
@require_POST
def item_remove(request, pk, item_pk):
    session, seat, item = _item(request, pk, item_pk)
    return _run(
        request,
        lambda: services.agenda_remove(actor=request.user, item=item),
        _("Dossier retiré de l'ordre du jour."),
        on_error_url=_session_url(session),
    )


@login_required
@require_POST
def item_move(request, pk, item_pk):
    session, seat, item = _item(request, pk, item_pk)
    offset = -1 if request.POST.get("direction") == "up" else 1
    return _run(
        request,
        lambda: services.agenda_move(actor=request.user, item=item, offset=offset),
        "",
        on_error_url=_session_url(session) + f"#item-{item.pk}",
    )


def _submit(request, form, form_name, call, success, *, render, done_url):
    """Validate, call the service, show its errors next to the fields; 400 when nothing was saved.
    `render(status, **forms)` draws the page again as it now stands."""
    if form.is_valid():
        try:
            call(form.cleaned_data)
        except ValidationError as error:
            attach_errors(form, error)
        except StepConflict as conflict:
            # Someone was quicker, or the session moved on: say so above the page as it now stands.
            messages.error(request, conflict_message(conflict))
            return render(status=409)
        except PermissionDenied as error:
            form.add_error(None, str(error) or _("Cette action ne vous est pas permise."))
        else:
            messages.success(request, success)
            return redirect(done_url)
    return render(status=400, **{form_name: form})


def _post_form(request, session, seat, item, form, form_name, call, success):
    def render(status, **forms):
        return _render_item(request, session, seat, item, status=status, **forms)

    return _submit(request, form, form_name, call, success, render=render, done_url=_item_url(item))


@login_required
@require_POST
def item_vote(request, pk, item_pk):
    session, seat, item = _item(request, pk, item_pk)
    return _post_form(
        request,
        session,
        seat,
        item,
        VoteForm(request.POST, item=item),
        "vote_form",
        lambda data: services.vote_cast(actor=request.user, item=item, **data),
        _("Votre avis est enregistré. Vous pouvez le modifier jusqu'à la décision."),
    )


@login_required
@require_POST
def item_recusal(request, pk, item_pk):
    session, seat, item = _item(request, pk, item_pk)
    return _post_form(
        request,
        session,
        seat,
        item,
        RecusalForm(request.POST, seat=seat, item=item),
        "recusal_form",
        lambda data: services.recusal_record(actor=request.user, item=item, **data),
        _("Déport enregistré : ce membre ne vote pas et ne compte pas dans le quorum pour ce dossier."),
    )


@login_required
@require_POST
def item_decide(request, pk, item_pk):
    session, seat, item = _item(request, pk, item_pk)

    def call(data):
        other_landlords = data.pop("other_landlords", [])
        services.decision_record(actor=request.user, item=item, values=data, other_landlords=other_landlords)

    return _post_form(
        request,
        session,
        seat,
        item,
        DecisionForm(request.POST, item=item),
        "decision_form",
        call,
        _("Décision enregistrée : le dossier passe à l'étape suivante."),
    )


@login_required
@require_POST
def item_hands(request, pk, item_pk):
    """The secretary records a show of hands for the present members (each vote marked as such)."""
    session, seat, item = _item(request, pk, item_pk)
    form = ShowOfHandsForm(request.POST, item=item, voters=_hand_voters(session, item))
    return _post_form(
        request,
        session,
        seat,
        item,
        form,
        "hands_form",
        lambda data: services.show_of_hands_record(actor=request.user, item=item, votes=form.votes()),
        _("Vote à main levée enregistré pour les membres présents."),
    )


@login_required
@require_POST
def item_amend(request, pk, item_pk):
    session, seat, item = _item(request, pk, item_pk)
    decision = SessionDecision.objects.filter(item=item).select_related("review").first()
    if decision is None:
        raise Http404

    def call(data):
        reason = data.pop("amendment_reason")
        services.decision_amend(actor=request.user, decision=decision, values=data, reason=reason)

    return _post_form(
        request,
        session,
        seat,
        item,
        AmendmentForm(request.POST, review=decision.review),
        "amendment_form",
        call,
        _("Rectificatif enregistré."),
    )


# --- documents ----------------------------------------------------------------------------------------


def _pdf(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


@login_required
def minutes_download(request, pk):
    session, seat = selectors.session_for(request, pk)
    minutes = Minutes.objects.filter(session=session).first()
    if minutes is None:
        raise Http404
    return _pdf(bytes(minutes.pdf), f"proces-verbal-seance-{session.pk}-v{minutes.version}.pdf")


@login_required
def letter_download(request, pk, item_pk):
    session, seat = selectors.session_for(request, pk)
    item = selectors.item_for(request, session, item_pk, decided_too=True)  # also once the decision closed the case
    decision = SessionDecision.objects.filter(item=item).select_related("review").first()
    if decision is None or not seat.is_bureau:
        log_denial(request, "letter", "agenda_item", item_pk)
        raise Http404
    pdf = decision_letter_pdf(decision, committee_roles(request.user))
    return _pdf(pdf, f"courrier-{item.case.reference}.pdf")


# --- written procedures -------------------------------------------------------------------------------


def _procedure_url(procedure):
    return reverse("committees:procedure", args=[procedure.pk])


def _open_cases(request, committee):
    visible = policy.queryset_for(request.user, Action.VIEW)
    return selectors.not_busy(selectors.awaiting_cases(committee)).filter(pk__in=visible.values("pk"))


@login_required
def procedure_open(request, pk):
    """The secretary submits one case to the members in writing (GET: the form; POST: open it)."""
    committee, seat = selectors.committee_for(request, pk)
    initial = {"case": request.GET.get("dossier")} if request.GET.get("dossier", "").isdigit() else None
    form = ProcedureOpenForm(request.POST or None, cases=_open_cases(request, committee), initial=initial)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                procedure = services.procedure_open(actor=request.user, committee=committee, **form.cleaned_data)
            except ValidationError as error:
                attach_errors(form, error)
            except (StepConflict, PermissionDenied) as error:
                form.add_error(None, str(error) or _("Cette action ne vous est pas permise."))
            else:
                messages.success(request, _("Procédure écrite ouverte : les membres sont prévenus."))
                return redirect(_procedure_url(procedure))
    context = {
        "committee": committee,
        "seat": seat,
        "form": form if seat.function == Function.SECRETARY else None,
        "nav": "committees",
    }
    return render(request, "committees/procedure_open.html", context, status=status)


def _procedure_context(request, procedure, seat, **forms):
    is_open = procedure.status == WrittenProcedure.Status.OPEN
    vote = procedure.votes.filter(member=seat).first()
    recused = procedure.recusals.filter(member=seat).exists()
    tally = selectors.procedure_tally(procedure)
    is_secretary = seat.function == Function.SECRETARY
    today = timezone.localdate()
    context = {
        "procedure": procedure,
        "committee": procedure.committee,
        "case": procedure.case,
        "seat": seat,
        "sheet": synthesis(procedure.case, request.user),
        "my_vote": vote,
        "recused": recused,
        "recusals": procedure.recusals.select_related("member__user", "member__organisation"),
        "tally": tally if seat.is_bureau else None,
        "tally_rows": tally.rows(procedure.kind) if seat.is_bureau else None,
        "quorum": selectors.procedure_quorum(procedure, tally),
        "deadline_passed": today > procedure.deadline,
        "votes": procedure.votes.select_related("member__user", "recorded_by") if seat.is_bureau else [],
        "review": procedure.review,
        "nav": "committees",
    }
    if is_open and today <= procedure.deadline and seat.has_vote and not recused:
        initial = {"choice": vote.choice, "comment": vote.comment} if vote else None
        context["vote_form"] = forms.get("vote_form") or VoteForm(item=procedure, initial=initial)
    if is_open:
        recusal_form = forms.get("recusal_form") or _ProcedureRecusalForm(seat=seat, procedure=procedure)
        if recusal_form.fields["member"].queryset.exists():
            context["recusal_form"] = recusal_form
    if is_open and is_secretary and not recused:
        context["decision_form"] = forms.get("decision_form") or DecisionForm(item=procedure)
        context["cancel_form"] = forms.get("cancel_form") or ProcedureCancelForm()
    if procedure.review is not None:
        context["decision_lines"] = [
            *decision_lines(procedure.review, None),
            tally_line(procedure.tally, procedure.kind),
        ]
    return context


class _ProcedureRecusalForm(RecusalForm):
    def __init__(self, *args, seat, procedure, **kwargs):
        super(RecusalForm, self).__init__(*args, **kwargs)
        members = seat.committee.members.filter(is_active=True).exclude(recusals__procedure=procedure)
        if not seat.is_bureau:
            members = members.filter(pk=seat.pk)
        self.fields["member"].queryset = members.select_related("user", "organisation")
        self.fields["member"].label_from_instance = lambda s: f"{s.display_name} – {s.organisation}"


def _render_procedure(request, procedure, seat, status=200, **forms):
    context = _procedure_context(request, procedure, seat, **forms)
    return render(request, "committees/procedure_detail.html", context, status=status)


@login_required
def procedure_detail(request, pk):
    procedure, seat = selectors.procedure_for(request, pk)
    return _render_procedure(request, procedure, seat)


def _post_procedure_form(request, procedure, seat, form, form_name, call, success):
    def render(status, **forms):
        procedure.refresh_from_db()  # the service may have moved it on (closed, cancelled)
        return _render_procedure(request, procedure, seat, status=status, **forms)

    return _submit(request, form, form_name, call, success, render=render, done_url=_procedure_url(procedure))


@login_required
@require_POST
def procedure_vote(request, pk):
    procedure, seat = selectors.procedure_for(request, pk)
    return _post_procedure_form(
        request,
        procedure,
        seat,
        VoteForm(request.POST, item=procedure),
        "vote_form",
        lambda data: services.procedure_vote(actor=request.user, procedure=procedure, **data),
        _("Votre vote est enregistré. Vous pouvez le modifier jusqu'à la date limite."),
    )


@login_required
@require_POST
def procedure_recusal(request, pk):
    procedure, seat = selectors.procedure_for(request, pk)
    return _post_procedure_form(
        request,
        procedure,
        seat,
        _ProcedureRecusalForm(request.POST, seat=seat, procedure=procedure),
        "recusal_form",
        lambda data: services.procedure_recusal(actor=request.user, procedure=procedure, **data),
        _("Déport enregistré : ce membre ne vote pas et ne compte pas dans le quorum pour ce dossier."),
    )


@login_required
@require_POST
def procedure_decide(request, pk):
    procedure, seat = selectors.procedure_for(request, pk)

    def call(data):
        data.pop("other_landlords", None)
        services.procedure_close(actor=request.user, procedure=procedure, values=data)

    return _post_procedure_form(
        request,
        procedure,
        seat,
        DecisionForm(request.POST, item=procedure),
        "decision_form",
        call,
        _("Issue de la procédure écrite enregistrée : le dossier passe à l'étape suivante."),
    )


@login_required
@require_POST
def procedure_cancel(request, pk):
    procedure, seat = selectors.procedure_for(request, pk)
    return _post_procedure_form(
        request,
        procedure,
        seat,
        ProcedureCancelForm(request.POST),
        "cancel_form",
        lambda data: services.procedure_cancel(actor=request.user, procedure=procedure, reason=data["cancel_reason"]),
        _("Procédure écrite annulée : le dossier reste en attente de la commission."),
    )


@login_required
def procedure_letter(request, pk):
    """The letter to the household about a written procedure's decision (the bureau's, as in sessions)."""
    procedure, seat = selectors.procedure_for(request, pk)
    if procedure.review is None or not seat.is_bureau:
        log_denial(request, "letter", "written_procedure", pk)
        raise Http404
    pdf = decision_letter_pdf(procedure, committee_roles(request.user))
    return _pdf(pdf, f"courrier-{procedure.case.reference}.pdf")
