"""{% load clock_pause %} {% may_pause_clock case as may_pause %}: may the signed-in user suspend the case's clock?"""

from django import template

from ..services import can_pause

register = template.Library()


@register.simple_tag(takes_context=True)
def may_pause_clock(context, case) -> bool:
    request = context.get("request")
    return bool(request and case.is_open and can_pause(request.user, case))
