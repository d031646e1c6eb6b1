"""EHR launches: an EHR registers the patient (and encounter) an application is opened for, and gets a launch id.

The id is short-lived and usable once (authflow.callbacks.launches); the
application sends it as `launch` on its authorization request with the
`launch` scope, and the context reaches its callbacks and its token response.
"""
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from authflow.applications.models import Application
from authflow.callbacks import launches

from . import audit
from .base import ApiView
from .errors import Invalid

_FHIR_ID_HELP = "a FHIR resource id (letters, digits, '-' and '.', at most 64)"


class SmartLaunchRequest(serializers.Serializer):
    application = serializers.CharField(max_length=100, help_text="the application's name")
    patient = serializers.RegexField(launches.FHIR_ID, required=False, help_text=_FHIR_ID_HELP)
    encounter = serializers.RegexField(launches.FHIR_ID, required=False, help_text=_FHIR_ID_HELP)


class SmartLaunchResponse(serializers.Serializer):
    launch = serializers.CharField(help_text="the `launch` parameter for the application's authorization request")
    application = serializers.CharField()
    patient = serializers.CharField(required=False)
    encounter = serializers.CharField(required=False)
    expires_in = serializers.IntegerField(help_text="seconds the launch id stays usable (once)")


class SmartLaunchCreate(ApiView):
    read_scope, write_scope = "smart:launch", "smart:launch"
    serializer_class = SmartLaunchRequest

    @extend_schema(summary="Register an EHR launch (patient and encounter context) for an application",
                   request=SmartLaunchRequest, responses={201: SmartLaunchResponse})
    def post(self, request):
        serializer = SmartLaunchRequest(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        context = {kind: data[kind] for kind in ("patient", "encounter") if kind in data}
        if not context:
            raise Invalid("a launch needs a patient or an encounter")
        app = Application.objects.filter(name=data["application"]).only("name", "callbacks_sequence_id").first()
        if app is None:
            raise Invalid("no application has this name", field="application")
        if app.callbacks_sequence_id is None:
            raise Invalid("this application has no callbacks script, so it cannot ask for the launch scope",
                          field="application")
        launch_id = launches.register(app.name, context)
        audit.record(request, "create", "smart_launch", app.name, context)  # never the launch id: a bearer secret
        body = {"launch": launch_id, "application": app.name, **context, "expires_in": launches.TTL_SECONDS}
        return Response(SmartLaunchResponse(body).data, status=status.HTTP_201_CREATED)
