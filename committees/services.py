"""Writes of the committee app. Same rules as workflows/services.py: one transaction, the session row
(or the written procedure's row) locked (it serialises everything that happens in one session,
including two members recording the same decision), rights and state re-checked after the lock,
history actor and reason recorded.

The decision itself goes through `workflows.services.committee_decide`, which locks the case, checks
the actor's `cases.review_in_committee` grant and completes the committee step of the flow. It only
accepts a collective source: the SessionDecision written here, or a WrittenProcedure closed here.
"""

import hashlib
import logging

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _
from viewflow.workflow.models import Task

from cases import choices
from cases.audit import acting_as
from cases.models import Case, CommitteeReview
from notifications.outbox import notify_all
from permissions.grants import grant_step
from permissions.models import Membership
from permissions.policy import Action, log_denial, policy
from permissions.roles import Role
from workflows import services as workflow
from workflows.locking import holding
from workflows.services import StepConflict, StepHeldElsewhere

from . import selectors
from .documents import minutes_pdf
from .models import (
    DALO_LOSS_CHOICES,
    PRIORITY_CHOICES,
    AgendaItem,
    Amendment,
    Attendance,
    Committee,
    CommitteeMember,
    Minutes,
    Recusal,
    Session,
    SessionDecision,
    Vote,
    VoteChoice,
    WrittenProcedure,
)

log = logging.getLogger("ppgdid.committees")

Function = CommitteeMember.Function
BUREAU = (Function.CHAIR, Function.SECRETARY)

# Which CommitteeReview fields each outcome states; anything else in the form is dropped.
FIELDS_BY_OUTCOME = {
    choices.CommitteeOutcome.LABELLED: ("orientation", "target_reservataire", "designated_landlord", "support_measure"),
    choices.CommitteeOutcome.ADJOURNED: ("missing_items", "adjourned_until", "reason"),
    choices.CommitteeOutcome.NOT_KEPT: ("reason",),
    choices.CommitteeOutcome.REDIRECTED: ("redirected_to", "reason"),
}
DALO_LOSS_FIELDS = ("dalo_benefit_lost", "offer_adapted", "reason")
# A correction may restate these; changing the outcome itself needs a new examination.
AMENDABLE_FIELDS = (
    "orientation",
    "target_reservataire",
    "support_measure",
    "missing_items",
    "adjourned_until",
    "reason",
)


# --- helpers ------------------------------------------------------------------------------------------


def _lock(model, pk, related=()):
    qs = model.objects.select_related(*related)
    qs = qs.select_for_update(of=("self",)) if connection.vendor == "postgresql" else qs.select_for_update()
    return qs.get(pk=pk)


def _seat(actor, committee, functions=None, action="act") -> CommitteeMember:
    seat = selectors.seat_on(actor, committee)
    if seat is None or (functions and seat.function not in functions):
        log_denial(actor, action, "committee", committee.pk)
        raise PermissionDenied(_("Cette action est réservée à la présidence ou au secrétariat de la commission."))
    return seat


def _require_status(session, *statuses):
    if session.status not in statuses:
        messages = {
            Session.Status.PLANNED: _("La séance n'est pas encore ouverte."),
            Session.Status.OPEN: _("La séance est en cours."),
            Session.Status.CLOSED: _("La séance est close : plus rien ne peut y être modifié."),
        }
        raise StepConflict(messages[session.status])


def _undecided(item: AgendaItem):
    if SessionDecision.objects.filter(item=item).exists():
        raise StepConflict(_("La commission a déjà statué sur ce dossier : rechargez la page pour voir la décision."))


# --- members ------------------------------------------------------------------------------------------


def _membership_for(user, organisation, function, committee) -> tuple[Membership, bool]:
    """The commission membership matching a seat, covering the committee's communes."""
    role = Role.COMMISSION_CHAIR if function in BUREAU else Role.COMMISSION_MEMBER
    membership, created = Membership.objects.get_or_create(user=user, organisation=organisation, role=role)
    if not membership.is_active:
        membership.is_active = True
        membership.save()
    wanted = set(committee.communes.values_list("pk", flat=True))
    own = set(membership.communes.values_list("pk", flat=True))
    effective = own or set(organisation.communes.values_list("pk", flat=True))
    if not wanted <= effective:
        # An explicit list replaces the organisation's territory: keep that territory in it.
        membership.communes.set(effective | wanted)
    return membership, created


