"""Demo only: age the open steps of some demo cases so overdue badges, reminders and escalations
show at once.

    python manage.py load_demo && python manage.py notifications_demo_overdue --cases 5 --days 45
"""

from django.conf import settings
from django.core.management.base import CommandError

from audit.commands import AuditedCommand
from cases.models import Case
from notifications.demo import make_demo_overdue


class Command(AuditedCommand):
    help = "Démo : met en retard les étapes ouvertes de quelques dossiers, puis lance la relance."

    def add_arguments(self, parser):
        parser.add_argument("--cases", type=int, default=5)
        parser.add_argument("--days", type=int, default=45)
        parser.add_argument("--force", action="store_true", help="run even with DEBUG off")

    def handle(self, *args, **options):
        if not (settings.DEBUG or options["force"]):
            raise CommandError("Commande de démonstration : elle ne s'exécute qu'avec DEBUG (ou --force).")
        cases = list(Case.objects.filter(closed_at__isnull=True).order_by("pk")[: options["cases"]])
        self.stdout.write(str(make_demo_overdue(cases, options["days"])))
