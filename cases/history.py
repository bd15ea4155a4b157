"""The project's HistoricalRecords: simple-history, minus identical consecutive rows.

Models import `HistoricalRecords` from here instead of from simple_history (same name, same
options, same tables, so no migration changes). The only difference: a save or an m2m signal that
changes nothing the history tracks does not write a row. Doing it in `create_historical_record`
(simple-history's documented extension point, the method every post_save / post_delete / m2m
signal funnels into) is the one place where the row can be skipped before it is written; the
pre_create signal cannot cancel a row, and `clean_duplicate_history` only deletes afterwards.
"""

from simple_history import models as sh_models
from simple_history.utils import get_m2m_field_name


class HistoricalRecords(sh_models.HistoricalRecords):
    def create_historical_record(self, instance, history_type, using=None):
        # A writer that knows a tracked field has just changed says so (`instance._history_changed`,
        # e.g. the flow setting a new status): the last row cannot be identical, no need to read it.
        changed = instance.__dict__.pop("_history_changed", False)
        if history_type == "~" and not changed and self._same_as_last(instance, using):
            return
        super().create_historical_record(instance, history_type, using=using)

    def _same_as_last(self, instance, using) -> bool:
        """True when the latest history row already holds exactly what `instance` holds now."""
        manager = getattr(instance, self.manager_name)
        if using and self.use_base_model_db:
            manager = manager.using(using)
        last = manager.order_by("-history_date", "-history_id").first()
        if last is None or last.history_type == "-":
            return False
        for field in self.fields_included(instance):
            if _normalised(field, getattr(instance, field.attname)) != _normalised(field, getattr(last, field.attname)):
                return False
        for field in getattr(last, "_history_m2m_fields", ()):
            through = getattr(instance, field.name).through
            owner = get_m2m_field_name(field)
            target = field.m2m_reverse_field_name()
            now = set(through.objects.filter(**{owner: instance}).values_list(f"{target}_id", flat=True))
            then = set(getattr(last, field.name).values_list(f"{target}_id", flat=True))
            if now != then:
                return False
        return True


def _normalised(field, value):
    # The instance may hold what a form or a service assigned (1400 for a Decimal field, a string
    # for a date); the history row holds what the database returned.
    try:
        return field.to_python(value)
    except Exception:  # noqa: BLE001 - an unparsable value is simply "different"
        return value


def is_audited(model) -> bool:
    """Has the model a history table (registered through any HistoricalRecords)?"""
    return hasattr(model._meta, "simple_history_manager_attribute")
