"""Demo data of the privacy app: a data-protection officer for the demo CCAS (idempotent)."""

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password

from permissions.models import Membership
from permissions.roles import Role

DPO_USERNAME = "dpo.ccas"


def load_privacy_demo(organisation, password: str) -> str:
    """Create (once) the DPO account of `organisation`; return the line the demo loader prints."""
    user, created = get_user_model().objects.get_or_create(
        username=DPO_USERNAME,
        defaults={"first_name": "Dominique", "last_name": "Délégué-Exemple", "email": f"{DPO_USERNAME}@demo.invalid"},
    )
    if created:
        user.password = make_password(password)
        user.save()
    Membership.objects.get_or_create(user=user, organisation=organisation, role=Role.DPO)
    return (
        f"\nDélégué à la protection des données : {DPO_USERNAME} ({organisation.name}) – export du droit d'accès "
        "d'un ménage : /dossiers/<id>/droit-d-acces/"
    )
