"""Signing keys: files outside the database, encrypted at rest; rotation and revocation through commands."""

from __future__ import annotations

import io

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError

from provenance import keys as pkeys
from provenance.errors import ProvenanceError
from provenance.issue import keys as ikeys
from registry.transparency.keys import jwks
from registry.transparency.models import SigningKey


def test_private_keys_live_encrypted_in_files_not_in_the_database(keys):
    for key in SigningKey.objects.all():
        pem = (settings.REGISTRY_KEY_DIR / key.key_file).read_bytes()
        assert b"OPENSSH PRIVATE KEY" in pem
        with pytest.raises(ProvenanceError):
            ikeys.load_private_key(pem, b"wrong passphrase")
        loaded = ikeys.load_private_key(pem, settings.REGISTRY_KEY_PASSPHRASE.encode())
        assert pkeys.thumbprint(ikeys.public_bytes(loaded)) == key.kid
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
    call_command("revoke_key", kid=old.kid, reason="laptop stolen", stdout=out)
    assert {k["kid"]: k["status"] for k in jwks()["keys"]}[old.kid] == "revoked"
    with pytest.raises(CommandError, match="already revoked"):
        call_command("revoke_key", kid=old.kid, reason="again")
    with pytest.raises(CommandError, match="rotate it instead"):
        call_command("create_key", purpose="statement")


def test_resign_issues_new_versions_for_revoked_keys(declared, keys):
    from registry.declarations.models import Declaration

    call_command("rotate_key", purpose="statement", stdout=io.StringIO())
    call_command("revoke_key", kid=declared.key.kid, reason="compromise", stdout=io.StringIO())
    out = io.StringIO()
    call_command("resign_declarations", stdout=out)
    assert "re-signed 1" in out.getvalue()
    latest = Declaration.objects.filter(release=declared.release).order_by("-version").first()
    assert latest.version == 2 and latest.key.status == "active"
    assert latest.statement["tracks"] == declared.statement["tracks"]


def test_rotating_the_checkpoint_key_bounds_the_old_key_to_the_log_size_it_retired_at(keys, label):
    import json

    from provenance import checkpoint as pcheckpoint
    from provenance.bundle import Verifier
    from provenance.issue.sign import sign_checkpoint
    from registry.transparency.keys import key_rotate, keyset, load_private_key
    from tests import factories

    before = [factories.declare(factories.make_release(label, tracks=1)) for _ in range(2)]
    old, new = key_rotate(purpose="checkpoint")
    published = {k["kid"]: k for k in jwks()["keys"]}
    assert published[old.kid]["status"] == "retired" and published[old.kid]["last_tree_size"] == 2
    assert "last_tree_size" not in published[new.kid]
    after = factories.declare(factories.make_release(label, tracks=1))
    verifier = Verifier(keyset())
    assert all(verifier.verify(json.loads(d.bundle)).valid for d in [*before, after])
    assert new.kid in verifier.verify(json.loads(after.bundle)).checks[5].detail
    # The retired key (stolen, say) signs the tree of size 3: a true root, but no key of the registry vouches for it.
    forged = json.loads(after.bundle)
    cp = pcheckpoint.parse_checkpoint(forged["log"]["checkpoint"])
    forged["log"]["checkpoint"] = sign_checkpoint(cp.origin, cp.size, cp.root, load_private_key(old))
    result = verifier.verify(forged)
    assert result.failed.name == "checkpoint_signature"
    assert (
        f"checkpoint key {old.kid} (retired) signed trees up to size 2, not this one of size 3" in result.failed.detail
    )


def test_the_migration_stamps_keys_retired_before_it_with_the_largest_tree_they_signed(keys, label):
    import importlib

    from django.apps import apps

    from tests import factories

    migration = importlib.import_module("registry.transparency.migrations.0003_checkpoint_key_last_tree_size")
    for _ in range(3):
        factories.declare(factories.make_release(label, tracks=1))
    old = SigningKey.objects.get(purpose="checkpoint", status="active")
    SigningKey.objects.filter(pk=old.pk).update(status="retired")  # as an older rotation left it
    migration.stamp_retired_checkpoint_keys(apps, None)
    old.refresh_from_db()
    assert old.last_tree_size == 3


