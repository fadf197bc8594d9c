"""URLs of the API, mounted at the site root: full paths, docs/protocol.md §12 plus the label API and docs."""

from __future__ import annotations

from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView

from registry import converters  # noqa: F401  (registers <id:…>)
from registry.api.errors import api_not_found
from registry.api.views import bulk, docs, label, public, tlog
from registry.disputes import api as disputes_api
from registry.labelkeys import api as labelkeys_api
from registry.observations import api as observations_api

urlpatterns = [
    path(".well-known/jwks.json", public.JwksView.as_view(), name="api-jwks"),
    path("api/v1/recordings/<str:isrc>", public.RecordingView.as_view(), name="api-recording"),
    path("api/v1/releases", label.ReleaseCreateView.as_view(), name="api-release-create"),
    path("api/v1/releases/prepare", labelkeys_api.CreatePrepareView.as_view(), name="api-release-create-prepare"),
    path("api/v1/releases/bulk", bulk.ReleaseBulkView.as_view(), name="api-release-bulk"),
    path("api/v1/releases/bulk/prepare", labelkeys_api.BulkPrepareView.as_view(), name="api-release-bulk-prepare"),
    path("api/v1/releases/bulk/submit", labelkeys_api.BulkSubmitView.as_view(), name="api-release-bulk-submit"),
    path("api/v1/releases/<str:upc>", public.ReleaseView.as_view(), name="api-release"),
    path("api/v1/releases/<str:upc>/history", public.ReleaseHistoryView.as_view(), name="api-release-history"),
    path("api/v1/releases/<str:upc>/amend", label.ReleaseAmendView.as_view(), name="api-release-amend"),
    path("api/v1/releases/<str:upc>/withdraw", label.ReleaseWithdrawView.as_view(), name="api-release-withdraw"),
    path("api/v1/releases/<str:upc>/prepare", labelkeys_api.PrepareView.as_view(), name="api-release-prepare"),
    path("api/v1/releases/<str:upc>/submit", labelkeys_api.SubmitView.as_view(), name="api-release-submit"),
    path("api/v1/label/keys/prepare", labelkeys_api.KeyPrepareView.as_view(), name="api-label-key-prepare"),
    path("api/v1/label/keys", labelkeys_api.KeySubmitView.as_view(), name="api-label-keys"),
    path("api/v1/label/policy/prepare", labelkeys_api.PolicyPrepareView.as_view(), name="api-label-policy-prepare"),
    path("api/v1/label/policy", labelkeys_api.PolicySubmitView.as_view(), name="api-label-policy"),
    path("labels/<id:label_id>/keys.json", labelkeys_api.label_jwks, name="label-jwks"),
    path("api/v1/observations/prepare", observations_api.ObservationPrepareView.as_view(), name="api-observe-prepare"),
    path("api/v1/observations", observations_api.ObservationSubmitView.as_view(), name="api-observations"),
    path("api/v1/platform/keys/prepare", observations_api.KeyPrepareView.as_view(), name="api-platform-key-prepare"),
    path("api/v1/platform/keys", observations_api.KeySubmitView.as_view(), name="api-platform-keys"),
    path("platforms/<id:platform_id>/keys.json", observations_api.platform_jwks, name="platform-jwks"),
    path("api/v1/lookup", public.LookupView.as_view(), name="api-lookup"),
    path("api/v1/feed", public.FeedView.as_view(), name="api-feed"),
    path("api/v1/log/checkpoint", public.CheckpointView.as_view(), name="api-checkpoint"),
    path("api/v1/log/inclusion", public.InclusionView.as_view(), name="api-inclusion"),
    path("api/v1/log/consistency", public.ConsistencyView.as_view(), name="api-consistency"),
    path("api/v1/log/witnessed", public.WitnessedView.as_view(), name="api-witnessed"),
    path("api/v1/log/tlog-proof", public.TlogProofView.as_view(), name="api-tlog-proof"),
    path("api/v1/verify", public.VerifyView.as_view(), name="api-verify"),
    path("api/v1/label/releases", label.LabelReleasesView.as_view(), name="api-label-releases"),
    path("api/v1/disputes", disputes_api.DisputesView.as_view(), name="api-disputes"),
    path("api/v1/disputes/<str:uid>", disputes_api.DisputeDetailView.as_view(), name="api-dispute"),
    path("api/v1/disputes/<str:uid>/answer", disputes_api.DisputeAnswerView.as_view(), name="api-dispute-answer"),
    path("api/v1/disputes/<str:uid>/withdraw", disputes_api.DisputeWithdrawView.as_view(), name="api-dispute-withdraw"),
    # C2SP tlog-tiles (docs/protocol.md §5.3); the origin's URL prefix is <site>/tlog.
    path("tlog/checkpoint", tlog.checkpoint, name="tlog-checkpoint"),
    path("tlog/policy", tlog.policy, name="tlog-policy"),
    re_path(r"^tlog/(?P<path>tile/.*)$", tlog.tile, name="tlog-tile"),
    re_path(r"^tlog(?:/(?P<path>.*))?$", tlog.not_found),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", docs.DocsView.as_view(), name="api-docs"),
    path("api/docs/assets/<path:path>", docs.docs_asset, name="api-docs-asset"),
    # Anything else under api/ answers the JSON 404, never an HTML page.
    re_path(r"^api(?:/.*)?$", api_not_found),
]
