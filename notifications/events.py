"""What notifies, and whom. Each function runs inside the transaction of the change it reports.

Idempotency keys name the event and the recipient, so replaying an event never notifies twice.
Notification contents carry the case reference and step names, never household data: e-mails
leave the system.
"""

from django.conf import settings
from django.utils import timezone
from simple_history.models import HistoricalRecords

from cases import offers
from cases.choices import ReplyAnswer
from cases.formats import person_name
from permissions.roles import Role
from workflows.deadlines import due_info
from workflows.flows import STEPS
from workflows.queries import waiting_for

from . import recipients
from .outbox import notify_all

DATE = "%d/%m/%Y"


def _fmt(day) -> str:
    return day.strftime(DATE) if day else ""


def _step_title(task) -> str:
    return str(getattr(task.flow_task, "task_title", "") or task.flow_task.name)


def _current_actor():
    """The user the change is recorded for (cases.audit.acting_as)."""
    return getattr(getattr(HistoricalRecords.context, "request", None), "user", None)


def _current_actor_id():
    """The user the change is recorded for, not told of their own action."""
    return getattr(_current_actor(), "pk", None)


def _tell(case, candidates, *, template: str, key, context: dict, exclude=()) -> None:
    """Write the notifications of one event, to those of `candidates` (recipients.py) who may see the
    case: two queries (the candidates' memberships, then the INSERT that checks their scope on the case
    row), whatever their number."""
    audience = recipients.visible_only(case, candidates, exclude=exclude)
    notify_all(audience.users, template=template, key=key, context=context, case=case, scope=audience.scope)


UNKNOWN = object()  # a due date the sender did not pass: computed here


def step_opened(case, task, due=UNKNOWN) -> None:
    """A step of the case flow was created: tell who must (or may) take it. `due`: the step's due date,
    as the flow computed it for the transition (the deadline timer is armed from the same)."""
    codename, _status = STEPS[task.flow_task.name]
    if task.flow_task.name == "reply":
        waiting = waiting_for(case)
        # Ranked behind another household (known, or ranked below 1 while the ranking is incomplete):
        # nothing to do yet; offer_passed_down tells when the dwelling passes to it.
        if waiting and (waiting.holder_rank is not None or (waiting.rank or 1) > 1):
            return
    if due is UNKNOWN:
        due = due_info(task, case=case).due_date
    context = {"step": _step_title(task), "due": _fmt(due)}
    if task.owner_id:
        template, users = "task_assigned", recipients.users(task.owner_id)
    elif task.flow_task.name == "proposal" and not case.proposals.exists():
        template, users = "case_designated", recipients.step_holders(case, codename)
    else:
        template, users = "task_available", recipients.step_holders(case, codename)
    _tell(
        case,
        users,
        template=template,
        key=lambda user: f"task:{task.pk}:opened:{user.pk}",
        context=context,
        exclude=[_current_actor_id()],
    )


def committee_outcome(review) -> None:
    case = review.case
    context = {
        "kind": review.kind,
        "outcome": review.get_outcome_display() if review.outcome else "",
        "dalo_benefit_lost": review.dalo_benefit_lost,
        "decided_on": _fmt(timezone.localdate(review.decided_at)),
    }
    _tell(
        case,
        recipients.followers(case),
        template="committee_outcome",
        key=lambda user: f"committee:{review.pk}:{user.pk}",
        context=context,
        exclude=[review.decided_by_id],
    )


def proposal_made(proposal) -> None:
    case = proposal.case
    dwelling = proposal.dwelling
    context = {
        "typology": dwelling.typology,
        "commune": dwelling.commune.name,
        "reply_deadline": _fmt(proposal.reply_deadline),
    }
    _tell(
        case,
        recipients.followers(case),
        template="proposal_made",
        key=lambda user: f"proposal:{proposal.pk}:{user.pk}",
        context=context,
        exclude=[proposal.created_by_id],
    )


def _dwelling_context(proposal) -> dict:
    return {"typology": proposal.dwelling.typology, "commune": proposal.dwelling.commune.name}


def caleol_decided(decision) -> None:
    """The CALEOL decided on the household's candidacy: the people in charge of the case are told."""
    proposal = decision.proposal
    case = proposal.case
    context = _dwelling_context(proposal) | {
        "kind": decision.decision,
        "decision": decision.get_decision_display(),
        "rank": decision.effective_rank,
        "decided_on": _fmt(decision.decided_on),
    }
    _tell(
        case,
        recipients.followers(case),
        template="caleol_decided",
        key=lambda user: f"caleol:{decision.pk}:{user.pk}",
        context=context,
        exclude=[_current_actor_id()],
    )


def reply_recorded(reply) -> None:
    """The household answered the offer (or its silence, or a lapse, was recorded): the people in charge
    of the case are told. The reply step's timer tells of the silence it records (reply_silence_refusal)."""
    actor = _current_actor()
    if reply.answer == ReplyAnswer.NO_REPLY and getattr(actor, "username", "") == settings.SYSTEM_ACTOR_USERNAME:
        return
    proposal = reply.proposal
    case = proposal.case
    context = _dwelling_context(proposal) | {"answer": reply.answer, "replied_on": _fmt(reply.replied_on)}
    _tell(
        case,
        recipients.followers(case),
        template="household_reply",
        key=lambda user: f"reply:{reply.pk}:{user.pk}",
        context=context,
        exclude=[getattr(actor, "pk", None)],
    )


