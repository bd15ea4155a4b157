from datetime import date

from notifications.calendar import add_working_days, is_working_day, next_working_day, working_days_between


def test_weekends_and_national_holidays_are_not_working_days():
    assert is_working_day(date(2026, 7, 13), "83")  # Monday
    assert not is_working_day(date(2026, 7, 14), "83")  # Fête nationale
    assert not is_working_day(date(2026, 7, 18), "83")  # Saturday
    assert not is_working_day(date(2026, 5, 25), "83")  # Whit Monday


def test_alsace_moselle_has_good_friday_and_saint_stephen():
    good_friday, saint_stephen = date(2026, 4, 3), date(2025, 12, 26)  # both on a Friday
    for day in (good_friday, saint_stephen):
        assert is_working_day(day, "83")
        assert is_working_day(day, None)
        for departement in ("57", "67", "68"):
            assert not is_working_day(day, departement)


def test_deadline_on_a_day_off_moves_to_the_next_working_day():
    assert next_working_day(date(2026, 7, 14), "83") == date(2026, 7, 15)
    assert next_working_day(date(2026, 12, 25), "83") == date(2026, 12, 28)
    assert next_working_day(date(2026, 12, 28), "83") == date(2026, 12, 28)


def test_add_and_count_working_days():
    # Thursday 31/12/2026 + 2 working days: skips 1 January (holiday) and the weekend.
    assert add_working_days(date(2026, 12, 31), 2, "83") == date(2027, 1, 5)
    assert working_days_between(date(2026, 12, 31), date(2027, 1, 5), "83") == 2
    assert working_days_between(date(2027, 1, 5), date(2026, 12, 31), "83") == -2
    # In Moselle, Thursday 2/4/2026 + 1: Good Friday, the weekend and Easter Monday are off.
    assert add_working_days(date(2026, 4, 2), 1, "57") == date(2026, 4, 7)
    assert add_working_days(date(2026, 4, 2), 1, "83") == date(2026, 4, 3)
