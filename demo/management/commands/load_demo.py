"""Load a demo territory: organisations, one user per role and ~30 fictitious households at every step.

Idempotent: organisations, users and dwellings are looked up before being created, and a household
already present (same NUD) is left as it is. Cases move through the workflow services, as the demo
users, so history rows, step grants and viewflow tasks are the real ones.
"""

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from api.models import ApiClient, hash_token
from audit.commands import AuditedCommand
from cases import choices
from cases.audit import acting_as, system_actor
from cases.models import Commune, Dwelling, Household, HouseholdMember, Organisation, Proposal
from cases.territory import DepartementSettings
from committees.management.commands.load_committee_demo import demo_committee
from committees.scripted import decide_in_writing
from permissions.models import Membership
from permissions.roles import Role
from privacy.demo import load_privacy_demo
from reception.demo import load_reception_demo
from steering.demo import load_steering_demo
from workflows import services

PASSWORD = "demo-ppgdid-2026"
RUNNING = [choices.CaseStatus.CALEOL, choices.CaseStatus.REPLY, choices.CaseStatus.LEASE]
TPM_SIREN = "248300543"  # Métropole Toulon Provence Méditerranée (Etalab reference data)
TOULON, LA_SEYNE, HYERES, LA_GARDE, SIX_FOURS, LA_VALETTE = "83137", "83126", "83069", "83062", "83129", "83144"

K = choices.OrganisationKind
ORGANISATIONS = {
    "metropole": ("Métropole Toulon Provence Méditerranée (démo)", K.EPCI),
    "state": ("DDETS du Var (démo)", K.STATE),
    "ccas": ("CCAS de Toulon (démo)", K.COMMUNE),
    "siao": ("SIAO du Var (démo)", K.SIAO),
    "landlord1": ("Habitat Exemple Méditerranée (bailleur fictif)", K.LANDLORD),
    "landlord2": ("Logis Fictif du Var (bailleur fictif)", K.LANDLORD),
    "action_logement": ("Action Logement Services (démo)", K.RESERVATAIRE),
}

# username, first name, last name, role, organisation key
USERS = [
    ("ts.ccas", "Théo", "Social-Exemple", Role.SOCIAL_WORKER, "ccas"),
    ("ts.siao", "Inès", "Social-Fictif", Role.SOCIAL_WORKER, "siao"),
    ("encadrant.ccas", "Paule", "Encadrante-Démo", Role.SUPERVISOR, "ccas"),
    ("accueil.ccas", "Lou", "Accueil-Démo", Role.RECEPTION, "ccas"),
    ("commission.ddets", "Marc", "Commission-Démo", Role.COMMISSION_MEMBER, "state"),
    ("presidence.tpm", "Claire", "Présidente-Démo", Role.COMMISSION_CHAIR, "metropole"),
    ("bailleur.hem", "Yanis", "Bailleur-Exemple", Role.LANDLORD_AGENT, "landlord1"),
    ("bailleur.lfv", "Rose", "Bailleur-Fictif", Role.LANDLORD_AGENT, "landlord2"),
    ("reservataire.al", "Noé", "Réservataire-Démo", Role.RESERVATAIRE_AGENT, "action_logement"),
    ("admin.territoire", "Sam", "Territoire-Démo", Role.TERRITORY_ADMIN, "metropole"),
    ("auditeur", "Alix", "Auditeur-Démo", Role.AUDITOR, "state"),
]

# landlord key, address, commune, typology, surface, floor, lift, rent, charges, in QPV
DWELLINGS = [
    ("landlord1", "4 rue de l'Exemple", TOULON, "T2", "46", 1, False, "330", "60", False),
    ("landlord1", "18 avenue Imaginaire", TOULON, "T3", "63", 3, True, "410", "85", True),
    ("landlord1", "Résidence Fictive, bât. A, 2 allée des Essais", LA_SEYNE, "T4", "78", 0, False, "480", "95", True),
    ("landlord1", "9 boulevard de la Maquette", LA_GARDE, "T3", "66", 2, True, "425", "80", False),
    ("landlord1", "27 chemin du Prototype", HYERES, "T1", "31", 0, False, "270", "45", False),
    ("landlord1", "5 place du Modèle", TOULON, "T5", "92", 4, True, "560", "110", False),
    ("landlord2", "11 rue Inventée", LA_SEYNE, "T2", "48", 2, True, "340", "65", False),
    ("landlord2", "3 impasse des Témoins", SIX_FOURS, "T3", "65", 1, False, "430", "80", False),
    ("landlord2", "Résidence Démo, 40 avenue Fictive", LA_VALETTE, "T4", "81", 0, True, "495", "100", False),
    ("landlord2", "14 rue de l'Essai", TOULON, "T2", "44", 5, True, "335", "70", True),
    ("landlord2", "7 allée Imaginaire", HYERES, "T3", "61", 1, False, "415", "75", False),
    ("landlord2", "22 avenue du Spécimen", LA_GARDE, "T6", "104", 0, False, "620", "120", False),
]

