"""What goes in and out of the partner API. Output fields are filtered by the visibility matrix
(permissions.visibility): a field the client's role may not see is simply absent."""

from datetime import date, datetime

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from cases import choices, offers
from cases.models import Commune, Dwelling, Household, HouseholdMember, Organisation
from permissions.visibility import can_see_field

MAX_ID = 2**63 - 1
# Dates outside this window are typing errors (and would overflow deadline arithmetic).
EARLIEST, LATEST = date(2000, 1, 1), date(2100, 12, 31)


class BoundedDateField(serializers.DateField):
    def to_internal_value(self, value):
        day = super().to_internal_value(value)
        if not EARLIEST <= day <= LATEST:
            raise serializers.ValidationError(_("Date hors de la période admise (2000 à 2100)."))
        return day


class BoundedDateTimeField(serializers.DateTimeField):
    def to_internal_value(self, value):
        moment = super().to_internal_value(value)
        if not datetime(2000, 1, 1, tzinfo=moment.tzinfo) <= moment <= datetime(2100, 12, 31, tzinfo=moment.tzinfo):
            raise serializers.ValidationError(_("Date hors de la période admise (2000 à 2100)."))
        return moment


def _text(max_length=2000, **kwargs):
    return serializers.CharField(required=False, allow_blank=True, max_length=max_length, **kwargs)


def _money(**kwargs):
    return serializers.DecimalField(max_digits=10, decimal_places=2, min_value=0, **kwargs)


# --- output: cases ---------------------------------------------------------------------------------


class VisibleFieldsSerializer(serializers.Serializer):
    """Drops the fields the viewer's roles may not see (context: roles, protected)."""

    model_label = ""

    def to_representation(self, instance):
        data = super().to_representation(instance)
        roles, protected = self.context["roles"], self.context.get("protected", False)
        return {
            k: v
            for k, v in data.items()
            if k in self.always or can_see_field(roles, self.model_label, k, protected=protected)
        }

    always: tuple = ()


class MemberOut(VisibleFieldsSerializer, serializers.ModelSerializer):
    model_label = "cases.householdmember"

    class Meta:
        model = HouseholdMember
        fields = ["first_name", "last_name", "relationship", "birth_date", "shared_custody", "pregnancy"]
        read_only_fields = fields


class HouseholdOut(VisibleFieldsSerializer, serializers.ModelSerializer):
    model_label = "cases.household"
    commune = serializers.CharField(read_only=True, source="commune_id", allow_null=True)
    members = serializers.SerializerMethodField()

    always = ("members",)

    class Meta:
        model = Household
        fields = [
            "nud",
            "applicant_last_name",
            "applicant_first_name",
            "applicant_birth_date",
            "residence_status",
            "phone",
            "email",
            "commune",
            "housing_situation",
            "housing_since",
            "tax_income_n2",
            "monthly_wages",
            "monthly_rsa",
            "monthly_aah",
            "monthly_family_benefits",
            "monthly_other_income",
            "members",
        ]
        read_only_fields = fields

    @extend_schema_field(MemberOut(many=True))
    def get_members(self, household):
        return MemberOut(household.members.all(), many=True, context=self.context).data


class NeedsOut(VisibleFieldsSerializer):
    """The diagnostic's fields a landlord may read: resources and housing needs (never the narrative)."""

    model_label = "cases.diagnostic"
    monthly_resources = serializers.DecimalField(max_digits=10, decimal_places=2, read_only=True)
    monthly_housing_cost = serializers.DecimalField(max_digits=10, decimal_places=2, read_only=True)
    monthly_other_charges = serializers.DecimalField(max_digits=10, decimal_places=2, read_only=True)
    accessibility_need = serializers.BooleanField(read_only=True)
    max_floor_without_lift = serializers.IntegerField(read_only=True, allow_null=True)
    support_needed = serializers.CharField(read_only=True)
    recommended_typology = serializers.CharField(read_only=True)
    areas_to_avoid = serializers.SerializerMethodField(help_text="Communes non adaptées (codes INSEE), sans motif.")
    recommended_communes = serializers.SerializerMethodField()
    urgency = serializers.CharField(read_only=True)
    completed_at = serializers.DateTimeField(read_only=True, allow_null=True)

    def get_areas_to_avoid(self, diagnostic) -> list[str]:
        return [c.pk for c in diagnostic.areas_to_avoid.all()]

    def get_recommended_communes(self, diagnostic) -> list[str]:
        return [c.pk for c in diagnostic.recommended_communes.all()]


