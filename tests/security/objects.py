"""The people and objects the access-matrix and leak tests request pages with.

One user per role. "own" objects are inside that user's scope as the policy defines it, "foreign"
objects are outside everyone's scope but the auditor's (another organisation, another territory).

To cover a new URL that takes parameters, add an entry to URL_OBJECTS (URL name → function returning
the reverse() kwargs for "own" and "foreign"), unless its only parameter is a case id named in
CASE_KWARGS.
"""

from datetime import timedelta

from django.utils import timezone

from permissions import services as access_services
from permissions.models import CaseShare, Membership
from permissions.roles import Role
from tests.factories import LA_SEYNE, NANTES, TOULON, HouseholdFactory, OrganisationFactory, commune, member
from tests.workflows import steps

ROLES = [
    "anonymous",
    Role.RECEPTION,
    Role.SOCIAL_WORKER,
    Role.SUPERVISOR,
    Role.COMMISSION_MEMBER,
    Role.COMMISSION_CHAIR,
    Role.LANDLORD_AGENT,
    Role.RESERVATAIRE_AGENT,
    Role.TERRITORY_ADMIN,
    Role.AUDITOR,
    Role.SYSTEM_ADMIN,
]

# Text that must never reach a landlord agent: one sentinel per category its column hides.
HIDDEN_FROM_LANDLORD = {
    "address": "SENTINEL-ADDRESS-7731",
    "work_school_care_locations": "SENTINEL-LOCATIONS-7732",
    "violence_facts": "SENTINEL-VIOLENCE-7733",
    "social_narrative": "SENTINEL-NARRATIVE-7734",
    "family_situation": "SENTINEL-FAMILY-7735",
    "housing_history": "SENTINEL-HISTORY-7736",
    "independent_living": "SENTINEL-AUTONOMY-7737",
    "health_autonomy": "SENTINEL-HEALTH-7738",
    "debts_description": "SENTINEL-DEBTS-7739",
    "committee_synthesis": "SENTINEL-SYNTHESIS-7740",
    "recommendation": "SENTINEL-RECOMMENDATION-7741",
    "evidence_note": "SENTINEL-EVIDENCE-7742",
    "review_reason": "SENTINEL-REVIEW-7743",
}