LAST_NAMES = ["Exemple", "Fictif", "Démo", "Essai", "Modèle", "Témoin", "Maquette", "Imaginaire", "Inventé", "Spécimen"]
FIRST_NAMES = [
    "Ada", "Basile", "Céleste", "Dorian", "Elsa", "Fabio", "Gaïa", "Hugo", "Iris", "Jules", "Kenza", "Léon",
    "Maya", "Nils", "Olga", "Pablo", "Quitterie", "Rémi", "Sofia", "Timéo", "Ulysse", "Véra", "Wassim",
    "Xénia", "Yara", "Zoé", "Aurèle", "Bilal", "Capucine", "Dylan", "Eden",
]  # fmt: skip


@dataclass
class Spec:
    stage: str
    situation: str = choices.HousingSituation.HOSTED
    criteria: tuple = ("b",)
    org: str = "ccas"
    dalo: bool = False
    protected: bool = False
    children: int = 1
    flagged_by: str = ""
    landlord: str = ""  # designated landlord key; by default alternates between the two
    extra: dict = field(default_factory=dict)


H = choices.HousingSituation
SPECS = [
    Spec("diagnostic", H.HOSTED, ("i",)),
    Spec("diagnostic", H.HOSTED, ("e",), protected=True, children=2),
    Spec("diagnostic", H.HOMELESS, ("i",), org="siao", children=0),
    Spec("diagnostic", H.UNFIT, ("d_bis", "h"), flagged_by="accueil.ccas", children=3),
    Spec("adjourned", H.PRIVATE_TENANT, ("j",)),
    Spec("committee", H.HOSTED, ("i", "b")),
    Spec("committee", H.SHELTER, ("dalo", "c"), dalo=True),
    Spec("committee", H.HOMELESS, ("i",), org="siao", children=0),
    Spec("committee", H.HOSTED, ("e",), protected=True),
    Spec("proposal", H.PRIVATE_TENANT, ("a",)),
    Spec("proposal", H.HOTEL, ("dalo", "h"), dalo=True, children=2),
    Spec("proposal_refused", H.HOSTED, ("b",)),
    Spec("proposal_not_allocated", H.TRANSITIONAL, ("c",)),
    Spec("caleol", H.PRIVATE_TENANT, ("j",)),
    Spec("caleol", H.HOSTED, ("e",), protected=True, children=1),
    Spec("caleol", H.HOMELESS, ("i",), org="siao", children=0),
    Spec("reply", H.UNFIT, ("d_bis",)),
    Spec("reply", H.SHELTER, ("dalo", "c"), dalo=True),
    Spec("reply", H.HOSTED, ("k",), children=0),
    Spec("lease", H.PRIVATE_TENANT, ("a",)),
    Spec("lease", H.HOMELESS, ("i",), org="siao", children=0),
    Spec("lease", H.HOTEL, ("dalo",), dalo=True),
    Spec("dalo_review", H.HOSTED, ("dalo", "i"), dalo=True),
    Spec("rehoused", H.HOSTED, ("b",)),
    Spec("rehoused", H.HOSTED, ("e",), protected=True, children=2),
    Spec("rehoused", H.SHELTER, ("dalo", "c"), dalo=True),
    Spec("not_kept", H.SOCIAL_TENANT, ("b",)),
    Spec("redirected", H.HOMELESS, ("i",), org="siao", children=0),
    Spec("withdrawn", H.PRIVATE_TENANT, ("j",)),
    Spec("inadmissible", H.HOSTED, ("b",)),
    Spec("dalo_lost", H.HOSTED, ("dalo",), dalo=True),
    # Six households designated to the first landlord, waiting for a proposal: the vacant dwellings
    # below go to three of them through the pages and to three through the API (rank 1 refuses,
    # rank 2 accepts).
    *[Spec("proposal", H.HOSTED, ("b",), children=1 + n % 2, landlord="landlord1") for n in range(6)],
]

