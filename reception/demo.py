"""Demo data of the reception network, called by `manage.py load_demo` (idempotent: a second run adds
nothing). The territory's network is run by a fictitious ADIL; three desks, one per service level; a
published script; the commune figures (fictitious, reception/data/demo_commune_stock.csv); a few months
of contacts; one referral waiting for the CCAS; and a household with an access code to its own view."""

import random
from datetime import timedelta
from pathlib import Path

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.utils import timezone

from cases.audit import acting_as, system_actor
from cases.choices import CaseStatus, HousingSituation, OrganisationKind
from cases.models import Case, Commune, Organisation
from permissions.models import Membership
from permissions.roles import Role

from .choices import Channel, CodeChannel, DeskLevel, PreFlagStatus, Topic
from .management.commands.load_commune_stock import load, parse
from .models import Contact, ContactTopic, Desk, HouseholdAccess, Network, PreFlag, ScriptEntry, ScriptVersion
from .services import normalise_code

NETWORK_NAME = "Réseau d'accueil des demandeurs – Métropole TPM (démo)"
HEAD_ORG = "ADIL du Var (démo)"
HEAD_USER = "tete.reseau"
DEMO_ACCESS_CODE = "DEMO-PPGD-2026"
DEMO_OTP_EMAIL = "menage.demo@demo.invalid"
STOCK_CSV = Path(__file__).with_name("data") / "demo_commune_stock.csv"

DESKS = [
    # organisation name, desk name, level, address, commune, hours, wheelchair, languages, phone, services
    (
        HEAD_ORG,
        "Point information logement – ADIL",
        DeskLevel.INFORMATION,
        "7 rue de la Démonstration",
        "83062",
        "Du lundi au vendredi, 9 h – 12 h 30",
        True,
        "français, anglais",
        "04 00 00 00 01",
        "Information générale sur la demande\nOrientation vers le bon lieu",
    ),
    (
        "Métropole Toulon Provence Méditerranée (démo)",
        "Maison de l'habitat de la Métropole",
        DeskLevel.REGISTRATION,
        "2 place de l'Exemple",
        "83137",
        "Lundi, mercredi, vendredi : 9 h – 17 h\nMardi : 13 h 30 – 17 h",
        True,
        "français, arabe, espagnol",
        "04 00 00 00 02",
        "Information générale\nEnregistrement et renouvellement des demandes\nAide à la demande en ligne",
    ),
    (
        "CCAS de Toulon (démo)",
        "CCAS de Toulon – accueil logement",
        DeskLevel.SUPPORT,
        "15 avenue Fictive",
        "83137",
        "Sur rendez-vous, du lundi au vendredi",
        False,
        "français",
        "04 00 00 00 03",
        "Information et enregistrement\nAccompagnement personnalisé\nInstruction des dossiers prioritaires",
    ),
]

SCRIPT = [
    (Topic.APPLY, DeskLevel.INFORMATION, "Comment déposer une demande", (
        "La demande se fait en ligne sur demande-logement-social.gouv.fr ou dans un lieu d'accueil de niveau 2 "
        "ou 3, avec une pièce d'identité. Vous recevez un numéro unique qui prouve la date de votre demande."
    ), True),
    (Topic.RENEW, DeskLevel.INFORMATION, "Renouveler chaque année", (
        "La demande est valable un an. Un avis vous est envoyé au moins un mois avant la fin : sans "
        "renouvellement, elle est radiée et l'ancienneté est perdue."
    ), True),
    (Topic.PRIORITY, DeskLevel.INFORMATION, "Qui est prioritaire", (
        "La loi (article L441-1 du code de la construction et de l'habitation) liste les ménages prioritaires : "
        "handicap, personnes sans logement ou hébergées, victimes de violences, menacées d'expulsion, logées dans "
        "un logement indigne ou sur-occupé avec un enfant… Un travailleur social vérifie la situation."
    ), True),
    (Topic.DALO, DeskLevel.REGISTRATION, "Le droit au logement opposable", (
        "Si vous attendez depuis trop longtemps ou vivez une situation grave, vous pouvez saisir la commission de "
        "médiation DALO. Si elle vous reconnaît prioritaire et urgent, le préfet doit vous faire faire une offre."
    ), True),
    (Topic.ALLOCATION, DeskLevel.INFORMATION, "Comment les logements sont attribués", (
        "Pour chaque logement libre, le réservataire propose en général trois candidats ; la commission "
        "d'attribution du bailleur (CALEOL) décide. Les délais d'attente de chaque commune sont publiés."
    ), True),
    (Topic.AFTER_OFFER, DeskLevel.INFORMATION, "Après une proposition", (
        "Vous avez au moins 10 jours pour répondre. Sans réponse, la proposition est considérée comme refusée. "
        "Visitez le logement et posez vos questions au bailleur avant de répondre."
    ), True),
    (Topic.AFTER_REFUSAL, DeskLevel.REGISTRATION, "Après un refus", (
        "Votre demande reste active. Pour un ménage reconnu DALO, refuser une offre adaptée sans motif sérieux peut "
        "faire perdre le bénéfice de la décision : parlez-en d'abord à votre travailleur social."
    ), True),
    (Topic.PRIORITY, DeskLevel.SUPPORT, "Orienter vers le travailleur social (agents)", (
        "Si un critère de priorité semble s'appliquer, utilisez le questionnaire d'orientation : il envoie un "
        "pré-signalement au CCAS ou au SIAO, qui rappelle la personne sous huit jours."
    ), False),
]  # fmt: skip


