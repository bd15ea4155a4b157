"""Template helpers shared by the form pages."""

from django import forms, template

from cases.offers import loss_review_facts

register = template.Library()


def _items(form):
    if isinstance(form, forms.BaseFormSet):
        for message in form.non_form_errors():
            yield {"id": None, "label": "", "message": message}
        for sub in form.forms:
            yield from _items(sub)
        return
    for message in form.non_field_errors():
        yield {"id": None, "label": "", "message": message}
    for name, errors in form.errors.items():
        if name == forms.forms.NON_FIELD_ERRORS or name not in form.fields:
            continue
        bound = form[name]
        for message in errors:
            yield {"id": bound.auto_id, "label": bound.label, "message": message}


@register.inclusion_tag("includes/error_summary.html")
def error_summary(*forms_):
    items = [item for form in forms_ if form is not None and form.is_bound for item in _items(form)]
    return {"has_errors": bool(items), "error_items": items}


@register.inclusion_tag("cases/_dalo_loss_facts.html")
def dalo_loss_facts(case):
    """The refused offer and its match alerts, beside a loss-of-DALO decision (cases.offers)."""

    return {"loss": loss_review_facts(case)}