class MatrixWorld:
    def __init__(self, world):
        self.world = world
        nantes_org = OrganisationFactory(name="Association nantaise (test)", covers=[NANTES])
        self.users = {
            Role.RECEPTION: member(Role.RECEPTION, world.ccas, username="accueil"),
            Role.SOCIAL_WORKER: world.social_worker,
            Role.SUPERVISOR: world.supervisor,
            Role.COMMISSION_MEMBER: world.commission,
            Role.COMMISSION_CHAIR: member(Role.COMMISSION_CHAIR, world.state, communes=[TOULON], username="pres"),
            Role.LANDLORD_AGENT: world.landlord_agent,
            Role.RESERVATAIRE_AGENT: member(Role.RESERVATAIRE_AGENT, world.reservataire, username="reservataire"),
            Role.TERRITORY_ADMIN: member(
                Role.TERRITORY_ADMIN, world.state, communes=[TOULON, LA_SEYNE], username="admin-territoire"
            ),
            Role.AUDITOR: world.auditor,
            Role.SYSTEM_ADMIN: member(Role.SYSTEM_ADMIN, world.state, username="admin-systeme"),
        }
        self.case = self._own_case()
        foreign_sw = member(Role.SOCIAL_WORKER, nantes_org, username="ts-nantes")
        self.foreign_case = self._foreign_case(foreign_sw, nantes_org)
        self.membership = Membership.objects.get(user=world.colleague)
        self.foreign_membership = Membership.objects.get(user=foreign_sw)
        today = timezone.localdate()
        self.share = CaseShare.objects.create(
            case=self.case,
            category="debts",
            organisation=world.reservataire,  # not the landlord: the leak test expects nothing shared with it
            reason="Instruction du plan d'apurement",
            ends_on=today + timedelta(days=30),
            created_by=world.social_worker,
        )
        self.foreign_share = CaseShare.objects.create(
            case=self.foreign_case,
            category="debts",
            organisation=world.reservataire,
            reason="Partage étranger",
            ends_on=today + timedelta(days=30),
            created_by=foreign_sw,
        )
        self.reception = reception_objects(self, nantes_org)

    def _own_case(self):
        world = self.world
        household = HouseholdFactory(address=HIDDEN_FROM_LANDLORD["address"])
        case = world.flag(
            household,
            is_protected=True,
            criteria=[{"code": "e", "source": "social_worker", "evidence_note": HIDDEN_FROM_LANDLORD["evidence_note"]}],
        )
        values = dict(steps.DIAGNOSTIC)
        for name in (
            "work_school_care_locations",
            "violence_facts",
            "social_narrative",
            "family_situation",
            "housing_history",
            "independent_living",
            "health_autonomy",
            "debts_description",
            "committee_synthesis",
            "recommendation",
        ):
            values[name] = HIDDEN_FROM_LANDLORD[name]
        from workflows import services

        case = services.diagnostic_complete(
            actor=world.social_worker, case=case, values=values, areas_to_avoid=[commune(LA_SEYNE)]
        )
        case = steps.label(world, case)
        review = case.committee_reviews.get()
        review.reason = HIDDEN_FROM_LANDLORD["review_reason"]
        review.save()
        return case

    def _foreign_case(self, social_worker, organisation):
        from workflows import services

        household = HouseholdFactory(commune=commune(NANTES), address="3 quai Étranger")
        return services.case_flag(
            actor=social_worker,
            household=household,
            organisation=organisation,
            criteria=[{"code": "i", "source": "social_worker"}],
            is_protected=True,
        )

    def committees(self):
        """Own committee (Toulon, the matrix's commission member and chair sit on it) and a foreign one
        (Nantes), each with a planned session and one case on its agenda. Built on first use."""
        if getattr(self, "_committees", None) is None:
            self._committees = self._build_committees()
        return self._committees

    def _build_committees(self):
        from datetime import UTC, date, datetime

        from committees import services as committee_services
        from committees.models import Committee, CommitteeMember
        from tests.factories import UserFactory
        from workflows import services

        world = self.world
        admin = UserFactory(username="admin-comites", is_superuser=True, is_staff=True)
        built = {}
        for key, communes, seats in (
            ("own", [TOULON, LA_SEYNE], [(world.commission, CommitteeMember.Function.MEMBER)]),
            ("foreign", [NANTES], [(admin, CommitteeMember.Function.SECRETARY)]),
        ):
            committee = Committee.objects.create(name=f"Commission {key} (matrice)", quorum_count=1)
            committee.communes.set([commune(c) for c in communes])
            if key == "own":
                seats.append((self.users[Role.COMMISSION_CHAIR], CommitteeMember.Function.CHAIR))
                seats.append((UserFactory(username="secretaire-matrice"), CommitteeMember.Function.SECRETARY))
            for user, function in seats:
                committee_services.committee_member_add(
                    actor=admin, committee=committee, user=user, organisation=world.state, function=function
                )
            secretary = seats[-1][0]  # plans the session and fills its agenda
            session = committee_services.session_create(
                actor=secretary,
                committee=committee,
                starts_at=datetime(2026, 12, 7, 9, 30, tzinfo=UTC),
                place="Salle du conseil",
            )
            if key == "own":
                case = steps.diagnose(world, world.flag())
            else:
                sw = Membership.objects.filter(role=Role.SOCIAL_WORKER, organisation=self.foreign_case.organisation)
                actor = sw.first().user
                case = services.case_flag(
                    actor=actor,
                    household=HouseholdFactory(commune=commune(NANTES)),
                    organisation=self.foreign_case.organisation,
                    criteria=[{"code": "i", "source": "social_worker"}],
                )
                case = services.diagnostic_complete(actor=actor, case=case, values=dict(steps.DIAGNOSTIC))
            item = committee_services.agenda_add(actor=secretary, session=session, case=case)
            # A second case of the committee's territory, submitted to the members in writing.
            if key == "own":
                in_writing = steps.diagnose(world, world.flag())
            else:
                in_writing = services.case_flag(
                    actor=actor,
                    household=HouseholdFactory(commune=commune(NANTES)),
                    organisation=self.foreign_case.organisation,
                    criteria=[{"code": "i", "source": "social_worker"}],
                )
                in_writing = services.diagnostic_complete(actor=actor, case=in_writing, values=dict(steps.DIAGNOSTIC))
            procedure = committee_services.procedure_open(
                actor=secretary, committee=committee, case=in_writing, deadline=date(2099, 1, 31)
            )
            built[key] = {"committee": committee, "session": session, "item": item, "procedure": procedure}
        return built

    def notifications(self):
        """An in-app notification to the referent social worker ("own": only that role's user may open
        it) and one to the foreign organisation's social worker ("foreign"). Built on first use."""
        if getattr(self, "_notifications", None) is None:
            from notifications.models import Notification
            from notifications.outbox import notify

            foreign_sw = Membership.objects.get(
                role=Role.SOCIAL_WORKER, organisation=self.foreign_case.organisation
            ).user
            built = {}
            for target, user, case in (
                ("own", self.users[Role.SOCIAL_WORKER], self.case),
                ("foreign", foreign_sw, self.foreign_case),
            ):
                notify(recipient=user, template="break_glass", key=f"matrix:{target}", case=case)
                built[target] = Notification.objects.get(
                    idempotency_key__startswith=f"matrix:{target}", channel=Notification.Channel.IN_APP
                )
            self._notifications = built
        return self._notifications

    def user(self, role):
        return None if role == "anonymous" else self.users[role]

    def open_break_glass(self):
        return access_services.break_glass_open(actor=self.users[Role.AUDITOR], case=self.case, reason="Contrôle")


