"""History actor and reason for management commands and Celery tasks.

Web requests get theirs from simple-history's HistoryRequestMiddleware (the user) and
audit.middleware.HistoryReasonMiddleware (the reason); services override both with `acting_as`.
Celery tasks are covered for all tasks by audit.signals. Management commands derive from
`AuditedCommand` (tests/audit/test_actor.py checks every command of the project does).
"""

from django.core.management.base import BaseCommand

from cases.audit import acting_as, system_actor


class AuditedCommand(BaseCommand):
    """A command whose writes are recorded as made by the system actor, with the command as reason."""

    audit_reason = ""

    def execute(self, *args, **options):
        name = self.__module__.rsplit(".", 1)[-1]
        with acting_as(system_actor(), self.audit_reason or f"Commande {name}"):
            return super().execute(*args, **options)