def test_rotate_key_moves_the_retired_private_key_out_of_the_key_directory(keys, label, tmp_path):
    import json

    from provenance.bundle import Verifier
    from registry.errors import NotFound
    from registry.transparency.keys import keyset, load_private_key
    from tests import factories

    declared = factories.declare(factories.make_release(label, tracks=1))
    old = SigningKey.objects.get(purpose="statement", status="active")
    archive = tmp_path / "offline"
    out = io.StringIO()
    call_command("rotate_key", purpose="statement", archive_dir=str(archive), stdout=out)
    assert f"archived the private key of {old.kid} to {archive / old.key_file}" in out.getvalue()
    assert not (settings.REGISTRY_KEY_DIR / old.key_file).exists()
    assert (archive / old.key_file).stat().st_mode & 0o077 == 0
    assert ikeys.load_private_key((archive / old.key_file).read_bytes(), settings.REGISTRY_KEY_PASSPHRASE.encode())
    with pytest.raises(NotFound, match="missing"):  # not even this process's cache keeps it
        load_private_key(SigningKey.objects.get(pk=old.pk))
    # Nothing needed it: what it signed still verifies, and the new key signs.
    newer = factories.declare(factories.make_release(label, tracks=1))
    assert all(Verifier(keyset()).verify(json.loads(d.bundle)).valid for d in (declared, newer))
    # Revoking it later works although its file is gone from the host.
    call_command("revoke_key", kid=old.kid, reason="audit", stdout=out)
    assert "archived earlier" in out.getvalue()


def test_rotate_key_without_an_archive_directory_says_what_the_operator_must_do(keys, settings):
    settings.REGISTRY_KEY_ARCHIVE_DIR = None
    old = SigningKey.objects.get(purpose="checkpoint", status="active")
    err = io.StringIO()
    call_command("rotate_key", purpose="checkpoint", stdout=io.StringIO(), stderr=err)
    assert f"the private key of retired key {old.kid} is still" in err.getvalue()
    assert "move it off this host" in err.getvalue()
    assert (settings.REGISTRY_KEY_DIR / old.key_file).exists()


def test_the_archive_directory_must_be_outside_the_key_directory(keys, settings):
    settings.REGISTRY_KEY_ARCHIVE_DIR = settings.REGISTRY_KEY_DIR / "old"
    with pytest.raises(CommandError, match="must be outside REGISTRY_KEY_DIR"):
        call_command("rotate_key", purpose="statement", stdout=io.StringIO())
    assert SigningKey.objects.filter(purpose="statement", status="retired").count() == 1  # rotated, not archived


def test_a_process_drops_the_cached_private_key_a_new_active_key_replaces(keys, label):
    from registry.transparency import keys as tkeys
    from tests import factories

    old = SigningKey.objects.get(purpose="statement", status="active")
    factories.declare(factories.make_release(label, tracks=1))  # signs: the old key is cached
    assert old.kid in tkeys._cache
    tkeys.key_rotate(purpose="statement")
    assert old.kid not in tkeys._cache


def test_revoke_key_takes_a_key_id_that_starts_with_a_dash_after_a_double_dash(keys):
    """Key ids are base64url: about one in 32 starts with "-", which argparse would read as an option."""
    from registry.transparency.models import SigningKey

    key = SigningKey.objects.filter(purpose="statement").first()
    SigningKey.objects.filter(pk=key.pk).update(kid="-" + key.kid[1:])
    call_command("revoke_key", "--reason", "test", "--", "-" + key.kid[1:], stdout=io.StringIO())
    assert SigningKey.objects.get(pk=key.pk).status == SigningKey.REVOKED
