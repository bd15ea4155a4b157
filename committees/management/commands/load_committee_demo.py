"""Demo committee on top of the demo territory (cases' load_demo): the Toulon métropole's partner
committee with the demo commission accounts, and one planned session whose agenda holds the cases
awaiting the committee, most urgent first. Safe to run twice. Works alone too (it creates the few
organisations and accounts it needs, with the demo names)."""

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.utils import timezone

from audit.commands import AuditedCommand
from cases import choices
from cases.audit import acting_as, system_actor
from cases.models import Commune, Organisation
from committees import services
from committees.models import Committee, CommitteeMember, Session

PASSWORD = "demo-ppgdid-2026"  # the demo password of load_demo
TPM_SIREN = "248300543"  # Métropole Toulon Provence Méditerranée (Etalab reference data)
COMMITTEE_NAME = "Commission cas complexes – Toulon Provence Méditerranée (démo)"
K = choices.OrganisationKind
ORGANISATIONS = {
    "metropole": ("Métropole Toulon Provence Méditerranée (démo)", K.EPCI),
    "state": ("DDETS du Var (démo)", K.STATE),
    "landlord1": ("Habitat Exemple Méditerranée (bailleur fictif)", K.LANDLORD),
    "action_logement": ("Action Logement Services (démo)", K.RESERVATAIRE),
}
Function = CommitteeMember.Function
# username, first name, last name, organisation key, function
SEATS = [
    ("presidence.tpm", "Claire", "Présidente-Démo", "metropole", Function.CHAIR),
    ("secretariat.ddets", "Hugo", "Secrétaire-Démo", "state", Function.SECRETARY),
    ("commission.ddets", "Marc", "Commission-Démo", "state", Function.MEMBER),
    ("commission.bailleur", "Léa", "Bailleur-Commission-Démo", "landlord1", Function.MEMBER),
    ("commission.al", "Nina", "Réservataire-Commission-Démo", "action_logement", Function.MEMBER),
]


class Command(AuditedCommand):
    help = "Crée la commission partenariale de démonstration (Toulon) et une séance prévue avec son ordre du jour."

    def handle(self, *args, **options):
        built = demo_committee()
        if built is None:
            self.stderr.write("Communes de la métropole introuvables : lancez d'abord « manage.py migrate ».")
            return
        committee, users = built
        session = committee.sessions.exclude(status=Session.Status.CLOSED).first()
        if session is None:
            start = (timezone.localtime() + timedelta(days=7)).replace(hour=9, minute=30, second=0, microsecond=0)
            session = services.session_create(
                actor=users["secretariat.ddets"],
                committee=committee,
                starts_at=start,
                place="Hôtel de la Métropole, Toulon – salle du conseil",
                video_link="https://visio.example.org/commission-tpm",
            )
        added = services.agenda_fill(actor=users["secretariat.ddets"], session=session)
        self.stdout.write(
            f"Commission « {committee.name} » : séance du {session.starts_at:%d/%m/%Y %H:%M}, "
            f"{session.items.count()} dossier(s) à l'ordre du jour ({added} ajouté(s))."
        )
        self.stdout.write(f"Comptes (mot de passe « {PASSWORD} ») :")
        for username, _first, _last, _org, function in SEATS:
            self.stdout.write(f"  {username:22} {Function(function).label}")


def demo_committee():
    """The demo committee with its seats (idempotent): (committee, {username: user}), or None when the
    métropole's communes are missing. load_demo uses it too: its committee decisions go through it."""
    communes = list(Commune.objects.filter(epci_siren=TPM_SIREN))
    if not communes:
        return None
    actor = system_actor()
    admin = get_user_model().objects.filter(is_superuser=True).order_by("pk").first() or _demo_admin()
    with acting_as(actor, "Données de démonstration"):
        orgs = {}
        for key, (name, kind) in ORGANISATIONS.items():
            org, _created = Organisation.objects.get_or_create(name=name, defaults={"kind": kind})
            if not org.communes.exists():
                org.communes.set(communes)
            orgs[key] = org
        committee, created = Committee.objects.get_or_create(
            name=COMMITTEE_NAME, defaults={"quorum_count": 3, "decision_mode": Committee.DecisionMode.MAJORITY}
        )
        if created:
            committee.communes.set(communes)
    hashed = None
    users = {}
    for username, first, last, org_key, function in SEATS:
        user, made = get_user_model().objects.get_or_create(
            username=username,
            defaults={"first_name": first, "last_name": last, "email": f"{username}@demo.invalid"},
        )
        if made:
            hashed = hashed or make_password(PASSWORD)
            user.password = hashed
            user.save()
        users[username] = user
        services.committee_member_add(
            actor=admin, committee=committee, user=user, organisation=orgs[org_key], function=function
        )
    return committee, users


def _demo_admin():
    admin = get_user_model().objects.create_superuser("admin", "admin@demo.invalid", None)
    admin.password = make_password(PASSWORD)
    admin.save()
    return admin
