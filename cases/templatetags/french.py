"""The template side of cases/formats.py, a builtin of every template (config/settings/base.py):
`{{ dwelling.rent|euros }}`, `{{ proposal.notified_on|date_fr }}`, `{{ task.created|datetime_fr }}`,
`{{ user|person }}`."""

from django import template

from cases import formats

register = template.Library()

register.filter("euros", formats.euros)
register.filter("amount", formats.amount)
register.filter("date_fr", formats.french_date)
register.filter("datetime_fr", formats.french_datetime)


@register.filter
def person(user) -> str:
    return formats.person_name(user)
