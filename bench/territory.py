"""The synthetic territory's reference part: organisations over the real communes, accounts,
memberships and role groups, the benchmark accounts and one partner committee.

Written through the ordinary paths (ORM saves, committees.services) where the rows are few, and
through audit.bulk where they scale with the number of cases (accounts and memberships).
"""

import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db.models import Sum
from django.utils import timezone

from audit.bulk import bulk_create_with_history
from cases import choices
from cases.models import Case, Commune, Organisation
from cases.territory import DepartementSettings
from committees import services
from committees.models import AgendaItem, Committee, CommitteeMember
from permissions.grants import MANAGED_PERMISSIONS
from permissions.models import Membership, role_groups
from permissions.roles import COMMISSION_ROLES, Role

K = choices.OrganisationKind
CASES_PER_SOCIAL_WORKER = 100
CASES_PER_LANDLORD_AGENT = 400
BENCH_USERS = ("bench.ts", "bench.supervisor", "bench.commission", "bench.landlord", "bench.auditor")
LAST_NAMES = [
    "Exemple", "Fictif", "Démo", "Essai", "Modèle", "Témoin", "Maquette", "Imaginaire", "Inventé", "Spécimen",
    "Prototype", "Esquisse", "Ébauche", "Brouillon", "Gabarit", "Patron", "Calque", "Copie", "Épreuve", "Test",
]  # fmt: skip
FIRST_NAMES = [
    "Ada", "Basile", "Céleste", "Dorian", "Elsa", "Fabio", "Gaïa", "Hugo", "Iris", "Jules", "Kenza", "Léon",
    "Maya", "Nils", "Olga", "Pablo", "Quitterie", "Rémi", "Sofia", "Timéo", "Ulysse", "Véra", "Wassim",
    "Xénia", "Yara", "Zoé", "Aurèle", "Bilal", "Capucine", "Dylan", "Eden", "Fanny", "Gabin", "Hana",
]  # fmt: skip


@dataclass
class Epci:
    siren: str
    name: str
    departement: str
    communes: list  # Commune rows, biggest first
    weights: list  # population of each commune (case draw)
    share: float = 0.0
    orgs: dict = field(default_factory=dict)  # key -> Organisation (or list of them)


@dataclass
class Territory:
    epcis: list
    national_landlord: Organisation
    action_logement: Organisation
    users: dict = field(default_factory=lambda: defaultdict(list))  # (org pk, role) -> [user pk]
    groups: dict = field(default_factory=dict)  # (org pk, role) -> group pk
    commission_groups: dict = field(default_factory=dict)  # commune pk -> [group pk]
    commission_users: dict = field(default_factory=dict)  # epci siren -> [user pk]
    bench: dict = field(default_factory=dict)  # username -> User
    case_content_type: int = 0
    permission_ids: dict = field(default_factory=dict)  # codename -> Permission pk
    committee: object = None
    big_org: Organisation = None

    def group(self, org_id, role) -> int:
        return self.groups[(org_id, role)]


def _epcis() -> list[Epci]:
    by_epci = defaultdict(list)
    for commune in Commune.objects.exclude(epci_siren="").order_by("-population", "insee_code"):
        by_epci[(commune.epci_siren, commune.epci_name)].append(commune)
    epcis = []
    for (siren, name), communes in by_epci.items():
        departements = defaultdict(int)
        for c in communes:
            departements[c.departement] += c.population
        dep = max(departements, key=departements.get)
        epcis.append(Epci(siren, name, dep, communes, [max(c.population, 50) for c in communes]))
    total = sum(sum(e.weights) for e in epcis)
    for e in epcis:
        e.share = sum(e.weights) / total
    return sorted(epcis, key=lambda e: -e.share)


def _org(name, kind, communes) -> Organisation:
    org = Organisation(name=name, kind=kind)
    org.save()
    org.communes.set(communes)
    return org


def build_organisations() -> Territory:
    epcis = _epcis()
    if not epcis:
        raise RuntimeError("Aucune commune de référence : lancez d'abord « manage.py migrate ».")
    every_commune = [c for e in epcis for c in e.communes]
    for e in epcis:
        DepartementSettings.objects.get_or_create(code=e.departement)
        short = e.name.split(" ", 1)[-1]
        big = e.communes[0]
        e.orgs = {
            "metropole": _org(f"{e.name} (fictif)", K.EPCI, e.communes),
            "state": _org(f"DDETS {e.departement} – {short} (fictif)", K.STATE, e.communes),
            "departement": _org(f"Conseil départemental {e.departement} – {short} (fictif)", K.DEPARTEMENT, e.communes),
            "siao": _org(f"SIAO {e.departement} – {short} (fictif)", K.SIAO, e.communes),
            "ville": _org(f"Ville de {big.name} (fictif)", K.COMMUNE, [big]),
            "ccas": [_org(f"CCAS de {c.name} (fictif)", K.COMMUNE, [c]) for c in e.communes[:3]],
            "associations": [
                _org(f"Association Toit Solidaire {e.departement}-{k} (fictive)", K.ASSOCIATION, e.communes)
                for k in (1, 2)
            ],
            "landlords": [
                _org(f"Habitat Exemple {e.departement}-{k} (bailleur fictif)", K.LANDLORD, e.communes)
                for k in (1, 2, 3)
            ],
        }
    territory = Territory(
        epcis=epcis,
        national_landlord=_org("Bailleur national Exemple (ESH fictive)", K.LANDLORD, every_commune),
        action_logement=_org("Action Logement Services (fictif)", K.RESERVATAIRE, every_commune),
    )
    territory.big_org = epcis[0].orgs["departement"]
    territory.case_content_type = ContentType.objects.get_for_model(Case).pk
    territory.permission_ids = dict(
        Permission.objects.filter(
            content_type_id=territory.case_content_type, codename__in=MANAGED_PERMISSIONS
        ).values_list("codename", "pk")
    )
    return territory


