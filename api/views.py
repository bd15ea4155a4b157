"""Partner API v1 for landlords' information systems. Same scope (permissions.policy) and same
services (workflows.services) as the pages: nothing here decides a rule of its own."""

from django.db.models import Prefetch
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from cases import choices, matching
from cases.models import Case, Dwelling, Proposal
from permissions.policy import Action, log_denial, memberships_of, policy, roles_of
from permissions.roles import Role
from workflows import queries, services
from workflows.dwellings import dwelling_create

from . import serializers as s
from .access import IsApiClient
from .idempotency import KEY_PARAMETER, idempotent


def landlord_org_ids(user) -> set[int]:
    return {g.organisation_id for g in memberships_of(user) if g.role == Role.LANDLORD_AGENT}


def scoped_cases(user):
    return (
        policy.queryset_for(user, Action.VIEW)
        .select_related("household", "diagnostic")
        .prefetch_related(
            "criteria",
            "household__members",
            "diagnostic__areas_to_avoid",
            "diagnostic__recommended_communes",
            Prefetch(
                "proposals",
                queryset=Proposal.objects.select_related("dwelling", "offer", "caleol_decision", "reply"),
            ),
        )
        .order_by("-created_at", "-pk")
    )


def scoped_case(request, pk) -> Case:
    case = scoped_cases(request.user).filter(pk=pk).first()
    if case is None:
        log_denial(request, "api:view", "case", pk)
        raise NotFound(_("Dossier introuvable."))
    return case


def context(request) -> dict:
    return {"roles": roles_of(request.user), "organisation_ids": landlord_org_ids(request.user), "request": request}


class Base(APIView):
    permission_classes = [IsApiClient]


