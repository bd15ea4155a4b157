"""Form pieces every page shares (web, reception, permissions): French amounts and dates, required
fields marked, a service's errors put next to their fields."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from . import formats


class DateInput(forms.DateInput):
    """The browser's date picker (shown as 01/12/2026 in French); the field also reads a typed 01/12/2026."""

    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%dT%H:%M")


class AmountInput(forms.TextInput):
    """A text box, not type=number: a browser empties a number box holding « 1 320,00 »."""

    def __init__(self, attrs=None):
        super().__init__({"inputmode": "decimal", "autocomplete": "off", **(attrs or {})})

    def format_value(self, value):
        if value is None or value == "" or isinstance(value, str):
            return value or None
        return formats.amount(value)


class AmountField(forms.DecimalField):
    """An amount in euros typed the French way: « 1 320,00 », « 1320,5 », « 1 320 € » or « 1320.00 »."""

    widget = AmountInput
    default_error_messages = {"invalid": _("Saisissez un montant en euros, par exemple 1 320,00.")}

    def to_python(self, value):
        if isinstance(value, str):
            value = formats.parse_amount(value)
        return super().to_python(value)

    def widget_attrs(self, widget):
        return {}  # no step/min/max: they belong to number boxes


DATE_WIDGETS = {forms.DateField: DateInput, forms.DateTimeField: DateTimeInput}


class FrenchFormMixin:
    """Every form of the product: date pickers, amounts typed the French way, required fields marked
    (the required attribute and aria-required; templates/includes/field.html adds the visible mark)."""

    required_css_class = "required"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget_class = DATE_WIDGETS.get(type(field))
            if widget_class and not isinstance(field.widget, widget_class):
                field.widget = widget_class()
            if type(field) is forms.DecimalField:
                field.__class__ = AmountField  # same state, French parsing (a model's DecimalField)
                field.widget = AmountInput()
                field.error_messages["invalid"] = AmountField.default_error_messages["invalid"]
            if field.required and not isinstance(field.widget, forms.CheckboxSelectMultiple):
                field.widget.attrs["aria-required"] = "true"


def attach_errors(form, error: ValidationError) -> None:
    """Put a service's ValidationError next to the form fields it names; the rest goes on top."""
    if hasattr(error, "error_dict"):
        for field, messages in error.message_dict.items():
            form.add_error(field if field in form.fields else None, messages)
    else:
        form.add_error(None, error.messages)