# Vacant dwellings of the first landlord, kept for the three-candidate walk-through (UI and API).
VACANT = [
    ("12 rue de la Démonstration", TOULON, "T3", "64", 1, True, "395", "70"),
    ("8 avenue du Test (API)", LA_GARDE, "T3", "66", 2, True, "405", "75"),
]
# The first landlord's information system, for trying the partner API on the demo (fictitious token).
DEMO_API_TOKEN = "ppg_demo-habitat-exemple-2026"

# The actions each target stage needs, in order, from a freshly flagged case.
LANDLORD_LOOP = ["diagnose", "label", "propose"]
STAGES = {
    "diagnostic": [],
    "adjourned": ["diagnose", "adjourn"],
    "committee": ["diagnose"],
    "proposal": ["diagnose", "label"],
    "proposal_refused": LANDLORD_LOOP + ["allocate", "refuse"],
    "proposal_not_allocated": LANDLORD_LOOP + ["not_allocate"],
    "caleol": LANDLORD_LOOP,
    "reply": LANDLORD_LOOP + ["allocate"],
    "lease": LANDLORD_LOOP + ["allocate", "accept"],
    "dalo_review": LANDLORD_LOOP + ["allocate", "refuse"],
    "rehoused": LANDLORD_LOOP + ["allocate", "accept", "sign"],
    "not_kept": ["diagnose", "not_keep"],
    "redirected": ["diagnose", "redirect"],
    "withdrawn": ["diagnose", "label", "withdraw"],
    "inadmissible": LANDLORD_LOOP + ["inadmissible"],
    "dalo_lost": LANDLORD_LOOP + ["allocate", "refuse", "confirm_loss"],
}


def demo_nud(index: int) -> str:
    # Département 83, filed 06/2025, desk "DEMO0", sequence number, check letter: matches the NUD format.
    return f"0832506DEMO0{index:05d}X"


