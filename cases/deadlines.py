"""Legal deadlines of the domain, each computed in one place, the way the law counts it.

- The household's reply to an offer (article R441-10 CCH; Code de procédure civile, articles 641-642).
- The préfet's deadline to get an offer made to a DALO household (article R441-16-1 CCH).

Everything else (the offer record, pages, API, letters, timers, the manual "silence = refusal")
asks these functions; nothing re-counts days on its own. This module sits in the domain layer:
notifications and workflows import it, never the reverse.
"""

from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, timedelta

from dateutil.relativedelta import relativedelta

from .calendar import next_working_day
from .territory import DepartementSettings

# --- reply to an offer -------------------------------------------------------------------------------

# Article R441-10 CCH (CE 436148): the household has at least 10 days to answer an offer. A territory
# may give more (DepartementSettings.offer_reply_days), never less.
LEGAL_MIN_REPLY_DAYS = 10


# A list computing many steps' deadlines reads each département's settings once (settings_preloaded).
_preloaded: ContextVar[dict | None] = ContextVar("departement_settings", default=None)


@contextmanager
def settings_preloaded(departements):
    """Within the block, the settings of these départements come from one query instead of one per deadline."""
    codes = {d for d in departements if d}
    rows = dict.fromkeys(codes) | {row.code: row for row in DepartementSettings.objects.filter(code__in=codes)}
    token = _preloaded.set(rows)
    try:
        yield
    finally:
        _preloaded.reset(token)


def _settings(departement: str | None) -> DepartementSettings | None:
    if not departement:
        return None
    rows = _preloaded.get()
    if rows is not None and departement in rows:
        return rows[departement]
    return DepartementSettings.objects.filter(code=departement).first()


def reply_days(departement: str | None) -> int:
    """Days the household has to answer an offer in this département (never under the legal 10)."""
    row = _settings(departement)
    days = row.offer_reply_days if row else LEGAL_MIN_REPLY_DAYS
    return max(LEGAL_MIN_REPLY_DAYS, days)


def reply_deadline(start: date, departement: str | None, days: int | None = None) -> date:
    """Last day to answer an offer that reached the household on `start`.

    Code de procédure civile: the day of the notification does not count (art. 641), the period
    expires at the end of its last day, and a last day falling on a Saturday, Sunday or public
    holiday (of the département: Alsace-Moselle has two more) is carried to the next working day
    (art. 642). Notified 16/12/2026 + 10 days = Saturday 26/12/2026, hence Monday 28/12/2026.
    """
    days = reply_days(departement) if days is None else max(LEGAL_MIN_REPLY_DAYS, days)
    return next_working_day(start + timedelta(days=days), departement)


def reply_start(proposal) -> date | None:
    """The day the offer reached the household: the notification, or for a registered letter its
    delivery or first failed presentation (CE 436148). None while a registered letter is not delivered."""
    if proposal.registered_letter:
        return proposal.delivered_on
    return proposal.notified_on


def offer_departement(proposal) -> str | None:
    """The département whose public holidays and reply days apply: where the household lives (it
    receives the offer there), else the dwelling's."""
    commune = proposal.case.household.commune if proposal.case_id else None
    if commune is None and proposal.dwelling_id:
        commune = proposal.dwelling.commune
    return commune.departement if commune else None


def reply_due(proposal, departement: str | None = None) -> date | None:
    """The one reply deadline of an offer: the legal one, or the later date the landlord granted
    (carried to a working day too). None while the period has not started."""
    start = reply_start(proposal)
    if start is None:
        return None
    departement = departement if departement is not None else offer_departement(proposal)
    legal = reply_deadline(start, departement)
    if proposal.reply_deadline and proposal.reply_deadline > legal:
        return next_working_day(proposal.reply_deadline, departement)
    return legal


# --- the préfet's DALO deadline ----------------------------------------------------------------------

# Article R441-16-1 CCH: after a favourable COMED decision, the préfet has 3 months to get an offer
# made; 6 months "dans les départements d'outre-mer et dans les départements comportant au moins une
# agglomération, ou une partie d'une agglomération, de plus de 300 000 habitants". Only these two
# values exist (DepartementSettings.dalo_offer_months accepts nothing else).
# The article names no département: it sets a criterion. The list below applies it to the overseas
# départements and to the INSEE unités urbaines of more than 300,000 inhabitants (2020 zoning).
# Text version: the consolidated article as quoted above; its date could not be checked against
# Légifrance from this project's machines (issue 15 report): a territory whose case differs sets
# DepartementSettings.dalo_offer_months, which wins over this list.
SIX_MONTH_DEPARTEMENTS = frozenset(
    {
        # Overseas départements.
        "971", "972", "973", "974", "976",
        # Île-de-France (agglomeration of Paris).
        "75", "77", "78", "91", "92", "93", "94", "95",
        # Agglomerations of Lyon, Marseille-Aix, Lille, Toulouse, Bordeaux, Nice, Nantes, Toulon,
        # Grenoble, Strasbourg, Rouen, Montpellier, Douai-Lens, Avignon, Saint-Étienne, Tours, Rennes.
        "69", "13", "59", "31", "33", "06", "44", "83",
        "38", "67", "76", "34", "62", "84", "30", "42", "37", "35",
    }
)  # fmt: skip
DALO_OFFER_MONTHS = (3, 6)


def legal_dalo_offer_months(departement: str | None) -> int:
    return 6 if departement in SIX_MONTH_DEPARTEMENTS else 3


def dalo_offer_months(departement: str | None) -> int:
    """The préfet's months for this département: the territory's stated value, else the article's."""
    row = _settings(departement)
    if row and row.dalo_offer_months:
        return row.dalo_offer_months
    return legal_dalo_offer_months(departement)


def dalo_offer_deadline(comed_decision_date: date | None, departement: str | None) -> date | None:
    """Date by which the préfet must have had an offer made (R441-16-1 CCH)."""
    if not comed_decision_date:
        return None
    return comed_decision_date + relativedelta(months=dalo_offer_months(departement))


def case_departement(case) -> str | None:
    commune = case.household.commune
    return commune.departement if commune else None
