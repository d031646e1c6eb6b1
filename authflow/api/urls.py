from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from . import audit_views, sequences, simulate

app_name = "api"

urlpatterns = [
    path("sequences/", sequences.SequenceList.as_view(), name="sequences"),
    path("sequences/<slug:name>/", sequences.SequenceDetail.as_view(), name="sequence"),
    path("sequences/<slug:name>/versions/", sequences.VersionList.as_view(), name="versions"),
    path("sequences/<slug:name>/versions/<int:number>/", sequences.VersionDetail.as_view(), name="version"),
    path("sequences/<slug:name>/diff/", sequences.VersionDiff.as_view(), name="diff"),
    path("sequences/<slug:name>/publish/", sequences.Publish.as_view(), name="publish"),
    path("sequences/<slug:name>/live/", sequences.LiveVersion.as_view(), name="live"),
    path("simulate/", simulate.Simulate.as_view(), name="simulate"),
    path("audit/", audit_views.AuditList.as_view(), name="audit"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),
]
