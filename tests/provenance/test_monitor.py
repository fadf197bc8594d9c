"""The monitor's key rule is the verifier's: a retired checkpoint key cannot extend the log past its last size."""

from __future__ import annotations

from pathlib import Path

import pytest

from provenance.issue.keys import generate_private_key, public_bytes
from provenance.issue.sign import sign_checkpoint
from provenance.issue.tree import MemoryTree
from provenance.keys import KeySet, public_jwk
from provenance.monitor import Alarm, Monitor
from tests.provenance import factory


def _keys(old: object, new: object, last_tree_size: int) -> KeySet:
    return KeySet.from_jwks(
        {
            "keys": [
                public_jwk(public_bytes(old), purpose="checkpoint", status="retired", last_tree_size=last_tree_size),
                public_jwk(public_bytes(new), purpose="checkpoint"),
            ]
        }
    )


def test_a_checkpoint_by_a_retired_key_beyond_its_last_tree_size_is_an_alarm(tmp_path: Path) -> None:
    tree = MemoryTree([b"a", b"b", b"c", b"d"])
    old, new = generate_private_key(), generate_private_key()
    monitor = Monitor(tmp_path / "state.json", _keys(old, new, last_tree_size=3), factory.ORIGIN)

    def consistency(first: int, second: int) -> list[bytes]:
        return tree.consistency_proof(first, second)

    assert monitor.observe(sign_checkpoint(factory.ORIGIN, 3, tree.root(3), old), consistency).size == 3
    # The same log one leaf on, signed with the retired key (stolen, say): consistent, but not the registry's.
    with pytest.raises(Alarm, match="signed trees up to size 3, not this one of size 4") as alarm:
        monitor.observe(sign_checkpoint(factory.ORIGIN, 4, tree.root(4), old), consistency)
    assert alarm.value.kind == "bad_signature"
    assert monitor.observe(sign_checkpoint(factory.ORIGIN, 4, tree.root(4), new), consistency).size == 4