# Expected share of an EPCI's cases per social-work organisation (the CCAS only in their commune).
SOCIAL_SHARES = {"departement": 0.45, "siao": 0.15, "associations": 0.20, "ccas": 0.20}


def _expected_cases(territory, n_cases) -> dict:
    """Organisation pk → expected number of cases it refers (sizes the staff)."""
    expected = defaultdict(float)
    for e in territory.epcis:
        n = n_cases * e.share
        for key, share in SOCIAL_SHARES.items():
            orgs = e.orgs[key] if isinstance(e.orgs[key], list) else [e.orgs[key]]
            for org in orgs:
                expected[org.pk] += n * share / len(orgs)
    return expected


def build_accounts(territory, n_cases, password, rng: random.Random):
    """Accounts, memberships and role groups; the five benchmark accounts among them."""
    User = get_user_model()
    hashed = make_password(password)
    plan = []  # (username, role, org)
    expected = _expected_cases(territory, n_cases)
    serial = 0

    def add(role, org, count, prefix):
        nonlocal serial
        for _ in range(count):
            serial += 1
            plan.append((f"{prefix}.{serial:06d}", role, org))

    for e in territory.epcis:
        o = e.orgs
        for org in [o["departement"], o["siao"], *o["associations"], *o["ccas"]]:
            workers = max(2, round(expected[org.pk] / CASES_PER_SOCIAL_WORKER))
            add(Role.SOCIAL_WORKER, org, workers, "ts")
            add(Role.SUPERVISOR, org, max(1, workers // 10), "encadrant")
        for org in o["ccas"]:
            add(Role.RECEPTION, org, 1, "accueil")
        add(Role.COMMISSION_MEMBER, o["metropole"], 3, "commission")
        add(Role.COMMISSION_CHAIR, o["metropole"], 1, "presidence")
        add(Role.COMMISSION_MEMBER, o["state"], 3, "commission")
        add(Role.COMMISSION_MEMBER, o["ville"], 2, "commission")
        add(Role.RESERVATAIRE_AGENT, o["state"], 1, "reservataire")
        add(Role.TERRITORY_ADMIN, o["metropole"], 1, "admin")
        for org in o["landlords"]:
            add(Role.LANDLORD_AGENT, org, max(2, round(n_cases * e.share * 0.2 / CASES_PER_LANDLORD_AGENT)), "bailleur")
    add(
        Role.LANDLORD_AGENT,
        territory.national_landlord,
        max(3, round(n_cases * 0.3 / CASES_PER_LANDLORD_AGENT)),
        "bailleur",
    )
    add(Role.RESERVATAIRE_AGENT, territory.action_logement, 3, "reservataire")
    big = territory.big_org
    first_epci = territory.epcis[0].orgs
    plan += [
        ("bench.ts", Role.SOCIAL_WORKER, big),
        ("bench.supervisor", Role.SUPERVISOR, big),
        ("bench.landlord", Role.LANDLORD_AGENT, territory.national_landlord),
        ("bench.auditor", Role.AUDITOR, first_epci["state"]),
    ]
    users = []
    for username, _role, _org in plan:
        users.append(
            User(
                username=username,
                first_name=rng.choice(FIRST_NAMES),
                last_name=rng.choice(LAST_NAMES),
                email=f"{username}@bench.invalid",
                password=hashed,
            )
        )
    users.append(User(username="bench.commission", first_name="Camille", last_name="Commission-Bench", password=hashed))
    users.append(User(username="bench.secretary", first_name="Sacha", last_name="Secrétaire-Bench", password=hashed))
    users.append(User(username="bench.admin", is_superuser=True, is_staff=True, password=hashed))
    User.objects.bulk_create(users, batch_size=2000)
    by_name = {u.username: u for u in User.objects.filter(username__in=[u.username for u in users])}
    memberships = [Membership(user=by_name[name], organisation=org, role=role) for name, role, org in plan]
    bulk_create_with_history(memberships, Membership, reason="Données de mesure", batch_size=2000)
    # Membership.save() keeps the role group in step; the bulk insert does it here, once.
    remember_groups(territory, {(org.pk, role) for _n, role, org in plan})
    through = User.groups.through
    through.objects.bulk_create(
        [through(user_id=by_name[name].pk, group_id=territory.groups[(org.pk, role)]) for name, role, org in plan],
        batch_size=2000,
    )
    for name, role, org in plan:
        if not name.startswith("bench."):
            territory.users[(org.pk, role)].append(by_name[name].pk)
    territory.bench = {name: by_name[name] for name in (*BENCH_USERS, "bench.secretary", "bench.admin")}
    for e in territory.epcis:
        territory.commission_users[e.siren] = [
            pk for key in ("metropole", "state") for pk in territory.users[(e.orgs[key].pk, Role.COMMISSION_MEMBER)]
        ]


def build_committee(territory, rng: random.Random):
    """The partner committee of the first territory (all its communes: it decides the benchmark's committee
    transitions by written procedure), with the benchmark commission member and a secretary, through
    committees.services."""

    e = territory.epcis[0]
    committee = Committee(name=f"Commission partenariale – {e.name} (fictive)", quorum_count=2)
    committee.save()
    committee.communes.set(e.communes)
    admin = territory.bench["bench.admin"]
    Function = CommitteeMember.Function
    for username, organisation, function in (
        ("bench.secretary", e.orgs["state"], Function.SECRETARY),
        ("bench.commission", e.orgs["metropole"], Function.MEMBER),
    ):
        services.committee_member_add(
            actor=admin,
            committee=committee,
            user=territory.bench[username],
            organisation=organisation,
            function=function,
        )
    territory.committee = committee
    # The seats created commission memberships: their role groups.
    seats = Membership.objects.filter(user__username__in=["bench.commission", "bench.secretary"])
    remember_groups(territory, set(seats.values_list("organisation_id", "role")))


def remember_groups(territory, pairs) -> None:
    """Record the ids of the role groups of (organisation id, role) pairs, created if missing."""
    missing = {pair for pair in pairs if pair not in territory.groups}
    territory.groups.update({pair: group.pk for pair, group in role_groups(missing).items()})


def compute_commission_groups(territory):
    """Commune → the commission role groups whose territory covers it (permissions.grants.commission_groups
    for every commune at once)."""
    org_communes = defaultdict(set)
    for org_id, commune_id in Organisation.communes.through.objects.values_list("organisation_id", "commune_id"):
        org_communes[org_id].add(commune_id)
    own = defaultdict(set)
    for membership_id, commune_id in Membership.communes.through.objects.values_list("membership_id", "commune_id"):
        own[membership_id].add(commune_id)
    per_commune = defaultdict(set)
    for pk, org_id, role in Membership.objects.filter(role__in=COMMISSION_ROLES, is_active=True).values_list(
        "pk", "organisation_id", "role"
    ):
        for commune_id in own[pk] or org_communes[org_id]:
            per_commune[commune_id].add((org_id, role))
    remember_groups(territory, set().union(*per_commune.values()))
    for commune_id, pairs in per_commune.items():
        territory.commission_groups[commune_id] = [territory.groups[pair] for pair in sorted(pairs)]


def ensure_groups(territory):
    """Every role group a grant may name (a designated landlord's or réservataire's group exists even
    when no account holds it yet, as role_groups would create it)."""
    orgs = [territory.national_landlord, territory.action_logement]
    for e in territory.epcis:
        orgs += [e.orgs["state"], *e.orgs["landlords"]]
        orgs += [e.orgs[k] for k in ("departement", "siao")] + e.orgs["ccas"] + e.orgs["associations"]
    roles = (Role.LANDLORD_AGENT, Role.RESERVATAIRE_AGENT, Role.SOCIAL_WORKER, Role.SUPERVISOR)
    remember_groups(territory, {(org.pk, role) for org in orgs for role in roles})


def build_agenda(territory, size: int = 60):
    """A planned session of the committee whose agenda holds the `size` most urgent waiting cases."""

    secretary = territory.bench["bench.secretary"]
    start = (timezone.localtime() + timedelta(days=7)).replace(hour=9, minute=30, second=0, microsecond=0)
    session = services.session_create(
        actor=secretary,
        committee=territory.committee,
        starts_at=start,
        place="Salle du conseil (séance fictive)",
    )
    # The waiting cases of the committee's territory, oldest first (selectors.eligible_cases ranks every
    # waiting case by urgency, which is slow at this scale; agenda_add re-checks each one).
    waiting = (
        Case.objects.filter(
            status=choices.CaseStatus.COMMITTEE,
            closed_at__isnull=True,
            household__commune__in=territory.committee.communes.all(),
        )
        .exclude(pk__in=AgendaItem.objects.values("case_id"))
        .order_by("pk")
    )
    for case in list(waiting[:size]):
        services.agenda_add(actor=secretary, session=session, case=case)
    return session


def population_total():
    return Commune.objects.aggregate(total=Sum("population"))["total"] or 0