def _refresh_committee_grants(committee):
    """Cases already at the committee step get the grant for the (possibly new) member groups."""
    for case in Case.objects.filter(
        status=choices.CaseStatus.COMMITTEE, closed_at__isnull=True, household__commune__in=committee.communes.all()
    ).select_related("household", "organisation"):
        grant_step(case, "review_in_committee")


def committee_member_add(*, actor, committee, user, organisation, function=Function.MEMBER, has_vote=True):
    """Seat a user on a committee, with the commission role and territory that go with it."""
    if not (
        actor.is_superuser or selectors.seat_on(actor, committee) and selectors.seat_on(actor, committee).is_bureau
    ):
        log_denial(actor, "member_add", "committee", committee.pk)
        raise PermissionDenied
    with transaction.atomic(), acting_as(actor, "Membre de commission ajouté"):
        committee = _lock(Committee, committee.pk)
        membership, created = _membership_for(user, organisation, function, committee)
        seat = CommitteeMember.objects.filter(committee=committee, user=user).first() or CommitteeMember(
            committee=committee, user=user
        )
        seat.organisation = organisation
        seat.function = function
        seat.has_vote = has_vote
        seat.is_active = True
        if seat.membership_id != membership.pk:
            seat.membership = membership
            seat.membership_created = created
        seat.full_clean()
        seat.save()
        _refresh_committee_grants(committee)
    return seat


def committee_member_remove(*, actor, seat):
    if not (actor.is_superuser or _seat(actor, seat.committee, BUREAU)):
        raise PermissionDenied
    with transaction.atomic(), acting_as(actor, "Membre de commission retiré"):
        seat = _lock(CommitteeMember, seat.pk)
        seat.is_active = False
        seat.save()
        still_used = CommitteeMember.objects.filter(membership=seat.membership, is_active=True).exists()
        if seat.membership_created and not still_used:
            seat.membership.is_active = False
            seat.membership.save()
    return seat


# --- sessions and agenda ------------------------------------------------------------------------------


def session_create(*, actor, committee, starts_at, place="", video_link=""):
    _seat(actor, committee, BUREAU, "session_create")
    with transaction.atomic(), acting_as(actor, "Séance planifiée"):
        session = Session(
            committee=committee, starts_at=starts_at, place=place, video_link=video_link, created_by=actor
        )
        session.full_clean()
        session.save()
    return session


def _renumber(session):
    for position, item in enumerate(session.items.order_by("position", "pk"), start=1):
        if item.position != position:
            item.position = position
            item.save(update_fields=["position"])


def agenda_add(*, actor, session, case) -> AgendaItem:
    """Put a case awaiting the committee on the agenda (secretary)."""
    _seat(actor, session.committee, (Function.SECRETARY,), "agenda_add")
    with transaction.atomic(), acting_as(actor, "Dossier inscrit à l'ordre du jour"):
        session = _lock(Session, session.pk)
        _require_status(session, Session.Status.PLANNED, Session.Status.OPEN)
        if not selectors.eligible_cases(session).filter(pk=case.pk).exists():
            raise ValidationError(
                {
                    "case": _(
                        "Ce dossier ne peut pas être inscrit : il n'attend pas de passage en commission sur ce "
                        "territoire, ou il est déjà inscrit à une séance."
                    )
                }
            )
        case = Case.objects.get(pk=case.pk)
        last = session.items.aggregate(m=Max("position"))["m"] or 0
        item = AgendaItem.objects.create(
            session=session,
            case=case,
            kind=CommitteeReview.Kind.DALO_LOSS if case.dalo_loss_review_pending else CommitteeReview.Kind.PRIORITY,
            position=last + 1,
            added_by=actor,
        )
    return item


def agenda_fill(*, actor, session) -> int:
    """Add every eligible case, most urgent first. Returns how many were added."""
    added = 0
    for case in selectors.eligible_cases(session):
        agenda_add(actor=actor, session=session, case=case)
        added += 1
    return added


