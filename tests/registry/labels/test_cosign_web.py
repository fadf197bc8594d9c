"""Co-signing an amendment on the web: review → prepare → `provenance sign` on the label's machine → paste → logged."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from provenance import vocabulary
from provenance.bundle import MEDIA_TYPE_COSIGNED, Verifier
from provenance.cli import main
from provenance.encoding import b64decode
from provenance.issue.keys import generate_private_key, private_key_to_pem, public_bytes
from provenance.issue.sign import sign_pae
from provenance.keys import KeySet
from provenance.labelkeys import label_key_jwk
from provenance.labelsign import sign_prepared
from registry.declarations.models import Declaration
from registry.labelkeys import services
from registry.labelkeys.models import PreparedDeclaration
from registry.transparency.models import LogLeaf
from tests.registry.labels.conftest import client_draft

pytestmark = pytest.mark.django_db


@pytest.fixture
def label_key(label: Any, staff: Any, owner: Any) -> Any:
    key = generate_private_key()
    services.key_attest(label=label, public_key=public_bytes(key), actor=staff, reason="first key", holder=owner)
    return key


def url(label: Any, release: Any, step: str) -> str:
    return f"/label/{label.pk}/releases/{release.upc}/{step}/"


def amend_draft(client: Any, label: Any, release: Any) -> None:
    """The owner fills in an amendment (track 3's lyrics partly AI) and reaches the review page."""
    data: dict[str, Any] = {"artwork": "none", "reason": "Lyrics of track 3 were drafted with AI."}
    for i in range(3):
        for part in vocabulary.PARTS:
            data[f"t{i}_{part}"] = "all" if i == 0 else "none"
        data[f"t{i}_tools"] = "Suno v4" if i == 0 else ""
        data[f"t{i}_consent"] = ""
    data["t2_lyrics"] = "partly"
    response = client.post(url(label, release, "declare"), data)
    assert response.status_code == 302, response.content.decode()[:800]


def prepare(client: Any, label: Any, release: Any) -> PreparedDeclaration:
    response = client.post(url(label, release, "review"), {"cosign": "1"})
    assert response.status_code == 302, response.content.decode()[:800]
    prepared = PreparedDeclaration.objects.latest("pk")
    assert response["Location"] == url(label, release, f"cosign/{prepared.pk}")
    return prepared


def test_an_owner_co_signs_an_amendment_with_the_command_and_the_public_page_names_the_label_key(
    owner_client, label, release, declared, label_key, keys, tmp_path, capsys
):
    amend_draft(owner_client, label, release)
    review = owner_client.get(url(label, release, "review")).content.decode()
    assert "Co-sign with our label key" in review
    leaves = LogLeaf.objects.count()
    prepared = prepare(owner_client, label, release)
    assert LogLeaf.objects.count() == leaves and Declaration.objects.count() == 1  # preparing signs nothing

    page = owner_client.get(url(label, release, f"cosign/{prepared.pk}")).content.decode()
    assert "provenance sign --key LABEL_KEY prepared.json" in page
    assert prepared.payload in page  # the exact bytes to sign, base64
    assert label_key_jwk(public_bytes(label_key))["kid"] in page  # which key the label has active
    # The in-browser signer's key field belongs to no form and has no name: it is never submitted.
    assert '<textarea id="browser-jwk" rows' in page
    assert page.index('id="browser-jwk"') < page.index('<form method="post" novalidate class="panel"')
    download = owner_client.get(url(label, release, f"cosign/{prepared.pk}") + "prepared.json")
    assert download.status_code == 200
    assert download["Content-Disposition"] == 'attachment; filename="prepared.json"'
    assert download.json() == services.prepared_answer(prepared)

    # The label signs on its own machine, with the command the page shows.
    (tmp_path / "prepared.json").write_bytes(download.content)
    (tmp_path / "label.key").write_bytes(private_key_to_pem(label_key, None))
    assert main(["sign", "--key", str(tmp_path / "label.key"), str(tmp_path / "prepared.json")]) == 0
    printed = capsys.readouterr().out.strip()

    response = owner_client.post(url(label, release, f"cosign/{prepared.pk}"), {"signature": printed})
    assert response.status_code == 302, response.content.decode()[:1500]
    assert response["Location"] == url(label, release, "signed/2")
    v2 = Declaration.objects.get(release=release, version=2)
    assert v2.declared_by.username == "olivia" and v2.via == "web"
    bundle = json.loads(v2.bundle)
    assert bundle["mediaType"] == MEDIA_TYPE_COSIGNED
    result = Verifier(KeySet.from_jwks(keys)).verify(v2.bundle.encode())
    assert result.valid, result.summary()
    assert client_draft(owner_client, release) is None  # the draft is done with

    # The public page says who signed, as the verifier found it.
    kid = json.loads(printed)["keyid"]
    registered_at = result.label_key.registered_at
    public = owner_client.get(f"/releases/{release.upc}/").content.decode()
    assert f"Signed by label key <code>{kid}</code> (registered at log index {registered_at}" in public
    assert f'href="/labels/{label.pk}/keys.json"' in public

    # A second submit of the same prepared statement signs nothing more.
    again = owner_client.post(url(label, release, f"cosign/{prepared.pk}"), {"signature": printed})
    assert again.status_code == 302 and Declaration.objects.filter(release=release).count() == 2


def test_the_key_id_and_signature_can_be_entered_separately(owner_client, label, release, declared, label_key):
    amend_draft(owner_client, label, release)
    prepared = prepare(owner_client, label, release)
    signature = sign_prepared(services.prepared_answer(prepared), label_key)
    response = owner_client.post(url(label, release, f"cosign/{prepared.pk}"), signature)
    assert response.status_code == 302, response.content.decode()[:1500]
    assert Declaration.objects.filter(release=release, version=2).exists()


@pytest.mark.parametrize("case", ["bad", "foreign", "revoked", "expired", "not the command's output"])
def test_a_bad_foreign_revoked_or_expired_signature_is_a_form_error_and_nothing_is_signed(
    owner_client, label, release, declared, label_key, other_label, staff, case
):
    amend_draft(owner_client, label, release)
    prepared = prepare(owner_client, label, release)
    payload = b64decode(prepared.payload)
    if case == "bad":
        body, expected = {"signature": json.dumps(sign_pae(payload + b" ", label_key))}, "does not verify"
    elif case == "foreign":
        foreign = generate_private_key()
        services.key_attest(label=other_label, public_key=public_bytes(foreign), actor=staff, reason="theirs")
        body, expected = {"signature": json.dumps(sign_pae(payload, foreign))}, "is not a key of Northern Lights"
    elif case == "revoked":
        services.key_attest(
            label=label, public_key=public_bytes(generate_private_key()), actor=staff, reason="lost", recovery=True
        )
        kid = label_key_jwk(public_bytes(label_key))["kid"]
        services.key_revoke_by_staff(label=label, kid=kid, actor=staff, reason="leaked")
        body, expected = {"signature": json.dumps(sign_pae(payload, label_key))}, "is revoked"
    elif case == "expired":
        PreparedDeclaration.objects.filter(pk=prepared.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
        body, expected = {"signature": json.dumps(sign_pae(payload, label_key))}, "expired"
    else:
        body, expected = {"signature": "ssh-ed25519 AAAA… label@laptop"}, "Not what `provenance sign` prints"
    leaves = LogLeaf.objects.count()
    response = owner_client.post(url(label, release, f"cosign/{prepared.pk}"), body)
    assert response.status_code == 400, response.content.decode()[:800]
    page = response.content.decode()
    assert expected in page
    assert 'id="error-summary"' in page and 'id="id_signature_error"' in page  # the signature field's error
    assert LogLeaf.objects.count() == leaves
    assert Declaration.objects.filter(release=release).count() == 1
    assert not PreparedDeclaration.objects.get(pk=prepared.pk).used


def test_a_version_signed_since_prepare_is_refused_with_a_way_back(owner_client, label, release, declared, label_key):
    from registry.declarations.services import declaration_amend

    amend_draft(owner_client, label, release)
    prepared = prepare(owner_client, label, release)
    signature = sign_prepared(services.prepared_answer(prepared), label_key)
    declaration_amend(release=release, reason="Someone else amended it", ai={}, via="api")  # lands in between
    response = owner_client.post(url(label, release, f"cosign/{prepared.pk}"), signature)
    assert response.status_code == 409
    page = response.content.decode()
    assert "Nothing was signed" in page and "prepare it again" in page
    assert Declaration.objects.filter(release=release).count() == 2


def test_only_owners_co_sign(submitter_client, owner_client, label, release, declared, label_key):
    amend_draft(submitter_client, label, release)
    review = submitter_client.get(url(label, release, "review")).content.decode()
    assert "Co-sign with our label key" not in review
    assert "An owner of the label can co-sign" in review
    assert submitter_client.post(url(label, release, "review"), {"cosign": "1"}).status_code == 403
    assert not PreparedDeclaration.objects.exists()
    amend_draft(owner_client, label, release)
    prepared = prepare(owner_client, label, release)
    assert submitter_client.get(url(label, release, f"cosign/{prepared.pk}")).status_code == 403
    assert submitter_client.get(url(label, release, f"cosign/{prepared.pk}") + "prepared.json").status_code == 403
    signature = sign_prepared(services.prepared_answer(prepared), label_key)
    assert submitter_client.post(url(label, release, f"cosign/{prepared.pk}"), signature).status_code == 403
    assert Declaration.objects.filter(release=release).count() == 1


def test_an_owner_without_a_label_key_is_told_how_to_get_one(owner_client, label, release, declared):
    amend_draft(owner_client, label, release)
    review = owner_client.get(url(label, release, "review")).content.decode()
    assert "Your label has no signing key yet" in review and "Co-sign with our label key" not in review
    # Posting anyway (an old page): a clear error, nothing prepared or signed.
    response = owner_client.post(url(label, release, "review"), {"cosign": "1"})
    assert response.status_code == 400
    assert "has no active signing key" in response.content.decode()
    assert not PreparedDeclaration.objects.exists() and Declaration.objects.count() == 1


def test_being_co_signed_is_not_a_change_of_the_declared_facts(owner_client, label, release, declared, label_key):
    amend_draft(owner_client, label, release)
    prepared = prepare(owner_client, label, release)
    signature = sign_prepared(services.prepared_answer(prepared), label_key)
    assert owner_client.post(url(label, release, f"cosign/{prepared.pk}"), signature).status_code == 302
    # The same answers again: nothing to sign, co-signed (label.id, label.key_head) or not.
    amend_draft(owner_client, label, release)
    review = owner_client.get(url(label, release, "review")).content.decode()
    assert "Nothing changes from version 2" in review and "Co-sign with our label key" not in review
    assert owner_client.post(url(label, release, "review"), {"confirm": "1"}).status_code == 400
    response = owner_client.post(url(label, release, "review"), {"cosign": "1"})
    assert response.status_code == 400 and "nothing changes from version 2" in response.content.decode()
    assert Declaration.objects.filter(release=release).count() == 2
    assert PreparedDeclaration.objects.count() == 1


def test_an_owner_co_signs_the_first_version_of_a_release_never_declared(owner_client, label, release, label_key, keys):
    amend_draft(owner_client, label, release)  # the same form declares a release never declared
    review = owner_client.get(url(label, release, "review")).content.decode()
    assert "Co-sign with our label key" in review
    prepared = prepare(owner_client, label, release)
    assert prepared.kind == PreparedDeclaration.FIRST and prepared.statement["declaration"]["version"] == 1
    signature = sign_prepared(services.prepared_answer(prepared), label_key)
    response = owner_client.post(url(label, release, f"cosign/{prepared.pk}"), signature)
    assert response.status_code == 302, response.content.decode()[:1500]
    assert response["Location"] == url(label, release, "signed/1")
    v1 = Declaration.objects.get(release=release, version=1)
    result = Verifier(KeySet.from_jwks(keys), require_label_signature=True).verify(v1.bundle.encode())
    assert result.valid, result.summary()


def test_an_owner_co_signs_a_withdrawal_and_a_submitter_cannot(
    owner_client, submitter_client, label, release, declared, label_key, keys
):
    body = {"reason": "Released in error", "expected_version": "1", "cosign": "1"}
    page = submitter_client.get(url(label, release, "withdraw")).content.decode()
    assert "Co-sign the withdrawal" not in page
    assert submitter_client.post(url(label, release, "withdraw"), body).status_code == 403
    assert (
        "Co-sign the withdrawal with our label key"
        in owner_client.get(url(label, release, "withdraw")).content.decode()
    )
    response = owner_client.post(url(label, release, "withdraw"), body)
    assert response.status_code == 302, response.content.decode()[:800]
    prepared = PreparedDeclaration.objects.get()
    assert prepared.kind == PreparedDeclaration.WITHDRAW and Declaration.objects.count() == 1  # nothing signed yet
    bad = {"signature": json.dumps(sign_pae(b64decode(prepared.payload) + b" ", label_key))}
    assert owner_client.post(url(label, release, f"cosign/{prepared.pk}"), bad).status_code == 400
    signature = sign_prepared(services.prepared_answer(prepared), label_key)
    response = owner_client.post(url(label, release, f"cosign/{prepared.pk}"), signature)
    assert response.status_code == 302, response.content.decode()[:1500]
    v2 = Declaration.objects.get(release=release, version=2)
    assert v2.status == "withdrawn" and v2.reason == "Released in error"
    assert Verifier(KeySet.from_jwks(keys), require_label_signature=True).verify(v2.bundle.encode()).valid


def test_with_the_co_sign_only_policy_the_review_and_withdraw_pages_offer_only_co_signing(
    owner_client, label, release, declared, label_key
):
    from provenance.labelkeys import POLICY_PAYLOAD_TYPE

    payload = services.policy_payload(label, cosign_only=True, reason=None)
    services.policy_log(
        label=label, payload=payload, signature=sign_pae(payload, label_key, payload_type=POLICY_PAYLOAD_TYPE)
    )
    amend_draft(owner_client, label, release)
    review = owner_client.get(url(label, release, "review")).content.decode()
    assert 'id="cosign-required"' in review and "Confirm and sign" not in review
    assert "Co-sign with our label key" in review
    leaves = LogLeaf.objects.count()
    response = owner_client.post(url(label, release, "review"), {"confirm": "1", "acknowledge": "1"})
    assert response.status_code == 403 and "requires co-signature" in response.content.decode()
    withdraw = owner_client.get(url(label, release, "withdraw")).content.decode()
    assert 'id="cosign-required"' in withdraw and "Withdraw and sign" not in withdraw
    response = owner_client.post(url(label, release, "withdraw"), {"reason": "Gone", "expected_version": "1"})
    assert "requires co-signature" in response.content.decode()
    assert LogLeaf.objects.count() == leaves and Declaration.objects.filter(release=release).count() == 1
