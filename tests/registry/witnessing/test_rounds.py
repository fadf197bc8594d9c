"""Witness rounds against real tlog-witnesses over HTTP: cosignatures collected, failures kept apart, 409s retried."""

from __future__ import annotations

import json
from typing import Any

import pytest

from provenance.checkpoint import parse_checkpoint
from provenance.issue.sign import sign_checkpoint
from provenance.policy import evaluate, parse_policy
from provenance.witness import add_checkpoint_body
from registry.transparency import log
from registry.transparency.keys import active_key
from registry.witnessing.models import CosignedCheckpoint, WitnessStatus
from registry.witnessing.rounds import witness_round
from tests import factories
from tests.provenance.spec_cosignature import spec_verify_line
from tests.registry.witnessing.conftest import ORIGIN, RunningWitness, free_port_url, policy_text


def _post(w: RunningWitness, body: bytes) -> tuple[int, bytes]:
    import http.client

    conn = http.client.HTTPConnection(*w.server.server_address[:2], timeout=10)
    conn.request("POST", "/add-checkpoint", body=body)
    resp = conn.getresponse()
    return resp.status, resp.read()


def test_a_round_collects_both_cosignatures_and_tlog_checkpoint_serves_them(client, witnessing, declared):
    size = log.latest_checkpoint().tree_size
    result = witness_round()
    assert result.cosigned_by == ["witness.example/w1", "witness.example/w2"], result.summary()
    assert result.failures == {}
    row = CosignedCheckpoint.objects.get()
    assert row.tree_size == size and row.quorum_met
    served = client.get("/tlog/checkpoint")
    assert served.status_code == 200 and served.content.decode() == row.note
    # Every line verifies with a verifier written from the spec text, not only with ours.
    cp = parse_checkpoint(row.note)
    for w in witnessing:
        line = next(x + "\n" for x in row.note.split("\n") if x.startswith(f"— {w.name} "))
        assert spec_verify_line(cp.body, line, w.name, w.key.public_key().public_bytes_raw()) > 0
    policy = parse_policy(client.get("/tlog/policy").content)
    assert evaluate(row.note, policy).valid
    # Nothing new: the next round is skipped.
    assert witness_round().skipped


def test_the_next_round_sends_the_proof_from_the_size_each_witness_is_at(witnessing, declared, label):
    witness_round()
    first = log.latest_checkpoint().tree_size
    factories.declare(factories.make_release(label, tracks=2))
    factories.declare(factories.make_release(label, tracks=1))
    result = witness_round()
    assert len(result.cosigned_by) == 2 and result.tree_size == log.latest_checkpoint().tree_size > first
    assert {s.size for s in WitnessStatus.objects.all()} == {result.tree_size}
    assert [w.witness.state.latest(ORIGIN).size for w in witnessing] == [result.tree_size] * 2


def test_a_witness_that_is_down_is_recorded_and_the_registry_keeps_serving(client, settings, witnesses, declared):
    up = witnesses[0]
    settings.REGISTRY_WITNESS_POLICY = policy_text(
        [(up.name, up.vkey, up.url), ("down", witnesses[1].vkey, free_port_url())], quorum="all"
    )
    result = witness_round()
    assert result.cosigned_by == [up.name] and "down" in result.failures
    assert "cannot reach" in result.failures["down"]
    row = CosignedCheckpoint.objects.get()
    assert row.witnesses == up.name and not row.quorum_met  # published with what it has, quorum honestly not met
    assert f"— {witnesses[1].name} " not in row.note
    status = client.get("/api/v1/log/witnessed").json()
    assert status["cosigned"]["tree_size"] == row.tree_size and status["cosigned"]["age_seconds"] >= 0
    down = next(w for w in status["witnesses"] if w["name"] == "down")
    assert down["consecutive_failures"] == 1 and "cannot reach" in down["last_error"]
    isrc = declared.statement["tracks"][0]["isrc"]
    assert client.get(f"/api/v1/recordings/{isrc}").status_code == 200


def test_when_every_witness_is_down_nothing_is_published_and_staleness_shows(client, settings, witnesses, declared):
    settings.REGISTRY_WITNESS_POLICY = policy_text([("down", witnesses[0].vkey, free_port_url())])
    result = witness_round()
    assert result.cosigned_by == [] and result.published is None
    assert not CosignedCheckpoint.objects.exists()
    assert client.get("/api/v1/log/witnessed").json()["cosigned"] is None
    # /tlog/checkpoint falls back to the log's own checkpoint until a witness cosigns one.
    assert client.get("/tlog/checkpoint").content.decode() == log.latest_checkpoint().note