def agenda_remove(*, actor, item) -> None:
    _seat(actor, item.session.committee, (Function.SECRETARY,), "agenda_remove")
    with transaction.atomic(), acting_as(actor, "Dossier retiré de l'ordre du jour"):
        session = _lock(Session, item.session_id)
        _require_status(session, Session.Status.PLANNED, Session.Status.OPEN)
        item = session.items.get(pk=item.pk)
        _undecided(item)
        # Votes and recusals on it go with it; their history rows remain.
        for vote in item.votes.all():
            vote.delete()
        for recusal in item.recusals.all():
            recusal.delete()
        item.delete()
        _renumber(session)


def agenda_move(*, actor, item, offset: int) -> None:
    """Move an item up (-1) or down (+1) by swapping it with its neighbour."""
    _seat(actor, item.session.committee, (Function.SECRETARY,), "agenda_move")
    with transaction.atomic(), acting_as(actor, "Ordre du jour réordonné"):
        session = _lock(Session, item.session_id)
        _require_status(session, Session.Status.PLANNED, Session.Status.OPEN)
        _renumber(session)
        items = list(session.items.order_by("position", "pk"))
        index = next(i for i, other in enumerate(items) if other.pk == item.pk)
        target = index + offset
        if not 0 <= target < len(items):
            return
        a, b = items[index], items[target]
        a.position, b.position = b.position, a.position
        a.save(update_fields=["position"])
        b.save(update_fields=["position"])


def session_open(*, actor, session) -> Session:
    _seat(actor, session.committee, BUREAU, "session_open")
    with transaction.atomic(), acting_as(actor, "Séance ouverte"):
        session = _lock(Session, session.pk)
        _require_status(session, Session.Status.PLANNED)
        session.status = Session.Status.OPEN
        session.opened_at = timezone.now()
        session.save()
    return session


def attendance_set(*, actor, session, present_member_ids) -> None:
    """Record who is present (the bureau does it at the start of the session and on arrivals)."""
    _seat(actor, session.committee, BUREAU, "attendance")
    present_member_ids = {int(pk) for pk in present_member_ids}
    with transaction.atomic(), acting_as(actor, "Feuille de présence"):
        session = _lock(Session, session.pk)
        _require_status(session, Session.Status.OPEN)
        for seat in session.committee.members.filter(is_active=True):
            row = Attendance.objects.filter(session=session, member=seat).first()
            present = seat.pk in present_member_ids
            if row is None:
                if present:
                    Attendance.objects.create(session=session, member=seat, present=True)
            elif row.present != present:
                row.present = present
                row.save()


# --- votes and recusals -------------------------------------------------------------------------------


def vote_cast(*, actor, item, choice, comment="") -> Vote:
    """Record (or change) a member's opinion on an item, ahead of or during the session."""
    seat = _seat(actor, item.session.committee, action="vote")
    allowed = DALO_LOSS_CHOICES if item.is_dalo_loss else PRIORITY_CHOICES
    if choice not in allowed:
        raise ValidationError({"choice": _("Choisissez un des avis proposés pour ce dossier.")})
    if not seat.has_vote:
        raise ValidationError({"choice": _("Vous siégez sans voix délibérative : vous ne votez pas.")})
    with transaction.atomic(), acting_as(actor, "Avis sur un dossier"):
        session = _lock(Session, item.session_id)
        _require_status(session, Session.Status.PLANNED, Session.Status.OPEN)
        item = session.items.get(pk=item.pk)
        _undecided(item)
        if item.recusals.filter(member=seat).exists():
            raise ValidationError({"choice": _("Vous vous êtes déporté sur ce dossier : vous ne votez pas.")})
        vote = Vote.objects.filter(item=item, member=seat).first() or Vote(item=item, member=seat)
        vote.choice = choice
        vote.comment = comment
        vote.recorded_by = None  # cast by the member themselves
        vote.full_clean()
        vote.save()
    return vote


