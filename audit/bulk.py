"""The only allowed bulk writes on audited models: simple-history's *_with_history helpers, plus
the audit entries those helpers do not create (they send no post_create_historical_record signal).

tests/audit/test_guards.py fails on any QuerySet.update(), bulk_create() or bulk_update() on an
audited model outside this module.
"""

from django.db import transaction
from simple_history import utils as sh_utils
from simple_history.models import HistoricalRecords

from .chain import chain_history_row
from .models import AuditEntry


def _current_actor():
    request = getattr(HistoricalRecords.context, "request", None)
    user = getattr(request, "user", None)
    return user if getattr(user, "is_authenticated", False) else None


def _chain_new_rows(model, pks):
    history = model.history.model
    label = history._meta.label_lower
    done = set(AuditEntry.objects.filter(source=label).values_list("source_id", flat=True))
    pk_name = model._meta.pk.attname
    for row in history.objects.filter(**{f"{pk_name}__in": pks}).order_by("history_id"):
        if str(row.pk) not in done:
            chain_history_row(row)


def bulk_create_with_history(objs, model, *, reason: str, **kwargs):
    with transaction.atomic():
        created = sh_utils.bulk_create_with_history(
            objs, model, default_user=_current_actor(), default_change_reason=reason, **kwargs
        )
        _chain_new_rows(model, [o.pk for o in created])
    return created


def bulk_update_with_history(objs, model, fields, *, reason: str, **kwargs):
    with transaction.atomic():
        count = sh_utils.bulk_update_with_history(
            objs, model, fields, default_user=_current_actor(), default_change_reason=reason, **kwargs
        )
        _chain_new_rows(model, [o.pk for o in objs])
    return count
