"""tlog-policy: parsing (with line numbers for every refusal) and quorum evaluation of cosigned checkpoints."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from provenance import checkpoint as cp
from provenance.cosignature import witness_verifier_key
from provenance.issue.keys import generate_private_key, public_bytes
from provenance.issue.sign import cosign_checkpoint, sign_checkpoint
from provenance.policy import PolicyError, evaluate, parse_policy

ORIGIN = "registry.example.org/log"
ROOT = hashlib.sha256(b"root").digest()
NOW = 1_700_000_000


@dataclass
class World:
    log: Ed25519PrivateKey
    witnesses: dict[str, Ed25519PrivateKey]

    def log_vkey(self) -> str:
        return cp.verifier_key(ORIGIN, public_bytes(self.log))

    def wvkey(self, name: str) -> str:
        return witness_verifier_key(f"w.example/{name}", public_bytes(self.witnesses[name]))

    def note(self, cosigners: dict[str, int], size: int = 5) -> str:
        note = sign_checkpoint(ORIGIN, size, ROOT, self.log)
        body = note[: note.index("\n\n") + 1]
        for name, ts in cosigners.items():
            note += cosign_checkpoint(body, ts, name=f"w.example/{name}", key=self.witnesses[name])
        return note


@pytest.fixture
def world() -> World:
    return World(generate_private_key(), {n: generate_private_key() for n in ("X1", "X2", "X3", "Y1", "Y2", "Y3")})


def two_level(w: World) -> str:
    """The spec's example: 2 of the X witnesses and any of the Y witnesses."""
    lines = [f"log {w.log_vkey()}", ""]
    lines += [f"witness {n} {w.wvkey(n)}" for n in ("X1", "X2", "X3")]
    lines += ["group X-witnesses 2 X1 X2 X3", "  # a comment, indented", "\t"]
    lines += [f"witness {n} {w.wvkey(n)} https://{n}.example/" for n in ("Y1", "Y2", "Y3")]
    lines += ["group Y-witnesses any Y1 Y2 Y3", "group X-and-Y all X-witnesses Y-witnesses", "quorum X-and-Y"]
    return "\n".join(lines) + "\n"


def test_the_specs_two_level_example_parses(world: World) -> None:
    policy = parse_policy(two_level(world))
    assert [log.key.name for log in policy.logs] == [ORIGIN]
    assert list(policy.witnesses) == ["X1", "X2", "X3", "Y1", "Y2", "Y3"]
    assert policy.witnesses["Y2"].url == "https://Y2.example/"
    assert (policy.groups["X-witnesses"].threshold, policy.groups["Y-witnesses"].threshold) == (2, 1)
    assert policy.groups["X-and-Y"].threshold == 2 and policy.quorum == "X-and-Y"


@pytest.mark.parametrize(
    ("cosigners", "met"),
    [
        ({"X1", "X2", "Y3"}, True),
        ({"X1", "X3", "Y1", "Y2"}, True),
        ({"X1", "X2", "X3"}, False),  # no Y
        ({"X1", "Y1", "Y2", "Y3"}, False),  # only one X
        (set(), False),
    ],
)
def test_the_quorum_of_groups_of_groups(world: World, cosigners: set[str], met: bool) -> None:
    result = evaluate(world.note({n: NOW - 10 for n in cosigners}), parse_policy(two_level(world)), now=NOW)
    assert result.log_signature_valid
    assert result.quorum_met is met and result.valid is met
    assert set(result.cosigned) == cosigners


def test_invalid_and_unknown_cosignatures_are_ignored_not_fatal(world: World) -> None:
    note = world.note({"X1": NOW, "X2": NOW, "Y1": NOW})
    stranger = generate_private_key()
    body = note[: note.index("\n\n") + 1]
    note += cosign_checkpoint(body, NOW, name="w.example/stranger", key=stranger)
    # Y1's line, re-signed by someone else under Y1's name and ID: it fails and is reported, not counted.
    y1 = note.split("\n")[-3]
    assert y1.startswith("\u2014 w.example/Y1 ")
    forged = cosign_checkpoint(body, NOW, name="w.example/Y1", key=stranger).split(" ")[2]
    y1_blob_id = y1.split(" ")[2]
    forged_line = "\u2014 w.example/Y1 " + _with_key_id(forged, y1_blob_id)
    note = note.replace(y1 + "\n", forged_line)
    result = evaluate(note, parse_policy(two_level(world)), now=NOW)
    assert set(result.cosigned) == {"X1", "X2"} and not result.quorum_met
    assert any("Y1" in p and "does not verify" in p for p in result.problems)


def _with_key_id(blob_b64: str, donor_b64: str) -> str:
    import base64

    blob, donor = base64.b64decode(blob_b64), base64.b64decode(donor_b64)
    return base64.b64encode(donor[:4] + blob[4:]).decode() + "\n"


def test_the_log_signature_must_come_from_a_policy_log(world: World) -> None:
    policy = parse_policy(two_level(world))
    other = World(generate_private_key(), world.witnesses)
    result = evaluate(other.note({"X1": NOW, "X2": NOW, "Y1": NOW}), policy, now=NOW)
    assert result.quorum_met and not result.log_signature_valid and not result.valid
    assert "no valid signature by the log" in result.summary()
    unknown = sign_checkpoint("elsewhere.example/log", 1, ROOT, world.log)
    assert "knows no log" in evaluate(unknown, policy, now=NOW).summary()