class DecisionOut(serializers.Serializer):
    decision = serializers.CharField(read_only=True)
    rank = serializers.IntegerField(read_only=True, allow_null=True)
    missing_document = serializers.CharField(read_only=True)
    condition_deadline = serializers.DateField(read_only=True, allow_null=True)
    condition_met_on = serializers.DateField(read_only=True, allow_null=True)
    condition_lapsed_at = serializers.DateTimeField(read_only=True, allow_null=True)
    non_allocation_reason = serializers.CharField(read_only=True)
    inadmissibility_reason = serializers.CharField(read_only=True)
    inadmissibility_scope = serializers.SerializerMethodField(
        help_text="Irrecevabilité : « dwelling » (propre à ce logement, le dossier continue) "
        "ou « general » (dossier clos)."
    )
    reasons_detail = serializers.CharField(read_only=True)
    decided_on = serializers.DateField(read_only=True)

    def get_inadmissibility_scope(self, decision) -> str:
        return str(choices.INADMISSIBILITY_SCOPE.get(decision.inadmissibility_reason, ""))


class ReplyOut(serializers.Serializer):
    answer = serializers.CharField(read_only=True)
    refusal_motive = serializers.CharField(read_only=True)
    legitimate = serializers.BooleanField(read_only=True, allow_null=True)
    comment = serializers.CharField(read_only=True)
    replied_on = serializers.DateField(read_only=True)


class ProposalOut(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    case = serializers.IntegerField(read_only=True, source="case_id")
    case_reference = serializers.CharField(read_only=True, source="case.reference")
    dwelling = serializers.IntegerField(read_only=True, source="dwelling_id")
    offer = serializers.IntegerField(read_only=True, source="offer_id", allow_null=True)
    estimated_apl = serializers.DecimalField(max_digits=10, decimal_places=2, read_only=True)
    match_warnings = serializers.ListField(child=serializers.DictField(child=serializers.CharField()), read_only=True)
    match_override_reason = serializers.CharField(read_only=True)
    dalo_notice_given_at = serializers.DateTimeField(read_only=True, allow_null=True)
    notified_on = serializers.DateField(read_only=True, allow_null=True)
    registered_letter = serializers.BooleanField(read_only=True)
    delivered_on = serializers.DateField(read_only=True, allow_null=True)
    reply_deadline = serializers.DateField(read_only=True, allow_null=True)
    lease_signed_on = serializers.DateField(read_only=True, allow_null=True)
    holds_dwelling = serializers.SerializerMethodField(
        help_text="Vrai si le logement est proposé à ce ménage maintenant (meilleur rang encore en lice)."
    )
    caleol_decision = serializers.SerializerMethodField()
    reply = serializers.SerializerMethodField()

    def get_holds_dwelling(self, proposal) -> bool:
        return bool(proposal.offer_id) and offers.holder(proposal.offer) == proposal

    @extend_schema_field(DecisionOut(allow_null=True))
    def get_caleol_decision(self, proposal):
        decision = getattr(proposal, "caleol_decision", None)
        return DecisionOut(decision).data if decision else None

    @extend_schema_field(ReplyOut(allow_null=True))
    def get_reply(self, proposal):
        reply = getattr(proposal, "reply", None)
        return ReplyOut(reply).data if reply else None


class CaseOut(VisibleFieldsSerializer):
    model_label = "cases.case"
    id = serializers.IntegerField(read_only=True)
    reference = serializers.CharField(read_only=True)
    status = serializers.CharField(read_only=True)
    is_protected = serializers.BooleanField(read_only=True)
    is_dalo = serializers.BooleanField(read_only=True)
    comed_decision_date = serializers.DateField(read_only=True, allow_null=True)
    dalo_offer_deadline = serializers.DateField(read_only=True, allow_null=True)
    designated_landlord = serializers.IntegerField(read_only=True, source="designated_landlord_id", allow_null=True)
    refusal_count = serializers.IntegerField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)
    criteria = serializers.SerializerMethodField(help_text="Codes des critères L441-1 (sans justificatifs).")
    household = serializers.SerializerMethodField()
    needs = serializers.SerializerMethodField()
    proposals = serializers.SerializerMethodField(help_text="Les propositions de votre organisme à ce ménage.")

    always = ("id", "reference", "criteria", "household", "needs", "proposals")

    def get_criteria(self, case) -> list[str]:
        if not can_see_field(self.context["roles"], "cases.casecriterion", "code"):
            return []
        return [c.code for c in case.criteria.all()]

    @extend_schema_field(HouseholdOut)
    def get_household(self, case):
        return HouseholdOut(case.household, context=self.context | {"protected": case.is_protected}).data

    @extend_schema_field(NeedsOut(allow_null=True))
    def get_needs(self, case):
        diagnostic = getattr(case, "diagnostic", None)
        if diagnostic is None:
            return None
        return NeedsOut(diagnostic, context=self.context | {"protected": case.is_protected}).data

    @extend_schema_field(ProposalOut(many=True))
    def get_proposals(self, case):
        own = [p for p in case.proposals.all() if p.dwelling.landlord_id in self.context["organisation_ids"]]
        return ProposalOut(own, many=True).data


