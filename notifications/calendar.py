"""Moved to cases/calendar.py (the domain layer computes the legal deadlines); kept for old imports."""

from cases.calendar import (  # noqa: F401
    SUBDIVISION_OF,
    add_working_days,
    is_working_day,
    next_working_day,
    public_holidays,
    working_days_between,
)