class CaseList(generics.ListAPIView):
    """Dossiers en cours désignés à votre organisme ou portant une de ses propositions encore en lice.

    Un dossier clos (relogé ou non) n'y figure plus : vos propositions restent dans /proposals/."""

    permission_classes = [IsApiClient]
    serializer_class = s.CaseOut

    def get_serializer_context(self):
        return context(self.request)

    @extend_schema(
        parameters=[
            OpenApiParameter("status", str, enum=list(choices.CaseStatus.values), description="Filtrer par étape.")
        ]
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        qs = scoped_cases(self.request.user)
        status_filter = self.request.query_params.get("status")
        if status_filter is not None:
            if status_filter not in choices.CaseStatus.values:
                raise ValidationError({"status": [_("Étape inconnue : %(value)s.") % {"value": status_filter[:40]}]})
            qs = qs.filter(status=status_filter)
        return qs


class CaseDetail(Base):
    @extend_schema(responses=s.CaseOut)
    def get(self, request, pk):
        """Un dossier (seulement les champs que votre rôle peut voir)."""
        return Response(s.CaseOut(scoped_case(request, pk), context=context(request)).data)


class MatchCheck(Base):
    @extend_schema(
        parameters=[
            OpenApiParameter("dwelling", int, required=True, description="Identifiant du logement."),
            OpenApiParameter("estimated_apl", float, description="APL estimée (€/mois)."),
        ],
        responses=s.MatchOut,
    )
    def get(self, request, pk):
        """Contrôle d'adéquation logement / diagnostic avant de proposer (ne modifie rien)."""
        case = scoped_case(request, pk)
        query = s.MatchQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        dwelling = own_dwelling(request, query.validated_data["dwelling"])
        warnings = matching.check(case, dwelling, query.validated_data["estimated_apl"])
        return Response({"warnings": [w.as_dict() for w in warnings]})


def own_dwelling(request, pk) -> Dwelling:
    dwelling = (
        Dwelling.objects.select_related("commune").filter(pk=pk, landlord_id__in=landlord_org_ids(request.user)).first()
    )
    if dwelling is None:
        raise ValidationError({"dwelling": [_("Logement introuvable parmi ceux de votre organisme.")]})
    return dwelling


def step_result(case_id, request) -> Response:
    case = Case.objects.get(pk=case_id)
    proposal = queries.current_proposal(case)
    data = {
        "case": case.pk,
        "status": case.status,
        "refusal_count": case.refusal_count,
        "proposal": s.ProposalOut(proposal).data if proposal else None,
    }
    return Response(data, status=status.HTTP_201_CREATED)


def _validated(serializer_class, request):
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


class ProposalCreate(Base):
    @extend_schema(request=s.ProposalIn, responses={201: s.StepResult}, parameters=[KEY_PARAMETER])
    @idempotent
    def post(self, request, pk):
        """Proposer un logement au ménage (le dossier devient candidat de la mise en location du logement)."""
        case = scoped_case(request, pk)
        values = _validated(s.ProposalIn, request)
        values["dwelling"] = own_dwelling(request, values["dwelling"])
        services.proposal_make(actor=request.user, case=case, values=values)
        return step_result(case.pk, request)


class CaleolCreate(Base):
    @extend_schema(request=s.CaleolIn, responses={201: s.StepResult}, parameters=[KEY_PARAMETER])
    @idempotent
    def post(self, request, pk):
        """Enregistrer la décision de la CALEOL pour ce candidat (cinq décisions de l'article R441-3 CCH)."""
        case = scoped_case(request, pk)
        services.caleol_record(actor=request.user, case=case, values=_validated(s.CaleolIn, request))
        return step_result(case.pk, request)


class NotificationCreate(Base):
    @extend_schema(request=s.NotificationIn, responses={201: s.StepResult}, parameters=[KEY_PARAMETER])
    @idempotent
    def post(self, request, pk):
        """Enregistrer la notification de l'offre au ménage (et, pour une lettre recommandée, sa remise)."""
        case = scoped_case(request, pk)
        services.proposal_notify(actor=request.user, case=case, **_validated(s.NotificationIn, request))
        return step_result(case.pk, request)


class ConditionCreate(Base):
    @extend_schema(request=s.ConditionIn, responses={201: s.StepResult}, parameters=[KEY_PARAMETER])
    @idempotent
    def post(self, request, pk):
        """Enregistrer la réception de la pièce manquante (attribution sous condition suspensive)."""
        case = scoped_case(request, pk)
        services.condition_fulfil(actor=request.user, case=case, **_validated(s.ConditionIn, request))
        return step_result(case.pk, request)


class ReplyCreate(Base):
    @extend_schema(request=s.ReplyIn, responses={201: s.StepResult}, parameters=[KEY_PARAMETER])
    @idempotent
    def post(self, request, pk):
        """Enregistrer la réponse du ménage (acceptation, refus motivé, silence valant refus)."""
        case = scoped_case(request, pk)
        services.reply_record(actor=request.user, case=case, values=_validated(s.ReplyIn, request))
        return step_result(case.pk, request)


class LeaseCreate(Base):
    @extend_schema(request=s.LeaseIn, responses={201: s.StepResult}, parameters=[KEY_PARAMETER])
    @idempotent
    def post(self, request, pk):
        """Enregistrer la signature du bail."""
        case = scoped_case(request, pk)
        services.lease_record(actor=request.user, case=case, **_validated(s.LeaseIn, request))
        return step_result(case.pk, request)


class ProposalList(generics.ListAPIView):
    """Les propositions de votre organisme, avec la décision CALEOL et la réponse du ménage.

    Vos propres dossiers restent ici après la clôture du dossier du ménage (relogé ou non), qui n'est
    alors plus consultable : ces enregistrements ne donnent que la référence du dossier."""

    permission_classes = [IsApiClient]
    serializer_class = s.ProposalOut

    @extend_schema(parameters=[OpenApiParameter("dwelling", int, description="Filtrer par logement.")])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        # By landlord, not through the case policy: its own records, never the case file.
        qs = (
            Proposal.objects.filter(landlord_id__in=landlord_org_ids(self.request.user))
            .select_related("case", "offer", "caleol_decision", "reply")
            .order_by("-created_at", "-pk")
        )
        dwelling = self.request.query_params.get("dwelling")
        if dwelling is not None:
            query = s.ProposalQuery(data={"dwelling": dwelling})
            query.is_valid(raise_exception=True)
            qs = qs.filter(dwelling_id=query.validated_data["dwelling"])
        return qs


class DwellingList(generics.ListAPIView):
    """Logements de votre organisme."""

    permission_classes = [IsApiClient]
    serializer_class = s.DwellingSerializer

    def get_queryset(self):
        return (
            Dwelling.objects.filter(landlord_id__in=landlord_org_ids(self.request.user))
            .select_related("commune")
            .order_by("-pk")
        )

    @extend_schema(request=s.DwellingSerializer, responses={201: s.DwellingSerializer}, parameters=[KEY_PARAMETER])
    @idempotent
    def post(self, request):
        """Déclarer un logement de votre organisme."""
        serializer = s.DwellingSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        dwelling = dwelling_create(
            actor=request.user, landlord=request.auth.organisation, values=serializer.validated_data
        )
        return Response(s.DwellingSerializer(dwelling).data, status=status.HTTP_201_CREATED)


class DwellingDetail(generics.RetrieveAPIView):
    """Un logement de votre organisme, avec sa mise en location en cours."""

    permission_classes = [IsApiClient]
    serializer_class = s.DwellingSerializer

    def get_queryset(self):
        return Dwelling.objects.filter(landlord_id__in=landlord_org_ids(self.request.user)).select_related("commune")