def lease_signed(proposal) -> None:
    """The lease is signed (the case closes, household rehoused): the people in charge of the case are told."""
    case = proposal.case
    context = _dwelling_context(proposal) | {"signed_on": _fmt(proposal.lease_signed_on)}
    _tell(
        case,
        recipients.followers(case),
        template="lease_signed",
        key=lambda user: f"lease:{proposal.pk}:{user.pk}",
        context=context,
        exclude=[_current_actor_id()],
    )


def offer_passed_down(proposal) -> None:
    """`proposal` has left the running for its dwelling (refusal, silence, lapse, closed case). If it
    held the dwelling, the dwelling passes to the next household in the CALEOL's ranking: its landlord
    must now notify it the offer (its reply period starts then), and its social workers learn the
    dwelling is now its household's."""
    if not proposal.offer_id:
        return
    ranked = offers.ranking(proposal.offer)
    holder = offers.holder(proposal.offer)
    if holder is None or holder.notified_on or proposal not in ranked:
        return  # nobody left, or a household already told (the dwelling is let to it)
    if ranked.index(holder) < ranked.index(proposal):
        return  # a better-ranked household holds it still: nothing passed down
    case = holder.case
    dwelling = holder.dwelling
    context = {
        "typology": dwelling.typology,
        "commune": dwelling.commune.name,
        "rank": holder.caleol_decision.effective_rank,
    }
    users = recipients.role_members([holder.landlord_id], Role.LANDLORD_AGENT) | recipients.followers(case)
    _tell(
        case,
        users,
        template="offer_passed_down",
        key=lambda user: f"proposal:{holder.pk}:holder:{user.pk}",
        context=context,
    )


def notify_break_glass(case, actor, reason: str, *, event_id=None) -> None:
    """Someone used exceptional access on a case: its referent and their supervisors are told.

    `event_id` (e.g. the access-log row id) makes a replay idempotent; without it each call is a
    new event. The free-text reason is shown in the application only, never in an e-mail.
    """
    event = event_id if event_id is not None else timezone.now().strftime("%Y%m%d%H%M%S%f")
    organisations = sorted(
        {m.organisation.name for m in actor.memberships.filter(is_active=True).select_related("organisation")}
    )
    context = {
        "actor": person_name(actor),
        "actor_organisations": ", ".join(organisations),
        "reason": reason,
        "at": timezone.localtime().strftime("%d/%m/%Y %H:%M"),
    }
    _tell(
        case,
        recipients.followers(case),
        template="break_glass",
        key=lambda user: f"break_glass:{case.pk}:{event}:{user.pk}",
        context=context,
        exclude=[actor],
    )


def reply_due_soon(case, task, due) -> None:
    context = {"due": _fmt(due)}
    users = recipients.step_holders(case, "record_reply") if not task.owner_id else recipients.users(task.owner_id)
    _tell(
        case,
        users | recipients.users(case.referent_id),
        template="reply_due_soon",
        key=lambda user: f"task:{task.pk}:reply_due_soon:{due.isoformat()}:{user.pk}",
        context=context,
    )


def step_overdue(case, task, due, level: int, working_days_late: int) -> None:
    """Level 1: the assignee, or everyone who may take the step. Level 2: supervisor or chair."""
    node = task.flow_task.name
    if level == 1:
        users = recipients.users(task.owner_id) if task.owner_id else recipients.step_holders(case, STEPS[node][0])
        template = "step_overdue"
    else:
        users = recipients.escalation_targets(case, node)
        template = "step_escalated"
    context = {"step": _step_title(task), "due": _fmt(due), "late": working_days_late}
    _tell(case, users, template=template, key=lambda user: f"task:{task.pk}:overdue:{level}:{user.pk}", context=context)


def reply_silence_refusal(case, proposal, due) -> None:
    context = {"due": _fmt(due)}
    users = recipients.followers(case) | recipients.role_members([proposal.dwelling.landlord_id], Role.LANDLORD_AGENT)
    _tell(
        case,
        users,
        template="reply_no_answer",
        key=lambda user: f"proposal:{proposal.pk}:no_reply:{user.pk}",
        context=context,
    )


def dalo_deadline(case, days_before: int) -> None:
    """The DALO offer deadline is `days_before` days away (0 or less: it has passed)."""
    deadline = case.dalo_offer_deadline
    context = {"deadline": _fmt(deadline), "days": days_before}
    template = "dalo_deadline_passed" if days_before <= 0 else "dalo_deadline_soon"
    _tell(
        case,
        recipients.followers(case) | recipients.partners(case),
        template=template,
        key=lambda user: f"dalo:{case.pk}:{deadline.isoformat()}:{max(days_before, 0)}:{user.pk}",
        context=context,
    )


def note_mentioned(case, note, mentioned) -> None:
    """A colleague was named on a case note: tell them (the note itself is read in the application,
    never in an e-mail: it may hold social data)."""
    author = note.author
    _tell(
        case,
        recipients.users(mentioned),
        template="note_mentioned",
        key=lambda user: f"note:{note.pk}:mentioned:{user.pk}",
        context={"author": author.get_full_name() or "", "contact_date": _fmt(note.contact_date)},
        exclude=[author],
    )
