"""URLs of registry.labels, under ``/label/``. Label pages carry the label id; releases are named by UPC."""

from __future__ import annotations

from django.urls import path

from registry import converters  # noqa: F401  (registers <id:…>)
from registry.disputes import views as dispute_views
from registry.labels.views import (
    batches,
    cosign,
    declarations,
    keys,
    onboarding,
    prefixes,
    release_edit,
    releases,
    team,
)

app_name = "labels"

urlpatterns = [
    path("", releases.home, name="home"),
    path("apply/", onboarding.apply, name="apply"),
    path("apply/thanks/", onboarding.apply_thanks, name="apply_thanks"),
    path("welcome/<uidb64>/<token>/", onboarding.WelcomeView.as_view(), name="welcome"),
    path("invite/<str:token>/", onboarding.invitation, name="invitation"),
    path("email/<str:token>/", onboarding.email_confirm, name="email_confirm"),
    path("<id:label_id>/", releases.dashboard, name="dashboard"),
    path("<id:label_id>/releases/new/", releases.release_new, name="release_new"),
    path("<id:label_id>/releases/import/", releases.release_import, name="release_import"),
    path("<id:label_id>/releases/<str:upc>/", releases.release_detail, name="release"),
    path("<id:label_id>/releases/<str:upc>/edit/", release_edit.release_edit, name="release_edit"),
    path("<id:label_id>/releases/<str:upc>/delete/", release_edit.release_delete, name="release_delete"),
    path("<id:label_id>/releases/<str:upc>/declare/", declarations.declare, name="declare"),
    path("<id:label_id>/releases/<str:upc>/review/", declarations.review, name="review"),
    path("<id:label_id>/releases/<str:upc>/signed/<id:version>/", declarations.signed, name="signed"),
    path("<id:label_id>/releases/<str:upc>/cosign/<id:prepared_id>/", cosign.cosign, name="cosign"),
    path(
        "<id:label_id>/releases/<str:upc>/cosign/<id:prepared_id>/prepared.json",
        cosign.cosign_prepared,
        name="cosign_prepared",
    ),
    path("<id:label_id>/releases/<str:upc>/withdraw/", declarations.withdraw, name="withdraw"),
    path("<id:label_id>/disputes/", dispute_views.label_disputes, name="disputes"),
    path("<id:label_id>/disputes/<str:uid>/answer/", dispute_views.label_dispute_answer, name="dispute_answer"),
    path("<id:label_id>/batches/", batches.batch_home, name="batches"),
    path("<id:label_id>/batches/template.csv", batches.template_csv, name="batch_template"),
    path("<id:label_id>/batches/template.xlsx", batches.template_xlsx, name="batch_template_xlsx"),
    path("<id:label_id>/batches/spreadsheet/", batches.spreadsheet_upload, name="batch_spreadsheet"),
    path("<id:label_id>/batches/ddex/", batches.ddex_upload, name="batch_ddex"),
    path("<id:label_id>/batches/review/", batches.batch_review, name="batch_review"),
    path("<id:label_id>/batches/withdraw/", batches.batch_withdraw, name="batch_withdraw"),
    path("<id:label_id>/batches/<id:batch_id>/", batches.batch_detail, name="batch"),
    path("<id:label_id>/prefixes/", prefixes.prefixes, name="prefixes"),
    path("<id:label_id>/prefixes/<id:claim_id>/delegate/", prefixes.prefix_delegate, name="prefix_delegate"),
    path("<id:label_id>/delegations/<id:delegation_id>/revoke/", prefixes.delegation_revoke, name="delegation_revoke"),
    path("<id:label_id>/prefixes/contest/", prefixes.contest, name="prefix_contest"),
    path("<id:label_id>/tokens/", team.tokens, name="tokens"),
    path("<id:label_id>/keys/", keys.keys, name="keys"),
    path("<id:label_id>/tokens/<id:token_id>/revoke/", team.token_revoke, name="token_revoke"),
    path("<id:label_id>/members/", team.members, name="members"),
    path("<id:label_id>/members/<id:membership_id>/role/", team.member_role, name="member_role"),
    path("<id:label_id>/members/<id:membership_id>/remove/", team.member_remove, name="member_remove"),
    path("<id:label_id>/invitations/<id:invitation_id>/revoke/", team.invitation_revoke, name="invitation_revoke"),
]
