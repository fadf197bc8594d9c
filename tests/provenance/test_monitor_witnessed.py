"""The monitor with a policy: quorum required, and two witnesses shown different trees of one size is an alarm."""

from __future__ import annotations

import http.client
import threading
from pathlib import Path

import pytest

from provenance import checkpoint as cp
from provenance.issue.keys import generate_private_key, public_bytes
from provenance.issue.sign import sign_checkpoint
from provenance.issue.tree import MemoryTree
from provenance.keys import KeySet, public_jwk
from provenance.monitor import Alarm, Monitor, QuorumNotMet
from provenance.policy import parse_policy
from provenance.witness import add_checkpoint_body, parse_cosignatures
from provenance.witness.server import Witness, make_server
from provenance.witness.state import State

ORIGIN = "registry.example.org/log"


def _witness(name: str, state: Path, log_key: cp.VerifierKey):  # type: ignore[no-untyped-def]
    key = generate_private_key()
    w = Witness(name=name, key=key, logs={ORIGIN: [log_key]}, state=State(state))
    server = make_server(w, "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return w, server


def _cosign(server, note: str) -> str:  # type: ignore[no-untyped-def]
    conn = http.client.HTTPConnection(*server.server_address[:2], timeout=10)
    conn.request("POST", "/add-checkpoint", body=add_checkpoint_body(0, [], note))
    resp = conn.getresponse()
    assert resp.status == 200
    return note + "".join(parse_cosignatures(resp.read()))


def _tree(size: int, tag: str) -> MemoryTree:
    tree = MemoryTree()
    for i in range(size):
        tree.append(f"{tag}{i}".encode())
    return tree


@pytest.fixture
def setup(tmp_path: Path):  # type: ignore[no-untyped-def]
    log_private = generate_private_key()
    log_vkey = cp.parse_verifier_key(cp.verifier_key(ORIGIN, public_bytes(log_private)), alg=cp.ALG_ED25519)
    (w1, s1), (w2, s2) = (_witness(f"w{i}.example", tmp_path / f"w{i}.db", log_vkey) for i in (1, 2))
    policy = parse_policy(
        f"log {log_vkey}\nwitness w1 {w1.vkey}\nwitness w2 {w2.vkey}\ngroup both any w1 w2\nquorum both\n"
    )
    keys = KeySet.from_jwks({"keys": [public_jwk(public_bytes(log_private), purpose="checkpoint")]})
    yield log_private, s1, s2, policy, keys
    for s in (s1, s2):
        s.shutdown()
        s.server_close()


def test_two_witnesses_cosigning_different_trees_of_one_size_is_a_split_view_alarm(setup, tmp_path: Path) -> None:
    log_private, s1, s2, policy, keys = setup
    a, b = _tree(5, "a"), _tree(5, "b")  # the log shows tree a to w1 and tree b to w2
    note_a = _cosign(s1, sign_checkpoint(ORIGIN, 5, a.root(), log_private))
    note_b = _cosign(s2, sign_checkpoint(ORIGIN, 5, b.root(), log_private))
    monitor = Monitor(tmp_path / "state.json", keys, ORIGIN, policy=policy)
    assert monitor.observe(note_a, a.consistency_proof).cosigned_by == ("w1",)
    with pytest.raises(Alarm) as alarm:
        monitor.observe(note_b, a.consistency_proof, may_lag=True)  # seen from another vantage point
    assert alarm.value.kind == "split_view"
    assert "w1 cosigned root " + a.root().hex() in str(alarm.value)
    assert "w2 cosigned root " + b.root().hex() in str(alarm.value)
    assert alarm.value.evidence == [note_a, note_b]
    # Remembered across runs: a new monitor process on the same state file alarms too.
    again = Monitor(tmp_path / "state.json", keys, ORIGIN, policy=policy)
    with pytest.raises(Alarm):
        again.observe(note_b, a.consistency_proof, may_lag=True)


def test_a_checkpoint_without_the_quorum_is_reported_not_alarmed(setup, tmp_path: Path) -> None:
    log_private, _, _, policy, keys = setup
    tree = _tree(3, "a")
    monitor = Monitor(tmp_path / "state.json", keys, ORIGIN, policy=policy)
    with pytest.raises(QuorumNotMet, match="quorum 'both' not met"):
        monitor.observe(sign_checkpoint(ORIGIN, 3, tree.root(), log_private), tree.consistency_proof)


def test_a_lagging_peer_must_show_a_prefix_of_our_tree(setup, tmp_path: Path) -> None:
    log_private, s1, s2, policy, keys = setup
    tree, other = _tree(9, "a"), _tree(5, "b")
    monitor = Monitor(tmp_path / "state.json", keys, ORIGIN, policy=policy)
    monitor.observe(_cosign(s1, sign_checkpoint(ORIGIN, 9, tree.root(), log_private)), tree.consistency_proof)
    ok = monitor.observe(
        _cosign(s2, sign_checkpoint(ORIGIN, 4, tree.root(4), log_private)), tree.consistency_proof, may_lag=True
    )
    assert ok.summary().startswith("OK consistent: size 4 is a prefix of 9")
    # A peer shown another history (signed by the log, cosigned by nobody): a fork, with both notes.
    forked = sign_checkpoint(ORIGIN, 5, other.root(), log_private)
    with pytest.raises(Alarm) as alarm:
        monitor.observe(forked, tree.consistency_proof, may_lag=True)
    assert alarm.value.kind == "fork" and alarm.value.evidence[1] == forked
