import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# Numéro unique (SNE): département code, year and month of filing, the registering desk's code,
# a sequence number and a check letter, 18 characters in all. The exact layout of the last three
# parts is not published as a standard (uncertain); this pattern is what every NUD we have seen
# matches, and the one place to change if a territory's numbers differ.
NUD_PATTERN = re.compile(r"^(0\d{2}|02[AB]|97\d)\d{2}(0[1-9]|1[0-2])[A-Z0-9]{5}\d{5}[A-Z]$")


def validate_nud(value: str) -> None:
    if not NUD_PATTERN.match(value or ""):
        raise ValidationError(
            _(
                "Numéro unique invalide : 18 caractères attendus (département, année, mois, "
                "code du guichet, numéro d'ordre, lettre de contrôle), par exemple 08324012340000123A."
            ),
            code="invalid_nud",
        )


def validate_insee_code(value: str) -> None:
    if not re.match(r"^(\d{5}|2[AB]\d{3})$", value or ""):
        raise ValidationError(_("Code INSEE invalide (5 caractères)."), code="invalid_insee")
