"""French amounts and dates: one helper each, read back by the form fields."""

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django import forms
from django.template import Context, Template

from cases import formats
from cases.forms_common import AmountField, FrenchFormMixin

NBSP = "\u00a0"


def test_amounts_and_dates_are_written_the_french_way():
    assert formats.euros(Decimal("1320")) == f"1{NBSP}320,00{NBSP}€"
    assert formats.euros(Decimal("1234567.5")) == f"1{NBSP}234{NBSP}567,50{NBSP}€"
    assert formats.euros(None) == "—"
    assert formats.french_date(date(2026, 12, 1)) == "01/12/2026"
    # 23:30 UTC on 30 November is already 1 December in Paris.
    assert formats.french_datetime(datetime(2026, 11, 30, 23, 30, tzinfo=ZoneInfo("UTC"))) == "01/12/2026 à 00:30"


def test_the_template_filters_are_builtins():
    html = Template("{{ rent|euros }} – {{ on|date_fr }}").render(
        Context({"rent": Decimal("1320"), "on": date(2026, 12, 1)})
    )
    assert html == f"1{NBSP}320,00{NBSP}€ – 01/12/2026"


class Sample(FrenchFormMixin, forms.Form):
    rent = forms.DecimalField(max_digits=9, decimal_places=2)
    on = forms.DateField()


@pytest.mark.parametrize(
    "typed", ["1 320,00", f"1{NBSP}320,00", "1\u202f320,00 €", "1320,00", "1320.00", "1320"]
)
def test_amounts_typed_the_french_way_are_read(typed):
    form = Sample({"rent": typed, "on": "01/12/2026"})
    assert form.is_valid(), form.errors
    assert form.cleaned_data == {"rent": Decimal("1320.00"), "on": date(2026, 12, 1)}


def test_a_bad_amount_gets_a_french_message():
    form = Sample({"rent": "mille", "on": "31/02/2026"})
    assert not form.is_valid()
    assert form.errors["rent"] == ["Saisissez un montant en euros, par exemple 1 320,00."]
    assert form.errors["on"] == ["Saisissez une date valide."]


def test_amount_inputs_are_text_boxes_showing_french_amounts():
    form = Sample(initial={"rent": Decimal("1320.5")})
    assert isinstance(form.fields["rent"], AmountField)
    html = str(form["rent"])
    assert 'type="text"' in html and 'inputmode="decimal"' in html and f'value="1{NBSP}320,50"' in html
    assert 'aria-required="true"' in html and "required" in html
