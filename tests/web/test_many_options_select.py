"""The proposal form's dwelling list (thousands of options for a landlord) renders the same HTML as
Django's own Select, without one template include per option."""

import pytest
from django import forms

from cases.models import Dwelling
from tests.factories import DwellingFactory
from web.tasks.forms import ManyOptionsSelect

pytestmark = pytest.mark.django_db


def pair(widget):
    class Form(forms.Form):
        dwelling = forms.ModelChoiceField(
            Dwelling.objects.select_related("commune").order_by("pk"), widget=widget, required=True
        )

    return Form


@pytest.mark.parametrize("data", [None, "chosen", "missing"])
def test_same_html_as_djangos_select(world, data):
    DwellingFactory(landlord=world.landlord, address='3 rue "des <Lilas> & Roses"')
    chosen = Dwelling.objects.order_by("pk").last()
    values = {None: None, "chosen": {"dwelling": str(chosen.pk)}, "missing": {"dwelling": ""}}[data]
    attrs = {"aria-describedby": "id_dwelling_helptext", "disabled": False, "autofocus": True}
    ours = pair(ManyOptionsSelect(attrs=attrs))(values)
    django = pair(forms.Select(attrs=attrs))(values)
    if values is not None:
        ours.is_valid(), django.is_valid()
    html = str(ours["dwelling"])
    assert html == str(django["dwelling"])
    assert html.count("<option") == Dwelling.objects.count() + 1
    assert "&lt;Lilas&gt; &amp; Roses" in html and "<Lilas>" not in html
    assert (f'value="{chosen.pk}" selected' in html) == (data == "chosen")


def test_optgroups_too():
    choices = [("", "—"), ("Toulon", [("1", "T2 <a>"), ("2", "T3")]), ("Hyères", [("3", "T4")])]
    widget, django = ManyOptionsSelect(choices=choices), forms.Select(choices=choices)
    assert widget.render("x", "2", {"id": "id_x"}) == django.render("x", "2", {"id": "id_x"})