def test_a_policy_without_logs_takes_them_from_context(world: World) -> None:
    policy = parse_policy(f"witness X1 {world.wvkey('X1')}\nquorum X1\n")
    log = cp.parse_verifier_key(world.log_vkey(), alg=cp.ALG_ED25519)
    assert evaluate(world.note({"X1": NOW}), policy, now=NOW, logs=[log]).valid
    assert not evaluate(world.note({"X1": NOW}), policy, now=NOW).valid


def test_quorum_none_needs_only_the_log(world: World) -> None:
    result = evaluate(world.note({}), parse_policy(f"log {world.log_vkey()}\nquorum none\n"), now=NOW)
    assert result.valid and result.newest_cosignature is None


def test_freshness_newest_timestamp_max_age_and_future_cosignatures(world: World) -> None:
    policy = parse_policy(
        f"log {world.log_vkey()}\nwitness A {world.wvkey('X1')}\nwitness B {world.wvkey('X2')}\n"
        "group G any A B\nquorum G\n"
    )
    note = world.note({"X1": NOW - 7200, "X2": NOW - 60})
    result = evaluate(note, policy, now=NOW)
    assert result.valid and result.newest_cosignature == NOW - 60
    fresh = evaluate(note, policy, now=NOW, max_age=3600)
    assert fresh.valid and set(fresh.cosigned) == {"B"}
    assert not evaluate(note, policy, now=NOW, max_age=30).valid
    future = evaluate(world.note({"X1": NOW + 3600}), policy, now=NOW)
    assert not future.valid and "in the future" in future.summary()


def test_a_malformed_note_is_an_invalid_result_not_an_exception(world: World) -> None:
    result = evaluate("garbage", parse_policy(two_level(world)), now=NOW)
    assert not result.valid and result.checkpoint is None


def _refusal(text: str | bytes) -> tuple[int, str]:
    with pytest.raises(PolicyError) as info:
        parse_policy(text)
    return info.value.line, str(info.value)


def test_policy_errors_name_their_line(world: World) -> None:
    w, x1 = world.wvkey("X1"), world.wvkey("X2")
    log = world.log_vkey()
    cases: list[tuple[str | bytes, int, str]] = [
        (f"log {log}\n", 0, "no quorum line"),
        ("quorum none", 1, "does not end with a newline"),
        (f"log {log}\nlog {log}\nquorum none\n", 2, "duplicate log key"),
        (f"witness A {w}\nwitness B {w}\nquorum A\n", 2, "duplicate witness key"),
        (f"witness A {w}\nwitness A {x1}\nquorum A\n", 2, "already defined"),
        (f"witness none {w}\nquorum none\n", 1, "predefined"),
        (f"witness A {w}\ngroup G any B\nquorum G\n", 2, "not a witness or group defined above"),
        (f"witness A {w}\ngroup G any none\nquorum G\n", 2, "'none' cannot be a group member"),
        (f"witness A {w}\ngroup G 2 A\nquorum G\n", 2, "threshold '2'"),
        (f"witness A {w}\ngroup G 0 A\nquorum G\n", 2, "threshold '0'"),
        (f"witness A {w}\ngroup G 01 A\nquorum G\n", 2, "threshold '01'"),
        (f"witness A {w}\ngroup G any\nquorum G\n", 2, "expected: group"),
        (f"witness A {w}\ngroup G any A\ngroup H any A\nquorum G\n", 3, "already a group member"),
        (f"witness A {w}\ngroup G any A A\nquorum G\n", 2, "already a group member"),
        (f"quorum G\nwitness G {w}\n", 1, "not a witness or group defined above"),
        ("quorum none\nquorum none\n", 2, "a second quorum line"),
        (f"witness A {log}\nquorum A\n", 1, "signature type 0x01, expected 0x04"),
        (f"log {w}\nquorum none\n", 1, "signature type 0x04, expected 0x01"),
        (f"log {log} https://x extra\nquorum none\n", 1, "expected: log"),
        ("# ok\nfrobnicate 1\n", 2, "unknown keyword 'frobnicate'"),
        (b"quorum none\r\n", 1, "control character 0x0d"),
        (f"log {log}\nlog {log.replace('+', 'x', 1)}\nquorum none\n", 2, "key"),
    ]
    for text, line, message in cases:
        got_line, got = _refusal(text)
        assert (got_line, message in got) == (line, True), (text, got)


def test_names_are_opaque_octets(world: World) -> None:
    text = f"witness K {world.wvkey('X1')}\nwitness \u212a {world.wvkey('X2')}\ngroup G all K \u212a\nquorum G\n"
    policy = parse_policy(text.encode("utf-8"))
    assert len(policy.groups["G"].members) == 2  # "K" and KELVIN SIGN are different names
    high = b"witness \xff\xfe " + world.wvkey("X3").encode() + b"\nquorum \xff\xfe\n"
    assert parse_policy(high).quorum == "\udcff\udcfe"
