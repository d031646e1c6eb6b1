"""The management API's URLs; each view is imported by its first request (authflow/deferred_views.py)."""
from django.urls import path, re_path

from authflow.deferred_views import DeferredView


def view(module: str, name: str) -> DeferredView:
    return DeferredView(f"authflow.api.{module}", name)


app_name = "api"

urlpatterns = [
    path("sequences/", view("sequences", "SequenceList"), name="sequences"),
    path("sequences/<slug:name>/", view("sequences", "SequenceDetail"), name="sequence"),
    path("sequences/<slug:name>/versions/", view("sequences", "VersionList"), name="versions"),
    path("sequences/<slug:name>/versions/<int:number>/", view("sequences", "VersionDetail"), name="version"),
    path("sequences/<slug:name>/versions/<int:number>/outline/", view("outlines", "VersionOutline"), name="outline"),
    path("sequences/<slug:name>/diff/", view("sequences", "VersionDiff"), name="diff"),
    path("sequences/<slug:name>/publish/", view("sequences", "Publish"), name="publish"),
    path("sequences/<slug:name>/live/", view("sequences", "LiveVersion"), name="live"),
    path("sequences/<slug:name>/scenarios/", view("scenarios", "ScenarioList"), name="scenarios"),
    path("sequences/<slug:name>/scenarios/<int:pk>/", view("scenarios", "ScenarioDetail"), name="scenario"),
    path("sequences/<slug:name>/scenarios/<int:pk>/run/", view("scenarios", "ScenarioRun"), name="scenario-run"),
    path("sequences/<slug:name>/check/", view("script_checks", "ScriptCheck"), name="check"),
    path("script-api/", view("script_checks", "ScriptApi"), name="script-api"),
    path("simulate/", view("simulate", "Simulate"), name="simulate"),
    path("applications/", view("applications", "ApplicationList"), name="applications"),
    path("applications/<slug:name>/", view("applications", "ApplicationDetail"), name="application"),
    path("brands/", view("brands", "BrandList"), name="brands"),
    path("brands/default/", view("brands", "DefaultBrandDetail"), name="default-brand"),
    path("brands/applications/<slug:name>/", view("brands", "ApplicationBrandDetail"), name="application-brand"),
    path("users/", view("users", "UserList"), name="users"),
    path("users/<str:username>/", view("users", "UserDetail"), name="user"),
    path("users/<str:username>/unlock/", view("users", "UserUnlock"), name="user-unlock"),
    path("roles/", view("users", "RoleList"), name="roles"),
    path("roles/<str:name>/", view("users", "RoleDetail"), name="role"),
    path("endpoints/", view("endpoints", "EndpointList"), name="endpoints"),
    path("endpoints/<int:pk>/", view("endpoints", "EndpointDetail"), name="endpoint"),
    path("secrets/", view("secrets", "SecretList"), name="secrets"),
    path("secrets/<slug:name>/", view("secrets", "SecretDetail"), name="secret"),
    path("email-templates/", view("templates", "TemplateList"), name="templates"),
    path("email-templates/<slug:template_id>/", view("templates", "TemplateDetail"), name="template"),
    path("custom-authenticators/", view("configured", "CustomAuthenticatorList"), name="custom-authenticators"),
    path("custom-authenticators/<slug:name>/", view("configured", "CustomAuthenticatorDetail"),
         name="custom-authenticator"),
    path("identity-providers/", view("configured", "IdentityProviderList"), name="identity-providers"),
    path("identity-providers/<slug:name>/", view("configured", "IdentityProviderDetail"), name="identity-provider"),
    path("smart-launches/", view("smart_launches", "SmartLaunchCreate"), name="smart-launches"),
    path("flows/", view("flows", "FlowList"), name="flows"),
    path("flows/<uuid:flow_id>/", view("flows", "FlowDetail"), name="flow"),
    path("flows/<uuid:flow_id>/trace/", view("flow_traces", "FlowTrace"), name="flow-trace"),
    path("flows/<uuid:flow_id>/rerun/", view("flow_traces", "FlowRerun"), name="flow-rerun"),
    path("audit/", view("audit_views", "AuditList"), name="audit"),
    path("schema/", view("docs", "Schema"), name="schema"),
    path("docs/", view("docs", "Docs"), name="docs"),
    # Anything else under /api/v1/ (a malformed name, an id that is not a number): the API's own 404.
    re_path(r"", view("errors", "not_found")),
]