class Command(AuditedCommand):
    help = "Charge le territoire de démonstration (organisations, comptes, ménages fictifs à chaque étape)."

    def handle(self, *args, **options):
        with acting_as(system_actor(), "Données de démonstration"):
            communes = list(Commune.objects.filter(epci_siren=TPM_SIREN))
            if not communes:
                self.stderr.write("Communes de la métropole introuvables : lancez d'abord « manage.py migrate ».")
                return
            DepartementSettings.objects.get_or_create(code="83")
            self.orgs = self.load_organisations(communes)
            self.users = self.load_users()
            self.dwellings = self.load_dwellings()
            self.load_vacant_and_api_client()
        # The partner committee decides the demo cases (written procedures: every member votes).

        self.demo_committee, _seats = demo_committee()
        created = 0
        for index, spec in enumerate(SPECS, start=1):
            if Household.objects.filter(nud=demo_nud(index)).exists():
                continue
            with transaction.atomic():
                self.load_case(index, spec)
            created += 1
        rehoused = load_steering_demo(orgs=self.orgs, users=self.users, names=LAST_NAMES)
        self.stdout.write(f"Pilotage : {rehoused} relogement(s) ajouté(s).")
        self.print_logins()
        load_reception_demo(self.stdout, PASSWORD)  # the reception network (reception/demo.py)
        self.stdout.write(load_privacy_demo(self.orgs["ccas"], PASSWORD))
        self.stdout.write(
            f"\n{created} ménage(s) de démonstration créé(s), {len(SPECS) - created} déjà présent(s). "
            "Toutes les personnes et adresses sont fictives."
        )

    # --- reference data ----------------------------------------------------------------------------

    def load_organisations(self, communes):
        orgs = {}
        for key, (name, kind) in ORGANISATIONS.items():
            org, _created = Organisation.objects.get_or_create(name=name, defaults={"kind": kind})
            if not org.communes.exists():
                org.communes.set(communes)
            orgs[key] = org
        return orgs

    def load_users(self):
        User = get_user_model()
        users = {}
        hashed = make_password(PASSWORD)  # hashing is slow on purpose: once for every demo account
        for username, first, last, role, org_key in USERS:
            user, created = User.objects.get_or_create(
                username=username,
                defaults={"first_name": first, "last_name": last, "email": f"{username}@demo.invalid"},
            )
            if created:
                user.password = hashed
                user.save()
            Membership.objects.get_or_create(user=user, organisation=self.orgs[org_key], role=role)
            users[username] = user
        admin = User.objects.filter(username="admin").first()
        if admin is None:
            admin = User.objects.create_superuser("admin", "admin@demo.invalid", None)
            admin.password = hashed
            admin.save()
        users["admin"] = admin
        return users

    def load_dwellings(self):
        dwellings = {"landlord1": [], "landlord2": []}
        for n, (key, address, insee, typ, surface, floor, lift, rent, charges, qpv) in enumerate(DWELLINGS, 1):
            dwelling, _created = Dwelling.objects.get_or_create(
                rpls_id=f"DEMO{n:06d}",
                defaults={
                    "landlord": self.orgs[key],
                    "address": address,
                    "commune_id": insee,
                    "in_qpv": qpv,
                    "typology": typ,
                    "surface_m2": Decimal(surface),
                    "floor": floor,
                    "has_lift": lift,
                    "rent": Decimal(rent),
                    "charges": Decimal(charges),
                    "reservataire": self.orgs["action_logement"] if n % 3 == 0 else None,
                    "available_from": timezone.localdate() + timedelta(days=15 * (n % 4)),
                },
            )
            dwellings[key].append(dwelling)
        return dwellings

    def load_vacant_and_api_client(self):
        for n, (address, insee, typ, surface, floor, lift, rent, charges) in enumerate(VACANT, 1):
            Dwelling.objects.get_or_create(
                rpls_id=f"DEMOVAC{n}",
                defaults={
                    "landlord": self.orgs["landlord1"], "address": address, "commune_id": insee,
                    "typology": typ, "surface_m2": Decimal(surface), "floor": floor, "has_lift": lift,
                    "rent": Decimal(rent), "charges": Decimal(charges),
                    "available_from": timezone.localdate() + timedelta(days=30),
                },
            )  # fmt: skip
        landlord = self.orgs["landlord1"]
        if not ApiClient.objects.filter(organisation=landlord, revoked_at__isnull=True).exists():
            user, created = get_user_model().objects.get_or_create(username="api-demo-hem")
            if created:
                user.set_unusable_password()
                user.save()
            Membership.objects.get_or_create(user=user, organisation=landlord, role=Role.LANDLORD_AGENT)
            ApiClient.objects.create(
                organisation=landlord, user=user, name="SI de démonstration", token_prefix=DEMO_API_TOKEN[:12],
                token_hash=hash_token(DEMO_API_TOKEN),
            )  # fmt: skip

    # --- one household and its case ----------------------------------------------------------------

    def load_case(self, index: int, spec: Spec):
        today = timezone.localdate()
        social_worker = self.users["ts.siao" if spec.org == "siao" else "ts.ccas"]
        flagger = self.users[spec.flagged_by] if spec.flagged_by else social_worker
        last_name = LAST_NAMES[index % len(LAST_NAMES)]
        commune = [TOULON, LA_SEYNE, HYERES, LA_GARDE, SIX_FOURS, LA_VALETTE][index % 6]
        household = Household(
            nud=demo_nud(index),
            applicant_last_name=last_name,
            applicant_first_name=FIRST_NAMES[index % len(FIRST_NAMES)],
            applicant_birth_date=today.replace(year=today.year - 25 - index % 30, day=1),
            phone=f"06 00 00 {index:02d} {index:02d}",
            email=f"menage{index}@exemple.invalid",
            address="" if spec.situation == H.HOMELESS else f"{index} rue de l'Exemple (adresse fictive)",
            commune_id=commune,
            housing_situation=spec.situation,
            housing_since=today - timedelta(days=90 + 30 * index),
            monthly_wages=Decimal(0 if spec.situation == H.HOMELESS else 400 + 40 * index),
            monthly_rsa=Decimal("607.75") if index % 3 == 0 else Decimal(0),
            monthly_family_benefits=Decimal(150 * spec.children),
        )
        members = [
            HouseholdMember(
                first_name=FIRST_NAMES[(index + n + 7) % len(FIRST_NAMES)],
                last_name=last_name,
                relationship=choices.Relationship.CHILD,
                birth_date=today.replace(year=today.year - 3 - 4 * n, day=1),
            )
            for n in range(spec.children)
        ]
        source = choices.CriterionSource.SIAO if spec.org == "siao" else choices.CriterionSource.SOCIAL_WORKER
        criteria = [
            {
                "code": code,
                "source": choices.CriterionSource.DALO_DECISION if code == "dalo" else source,
                "evidence_note": "Pièce justificative fictive (démonstration).",
            }
            for code in spec.criteria
        ]
        case = services.household_flag(
            actor=flagger,
            household=household,
            members=members,
            organisation=self.orgs[spec.org],
            criteria=criteria,
            is_protected=spec.protected,
            is_dalo=spec.dalo,
            comed_decision_date=today - timedelta(days=45 + index) if spec.dalo else None,
        )
        landlord_key = spec.landlord or ("landlord1" if index % 2 else "landlord2")
        for action in STAGES[spec.stage]:
            case = getattr(self, f"do_{action}")(services, case, spec, social_worker, landlord_key, index)

    # Each action runs as the user who does it in real life.

    def do_diagnose(self, services, case, spec, social_worker, landlord_key, index):
        values = {
            "family_situation": "Situation familiale fictive rédigée pour la démonstration.",
            "monthly_resources": case.household.monthly_income,
            "monthly_housing_cost": Decimal(0 if spec.situation in (H.HOMELESS, H.HOSTED) else 450),
            "social_narrative": "Évaluation sociale détaillée (texte fictif, confidentiel).",
            "committee_synthesis": "Ménage fictif : besoin d'un logement adapté à sa composition.",
            "recommendation": "Logement ordinaire avec accompagnement.",
            "recommended_typology": ["T1", "T2", "T3", "T4"][min(spec.children, 3)],
            "support_needed": choices.SupportMeasure.ASLL if index % 2 else choices.SupportMeasure.NONE,
            "urgency": choices.Urgency.HIGH
            if spec.protected or spec.situation == H.HOMELESS
            else choices.Urgency.MEDIUM,
        }
        areas = []
        if spec.protected:
            values["violence_facts"] = "Faits fictifs (démonstration). Ordonnance de protection en cours."
            areas = [case.household.commune_id]
        return services.diagnostic_complete(actor=social_worker, case=case, values=values, areas_to_avoid=areas)

    def committee_decide(self, case, values):
        """The demo committee decides by written procedure (opened, answered by every voting member,
        outcome recorded by its secretary): no decision is taken by one member alone."""

        procedure = decide_in_writing(committee=self.demo_committee, case=case, values=values)
        return type(case).objects.get(pk=procedure.case_id)

    def do_adjourn(self, services, case, spec, social_worker, landlord_key, index):
        values = {
            "outcome": choices.CommitteeOutcome.ADJOURNED,
            "missing_items": "Dernier avis d'imposition.",
            "adjourned_until": timezone.localdate() + timedelta(days=30),
        }
        return self.committee_decide(case, values)

    def do_label(self, services, case, spec, social_worker, landlord_key, index):
        values = {
            "outcome": choices.CommitteeOutcome.LABELLED,
            "orientation": choices.Orientation.ORDINARY,
            "designated_landlord": self.orgs[landlord_key],
            "target_reservataire": self.orgs["state" if spec.dalo else "action_logement"],
            "support_measure": choices.SupportMeasure.ASLL,
        }
        return self.committee_decide(case, values)

    def do_not_keep(self, services, case, spec, social_worker, landlord_key, index):
        values = {"outcome": choices.CommitteeOutcome.NOT_KEPT, "reason": "Critères de priorité non établis."}
        return self.committee_decide(case, values)

    def do_redirect(self, services, case, spec, social_worker, landlord_key, index):
        values = {"outcome": choices.CommitteeOutcome.REDIRECTED, "redirected_to": choices.RedirectTarget.SHELTER}
        return self.committee_decide(case, values)

    def do_confirm_loss(self, services, case, spec, social_worker, landlord_key, index):
        values = {
            "dalo_benefit_lost": True,
            "offer_adapted": True,
            "reason": "Offre adaptée refusée sans motif légitime après information.",
        }
        return self.committee_decide(case, values)

    def landlord_agent(self, landlord_key):
        return self.users["bailleur.hem" if landlord_key == "landlord1" else "bailleur.lfv"]

    def do_propose(self, services, case, spec, social_worker, landlord_key, index):
        today = timezone.localdate()
        options = self.dwellings[landlord_key]
        start = (index + case.refusal_count) % len(options)
        # A dwelling another demo household is still in the running for is skipped (one round each).
        free = [d for d in options[start:] + options[:start] if not Proposal.objects.filter(
            dwelling=d, offer__status=choices.OfferStatus.OPEN, case__status__in=RUNNING).exists()]  # fmt: skip
        values = {
            "dwelling": free[0] if free else options[start],
            "notified_on": today - timedelta(5),
            "match_override_reason": "Démonstration : choix confirmé avec le ménage lors de la visite.",
            "fewer_candidates_reason": choices.FewerCandidatesReason.TOO_FEW,
            "fewer_candidates_detail": "Démonstration : un seul ménage pour ce logement.",
        }
        if case.is_dalo:
            moment = datetime.combine(today - timedelta(days=6), time(10))
            values["dalo_notice_given_at"] = timezone.make_aware(moment)
        return services.proposal_make(actor=self.landlord_agent(landlord_key), case=case, values=values)

    def caleol(self, services, case, landlord_key, **values):
        values.setdefault("decided_on", timezone.localdate() - timedelta(days=3))
        return services.caleol_record(actor=self.landlord_agent(landlord_key), case=case, values=values)

    def do_allocate(self, services, case, spec, social_worker, landlord_key, index):
        return self.caleol(services, case, landlord_key, decision=choices.CaleolDecisionType.ALLOCATED)

    def do_not_allocate(self, services, case, spec, social_worker, landlord_key, index):
        return self.caleol(
            services,
            case,
            landlord_key,
            decision=choices.CaleolDecisionType.NOT_ALLOCATED,
            non_allocation_reason=choices.NonAllocationReason.UNSUITABLE_SIZE,
        )

    def do_inadmissible(self, services, case, spec, social_worker, landlord_key, index):
        return self.caleol(
            services,
            case,
            landlord_key,
            decision=choices.CaleolDecisionType.INADMISSIBLE,
            inadmissibility_reason=choices.InadmissibilityReason.INCOME_OVER_CEILING,
        )

    def do_refuse(self, services, case, spec, social_worker, landlord_key, index):
        motive = choices.RefusalMotive.LOCATION if spec.dalo else choices.RefusalMotive.SIZE
        values = {"answer": choices.ReplyAnswer.REFUSED, "refusal_motive": motive}
        values["replied_on"] = timezone.localdate() - timedelta(days=1)
        return services.reply_record(actor=self.landlord_agent(landlord_key), case=case, values=values)

    def do_accept(self, services, case, spec, social_worker, landlord_key, index):
        values = {"answer": choices.ReplyAnswer.ACCEPTED, "replied_on": timezone.localdate() - timedelta(days=1)}
        # The household's social worker may record the reply too: half the demo replies go through them.
        actor = social_worker if index % 2 and spec.org == "ccas" else self.landlord_agent(landlord_key)
        return services.reply_record(actor=actor, case=case, values=values)

    def do_sign(self, services, case, spec, social_worker, landlord_key, index):
        return services.lease_record(actor=self.landlord_agent(landlord_key), case=case, signed_on=timezone.localdate())

    def do_withdraw(self, services, case, spec, social_worker, landlord_key, index):
        return services.case_close(
            actor=social_worker,
            case=case,
            reason=choices.ClosureReason.WITHDRAWN,
            comment="Le ménage (fictif) a trouvé une solution par lui-même.",
        )

    # --- logins --------------------------------------------------------------------------------------

    def print_logins(self):
        rows = [("Identifiant", "Rôle", "Organisation")]
        for username, _first, _last, role, org_key in USERS:
            rows.append((username, Role(role).label, ORGANISATIONS[org_key][0]))
        rows.append(("admin", "Superutilisateur (administration Django)", "—"))
        widths = [max(len(str(r[i])) for r in rows) for i in range(3)]
        self.stdout.write(f"\nComptes de démonstration (mot de passe pour tous : {PASSWORD})\n")
        for n, row in enumerate(rows):
            self.stdout.write("  ".join(str(cell).ljust(widths[i]) for i, cell in enumerate(row)).rstrip())
            if n == 0:
                self.stdout.write("  ".join("-" * w for w in widths))
        self.stdout.write(
            f"\nAPI partenaires (http://127.0.0.1:8000/api/docs/) : jeton de démonstration de "
            f"{ORGANISATIONS['landlord1'][0]} : {DEMO_API_TOKEN}"
        )
