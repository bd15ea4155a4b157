"""Who is told what, through the real workflow services."""

from datetime import date

import pytest
from django.core import mail

from notifications.events import notify_break_glass
from notifications.models import Notification
from notifications.outbox import message_id
from permissions.roles import Role
from tests.factories import LA_SEYNE, NANTES, OrganisationFactory, member
from tests.workflows import steps
from workflows import services

pytestmark = pytest.mark.django_db


def told(template, case=None, step=None):
    rows = Notification.objects.filter(channel="in_app", template=template)
    if case is not None:
        rows = rows.filter(case=case)
    if step is not None:
        rows = rows.filter(context__step=step)
    return sorted(rows.values_list("recipient__username", flat=True))


def test_flagging_tells_the_organisation_the_diagnostic_is_available(world, django_capture_on_commit_callbacks):
    other_ccas_worker = member(Role.SOCIAL_WORKER, username="ts-ailleurs")
    with django_capture_on_commit_callbacks(execute=True):
        case = world.flag()
    # The referent who flagged is not told of their own action; the colleague and supervisor are.
    assert told("task_available", case) == ["encadrant", "ts2"]
    assert other_ccas_worker.notifications.count() == 0
    assert sorted(m.to[0] for m in mail.outbox) == ["encadrant@example.org", "ts2@example.org"]
    body = mail.outbox[0].body
    assert case.reference in body and "Diagnostic social" in body
    assert case.household.applicant_last_name not in body  # no household data in e-mails


def test_committee_step_goes_only_to_commission_members_of_the_territory(world):
    elsewhere = member(Role.COMMISSION_MEMBER, communes=[NANTES], username="commission-nantes")
    case = steps.diagnose(world, world.flag())
    assert told("task_available", case, "Examen en commission") == ["commission"]
    assert elsewhere.notifications.count() == 0


def test_committee_outcome_tells_the_referent_and_supervisor(world):
    case = steps.label(world, steps.diagnose(world, world.flag()))
    assert told("committee_outcome", case) == ["encadrant", "ts"]
    # The designated landlord learns the case is theirs; the other landlord hears nothing.
    assert told("case_designated", case) == ["bailleur"]
    assert world.other_landlord_agent.notifications.count() == 0


def test_proposal_made_and_the_next_steps(world):
    case = steps.propose(world, steps.label(world, steps.diagnose(world, world.flag())))
    assert told("proposal_made", case) == ["encadrant", "ts"]
    n = Notification.objects.get(template="proposal_made", recipient=world.social_worker, channel="in_app")
    assert n.context["typology"] == "T3" and n.context["reply_deadline"] == "12/11/2026"
    # CALEOL step: the landlord agent who just made the proposal is not told of it.
    assert told("task_available", case, "Décision CALEOL") == []
    case = steps.allocate(world, case)
    # Reply step: the landlord (who acted) and the CCAS social workers may record the answer.
    assert told("task_available", case, "Réponse du ménage") == ["ts", "ts2"]


def test_break_glass_tells_referent_and_supervisor_not_the_actor(world):
    case = world.flag()
    notify_break_glass(case, world.supervisor, "Urgence : mise à l'abri", event_id=42)
    notify_break_glass(case, world.supervisor, "Urgence : mise à l'abri", event_id=42)  # replay
    assert told("break_glass", case) == ["ts"]
    n = Notification.objects.get(template="break_glass", channel="in_app")
    assert n.context["reason"] == "Urgence : mise à l'abri"


def test_break_glass_email_does_not_carry_the_free_text_reason(world, django_capture_on_commit_callbacks):
    case = world.flag()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        notify_break_glass(case, world.auditor, "Motif confidentiel XYZ", event_id=1)
    assert sorted(m.to[0] for m in mail.outbox) == ["encadrant@example.org", "ts@example.org"]
    assert all("Motif confidentiel XYZ" not in m.body for m in mail.outbox)


def test_nobody_outside_the_case_scope_is_told(world):
    """A supervisor of another organisation or a landlord not designated never hears of the case."""
    other = OrganisationFactory(name="Autre CCAS", covers=[LA_SEYNE])
    outsider = member(Role.SUPERVISOR, other, username="encadrant-ailleurs")
    case = steps.propose(world, steps.label(world, steps.diagnose(world, world.flag())))
    notify_break_glass(case, world.auditor, "Contrôle", event_id=7)
    assert outsider.notifications.count() == 0
    assert world.other_landlord_agent.notifications.count() == 0


