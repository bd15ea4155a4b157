"""The data-protection officer's view (/dpo/): the read log of their organisations' cases, filtered,
with unusual patterns flagged, the retention status, and a CSV export."""

import csv
from datetime import datetime, time, timedelta

from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Count, Exists, F, OuterRef, Q
from django.db.models.functions import TruncDate
from django.http import Http404
from django.utils import timezone

from audit.models import AccessLog, Section
from cases.choices import CaseStatus
from cases.models import Case, Organisation, Proposal
from permissions.models import Membership
from permissions.policy import log_denial
from permissions.roles import COMMISSION_ROLES, Role

from .access import dpo_organisations
from .models import Anonymisation, LegalHold
from .services import plan


def outside_scope_threshold() -> int:
    """Distinct cases a user may read outside their usual scope in one day before being flagged
    (PPGDID_DPO_OUTSIDE_SCOPE_READS_A_DAY): more than this is flagged, this many is not."""
    return settings.PPGDID_DPO_OUTSIDE_SCOPE_READS_A_DAY


def usual_scope():
    """Whether a read (an AccessLog row) falls in its reader's usual scope: the one definition.

    A read is usual when no exceptional reason was given (break-the-glass is never usual) and one of:
    - the household's own view (/mon-dossier/);
    - the reader is the case's referent;
    - one of the reader's active memberships' organisations holds or held a step of the case: the case's
      organisation (flagging, diagnostic), its designated landlord or a landlord that made it a proposal,
      its target réservataire;
    - a commission membership whose territory (its communes, else its organisation's) holds the household's
      commune, for a case that reached the committee;
    - an auditor membership (the role reads every case).
    Anything else (a case shared to the reader, a membership ended since, another territory) is outside.
    Memberships are read as they are now, not as they were on the day of the read.
    """
    member = Membership.objects.filter(user_id=OuterRef("user_id"), is_active=True)
    own_org = member.filter(
        Q(organisation_id=OuterRef("case__organisation_id"))
        | Q(organisation_id=OuterRef("case__designated_landlord_id"))
        | Q(organisation_id=OuterRef("case__target_reservataire_id"))
    )
    proposal = Proposal.objects.filter(
        case_id=OuterRef("case_id"),
        landlord_id__in=Membership.objects.filter(user_id=OuterRef(OuterRef("user_id")), is_active=True).values(
            "organisation_id"
        ),
    )
    commune = OuterRef("case__household__commune_id")
    commission = member.filter(role__in=COMMISSION_ROLES).filter(
        Q(communes=commune) | Q(communes__isnull=True, organisation__communes=commune)
    )
    reached_committee = Q(case__decided_in_committee=True) | Q(case__status=CaseStatus.COMMITTEE)
    return Q(reason="") & (
        Q(section=Section.HOUSEHOLD)
        | Q(case__referent_id=F("user_id"))
        | Exists(own_org)
        | Exists(proposal)
        | (Exists(commission) & reached_committee)
        | Exists(member.filter(role=Role.AUDITOR))
    )


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
    outside_scope = forms.BooleanField(label="Hors du périmètre habituel du lecteur seulement", required=False)
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
    if data.get("outside_scope"):
        qs = qs.exclude(usual_scope())
    tz = timezone.get_current_timezone()
    if data.get("since"):
        qs = qs.filter(at__gte=datetime.combine(data["since"], time.min, tz))
    if data.get("until"):
        qs = qs.filter(at__lt=datetime.combine(data["until"] + timedelta(days=1), time.min, tz))
    return qs.select_related("user", "case", "case__organisation").order_by("-at", "-pk")


def flags(qs) -> list[dict]:
    """Unusual patterns in the reads shown: a user reading more than the threshold of distinct cases
    outside their usual scope in one day (usual_scope); reads of protected cases and break-the-glass."""
    many = (
        qs.exclude(usual_scope())
        .annotate(day=TruncDate("at"))
        .values("user_id", "user__username", "day")
        .annotate(cases=Count("case_id", distinct=True))
        .filter(cases__gt=outside_scope_threshold())
        .order_by("-day", "user__username")
    )
    result = [
        {
            "kind": f"{row['cases']} dossiers consultés hors de son périmètre habituel dans la journée",
            "user": row["user__username"],
            "day": row["day"],
        }
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


def write_flags_csv(response, flag_list) -> None:
    writer = csv.writer(response, delimiter=";")
    writer.writerow(["jour", "utilisateur", "signalement"])
    for flag in flag_list:
        writer.writerow([flag["day"].strftime("%d/%m/%Y"), flag["user"], flag["kind"]])


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