def recusal_record(*, actor, item, member, reason) -> Recusal:
    """A member steps aside on a case (conflict of interest). The bureau or the member records it."""
    seat = _seat(actor, item.session.committee, action="recusal")
    if member.committee_id != item.session.committee_id:
        raise ValidationError({"member": _("Ce membre ne siège pas dans cette commission.")})
    if seat.pk != member.pk and not seat.is_bureau:
        log_denial(actor, "recusal", "committee", item.session.committee_id)
        raise PermissionDenied(_("Seuls la présidence, le secrétariat ou le membre concerné peuvent noter un déport."))
    if not reason.strip():
        raise ValidationError({"reason": _("Indiquez le motif du déport (par exemple : bailleur concerné).")})
    with transaction.atomic(), acting_as(actor, "Déport d'un membre"):
        session = _lock(Session, item.session_id)
        _require_status(session, Session.Status.PLANNED, Session.Status.OPEN)
        item = session.items.get(pk=item.pk)
        _undecided(item)
        if item.recusals.filter(member=member).exists():
            raise ValidationError({"member": _("Ce membre est déjà déporté sur ce dossier.")})
        return Recusal.objects.create(item=item, member=member, reason=reason.strip(), recorded_by=actor)


# --- decisions ----------------------------------------------------------------------------------------


def _choice_of(item, values) -> str:
    if item.is_dalo_loss:
        lost = values.get("dalo_benefit_lost")
        if lost is None:
            raise ValidationError({"dalo_benefit_lost": _("Indiquez si la perte du bénéfice DALO est confirmée.")})
        return "loss_confirmed" if lost else "loss_rejected"
    if not values.get("outcome"):
        raise ValidationError({"outcome": _("Choisissez la décision de la commission.")})
    return values["outcome"]


def _review_values(item, values) -> dict:
    keys = DALO_LOSS_FIELDS if item.is_dalo_loss else ("outcome", *FIELDS_BY_OUTCOME.get(values.get("outcome"), ()))
    return {key: values[key] for key in keys if values.get(key) not in (None, "")}


def _check_majority(tally, choice, tie_message):
    """The decision follows the majority of the votes counted (selectors.Tally.majority)."""
    majority = tally.majority
    if majority is None:
        raise ValidationError(tie_message % {"n": tally.counted}, code="no_majority")
    if majority != choice:
        raise ValidationError(
            _("La décision doit suivre la majorité des voix : « %(choice)s » (%(n)s voix sur %(total)s).")
            % {"choice": VoteChoice(majority).label, "n": tally.counts[majority], "total": tally.counted},
            code="not_majority",
        )


def _check_adjourned(review_values, after, message):
    if review_values.get("outcome") == choices.CommitteeOutcome.ADJOURNED:
        until = review_values.get("adjourned_until")
        if not until:
            raise ValidationError({"adjourned_until": _("Indiquez la date avant laquelle compléter le dossier.")})
        if until <= after:
            raise ValidationError({"adjourned_until": message})


def _check_case_waits(case, is_dalo_loss):
    if not case.is_open or case.status != choices.CaseStatus.COMMITTEE or case.dalo_loss_review_pending != is_dalo_loss:
        raise StepConflict(_("Ce dossier n'attend plus cette décision de la commission : rechargez la page."))


def _release_claim(case, seat_committee, actor):
    """A step claimed by another member of this committee gives way to the committee's decision."""
    task = workflow.active_task(case, "committee")
    if task is None or task.owner_id in (None, actor.pk):
        return
    if not CommitteeMember.objects.filter(committee=seat_committee, user_id=task.owner_id, is_active=True).exists():
        raise StepHeldElsewhere(
            _("Cette étape est prise en charge par une personne extérieure à la commission : elle doit la libérer."),
            case_id=case.pk,
        )
    task = Task.objects.get(pk=task.pk)
    with task.activation() as activation:
        activation.unassign()
    log.info("committee step released task_id=%s by user_id=%s", task.pk, actor.pk)


