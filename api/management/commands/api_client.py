"""Create or revoke a landlord organisation's API client. The token is printed once, never stored."""

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError

from api.models import ApiClient
from api.services import api_client_create, api_client_revoke
from audit.commands import AuditedCommand
from cases.audit import system_actor
from cases.models import Organisation


class Command(AuditedCommand):
    help = "Crée (create) ou révoque (revoke) le client API d'un bailleur."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["create", "revoke"])
        parser.add_argument("organisation", help="Nom exact ou identifiant de l'organisme bailleur.")
        parser.add_argument("--name", default="Système d'information du bailleur")

    def handle(self, action, organisation, name, **options):
        org = Organisation.objects.filter(pk=int(organisation)).first() if organisation.isdigit() else None
        org = org or Organisation.objects.filter(name=organisation).first()
        if org is None:
            raise CommandError("Organisme introuvable.")
        actor = system_actor()
        actor.is_superuser = True  # the command line is the administrator's tool; not saved
        try:
            if action == "create":
                client, token = api_client_create(actor=actor, organisation=org, name=name)
                self.stdout.write(f"Client API créé pour {org} (n° {client.pk}). Jeton, à transmettre une seule fois :")
                self.stdout.write(token)
            else:
                client = ApiClient.objects.filter(organisation=org, revoked_at__isnull=True).first()
                if client is None:
                    raise CommandError("Aucun client API actif pour cet organisme.")
                api_client_revoke(actor=actor, client=client)
                self.stdout.write(f"Client API de {org} révoqué.")
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from error