def test_referent_is_told_of_the_caleol_decision_the_reply_and_the_lease(world, django_capture_on_commit_callbacks):
    """In the application and by e-mail, as each follower chose: the referent by e-mail at once, the
    supervisor (who chose no e-mail) in the application only; the landlord who acted hears nothing."""
    from notifications.models import NotificationPreference

    NotificationPreference.objects.create(user=world.supervisor, email_mode=NotificationPreference.EmailMode.NONE)
    case = steps.propose(world, steps.label(world, steps.diagnose(world, world.flag())))
    expected = {
        "caleol_decided": (steps.allocate, "Attribution"),
        "household_reply": (steps.accept, "a accepté le T3"),
        "lease_signed": (steps.sign, "signé le 20/11/2026"),
    }
    for template, (step, wording) in expected.items():
        mail.outbox.clear()
        with django_capture_on_commit_callbacks(execute=True):
            case = step(world, case)
        rows = Notification.objects.filter(template=template, case=case)
        assert sorted(rows.values_list("recipient__username", "channel")) == [
            ("encadrant", "in_app"),
            ("ts", "email"),
            ("ts", "in_app"),
        ], template
        email = rows.get(recipient=world.social_worker, channel="email")
        assert email.status == Notification.Status.SENT
        sent = [m for m in mail.outbox if m.extra_headers["Message-ID"] == message_id(email.idempotency_key)]
        assert len(sent) == 1 and sent[0].to == ["ts@example.org"], template
        assert case.reference in sent[0].subject, template
        assert wording in sent[0].body, template
        assert case.household.applicant_last_name not in sent[0].body
        assert not [m for m in mail.outbox if m.to == ["encadrant@example.org"]]
    assert world.landlord_agent.notifications.filter(template__in=list(expected)).count() == 0


def test_a_ranked_household_waiting_for_a_better_ranked_one_brings_no_step_notice(world):
    from cases import choices
    from tests.cases.test_offers import labelled, put_forward, rank

    first, second, third = labelled(world)
    put_forward(world, [first, second, third])
    for n, case in enumerate([first, second, third], start=1):
        rank(world, case, n)
    assert told("task_available", first, "Réponse du ménage") == ["ts", "ts2"]
    # Ranks 2 and 3 cannot answer yet: no "step waiting for you"; they hear when the dwelling passes down.
    assert told("task_available", second, "Réponse du ménage") == []
    assert told("task_available", third, "Réponse du ménage") == []
    services.proposal_notify(actor=world.landlord_agent, case=first, notified_on=date(2026, 11, 12))
    steps_refuse = {"answer": choices.ReplyAnswer.REFUSED, "refusal_motive": choices.RefusalMotive.RENT}
    services.reply_record(
        actor=world.landlord_agent, case=first, values=steps_refuse | {"replied_on": date(2026, 11, 15)}
    )
    assert told("offer_passed_down", second) == ["bailleur", "encadrant", "ts"]


def test_an_event_costs_two_queries_and_the_insert_checks_each_scope_on_the_case_row(world, django_assert_num_queries):
    """Issue 17: the candidates and their memberships in one query, then one INSERT … SELECT that
    evaluates the case policy's scope of each of them on the case row. Candidates out of scope (another
    landlord, an inactive user, the system actor, the excluded actor) get nothing."""
    from cases.audit import system_actor
    from notifications import recipients
    from notifications.outbox import notify_all
    from tests.factories import UserFactory

    case = steps.label(world, steps.diagnose(world, world.flag()))  # designated to world.landlord
    inactive = member(Role.SUPERVISOR, world.ccas, username="encadrant-parti")
    inactive.is_active = False
    inactive.save()
    candidates = recipients.users(
        world.social_worker, world.supervisor, world.landlord_agent, world.other_landlord_agent, inactive
    ) | recipients.users(system_actor(), UserFactory(username="sans-adhesion"), world.colleague)
    Notification.objects.all().delete()
    with django_assert_num_queries(2):
        audience = recipients.visible_only(case, candidates, exclude=[world.colleague])
        notify_all(
            audience.users,
            template="break_glass",
            key=lambda u: f"t:{u.pk}",
            context={},
            case=case,
            scope=audience.scope,
        )
    assert told("break_glass", case) == ["bailleur", "encadrant", "ts"]

    # The scope is read by the INSERT itself: a landlord whose designation ends between the read of the
    # memberships and the write hears nothing.
    audience = recipients.visible_only(case, recipients.users(world.landlord_agent))
    assert [u.pk for u in audience.users] == [world.landlord_agent.pk]
    type(case).objects.filter(pk=case.pk).update(designated_landlord=None)
    notify_all(audience.users, template="break_glass", key=lambda u: f"later:{u.pk}", context={}, scope=audience.scope)
    assert not Notification.objects.filter(idempotency_key__startswith="later:").exists()
