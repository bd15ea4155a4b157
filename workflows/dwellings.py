"""Writes on the domain that do not move a case (those are in workflows/services.py)."""

from django.core.exceptions import PermissionDenied
from django.db import transaction

from cases.audit import acting_as
from cases.models import Dwelling
from permissions.policy import log_denial, memberships_of
from permissions.roles import Role


def dwelling_create(*, actor, landlord, values: dict) -> Dwelling:
    """A landlord agent declares one of its organisation's dwellings."""
    if not actor.is_superuser and not any(
        g.organisation_id == landlord.pk and g.role == Role.LANDLORD_AGENT for g in memberships_of(actor)
    ):
        log_denial(actor, "dwelling_create", "organisation", landlord.pk)
        raise PermissionDenied
    with transaction.atomic(), acting_as(actor, "Logement déclaré"):
        dwelling = Dwelling(landlord=landlord, **values)
        dwelling.full_clean()
        dwelling.save()
    return dwelling
