"""Write history: no identical consecutive rows, grants have history, actor and reason everywhere."""

import pytest
from celery import shared_task
from django.core.management import call_command
from django.db.models.signals import post_save
from guardian.models import GroupObjectPermission

from audit.chain import history_models
from audit.commands import AuditedCommand
from cases import history
from cases.audit import acting_as
from cases.models import Case, Commune, Household, HouseholdMember
from tests.factories import LA_SEYNE, TOULON

from .conftest import login

pytestmark = pytest.mark.django_db


def test_a_save_that_changes_nothing_writes_no_history_row(world):
    case = world.flag()
    before = case.history.count()
    with acting_as(world.social_worker, "Rien ne change"):
        Case.objects.get(pk=case.pk).save()
        case.save()
    assert case.history.count() == before

    with acting_as(world.social_worker, "Un vrai changement"):
        case.is_dalo, case.comed_decision_date = True, case.created_at.date()
        case.save()
        case.save()  # and the same again: still one row
    assert case.history.count() == before + 1
    assert case.history.first().history_change_reason == "Un vrai changement"


def test_values_are_compared_as_stored_not_as_typed(world):
    household = world.household()
    before = household.history.count()
    household.monthly_wages = 900  # stored as Decimal("900.00"): no change
    household.housing_since = None
    household.save()
    assert household.history.count() == before


def test_m2m_history_rows_are_not_duplicated(world):
    case = world.flag()
    diagnostic = case.diagnostic
    before = diagnostic.history.count()
    diagnostic.areas_to_avoid.set([Commune.objects.get(pk=LA_SEYNE)])
    assert diagnostic.history.count() == before + 1
    diagnostic.areas_to_avoid.set([Commune.objects.get(pk=LA_SEYNE)])  # same set
    diagnostic.areas_to_avoid.add(Commune.objects.get(pk=LA_SEYNE))  # already there
    assert diagnostic.history.count() == before + 1
    diagnostic.areas_to_avoid.add(Commune.objects.get(pk=TOULON))
    assert diagnostic.history.count() == before + 2


def test_creations_and_deletions_are_always_written(world):
    household = world.household()
    member = household.members.create(first_name="A", last_name="B", relationship="child", birth_date="2015-01-01")
    member_id = member.pk
    member.delete()
    rows = HouseholdMember.history.filter(id=member_id).order_by("history_date")
    assert [h.history_type for h in rows] == ["+", "-"]


def test_every_history_model_skips_identical_rows():
    """Every registered history model is written by cases.history.HistoricalRecords (no duplicates)."""
    assert history_models()
    for history_model in history_models():
        model = history_model.instance_type
        receivers = post_save._live_receivers(model)[0]
        owners = [getattr(r, "__self__", None) for r in receivers]
        records = [o for o in owners if o.__class__.__name__ == "HistoricalRecords"]
        assert records, model
        assert all(isinstance(o, history.HistoricalRecords) for o in records), model


def test_guardian_grants_have_history_with_actor_and_reason(world):
    case = world.flag()
    rows = GroupObjectPermission.history.filter(object_pk=str(case.pk), content_type__model="case")
    assert rows.filter(history_type="+").exists()
    assert {r.history_user for r in rows} == {world.social_worker}
    assert {r.history_change_reason for r in rows} == {"Signalement du ménage"}


def test_web_request_records_user_and_a_reason(world, client):
    household = world.household()
    login(client, world.social_worker)
    response = client.post(f"/test-audit/menage/{household.pk}/", {"phone": "0611111111"})
    assert response.status_code == 200
    row = household.history.first()
    assert (row.phone, row.history_user) == ("0611111111", world.social_worker)
    assert row.history_change_reason == "Web POST test_edit_phone"


def test_api_call_records_the_authenticated_user(world, client):
    import base64

    household = world.household()
    user = world.social_worker
    user.set_password("motdepasse-api-1")
    user.save()
    token = base64.b64encode(b"ts:motdepasse-api-1").decode()
    response = client.post(
        f"/test-audit/api/menage/{household.pk}/",
        {"phone": "0644444444"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Basic {token}",
    )
    assert response.status_code == 200
    row = household.history.first()
    assert (row.phone, row.history_user) == ("0644444444", user)
    assert row.history_change_reason == "Web POST test_api_edit_phone"


@shared_task
def _touch_household(pk, phone):
    household = Household.objects.get(pk=pk)
    household.phone = phone
    household.save()


def test_celery_task_records_the_system_actor(world):
    household = world.household()
    _touch_household.delay(household.pk, "0622222222")
    row = household.history.first()
    assert row.phone == "0622222222"
    assert row.history_user.username == "systeme"
    assert row.history_change_reason.startswith("Tâche automatique")


class _TouchCommand(AuditedCommand):
    def add_arguments(self, parser):
        parser.add_argument("pk", type=int)

    def handle(self, *args, pk, **options):
        household = Household.objects.get(pk=pk)
        household.phone = "0633333333"
        household.save()


def test_audited_command_records_the_system_actor(world):
    household = world.household()
    call_command(_TouchCommand(), str(household.pk))
    row = household.history.first()
    assert row.history_user.username == "systeme"
    assert row.history_change_reason == "Commande test_history"


def test_every_project_command_is_audited():
    from django.apps import apps
    from django.conf import settings
    from django.core.management import get_commands, load_command_class

    root = str(settings.BASE_DIR)
    project_apps = {
        a.name for a in apps.get_app_configs() if a.path.startswith(root) and ".venv" not in a.path.split("/")
    }
    own = {name: app for name, app in get_commands().items() if app in project_apps}
    assert {"verify_audit_chain", "audit_growth"} <= set(own)
    for name, app in own.items():
        command = load_command_class(app, name)
        assert isinstance(command, AuditedCommand), f"{app}.{name} must derive from AuditedCommand"