class StepResult(serializers.Serializer):
    case = serializers.IntegerField()
    status = serializers.CharField(help_text="Étape où se trouve le dossier après l'opération.")
    refusal_count = serializers.IntegerField()
    proposal = ProposalOut(allow_null=True)


class MatchOut(serializers.Serializer):
    warnings = serializers.ListField(child=serializers.DictField(child=serializers.CharField()))


# --- input -----------------------------------------------------------------------------------------


class ProposalIn(serializers.Serializer):
    dwelling = serializers.IntegerField(min_value=1, max_value=MAX_ID, help_text="Identifiant du logement.")
    dalo_notice_given_at = BoundedDateTimeField(
        required=False, help_text="Ménage DALO : quand il a été informé que l'offre est faite au titre du DALO."
    )
    match_override_reason = _text(help_text="Motif pour maintenir la proposition malgré les alertes d'adéquation.")
    estimated_apl = _money(required=False, default=0)
    notified_on = BoundedDateField(required=False)
    registered_letter = serializers.BooleanField(required=False, default=False)
    delivered_on = BoundedDateField(required=False)
    reply_deadline = BoundedDateField(required=False)
    fewer_candidates_reason = serializers.ChoiceField(choices.FewerCandidatesReason.choices, required=False)
    fewer_candidates_detail = _text()


class ProposalQuery(serializers.Serializer):
    dwelling = serializers.IntegerField(min_value=1, max_value=MAX_ID)


class MatchQuery(serializers.Serializer):
    dwelling = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    estimated_apl = _money(required=False, default=0)


class CaleolIn(serializers.Serializer):
    decision = serializers.ChoiceField(choices.CaleolDecisionType.choices)
    rank = serializers.IntegerField(required=False, min_value=1, max_value=99)
    missing_document = _text(max_length=200)
    condition_deadline = BoundedDateField(required=False)
    non_allocation_reason = serializers.ChoiceField(choices.NonAllocationReason.choices, required=False)
    inadmissibility_reason = serializers.ChoiceField(
        choices.InadmissibilityReason.choices,
        required=False,
        help_text="income_over_ceiling : propre à ce logement, seule la proposition prend fin ; "
        "no_valid_application, irregular_residence : générales, le dossier prioritaire est clos.",
    )
    reasons_detail = _text()
    decided_on = BoundedDateField()
    fewer_candidates_reason = serializers.ChoiceField(choices.FewerCandidatesReason.choices, required=False)
    fewer_candidates_detail = _text()


class NotificationIn(serializers.Serializer):
    notified_on = BoundedDateField()
    registered_letter = serializers.BooleanField(required=False, default=False)
    delivered_on = BoundedDateField(required=False, help_text="Lettre recommandée : remise ou première présentation.")
    reply_deadline = BoundedDateField(
        required=False,
        help_text="Au moins le délai légal (10 jours, article R441-10 du CCH, reporté au jour ouvré suivant) ; "
        "calculée si absente.",
    )


class ConditionIn(serializers.Serializer):
    received_on = BoundedDateField()


REPLY_ANSWERS = [(k, v) for k, v in choices.ReplyAnswer.choices if k != choices.ReplyAnswer.LAPSED]


class ReplyIn(serializers.Serializer):
    answer = serializers.ChoiceField(REPLY_ANSWERS)
    refusal_motive = serializers.ChoiceField(choices.RefusalMotive.choices, required=False)
    legitimate = serializers.BooleanField(
        required=False, allow_null=True, default=None, help_text="Appréciation du motif ; pré-remplie si absente."
    )
    comment = _text()
    replied_on = BoundedDateField()


class LeaseIn(serializers.Serializer):
    signed_on = BoundedDateField()


class DwellingSerializer(serializers.ModelSerializer):
    commune = serializers.SlugRelatedField(slug_field="insee_code", queryset=Commune.objects.all())
    reservataire = serializers.PrimaryKeyRelatedField(
        queryset=Organisation.objects.filter(kind=choices.OrganisationKind.RESERVATAIRE),
        required=False,
        allow_null=True,
        pk_field=serializers.IntegerField(min_value=1, max_value=MAX_ID),
    )
    available_from = BoundedDateField()
    open_offer = serializers.SerializerMethodField()

    class Meta:
        model = Dwelling
        fields = [
            "id", "rpls_id", "address", "commune", "in_qpv", "typology", "surface_m2", "floor", "has_lift",
            "wheelchair_accessible", "financing", "rent", "charges", "reservataire", "available_from", "open_offer",
        ]  # fmt: skip
        read_only_fields = ["id"]

    def get_open_offer(self, dwelling) -> dict | None:
        offer = dwelling.offers.filter(status=choices.OfferStatus.OPEN).first()
        if offer is None:
            return None
        current = offers.holder(offer)
        return {
            "id": offer.pk,
            "candidates": [p.case_id for p in offer.proposals.all()],
            "fewer_candidates_reason": offer.fewer_candidates_reason,
            "held_by_case": current.case_id if current else None,
        }
