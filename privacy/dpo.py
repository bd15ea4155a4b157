"""The data-protection officer's view (/dpo/): the read log of their organisations' cases, filtered,
with unusual patterns flagged, the retention status, and a CSV export."""

import csv
from datetime import datetime, time, timedelta

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Count, Q
from django.db.models.functions import TruncDate
from django.http import Http404
from django.utils import timezone

from audit.models import AccessLog, Section
from cases.models import Case, Organisation
from permissions.policy import log_denial

from .access import dpo_organisations
from .models import Anonymisation, LegalHold
from .services import plan

# A user reading more distinct cases than this in one day is flagged.
MANY_CASES_A_DAY = 20


class ReadLogFilter(forms.Form):
    user = forms.ModelChoiceField(label="Utilisateur", queryset=get_user_model().objects.none(), required=False)
    organisation = forms.ModelChoiceField(
        label="Organisation du dossier", queryset=Organisation.objects.none(), required=False
    )
    case = forms.IntegerField(
        label="Dossier (identifiant)", required=False, min_value=1, error_messages={"invalid": "Saisissez un nombre."}
    )
    protected = forms.BooleanField(label="Dossiers protégés seulement", required=False)
    break_glass = forms.BooleanField(label="Accès exceptionnels seulement", required=False)
    since = forms.DateField(
        label="Du",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": "Saisissez une date valide."},
    )
    until = forms.DateField(
        label="Au",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": "Saisissez une date valide."},
    )

    def __init__(self, *args, organisations=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = Organisation.objects.filter(pk__in=organisations).order_by("name")
        readers = AccessLog.objects.filter(case__organisation_id__in=organisations).values("user_id")
        self.fields["user"].queryset = get_user_model().objects.filter(pk__in=readers).order_by("last_name", "username")

    def clean(self):
        data = super().clean()
        if data.get("since") and data.get("until") and data["since"] > data["until"]:
            raise forms.ValidationError("La date de début doit précéder la date de fin.")
        return data


def dpo_or_404(request) -> set:
    organisations = dpo_organisations(request.user)
    if not organisations:
        log_denial(request, "dpo_view", "page", "dpo")
        raise Http404
    return organisations


def reads(organisations, data: dict):
    qs = AccessLog.objects.filter(case__organisation_id__in=organisations)
    if data.get("user"):
        qs = qs.filter(user=data["user"])
    if data.get("organisation"):
        qs = qs.filter(case__organisation=data["organisation"])
    if data.get("case"):
        qs = qs.filter(case_id=data["case"])
    if data.get("protected"):
        qs = qs.filter(Q(case__is_protected=True) | Q(section=Section.PROTECTED_CASE))
    if data.get("break_glass"):
        qs = qs.exclude(reason="")
    tz = timezone.get_current_timezone()
    if data.get("since"):
        qs = qs.filter(at__gte=datetime.combine(data["since"], time.min, tz))
    if data.get("until"):
        qs = qs.filter(at__lt=datetime.combine(data["until"] + timedelta(days=1), time.min, tz))
    return qs.select_related("user", "case", "case__organisation").order_by("-at", "-pk")


def flags(qs) -> list[dict]:
    """Unusual patterns in the reads shown: many cases a day for one user; reads of protected cases."""
    many = (
        qs.annotate(day=TruncDate("at"))
        .values("user_id", "user__username", "day")
        .annotate(cases=Count("case_id", distinct=True))
        .filter(cases__gt=MANY_CASES_A_DAY)
        .order_by("-day")
    )
    result = [
        {"kind": f"{row['cases']} dossiers consultés dans la journée", "user": row["user__username"], "day": row["day"]}
        for row in many
    ]
    protected = (
        qs.filter(Q(case__is_protected=True) | ~Q(reason=""))
        .annotate(day=TruncDate("at"))
        .values("user__username", "day")
        .annotate(n=Count("pk"))
        .order_by("-day")
    )
    result += [
        {
            "kind": f"{row['n']} consultation(s) de dossier protégé ou exceptionnelle(s)",
            "user": row["user__username"],
            "day": row["day"],
        }
        for row in protected
    ]
    return result


def retention_summary(organisations) -> dict:
    due = {pk for line in plan() for pk in line.case_ids}
    cases = Case.objects.filter(organisation_id__in=organisations)
    return {
        "due": cases.filter(pk__in=due).count(),
        "held": cases.filter(legal_holds__lifted_at__isnull=True).distinct().count(),
        "done": cases.filter(pk__in=Anonymisation.objects.values("case_id")).count(),
        "holds": LegalHold.objects.filter(case__organisation_id__in=organisations, lifted_at__isnull=True)
        .select_related("case")
        .order_by("-placed_at")[:50],
    }


def write_csv(response, qs) -> None:
    writer = csv.writer(response, delimiter=";")
    writer.writerow(["date", "utilisateur", "dossier", "organisation", "partie consultée", "accès exceptionnel"])
    for r in qs.iterator(chunk_size=2000):
        writer.writerow(
            [
                timezone.localtime(r.at).strftime("%d/%m/%Y %H:%M"),
                r.user.username,
                r.case.reference,
                r.case.organisation.name,
                r.get_section_display(),
                "oui" if r.reason else "non",
            ]
        )