def test_a_witness_already_ahead_answers_409_and_the_round_retries_with_its_size(witnessing, declared, label):
    w1 = witnessing[0]
    first = log.latest_checkpoint()
    # The witness learned size `first` from someone else (an earlier deployment's state was lost).
    status, _ = _post(w1, add_checkpoint_body(0, [], first.note))
    assert status == 200
    factories.declare(factories.make_release(label, tracks=1))
    result = witness_round()
    assert w1.name in result.cosigned_by, result.summary()
    assert WitnessStatus.objects.get(name=w1.name).size == result.tree_size


def test_a_witness_holding_a_fork_refuses_and_is_never_published_as_cosigning(witnessing, declared, label):
    w2 = witnessing[1]
    current = log.latest_checkpoint()
    _, private = active_key("checkpoint")
    # The log key signed another root for this size (a fork) and w2 cosigned it first.
    forged = sign_checkpoint(ORIGIN, current.tree_size, b"\x07" * 32, private)
    assert _post(w2, add_checkpoint_body(0, [], forged))[0] == 200
    result = witness_round()
    assert result.cosigned_by == [witnessing[0].name]
    assert "409" in result.failures[w2.name]
    row = CosignedCheckpoint.objects.get()
    assert f"— {w2.name} " not in row.note and not row.quorum_met
    # Later sizes too: w2 needs a proof from its forked root, which no honest proof gives (422).
    factories.declare(factories.make_release(label, tracks=1))
    later = witness_round()
    assert w2.name in later.failures and w2.name not in later.cosigned_by
    assert all(f"— {w2.name} " not in r.note for r in CosignedCheckpoint.objects.all())


def test_an_unchanged_checkpoint_is_cosigned_again_after_the_refresh_interval(settings, witnessing, declared):
    witness_round()
    settings.REGISTRY_WITNESS_REFRESH = 0
    again = witness_round()
    assert not again.skipped and len(again.cosigned_by) == 2
    assert CosignedCheckpoint.objects.count() == 2


def test_the_published_policy_names_the_log_key_the_witnesses_and_the_quorum(client, witnessing, keys):
    text = client.get("/tlog/policy").content.decode()
    policy = parse_policy(text)
    assert [w.key.name for w in policy.witnesses.values()] == [w.name for w in witnessing]
    assert policy.logs[0].key.name == ORIGIN and policy.quorum == "registry-witnesses"
    assert "pin your own copy" in text


def test_without_witnesses_the_policy_needs_none_and_answers_carry_no_witnessed_member(client, declared):
    assert client.get("/tlog/policy").content.decode().endswith("quorum none\n")
    isrc = declared.statement["tracks"][0]["isrc"]
    assert "witnessed" not in json.loads(client.get(f"/api/v1/recordings/{isrc}").content)
    assert witness_round().skipped.startswith("witnessing is off")


def test_the_worker_command_runs_one_round(witnessing, declared, capsys: Any):
    from django.core.management import call_command

    call_command("witness_rounds", "--once")
    assert "cosigned by witness.example/w1, witness.example/w2, quorum met" in capsys.readouterr().out


def test_a_witness_policy_with_a_typo_stops_the_settings(monkeypatch):
    import subprocess
    import sys

    env = {"REGISTRY_WITNESS_POLICY": "witness w1 not-a-key http://x\nquorum w1\n", "REGISTRY_TESTING": "1"}
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE','registry.settings'); "
            "from django.conf import settings; settings.INSTALLED_APPS",
        ],
        env={**__import__("os").environ, **env},
        capture_output=True,
        text=True,
    )
    assert out.returncode != 0 and "REGISTRY_WITNESS_POLICY: policy line 1" in out.stderr


@pytest.mark.postgres
def test_cosigned_checkpoints_are_append_only_on_postgresql(witnessing, declared):
    from django.db import DatabaseError, transaction

    witness_round()
    row = CosignedCheckpoint.objects.get()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        CosignedCheckpoint.objects.filter(pk=row.pk).update(note="forged")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        row.delete()


def test_a_witness_that_was_down_is_asked_again_and_its_line_added_to_the_newest_checkpoint(
    settings, witnesses, declared
):
    w1, w2 = witnesses
    settings.REGISTRY_WITNESS_POLICY = policy_text([(w1.name, w1.vkey, w1.url), (w2.name, w2.vkey, free_port_url())])
    first = witness_round()
    assert first.cosigned_by == [w1.name] and w2.name in first.failures
    assert witness_round().skipped  # retried only after REGISTRY_WITNESS_RETRY
    settings.REGISTRY_WITNESS_POLICY = policy_text([(w1.name, w1.vkey, w1.url), (w2.name, w2.vkey, w2.url)])
    settings.REGISTRY_WITNESS_RETRY = 0
    retry = witness_round()
    assert retry.cosigned_by == [w2.name]  # only the missing witness was asked
    newest = CosignedCheckpoint.objects.order_by("-id").first()
    assert newest.witnesses == f"{w1.name} {w2.name}" and newest.quorum_met
    assert newest.note.startswith(first.published.note)  # w1's line kept, w2's added
    assert witness_round().skipped  # nothing missing any more