def reception_objects(mw, nantes_org) -> dict:
    """The reception network of the matrix territory (a desk at the world's CCAS, so its reception agent,
    social worker and supervisor receive people there) and a Nantes network: desks, script drafts,
    pre-flags and household access codes, "own" and "foreign"."""
    from datetime import timedelta

    from cases import choices
    from reception.models import Desk, HouseholdAccess, Network, PreFlag, ScriptEntry, ScriptVersion

    world = mw.world
    head_org = OrganisationFactory(name="ADIL (matrice)", kind=choices.OrganisationKind.ASSOCIATION)
    built = {}
    for key, org, commune_code, target in (
        ("own", world.ccas, TOULON, world.ccas),
        ("foreign", nantes_org, NANTES, nantes_org),
    ):
        network = Network.objects.create(name=f"Réseau {key}", head_organisation=head_org if key == "own" else org)
        network.communes.set([commune(commune_code)] + ([commune(LA_SEYNE)] if key == "own" else []))
        desk = Desk.objects.create(
            network=network,
            organisation=org,
            name=f"Accueil {key}",
            level=3,
            address="1 rue de la Matrice",
            commune=commune(commune_code),
            opening_hours="9 h – 17 h",
        )
        draft = ScriptVersion.objects.create(network=network, created_by=world.social_worker)
        entry = ScriptEntry.objects.create(version=draft, topic="apply", title="Déposer", body="En ligne.")
        preflag = PreFlag.objects.create(
            target_organisation=target,
            desk=desk,
            last_name="Matrice",
            first_name="Personne",
            phone="0600000000",
            commune=commune(commune_code),
            housing_situation="hosted",
            created_by=world.social_worker,
        )
        case = mw.case if key == "own" else mw.foreign_case
        access = HouseholdAccess.objects.create(
            case=case,
            channel="email",
            destination="menage@example.org",
            code_hash="!",
            created_by=case.referent,
            expires_at=timezone.now() + timedelta(days=30),
        )
        built[key] = {"desk": desk, "entry": entry, "preflag": preflag, "access": access, "case": case}
    return built


RECEPTION_URLS = {
    "reception:desk_edit": lambda mw, t: {"pk": mw.reception[t]["desk"].pk},
    "reception:script_entry": lambda mw, t: {"pk": mw.reception[t]["entry"].pk},
    "reception:preflag": lambda mw, t: {"pk": mw.reception[t]["preflag"].pk},
    "reception:household_access_revoke": lambda mw, t: {"pk": mw.reception[t]["access"].pk},
    "reception:commune": lambda mw, t: {"code": TOULON if t == "own" else "00000"},
    # No role reaches a household's own view: only a household signed in with its codes does.
    "mon_dossier:status": lambda mw, t: {"reference": mw.reception[t]["case"].reference},
}


# Parameters that always mean "a case id".
CASE_KWARGS = {"case_pk", "case_id"}


def case_kwargs(names):
    def build(mw, target):
        case = mw.case if target == "own" else mw.foreign_case
        return {name: case.pk for name in names}

    return build


def step_kwargs(mw, target):
    # The own case waits for the landlord's proposal; the foreign one for its diagnostic.
    if target == "own":
        return {"pk": mw.case.pk, "node": "proposal"}
    return {"pk": mw.foreign_case.pk, "node": "diagnostic"}


