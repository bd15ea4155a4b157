"""Run the periodic notification jobs once, in-process: for cron, or for the embedded default that
runs without a Celery worker and beat.

    python manage.py notifications_tick            # deadline scan, timers, reminders, outbox sweep
    python manage.py notifications_tick --digest   # also the daily digest
"""

from audit.commands import AuditedCommand
from notifications import outbox
from workflows.scan import fire_timers, scan_deadlines


class Command(AuditedCommand):
    help = "Échéances, relances, balayage de la file des notifications (une fois)."

    def add_arguments(self, parser):
        parser.add_argument("--digest", action="store_true", help="send the daily digests too")

    def handle(self, *args, **options):
        # The scan first: it arms missing deadline timers and pulls moved ones forward, so the timers
        # fired next are up to date.
        self.stdout.write(f"deadline scan: {scan_deadlines()}")
        self.stdout.write(f"workflow timers fired: {sum(fire_timers())}")
        self.stdout.write(f"reminder e-mails sent: {outbox.send_reminders()}")
        self.stdout.write(f"outbox sweep re-queued: {outbox.sweep()}")
        if options["digest"]:
            self.stdout.write(f"digests sent: {outbox.send_digests()}")