def show_of_hands_record(*, actor, item, votes: dict) -> int:
    """The secretary records a show of hands: one Vote per present voting member who raised a hand,
    marked as recorded by the secretary (`recorded_by`), with its history. `votes` maps member ids
    to a choice; a blank choice leaves that member's vote as it is. Returns how many were recorded."""
    committee = item.session.committee
    _seat(actor, committee, (Function.SECRETARY,), "show_of_hands")
    allowed = DALO_LOSS_CHOICES if item.is_dalo_loss else PRIORITY_CHOICES
    votes = {int(member_id): choice for member_id, choice in votes.items() if choice}
    if any(choice not in allowed for choice in votes.values()):
        raise ValidationError(_("Choisissez un des avis proposés pour ce dossier."))
    if not votes:
        raise ValidationError(_("Indiquez le vote d'au moins un membre présent."))
    with transaction.atomic(), acting_as(actor, "Vote à main levée enregistré par le secrétariat"):
        session = _lock(Session, item.session_id)
        _require_status(session, Session.Status.OPEN)
        item = session.items.get(pk=item.pk)
        _undecided(item)
        absent_or_recused = set(item.recusals.values_list("member_id", flat=True))
        present = selectors.present_member_ids(session)
        voters = {
            seat.pk: seat
            for seat in selectors.voting_members(committee)
            if seat.pk in present and seat.pk not in absent_or_recused
        }
        unknown = set(votes) - set(voters)
        if unknown:
            raise ValidationError(
                _("Seuls les membres votants présents et non déportés votent à main levée sur ce dossier.")
            )
        for member_id, choice in votes.items():
            vote = Vote.objects.filter(item=item, member_id=member_id).first() or Vote(
                item=item, member=voters[member_id]
            )
            vote.choice = choice
            vote.comment = ""
            vote.recorded_by = actor
            vote.full_clean()
            vote.save()
    log.info("show of hands item_id=%s votes=%s by user_id=%s", item.pk, len(votes), actor.pk)
    return len(votes)


def decision_record(*, actor, item, values: dict, other_landlords=()) -> SessionDecision:
    """Record the committee's decision on one agenda item and complete the case's committee step.

    Exactly once: the session row is locked, so a second member recording at the same moment waits,
    then finds the decision and gets a StepConflict with a plain message.
    """
    committee = item.session.committee
    mode = committee.decision_mode
    functions = (Function.CHAIR,) if mode == Committee.DecisionMode.CHAIR else BUREAU
    seat = _seat(actor, committee, functions, "decide")
    with transaction.atomic(), acting_as(actor, "Décision de la commission"):
        session = _lock(Session, item.session_id)
        _require_status(session, Session.Status.OPEN)
        item = session.items.select_related("case").get(pk=item.pk)
        _undecided(item)
        if item.recusals.filter(member=seat).exists():
            raise PermissionDenied(
                _("Vous vous êtes déporté sur ce dossier : vous ne pouvez pas enregistrer sa décision.")
            )
        case = item.case
        _check_case_waits(case, item.is_dalo_loss)
        quorum = selectors.quorum(session, item)
        if not quorum.reached:
            raise ValidationError(
                _(
                    "Quorum non atteint : %(present)s membre(s) votant(s) présent(s) et non déporté(s), "
                    "%(required)s requis (%(rule)s). Aucune décision ne peut être enregistrée."
                )
                % {"present": quorum.present, "required": quorum.required, "rule": quorum.rule},
                code="quorum",
            )
        choice = _choice_of(item, values)
        tally = selectors.tally(item)
        if mode == Committee.DecisionMode.MAJORITY:
            _check_majority(
                tally,
                choice,
                _(
                    "Aucune majorité ne se dégage (%(n)s voix comptées). Les membres présents doivent voter, "
                    "ou la commission ajourne le dossier."
                ),
            )
        review_values = _review_values(item, values)
        _check_adjourned(
            review_values, timezone.localdate(session.starts_at), _("La date doit être postérieure à la séance.")
        )
        _release_claim(case, committee, actor)
        decision = SessionDecision.objects.create(
            item=item, choice=choice, mode=mode, tally=tally.as_json(), recorded_by=actor
        )
        workflow.committee_decide(actor=actor, case=case, values=review_values, source=decision)
        decision.refresh_from_db()
        if other_landlords and review_values.get("outcome") == choices.CommitteeOutcome.LABELLED:
            decision.other_landlords.set(other_landlords)
    log.info("committee decision recorded item_id=%s case_id=%s by user_id=%s", item.pk, case.pk, actor.pk)
    return decision


# --- written procedures (procédure écrite) ---------------------------------------------------------------