def handover_kwargs(mw, target):
    """own: a diagnostic the social worker has taken (released by them, reassigned by their
    supervisor); foreign: the foreign case's diagnostic, taken by nobody."""
    if target == "foreign":
        return {"pk": mw.foreign_case.pk, "node": "diagnostic"}
    case = getattr(mw, "handover_case", None)
    if case is None:
        from workflows import services

        case = mw.handover_case = mw.world.flag()
        services.task_claim(actor=mw.world.social_worker, case=case, node_name="diagnostic")
    return {"pk": case.pk, "node": "diagnostic"}


def delegation_of(mw, target):
    """own: the social worker's delegation to a colleague; foreign: one in another organisation."""
    found = getattr(mw, "delegations", None)
    if found is None:
        today = timezone.localdate()
        world = mw.world
        elsewhere = OrganisationFactory(name="Autre association (test)", covers=[NANTES])
        absent = member(Role.SOCIAL_WORKER, elsewhere, username="ts-ailleurs-1")
        stand_in = member(Role.SOCIAL_WORKER, elsewhere, username="ts-ailleurs-2")
        found = mw.delegations = {
            "own": access_services.delegation_create(
                actor=world.social_worker, delegate=world.colleague, starts_on=today, ends_on=today, reason="Congés"
            ),
            "foreign": access_services.delegation_create(
                actor=absent, delegate=stand_in, starts_on=today, ends_on=today, reason="Congés"
            ),
        }
    return found[target]


def committee_kwargs(kind):
    def build(mw, target):
        objects = mw.committees()[target]
        if kind == "committee":
            return {"pk": objects["committee"].pk}
        if kind == "session":
            return {"pk": objects["session"].pk}
        if kind == "procedure":
            return {"pk": objects["procedure"].pk}
        return {"pk": objects["session"].pk, "item_pk": objects["item"].pk}

    return build


COMMITTEE_URLS = {
    "committees:detail": "committee",
    "committees:procedure_open": "committee",
    **{
        f"committees:{n}": "procedure"
        for n in (
            "procedure",
            "procedure_vote",
            "procedure_recusal",
            "procedure_decide",
            "procedure_cancel",
            "procedure_letter",
        )
    },
    **{
        f"committees:{n}": "session"
        for n in ("session", "session_open", "session_close", "attendance", "agenda_add", "agenda_fill", "minutes")
    },
    **{
        f"committees:{n}": "item"
        for n in (
            "item",
            "item_remove",
            "item_move",
            "item_vote",
            "item_recusal",
            "item_decide",
            "item_hands",
            "item_amend",
            "letter",
        )
    },
}


def _dwellings(mw):
    """Own: a dwelling of the matrix landlord, with one candidate at the CALEOL step; foreign: another landlord's."""
    if not hasattr(mw, "_dwelling_objects"):
        from tests.factories import DwellingFactory

        world = mw.world
        candidate = world.flag()
        steps.propose(world, steps.label(world, steps.diagnose(world, candidate)))
        proposal = candidate.proposals.get()
        foreign = DwellingFactory(landlord=world.other_landlord)
        mw._dwelling_objects = {"own": (proposal.dwelling, proposal), "foreign": (foreign, proposal)}
    return mw._dwelling_objects


def dwelling_kwargs(with_proposal=False):
    def build(mw, target):
        dwelling, proposal = _dwellings(mw)[target]
        if with_proposal:
            return {"pk": dwelling.pk, "proposal_pk": proposal.pk, "action": "caleol"}
        return {"pk": dwelling.pk}

    return build


API_CASE_URLS = (
    "case-detail",
    "case-match",
    "case-proposal",
    "case-caleol",
    "case-notification",
    "case-condition",
    "case-reply",
    "case-lease",
)


def _documents(mw):
    """An identity paper on the own case (by its referent) and one on the foreign case."""
    if not hasattr(mw, "_document_objects"):
        from django.core.files.uploadedfile import SimpleUploadedFile

        from documents import services as document_services

        foreign_sw = Membership.objects.get(role=Role.SOCIAL_WORKER, organisation=mw.foreign_case.organisation).user
        mw._document_objects = {
            target: document_services.document_upload(
                actor=actor,
                case=case,
                kind="identity",
                upload=SimpleUploadedFile("piece.pdf", b"%PDF-1.4 matrice", content_type="application/pdf"),
            )
            for target, actor, case in (
                ("own", mw.users[Role.SOCIAL_WORKER], mw.case),
                ("foreign", foreign_sw, mw.foreign_case),
            )
        }
    return mw._document_objects


