"""Working days: Monday to Friday except French public holidays of the case's territory.

Alsace-Moselle (départements 57, 67, 68) keeps two extra public holidays (Good Friday and
26 December) under its local law; overseas départements have their own (abolition of slavery).
The `holidays` library knows them per subdivision: "57" for Moselle, "6AE" (Collectivité
européenne d'Alsace) for 67 and 68, "971"…"976" overseas.
"""

from datetime import date, timedelta
from functools import lru_cache

import holidays

SUBDIVISION_OF = {"67": "6AE", "68": "6AE"}


@lru_cache(maxsize=32)
def public_holidays(departement: str | None):
    subdiv = SUBDIVISION_OF.get(departement, departement)
    if subdiv in holidays.France.subdivisions:
        return holidays.France(subdiv=subdiv)
    return holidays.France()


def is_working_day(day: date, departement: str | None = None) -> bool:
    return day.weekday() < 5 and day not in public_holidays(departement)


def next_working_day(day: date, departement: str | None = None) -> date:
    """The day itself if it is a working day, else the next one (a deadline ending on a day off moves on)."""
    while not is_working_day(day, departement):
        day += timedelta(days=1)
    return day


def add_working_days(day: date, count: int, departement: str | None = None) -> date:
    step = 1 if count >= 0 else -1
    remaining = abs(count)
    while remaining:
        day += timedelta(days=step)
        if is_working_day(day, departement):
            remaining -= 1
    return day


def working_days_between(start: date, end: date, departement: str | None = None) -> int:
    """Working days in (start, end]; negative when end is before start."""
    if end < start:
        return -working_days_between(end, start, departement)
    count = 0
    day = start
    while day < end:
        day += timedelta(days=1)
        if is_working_day(day, departement):
            count += 1
    return count