def _notify_procedure_opened(procedure):
    from django.urls import reverse

    seats = procedure.committee.members.filter(is_active=True).exclude(user=procedure.opened_by)
    notify_all(
        [seat.user for seat in seats.select_related("user")],
        template="written_procedure_opened",
        key=lambda user: f"written_procedure:{procedure.pk}:opened:{user.pk}",
        context={
            "committee": procedure.committee.name,
            "deadline": procedure.deadline.strftime("%d/%m/%Y"),
            "path": reverse("committees:procedure", args=[procedure.pk]),
        },
        case=procedure.case,
    )


def procedure_open(*, actor, committee, case, deadline, reason="") -> WrittenProcedure:
    """The secretary puts one case awaiting the committee to the members in writing, with a response
    deadline; the members are told (in-app, and e-mail per preference)."""
    _seat(actor, committee, (Function.SECRETARY,), "procedure_open")
    if deadline is None or deadline <= timezone.localdate():
        raise ValidationError({"deadline": _("La date limite de réponse doit être postérieure à aujourd'hui.")})
    with transaction.atomic(), acting_as(actor, "Procédure écrite ouverte"):
        committee = _lock(Committee, committee.pk)
        case = workflow._lock_case(case.pk)
        if not policy.can(actor, Action.VIEW, case):
            log_denial(actor, "procedure_open", "case", case.pk)
            raise PermissionDenied
        waiting = selectors.not_busy(selectors.awaiting_cases(committee)).filter(pk=case.pk).exists()
        if not waiting:
            raise ValidationError(
                {
                    "case": _(
                        "Ce dossier ne peut pas être soumis par écrit : il n'attend pas de passage en commission sur "
                        "ce territoire, ou il est déjà inscrit à une séance ou à une autre procédure écrite."
                    )
                }
            )
        procedure = WrittenProcedure(
            committee=committee,
            case=case,
            kind=CommitteeReview.Kind.DALO_LOSS if case.dalo_loss_review_pending else CommitteeReview.Kind.PRIORITY,
            reason=reason.strip(),
            deadline=deadline,
            opened_by=actor,
        )
        procedure.full_clean()
        procedure.save()
        _notify_procedure_opened(procedure)
    log.info("written procedure opened id=%s case_id=%s by user_id=%s", procedure.pk, case.pk, actor.pk)
    return procedure


def _require_open(procedure):
    if procedure.status != WrittenProcedure.Status.OPEN:
        raise StepConflict(
            _("Cette procédure écrite est close ou annulée : plus rien ne peut y être enregistré. Rechargez la page.")
        )


def procedure_vote(*, actor, procedure, choice, comment="") -> Vote:
    """A member answers a written procedure, until the end of the response deadline."""
    seat = _seat(actor, procedure.committee, action="vote")
    allowed = DALO_LOSS_CHOICES if procedure.is_dalo_loss else PRIORITY_CHOICES
    if choice not in allowed:
        raise ValidationError({"choice": _("Choisissez un des avis proposés pour ce dossier.")})
    if not seat.has_vote:
        raise ValidationError({"choice": _("Vous siégez sans voix délibérative : vous ne votez pas.")})
    with transaction.atomic(), acting_as(actor, "Vote en procédure écrite"):
        procedure = _lock(WrittenProcedure, procedure.pk)
        _require_open(procedure)
        # Answers are taken until the end of the deadline day (local time).
        if timezone.localdate() > procedure.deadline:
            raise ValidationError(
                {
                    "choice": _("La date limite de réponse (%(date)s) est passée : les votes sont clos.")
                    % {"date": procedure.deadline.strftime("%d/%m/%Y")}
                }
            )
        if procedure.recusals.filter(member=seat).exists():
            raise ValidationError({"choice": _("Vous vous êtes déporté sur ce dossier : vous ne votez pas.")})
        vote = Vote.objects.filter(procedure=procedure, member=seat).first() or Vote(procedure=procedure, member=seat)
        vote.choice = choice
        vote.comment = comment
        vote.recorded_by = None
        vote.full_clean()
        vote.save()
    return vote


