"""French display and input of amounts and dates: one place for the whole product.

Amounts show as « 1 320,00 € » (non-breaking spaces), dates as « 01/12/2026 »; the form fields of
cases/forms_common.py read « 1 320,00 », « 1320.00 » and « 01/12/2026 » back."""

from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from django.utils import timezone

NBSP = "\u00a0"
# What people type between thousands: a space, a non-breaking or narrow non-breaking space.
_SPACES = (" ", NBSP, "\u202f")


def amount(value, decimals: int = 2) -> str:
    """« 1 320,00 » (no currency sign): the number as a French reader writes it; "" for nothing."""
    if value is None or value == "":
        return ""
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    text = f"{number:,.{decimals}f}"  # 1,320.00
    return text.replace(",", NBSP).replace(".", ",")


def euros(value, decimals: int = 2) -> str:
    """« 1 320,00 € »; "—" for nothing."""
    text = amount(value, decimals)
    return f"{text}{NBSP}€" if text else "—"


def parse_amount(text: str) -> str:
    """A typed amount in the form Decimal() reads: « 1 320,00 € » → « 1320.00 ». Not a number: as typed."""
    cleaned = text.strip().removesuffix("€").strip()
    for space in _SPACES:
        cleaned = cleaned.replace(space, "")
    if cleaned.count(",") == 1 and "." not in cleaned:
        cleaned = cleaned.replace(",", ".")
    return cleaned


def french_date(value) -> str:
    """« 01/12/2026 »; a date and time in the local time zone gives its day; "" for nothing."""
    if not value:
        return ""
    if isinstance(value, datetime):
        value = timezone.localtime(value) if timezone.is_aware(value) else value
        value = value.date()
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    return str(value)


def french_datetime(value) -> str:
    """« 01/12/2026 à 14:05 », in the local time zone; "" for nothing."""
    if not value:
        return ""
    if isinstance(value, datetime):
        local = timezone.localtime(value) if timezone.is_aware(value) else value
        return f"{local:%d/%m/%Y} à {local:%H:%M}"
    return french_date(value)


def person_name(user) -> str:
    """A person by name, never by login: the full name, else « Compte sans nom (n° 12) »; « — » for nobody."""
    if user is None or getattr(user, "pk", None) is None:
        return "—"
    return user.get_full_name() or f"Compte sans nom (n° {user.pk})"
