"""The reception services: desks, the versioned script, contacts, referral → pre-flag → case."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from viewflow.workflow.models import Task

from cases.models import Case, Household
from reception import services
from reception.choices import Channel, PreFlagStatus, Topic
from reception.models import Contact, ContactTopic, Desk, PreFlag, ScriptEntry
from tests.factories import TOULON, commune

pytestmark = pytest.mark.django_db


def new_preflag(net, **kwargs):
    values = {
        "target_organisation": net.world.ccas,
        "desk": net.desk,
        "last_name": "Orientée",
        "first_name": "Jade",
        "phone": "0600000019",
        "commune": commune(TOULON),
        "housing_situation": "hosted",
        "criteria": ["i", "h", "zz"],
    } | kwargs
    return services.preflag_create(
        actor=net.reception, preflag=PreFlag(**values), channel=Channel.IN_PERSON, topics=[Topic.APPLY]
    )


def household():
    return Household(
        nud="08324012400001234A",
        applicant_last_name="Orientée",
        applicant_first_name="Jade",
        applicant_birth_date="1990-02-03",
        commune=commune(TOULON),
        housing_situation="hosted",
    )


# --- desks -----------------------------------------------------------------------------------------


def test_network_head_and_territory_admin_manage_desks_others_cannot(net):
    desk = Desk(
        network=net.network,
        organisation=net.head_org,
        name="Nouveau lieu",
        level=2,
        address="3 rue",
        commune=commune(TOULON),
        opening_hours="Lundi",
    )
    services.desk_save(actor=net.head, desk=desk)
    desk.level = 3
    services.desk_save(actor=net.admin, desk=desk)
    assert desk.history.count() == 2
    assert desk.history.first().history_user == net.admin
    with pytest.raises(PermissionDenied):
        services.desk_save(actor=net.reception, desk=desk)
    with pytest.raises(PermissionDenied):
        services.desk_save(actor=net.foreign_head, desk=desk)


def test_desk_with_bad_level_is_refused_in_french(net):
    net.desk.level = 7
    with pytest.raises(ValidationError) as error:
        services.desk_save(actor=net.head, desk=net.desk)
    assert "level" in error.value.message_dict


# --- script ----------------------------------------------------------------------------------------


def test_script_versions_are_numbered_copied_and_frozen_once_published(net):
    draft = services.script_draft(actor=net.head, network=net.network)
    assert services.script_draft(actor=net.head, network=net.network) == draft  # one draft at a time
    with pytest.raises(ValidationError):
        services.script_publish(actor=net.head, version=draft, note="Vide")
    entry = ScriptEntry(version=draft, topic=Topic.APPLY, title="Déposer", body="En ligne ou au guichet.")
    services.script_entry_save(actor=net.head, entry=entry)
    with pytest.raises(ValidationError) as error:
        services.script_publish(actor=net.head, version=draft, note="  ")
    assert "note" in error.value.message_dict
    first = services.script_publish(actor=net.head, version=draft, note="Première version")
    assert (first.number, first.published_by) == (1, net.head)
    assert services.published_script(net.network) == first
    entry.body = "Changé après publication"
    with pytest.raises(ValidationError):
        services.script_entry_save(actor=net.head, entry=entry)

    second = services.script_draft(actor=net.head, network=net.network)
    assert [e.title for e in second.entries.all()] == ["Déposer"]  # copied from version 1
    copy = second.entries.get()
    copy.body = "Nouvelle réponse"
    services.script_entry_save(actor=net.head, entry=copy)
    assert services.script_publish(actor=net.head, version=second, note="Mise à jour").number == 2
    assert first.entries.get().body == "En ligne ou au guichet."  # version 1 unchanged


def test_only_the_network_head_writes_the_script(net):
    for user in (net.reception, net.admin, net.world.social_worker, net.foreign_head):
        with pytest.raises(PermissionDenied):
            services.script_draft(actor=user, network=net.network)


# --- contacts --------------------------------------------------------------------------------------


def test_contact_records_desk_level_and_topics_without_personal_data(net):
    contact = services.contact_record(
        actor=net.reception,
        desk=net.desk,
        on=timezone.localdate(),
        channel=Channel.PHONE,
        topics=[Topic.RENEW, Topic.DALO, Topic.RENEW],
    )
    assert contact.level == 3
    assert sorted(ContactTopic.objects.filter(contact=contact).values_list("topic", flat=True)) == ["dalo", "renew"]
    personal = {"name", "first_name", "last_name", "phone", "email", "address"}
    assert not personal & {f.name for f in Contact._meta.get_fields()}


def test_contact_bad_inputs_and_foreign_desk(net):
    today = timezone.localdate()
    with pytest.raises(ValidationError) as error:
        services.contact_record(actor=net.reception, desk=net.desk, on=today, channel="phone", topics=[])
    assert "Cochez au moins un thème" in str(error.value)
    with pytest.raises(ValidationError) as error:
        services.contact_record(
            actor=net.reception, desk=net.desk, on=today + timedelta(days=1), channel="phone", topics=["dalo"]
        )
    assert "futur" in str(error.value)
    with pytest.raises(PermissionDenied):  # the head organisation's desk is not the agent's
        services.contact_record(actor=net.reception, desk=net.desk1, on=today, channel="phone", topics=["dalo"])
    assert not Contact.objects.exists()


# --- referral --------------------------------------------------------------------------------------


def test_referral_creates_a_minimal_pre_flag_and_its_contact(net):
    preflag = new_preflag(net)
    assert preflag.status == PreFlagStatus.PENDING
    assert preflag.criteria == ["i", "h"]  # unknown codes dropped
    contact = preflag.contact
    assert contact.desk == net.desk
    assert set(contact.topics.values_list("topic", flat=True)) == {"apply", "priority"}


def test_referral_needs_a_way_to_call_back_and_a_social_work_organisation(net):
    with pytest.raises(ValidationError):
        new_preflag(net, phone="", email="")
    with pytest.raises(ValidationError) as error:
        new_preflag(net, target_organisation=net.head_org)  # no social worker there
    assert "target_organisation" in error.value.message_dict
    assert not PreFlag.objects.exists()


def test_social_worker_confirms_through_the_workflow_service(net):
    preflag = new_preflag(net)
    case = services.preflag_confirm(
        actor=net.world.social_worker,
        preflag=preflag,
        household=household(),
        criteria=[{"code": "i", "source": "social_worker"}],
        is_protected=True,
    )
    preflag.refresh_from_db()
    assert (preflag.status, preflag.case, preflag.decided_by) == (
        PreFlagStatus.CONFIRMED,
        case,
        net.world.social_worker,
    )
    case = Case.objects.get(pk=case.pk)
    assert (case.status, case.organisation, case.referent, case.is_protected) == (
        "diagnostic",
        net.world.ccas,
        net.world.social_worker,
        True,
    )
    # The flow was started by the workflow service: the diagnostic task waits.
    assert Task.objects.filter(process__caseprocess__case=case, flow_task_type="HUMAN").exists()
    assert case.history.first().history_user == net.world.social_worker
    assert preflag.history.first().history_change_reason  # who and why on the decision
    with pytest.raises(ValidationError):  # decided once
        services.preflag_decline(actor=net.world.social_worker, preflag=preflag, reason="Doublon")


def test_confirmation_rolls_back_entirely_on_bad_household(net):
    preflag = new_preflag(net)
    bad = household()
    bad.nud = "trop-court"
    with pytest.raises(ValidationError):
        services.preflag_confirm(
            actor=net.world.social_worker, preflag=preflag, household=bad, criteria=[{"code": "i", "source": "siao"}]
        )
    preflag.refresh_from_db()
    assert preflag.status == PreFlagStatus.PENDING
    assert not Case.objects.exists()


def test_only_the_target_organisation_decides(net):
    preflag = new_preflag(net)
    for user in (net.reception, net.foreign_sw, net.head, net.world.landlord_agent):
        with pytest.raises(PermissionDenied):
            services.preflag_decline(actor=user, preflag=preflag, reason="Non")
    with pytest.raises(ValidationError):
        services.preflag_decline(actor=net.world.social_worker, preflag=preflag, reason="  ")
    services.preflag_decline(actor=net.world.supervisor, preflag=preflag, reason="Déjà suivi par le SIAO")
    preflag.refresh_from_db()
    assert (preflag.status, preflag.decline_reason) == (PreFlagStatus.DECLINED, "Déjà suivi par le SIAO")


# --- access codes ----------------------------------------------------------------------------------


def test_access_code_is_shown_once_stored_hashed_and_needs_change_rights(net):
    case = net.world.flag()
    item, code = services.access_issue(
        actor=net.world.social_worker, case=case, holder="", channel="sms", destination="06 12 34 56 78"
    )
    assert len(services.normalise_code(code)) == 12
    assert services.normalise_code(code) not in item.code_hash
    assert (item.destination, item.holder) == ("0612345678", "Le ménage")
    with pytest.raises(ValidationError) as error:
        services.access_issue(actor=net.world.social_worker, case=case, holder="", channel="sms", destination="0123")
    assert "mobile" in str(error.value)
    with pytest.raises(ValidationError):
        services.access_issue(
            actor=net.world.social_worker, case=case, holder="", channel="email", destination="pas-une-adresse"
        )
    for user in (net.reception, net.world.auditor, net.world.landlord_agent, net.foreign_sw):
        with pytest.raises(PermissionDenied):
            services.access_issue(actor=user, case=case, holder="", channel="email", destination="a@example.org")
    services.access_revoke(actor=net.world.supervisor, item=item)
    item.refresh_from_db()
    assert item.revoked_at is not None
    assert "code_hash" not in {f.name for f in item.history.model._meta.get_fields()}
