"""Receivers: an anonymised case (cases/events.py) takes its household's import bookkeeping with it.

ImportedApplication keeps, per NUD, the values the last import wrote (names, birth dates, income): once the
retention rules anonymise the household, nothing of it may stay here. The row is bookkeeping, not an audited
record, so it is deleted; a later file with the same NUD creates a new household, as for any new applicant.
"""

from django.dispatch import receiver

from cases.events import case_anonymised

from .models import ImportedApplication


@receiver(case_anonymised, dispatch_uid="exchanges.forget_imported_values")
def _forget_imported_values(sender, case, rule, **kwargs):
    ImportedApplication.objects.filter(household_id=case.household_id).delete()