def procedure_recusal(*, actor, procedure, member, reason) -> Recusal:
    """A member steps aside on a written procedure, as in a session (bureau or the member)."""
    seat = _seat(actor, procedure.committee, action="recusal")
    if member.committee_id != procedure.committee_id:
        raise ValidationError({"member": _("Ce membre ne siège pas dans cette commission.")})
    if seat.pk != member.pk and not seat.is_bureau:
        log_denial(actor, "recusal", "committee", procedure.committee_id)
        raise PermissionDenied(_("Seuls la présidence, le secrétariat ou le membre concerné peuvent noter un déport."))
    if not reason.strip():
        raise ValidationError({"reason": _("Indiquez le motif du déport (par exemple : bailleur concerné).")})
    with transaction.atomic(), acting_as(actor, "Déport d'un membre"):
        procedure = _lock(WrittenProcedure, procedure.pk)
        _require_open(procedure)
        if procedure.recusals.filter(member=member).exists():
            raise ValidationError({"member": _("Ce membre est déjà déporté sur ce dossier.")})
        # A recused member's answer does not count: it is kept (history) but the tally skips it.
        return Recusal.objects.create(procedure=procedure, member=member, reason=reason.strip(), recorded_by=actor)


def procedure_close(*, actor, procedure, values: dict) -> WrittenProcedure:
    """The secretary records the outcome of a written procedure and completes the committee step.

    Rules (règlement intérieur, as in sessions): the quorum counts the voting members who responded
    (recused members excluded); the outcome is the majority of the votes cast, a tie being no
    majority; the outcome is recorded after the deadline, or earlier once every voting member answered.
    """
    seat = _seat(actor, procedure.committee, (Function.SECRETARY,), "procedure_close")
    # workflow.audited: one transaction whose history rows (the procedure's and the step's) are chained
    # in one batch at its end.
    with workflow.audited(actor, "Issue de la procédure écrite"):
        procedure = _lock(WrittenProcedure, procedure.pk, related=("committee",))
        _require_open(procedure)
        recused = selectors.recused_on(procedure)  # read once: the secretary's, the tally's, the quorum's
        if seat.pk in recused:
            raise PermissionDenied(
                _("Vous vous êtes déporté sur ce dossier : vous ne pouvez pas enregistrer sa décision.")
            )
        case = workflow._lock_case(procedure.case_id)
        _check_case_waits(case, procedure.is_dalo_loss)
        tally = selectors.procedure_tally(procedure, recused)
        quorum = selectors.procedure_quorum(procedure, tally, recused)
        today = timezone.localdate()
        if today <= procedure.deadline and not quorum.everyone_answered:
            raise ValidationError(
                _(
                    "Les membres peuvent répondre jusqu'au %(date)s inclus (%(n)s réponse(s) sur %(total)s) : "
                    "l'issue s'enregistre après cette date, ou dès que tous les membres votants ont répondu."
                )
                % {"date": procedure.deadline.strftime("%d/%m/%Y"), "n": quorum.responded, "total": quorum.eligible},
                code="deadline",
            )
        if not quorum.reached:
            raise ValidationError(
                _(
                    "Quorum non atteint : %(n)s membre(s) votant(s) ont répondu, %(required)s requis (%(rule)s). "
                    "Aucune décision ne peut être enregistrée : annulez la procédure et inscrivez le dossier en séance."
                )
                % {"n": quorum.responded, "required": quorum.required, "rule": quorum.rule},
                code="quorum",
            )
        choice = _choice_of(procedure, values)
        _check_majority(
            tally,
            choice,
            _(
                "Aucune majorité des voix exprimées (%(n)s voix) : une procédure écrite ne départage pas une "
                "égalité. Annulez la procédure et inscrivez le dossier en séance."
            ),
        )
        review_values = _review_values(procedure, values)
        _check_adjourned(review_values, today, _("La date doit être dans le futur."))
        _release_claim(case, procedure.committee, actor)
        procedure.status = WrittenProcedure.Status.CLOSED
        procedure.closed_by = actor
        procedure.closed_at = timezone.now()
        procedure.choice = choice
        procedure.tally = tally.as_json()
        # Saved once, with its review (attach_review): one UPDATE and one history row, the row locked
        # above checked in memory by locked_for_decision rather than read again.
        procedure._closing_under_lock = True
        try:
            with holding(case):  # the case row locked above: the committee step does not read it again
                workflow.committee_decide(actor=actor, case=case, values=review_values, source=procedure)
        finally:
            procedure.__dict__.pop("_closing_under_lock", None)
        if procedure.review_id is None:  # not attached (cannot happen today): the closing is still saved
            procedure.save()
    log.info("written procedure closed id=%s case_id=%s by user_id=%s", procedure.pk, case.pk, actor.pk)
    return procedure


