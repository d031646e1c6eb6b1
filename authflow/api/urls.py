from django.urls import path, re_path

from . import applications, configured, smart_launches, docs, errors, audit_views, endpoints, flows, scenarios, secrets, sequences, simulate, templates, users
from . import flow_traces, outlines

app_name = "api"

urlpatterns = [
    path("sequences/", sequences.SequenceList.as_view(), name="sequences"),
    path("sequences/<slug:name>/", sequences.SequenceDetail.as_view(), name="sequence"),
    path("sequences/<slug:name>/versions/", sequences.VersionList.as_view(), name="versions"),
    path("sequences/<slug:name>/versions/<int:number>/", sequences.VersionDetail.as_view(), name="version"),
    path("sequences/<slug:name>/versions/<int:number>/outline/", outlines.VersionOutline.as_view(), name="outline"),
    path("sequences/<slug:name>/diff/", sequences.VersionDiff.as_view(), name="diff"),
    path("sequences/<slug:name>/publish/", sequences.Publish.as_view(), name="publish"),
    path("sequences/<slug:name>/live/", sequences.LiveVersion.as_view(), name="live"),
    path("sequences/<slug:name>/scenarios/", scenarios.ScenarioList.as_view(), name="scenarios"),
    path("sequences/<slug:name>/scenarios/<int:pk>/", scenarios.ScenarioDetail.as_view(), name="scenario"),
    path("sequences/<slug:name>/scenarios/<int:pk>/run/", scenarios.ScenarioRun.as_view(), name="scenario-run"),
    path("simulate/", simulate.Simulate.as_view(), name="simulate"),
    path("applications/", applications.ApplicationList.as_view(), name="applications"),
    path("applications/<slug:name>/", applications.ApplicationDetail.as_view(), name="application"),
    path("users/", users.UserList.as_view(), name="users"),
    path("users/<str:username>/", users.UserDetail.as_view(), name="user"),
    path("users/<str:username>/unlock/", users.UserUnlock.as_view(), name="user-unlock"),
    path("roles/", users.RoleList.as_view(), name="roles"),
    path("roles/<str:name>/", users.RoleDetail.as_view(), name="role"),
    path("endpoints/", endpoints.EndpointList.as_view(), name="endpoints"),
    path("endpoints/<int:pk>/", endpoints.EndpointDetail.as_view(), name="endpoint"),
    path("secrets/", secrets.SecretList.as_view(), name="secrets"),
    path("secrets/<slug:name>/", secrets.SecretDetail.as_view(), name="secret"),
    path("email-templates/", templates.TemplateList.as_view(), name="templates"),
    path("email-templates/<slug:template_id>/", templates.TemplateDetail.as_view(), name="template"),
    path("custom-authenticators/", configured.CustomAuthenticatorList.as_view(), name="custom-authenticators"),
    path("custom-authenticators/<slug:name>/", configured.CustomAuthenticatorDetail.as_view(),
         name="custom-authenticator"),
    path("identity-providers/", configured.IdentityProviderList.as_view(), name="identity-providers"),
    path("identity-providers/<slug:name>/", configured.IdentityProviderDetail.as_view(), name="identity-provider"),
    path("smart-launches/", smart_launches.SmartLaunchCreate.as_view(), name="smart-launches"),
    path("flows/", flows.FlowList.as_view(), name="flows"),
    path("flows/<uuid:flow_id>/", flows.FlowDetail.as_view(), name="flow"),
    path("flows/<uuid:flow_id>/trace/", flow_traces.FlowTrace.as_view(), name="flow-trace"),
    path("flows/<uuid:flow_id>/rerun/", flow_traces.FlowRerun.as_view(), name="flow-rerun"),
    path("audit/", audit_views.AuditList.as_view(), name="audit"),
    path("schema/", docs.Schema.as_view(), name="schema"),
    path("docs/", docs.Docs.as_view(), name="docs"),
    # Anything else under /api/v1/ (a malformed name, an id that is not a number): the API's own 404.
    re_path(r"", errors.not_found),
]