def load_reception_demo(stdout=None, password: str = "demo-ppgdid-2026") -> dict:
    """Create the demo network (once), print its logins and codes, and return them."""
    with acting_as(system_actor(), "Données de démonstration (accueil)"):
        head_org, _created = Organisation.objects.get_or_create(
            name=HEAD_ORG, defaults={"kind": OrganisationKind.ASSOCIATION}
        )
        communes = list(Commune.objects.filter(epci_siren="248300543"))
        if not head_org.communes.exists():
            head_org.communes.set(communes)
        network, created = Network.objects.get_or_create(name=NETWORK_NAME, defaults={"head_organisation": head_org})
        if created:
            network.communes.set(communes)
        head = _user(HEAD_USER, "Maëlle", "Réseau-Démo", password)
        Membership.objects.get_or_create(user=head, organisation=head_org, role=Role.NETWORK_HEAD)
        desks = [_desk(network, *spec) for spec in DESKS]
        _script(network, head)
        rows, errors = parse(STOCK_CSV.read_text(encoding="utf-8"))
        if not errors:
            load(rows)
        _contacts(desks)
        _referral(desks)
        reference = _household_access(desks)
    info = {"network_head": HEAD_USER, "reference": reference, "code": DEMO_ACCESS_CODE}
    if stdout is not None:
        stdout.write(
            f"\nRéseau d'accueil : tête de réseau « {HEAD_USER} » (même mot de passe) ; pages publiques sur "
            "http://127.0.0.1:8000/accueil/"
        )
        if reference:
            stdout.write(
                f"Suivi par le ménage (http://127.0.0.1:8000/mon-dossier/) : dossier {reference}, code d'accès "
                f"{DEMO_ACCESS_CODE} ; le code à usage unique s'affiche dans la console (courriel à {DEMO_OTP_EMAIL})."
            )
    return info


def _user(username, first, last, password):
    user, created = get_user_model().objects.get_or_create(
        username=username, defaults={"first_name": first, "last_name": last, "email": f"{username}@demo.invalid"}
    )
    if created:
        user.set_password(password)
        user.save()
    return user


def _desk(network, org_name, name, level, address, commune, hours, wheelchair, languages, phone, services):
    organisation = Organisation.objects.filter(name=org_name).first()
    if organisation is None:
        organisation = network.head_organisation
    desk, _created = Desk.objects.get_or_create(
        network=network,
        name=name,
        defaults={
            "organisation": organisation,
            "level": level,
            "address": address,
            "commune_id": commune,
            "opening_hours": hours,
            "wheelchair_accessible": wheelchair,
            "accessibility": "Boucle magnétique à l'accueil" if wheelchair else "Marche à l'entrée, sonnette",
            "languages": languages,
            "phone": phone,
            "email": "accueil@demo.invalid",
            "services": services,
        },
    )
    return desk


def _script(network, author):
    if network.script_versions.exists():
        return
    version = ScriptVersion.objects.create(
        network=network,
        number=1,
        note="Première version commune du réseau",
        created_by=author,
        published_by=author,
        published_at=timezone.now() - timedelta(days=20),
    )
    for position, (topic, level, title, body, public) in enumerate(SCRIPT):
        ScriptEntry.objects.create(
            version=version, topic=topic, level=level, title=title, body=body, is_public=public, position=position
        )


def _contacts(desks):
    if Contact.objects.filter(desk__in=desks).exists():
        return
    rng = random.Random(19)
    today = timezone.localdate()
    agent = system_actor()
    topics = list(Topic.values)
    for n in range(120):
        desk = desks[n % len(desks)]
        contact = Contact.objects.create(
            desk=desk,
            on=today - timedelta(days=rng.randint(0, 150)),
            level=desk.level,
            channel=rng.choice([Channel.IN_PERSON, Channel.IN_PERSON, Channel.PHONE, Channel.EMAIL]),
            recorded_by=agent,
        )
        for topic in rng.sample(topics, rng.randint(1, 2)):
            ContactTopic.objects.create(contact=contact, topic=topic)


def _referral(desks):
    ccas = Organisation.objects.filter(name="CCAS de Toulon (démo)").first()
    if ccas is None or PreFlag.objects.filter(target_organisation=ccas).exists():
        return
    preflag = PreFlag.objects.create(
        target_organisation=ccas,
        desk=desks[0],
        last_name="Orientée-Démo",
        first_name="Jade",
        phone="0600000019",
        commune_id="83137",
        housing_situation=HousingSituation.HOSTED,
        criteria=["h", "i"],
        status=PreFlagStatus.PENDING,
        created_by=system_actor(),
    )
    contact = Contact.objects.create(
        desk=desks[0], level=desks[0].level, channel=Channel.IN_PERSON, referral=preflag, recorded_by=system_actor()
    )
    ContactTopic.objects.create(contact=contact, topic=Topic.PRIORITY)


def _household_access(desks) -> str | None:
    """A CCAS household waiting to answer an offer, with the demo access code (OTP by console e-mail)."""
    existing = HouseholdAccess.objects.filter(destination=DEMO_OTP_EMAIL).select_related("case").first()
    if existing is not None:
        return existing.case.reference
    case = (
        Case.objects.filter(status=CaseStatus.REPLY, organisation__name="CCAS de Toulon (démo)", is_protected=False)
        .order_by("pk")
        .first()
    )
    if case is None:
        return None
    HouseholdAccess.objects.create(
        case=case,
        holder="Le ménage",
        channel=CodeChannel.EMAIL,
        destination=DEMO_OTP_EMAIL,
        code_hash=make_password(normalise_code(DEMO_ACCESS_CODE)),
        desk=desks[-1],
        created_by=case.referent,
        expires_at=timezone.now() + timedelta(days=365),
    )
    return case.reference