def procedure_cancel(*, actor, procedure, reason: str) -> WrittenProcedure:
    """The secretary cancels a written procedure (quorum not reached, tie, urgency gone...): the case
    stays at the committee step, free for a session or a new procedure."""
    _seat(actor, procedure.committee, (Function.SECRETARY,), "procedure_cancel")
    if not reason.strip():
        raise ValidationError({"cancel_reason": _("Indiquez pourquoi la procédure écrite est annulée.")})
    with transaction.atomic(), acting_as(actor, f"Procédure écrite annulée : {reason.strip()}"):
        procedure = _lock(WrittenProcedure, procedure.pk)
        _require_open(procedure)
        procedure.status = WrittenProcedure.Status.CANCELLED
        procedure.closed_by = actor
        procedure.closed_at = timezone.now()
        procedure.cancel_reason = reason.strip()
        procedure.save()
    return procedure


def _display(review, name):
    value = getattr(review, name)
    if value in (None, ""):
        return ""
    display = getattr(review, f"get_{name}_display", None)
    return str(display() if display else value)


def decision_amend(*, actor, decision, values: dict, reason: str) -> Amendment:
    """Correct a recorded decision: the review is saved with the reason on its history, and an
    Amendment row keeps old and new values. After closing, the minutes get a new version."""
    committee = decision.item.session.committee
    _seat(actor, committee, BUREAU, "amend")
    if not reason.strip():
        raise ValidationError({"amendment_reason": _("Un rectificatif doit être motivé.")})
    with transaction.atomic(), acting_as(actor, f"Rectificatif : {reason.strip()}"):
        session = _lock(Session, decision.item.session_id)
        decision = SessionDecision.objects.select_related("review", "item__case").get(pk=decision.pk)
        review = _lock(CommitteeReview, decision.review_id)
        allowed = (
            ("reason",)
            if review.kind == CommitteeReview.Kind.DALO_LOSS
            else tuple(f for f in AMENDABLE_FIELDS if f in FIELDS_BY_OUTCOME.get(review.outcome, ()))
        )
        old_reservataire = review.target_reservataire_id
        changes = {}
        for name in allowed:
            if name not in values:
                continue
            new = values[name]
            attname = review._meta.get_field(name).attname
            old_raw = getattr(review, attname)
            new_raw = new.pk if hasattr(new, "pk") else new
            if (old_raw or None) == (new_raw or None):
                continue
            before = _display(review, name)
            setattr(review, name, new)
            changes[name] = [before, _display(review, name)]
        if not changes:
            raise ValidationError(_("Aucune modification : le rectificatif doit changer au moins un élément."))
        review.full_clean()
        review.save()
        case = _lock(Case, decision.item.case_id)
        if "target_reservataire" in changes and case.is_open and case.target_reservataire_id == old_reservataire:
            case.target_reservataire = review.target_reservataire
            case.save()
        amendment = Amendment.objects.create(
            decision=decision, changes=changes, reason=reason.strip(), amended_by=actor
        )
        if session.status == Session.Status.CLOSED:
            _store_minutes(session, actor)
    return amendment


# --- closing and minutes ------------------------------------------------------------------------------


def _store_minutes(session, actor) -> Minutes:
    version = (session.minutes.aggregate(m=Max("version"))["m"] or 0) + 1
    pdf = minutes_pdf(session, version=version)
    return Minutes.objects.create(
        session=session, version=version, pdf=pdf, sha256=hashlib.sha256(pdf).hexdigest(), generated_by=actor
    )


def session_close(*, actor, session) -> Session:
    """Close the session (secretary): decisions become final and the minutes are generated.

    Cases left without a decision stay at the committee step, free for the next session's agenda.
    """
    _seat(actor, session.committee, (Function.SECRETARY,), "session_close")
    with transaction.atomic(), acting_as(actor, "Séance close"):
        session = _lock(Session, session.pk)
        _require_status(session, Session.Status.OPEN)
        session.status = Session.Status.CLOSED
        session.closed_at = timezone.now()
        session.save()
        _store_minutes(session, actor)
    return session