DOCUMENT_URLS = {
    "documents:download": lambda mw, target: {"pk": _documents(mw)[target].pk},
    # The matrix territory admin's département (Var) and another one (Loire-Atlantique).
    "documents:template_edit": lambda mw, target: {
        "departement": "83" if target == "own" else "44",
        "kind": "offer_letter",
    },
}

URL_OBJECTS = {
    "dwellings:detail": dwelling_kwargs(),
    "dwellings:propose": dwelling_kwargs(),
    "dwellings:action": dwelling_kwargs(with_proposal=True),
    "api:dwelling-detail": dwelling_kwargs(),
    **{f"api:{name}": case_kwargs({"pk"}) for name in API_CASE_URLS},
    "notifications:open": lambda mw, target: {"pk": mw.notifications()[target].pk},
    "notifications:mark_read": lambda mw, target: {"pk": mw.notifications()[target].pk},
    **{name: committee_kwargs(kind) for name, kind in COMMITTEE_URLS.items()},
    "audit:timeline": case_kwargs({"pk"}),
    "audit:export_csv": case_kwargs({"pk"}),
    "audit:export_pdf": case_kwargs({"pk"}),
    "privacy:subject_access": case_kwargs({"pk"}),
    "privacy:export_pdf": case_kwargs({"pk"}),
    "privacy:export_json": case_kwargs({"pk"}),
    "workflows:step": step_kwargs,
    "workflows:claim": step_kwargs,
    "permissions:membership_deactivate": lambda mw, target: {
        "pk": (mw.membership if target == "own" else mw.foreign_membership).pk
    },
    "permissions:share_revoke": lambda mw, target: {"pk": (mw.share if target == "own" else mw.foreign_share).pk},
    "workflows:release": lambda mw, target: handover_kwargs(mw, target),
    "workflows:reassign": lambda mw, target: handover_kwargs(mw, target),
    "permissions:delegation_revoke": lambda mw, target: {"pk": delegation_of(mw, target).pk},
    **RECEPTION_URLS,
    **DOCUMENT_URLS,
}


def password_reset_kwargs(mw, target):
    """own: the link just e-mailed to a user (valid, redirects to the form); foreign: a wrong token."""
    from django.contrib.auth.tokens import default_token_generator
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    from tests.factories import UserFactory

    user = UserFactory()
    token = default_token_generator.make_token(user) if target == "own" else "mauvais-jeton"
    return {"uidb64": urlsafe_base64_encode(force_bytes(user.pk)), "token": token}


URL_OBJECTS["password_reset_confirm"] = password_reset_kwargs


def kwargs_builder(url_name: str, kwarg_names: set):
    if url_name in URL_OBJECTS:
        return URL_OBJECTS[url_name]
    if kwarg_names and kwarg_names <= CASE_KWARGS:
        return case_kwargs(kwarg_names)
    if kwarg_names == {"pk"} and url_name.startswith("cases:"):
        return case_kwargs(kwarg_names)  # the case pages take the case as `pk`
    return None


def _import_jobs(mw) -> dict:
    """An import job of the territory admin's organisation (own) and one of another (foreign)."""
    if not hasattr(mw, "_import_jobs"):
        from exchanges.models import ImportJob, JobStatus

        admin = mw.user(Role.TERRITORY_ADMIN)
        organisations = {"own": admin.memberships.get().organisation, "foreign": OrganisationFactory()}
        mw._import_jobs = {
            target: ImportJob.objects.create(
                created_by=admin,
                organisation=organisation,
                mapping="registre@1",
                file_name="registre.csv",
                content=b"",
                status=JobStatus.DONE,
                summary={"lines": 0, "verdict": "Aucun changement."},
            )
            for target, organisation in organisations.items()
        }
    return mw._import_jobs


URL_OBJECTS["exchanges:job"] = lambda mw, t: {"pk": _import_jobs(mw)[t].pk}
URL_OBJECTS["exchanges:job_report"] = URL_OBJECTS["exchanges:job"]
URL_OBJECTS["imports_api:import-detail"] = URL_OBJECTS["exchanges:job"]
URL_OBJECTS["imports_api:import-report"] = URL_OBJECTS["exchanges:job"]
