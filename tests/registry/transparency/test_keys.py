"""Signing keys: files outside the database, encrypted at rest; rotation and revocation through commands."""

from __future__ import annotations

import io

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError

from provenance import keys as pkeys
from provenance.errors import ProvenanceError
from registry.transparency.keys import jwks
from registry.transparency.models import SigningKey


def test_private_keys_live_encrypted_in_files_not_in_the_database(keys):
    for key in SigningKey.objects.all():
        pem = (settings.REGISTRY_KEY_DIR / key.key_file).read_bytes()
        assert b"OPENSSH PRIVATE KEY" in pem
        with pytest.raises(ProvenanceError):
            pkeys.load_private_key(pem, b"wrong passphrase")
        loaded = pkeys.load_private_key(pem, settings.REGISTRY_KEY_PASSPHRASE.encode())
        assert pkeys.thumbprint(pkeys.public_bytes(loaded)) == key.kid
        assert (settings.REGISTRY_KEY_DIR / key.key_file).stat().st_mode & 0o077 == 0
    fields = {f.name for f in SigningKey._meta.get_fields()}
    assert "private_key" not in fields


def test_statement_and_checkpoint_keys_are_different(keys):
    by_purpose = {k["purpose"]: k["kid"] for k in keys["keys"]}
    assert set(by_purpose) == {"statement", "checkpoint"}
    assert by_purpose["statement"] != by_purpose["checkpoint"]


def test_rotate_and_revoke_commands_show_in_the_jwks(keys):
    out = io.StringIO()
    old = SigningKey.objects.get(purpose="statement", status="active")
    call_command("rotate_key", purpose="statement", stdout=out)
    assert f"retired statement key {old.kid}" in out.getvalue()
    statuses = {k["kid"]: k for k in jwks()["keys"]}
    assert statuses[old.kid]["status"] == "retired" and statuses[old.kid]["not_after"]
    call_command("revoke_key", old.kid, reason="laptop stolen", stdout=out)
    assert {k["kid"]: k["status"] for k in jwks()["keys"]}[old.kid] == "revoked"
    with pytest.raises(CommandError, match="already revoked"):
        call_command("revoke_key", old.kid, reason="again")
    with pytest.raises(CommandError, match="rotate it instead"):
        call_command("create_key", purpose="statement")


def test_resign_issues_new_versions_for_revoked_keys(declared, keys):
    from registry.declarations.models import Declaration

    call_command("rotate_key", purpose="statement", stdout=io.StringIO())
    call_command("revoke_key", declared.key.kid, reason="compromise", stdout=io.StringIO())
    out = io.StringIO()
    call_command("resign_declarations", stdout=out)
    assert "re-signed 1" in out.getvalue()
    latest = Declaration.objects.filter(release=declared.release).order_by("-version").first()
    assert latest.version == 2 and latest.key.status == "active"
    assert latest.statement["tracks"] == declared.statement["tracks"]
