import pytest
from django.urls import reverse

from cases.models import ClockPause
from notifications.events import notify_break_glass
from notifications.models import Notification, NotificationPreference
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def login(client, user):
    # Re-read the user: the factory sets the password after saving (session hash must match the row).
    client.force_login(type(user).objects.get(pk=user.pk))
    return client


def test_centre_shows_only_my_notifications_and_the_unread_count(client, world):
    case = world.flag()
    notify_break_glass(case, world.auditor, "Contrôle", event_id=1)
    login(client, world.colleague)
    response = client.get(reverse("notifications:centre"))
    assert response.status_code == 200
    mine = Notification.objects.filter(recipient=world.colleague, channel="in_app")
    assert [item["n"] for item in response.context["items"]] == list(mine)
    assert response.context["unread_notifications"] == 1
    body = response.content.decode()
    assert "Une étape vous attend" in body
    assert "Accès exceptionnel" not in body  # that one is for the referent and the supervisor
    assert 'href="/notifications/"' in body


def test_anonymous_users_are_sent_to_login(client):
    for name in ("notifications:centre", "notifications:preferences"):
        response = client.get(reverse(name))
        assert response.status_code == 302 and "login" in response["Location"]


def test_someone_elses_notification_is_not_found(client, world):
    world.flag()
    theirs = Notification.objects.filter(recipient=world.colleague, channel="in_app").first()
    login(client, world.landlord_agent)
    assert client.get(reverse("notifications:open", args=[theirs.pk])).status_code == 404
    assert client.post(reverse("notifications:mark_read", args=[theirs.pk])).status_code == 404
    client.post(reverse("notifications:mark_all_read"))
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_a_notification_about_a_case_no_longer_in_scope_is_hidden(client, world):
    world.flag()
    mine = Notification.objects.filter(recipient=world.colleague, channel="in_app").first()
    membership = world.colleague.memberships.get()
    membership.is_active = False
    membership.save()
    login(client, world.colleague)
    assert mine.read_at is None  # unread: the badge would count it if it ignored the scope
    assert client.get(reverse("notifications:open", args=[mine.pk])).status_code == 404
    response = client.get(reverse("notifications:centre"))
    assert response.context["items"] == []
    assert response.context["unread_notifications"] == 0
    assert 'Notifications <span class="badge' not in response.content.decode()  # no badge in the header


def test_open_marks_read_and_goes_to_the_stored_path(client, world):
    world.flag()
    mine = Notification.objects.filter(recipient=world.colleague, channel="in_app").first()
    login(client, world.colleague)
    response = client.get(reverse("notifications:open", args=[mine.pk]))
    assert response.status_code == 302 and response["Location"] == mine.context["path"]
    mine.refresh_from_db()
    assert mine.read_at is not None
    assert client.get(reverse("notifications:centre")).context["unread_notifications"] == 0


def test_mark_read_needs_post_and_mark_all(client, world):
    case = world.flag()
    notify_break_glass(case, world.auditor, "Contrôle", event_id=1)
    login(client, world.supervisor)
    one = Notification.objects.filter(recipient=world.supervisor, channel="in_app").first()
    assert client.get(reverse("notifications:mark_read", args=[one.pk])).status_code == 405
    client.post(reverse("notifications:mark_read", args=[one.pk]))
    one.refresh_from_db()
    assert one.read_at is not None
    client.post(reverse("notifications:mark_all_read"))
    assert not Notification.objects.filter(recipient=world.supervisor, channel="in_app", read_at__isnull=True).exists()


def test_preferences_form(client):
    user = UserFactory()
    login(client, user)
    response = client.post(reverse("notifications:preferences"), {"email_mode": "nonsense"})
    assert response.status_code == 200
    assert response.context["form"].errors["email_mode"]
    assert not NotificationPreference.objects.exists()
    client.post(reverse("notifications:preferences"), {"email_mode": "digest"})
    pref = NotificationPreference.objects.get(user=user)
    assert pref.email_mode == "digest"
    assert pref.history.get().history_user == user


def test_clock_page_scope_and_rights(client, world):
    case = world.flag()
    url = reverse("notifications:clock", args=[case.pk])
    login(client, world.other_landlord_agent)
    assert client.get(url).status_code == 404  # outside scope
    login(client, world.auditor)
    assert client.get(url).status_code == 403  # sees the case, does not act on it
    login(client, world.social_worker)
    assert client.get(url).status_code == 200
    response = client.post(url, {"reason": ""})
    assert response.status_code == 200 and response.context["form"].errors["reason"]
    assert not ClockPause.objects.exists()
    client.post(url, {"reason": "household", "comment": "Rendez-vous manqué"})
    assert ClockPause.objects.get().ended_at is None
    assert "Délai suspendu" in client.get(url).content.decode()
    client.post(url)
    assert ClockPause.objects.get().ended_at is not None


def test_inbox_and_case_page_show_due_dates_and_overdue_badges(client, world):
    from notifications.demo import age_open_steps
    from workflows.queries import case_due_info

    late, fresh = world.flag(), world.flag()
    age_open_steps([late], 45)
    login(client, world.colleague)
    body = client.get(reverse("workflows:inbox")).content.decode()
    assert body.count("En retard : échéance le") == 1
    assert "À faire avant le" in body
    page = client.get(reverse("cases:detail", args=[late.pk])).content.decode()
    assert "En retard : échéance le" in page
    assert reverse("notifications:clock", args=[late.pk]) in page  # a social worker may pause it
    login(client, world.auditor)
    page = client.get(reverse("cases:detail", args=[fresh.pk])).content.decode()
    assert f"À faire avant le {case_due_info(fresh).due_date:%d/%m/%Y}" in page
    assert reverse("notifications:clock", args=[fresh.pk]) not in page  # the auditor only reads


def test_step_notice_is_done_once_a_colleague_completes_the_step(client, world):
    from django.core.exceptions import ValidationError

    from tests.workflows import steps
    from workflows import services

    case = world.flag()  # the diagnostic is available to the referent's colleague and supervisor
    notice = Notification.objects.get(recipient=world.colleague, channel="in_app", template="task_available")
    login(client, world.colleague)
    assert client.get(reverse("notifications:centre")).context["unread_notifications"] == 1

    # A step that fails to record leaves the notice as it was (same transaction as the step).
    with pytest.raises(ValidationError):
        services.diagnostic_complete(actor=world.social_worker, case=case, values={"urgency": "nope"})
    notice.refresh_from_db()
    assert notice.done_at is None and notice.read_at is None

    steps.diagnose(world, case)  # the referent does the step
    notice.refresh_from_db()
    assert notice.done_at is not None and notice.read_at is not None
    theirs = Notification.objects.get(recipient=world.supervisor, template="task_available", channel="in_app")
    assert theirs.done_at is not None
    # The next step's notices (commission) are new and open.
    assert not Notification.objects.filter(case=case, context__step="Examen en commission", done_at__isnull=False)

    response = client.get(reverse("notifications:centre"))
    assert response.context["unread_notifications"] == 0
    assert "Étape faite le" in response.content.decode() and "Nouveau" not in response.content.decode()
    assert client.get(reverse("notifications:centre") + "?filtre=non-lues").context["items"] == []
