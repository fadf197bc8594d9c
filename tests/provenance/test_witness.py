"""The tlog-witness server, rule by rule through real HTTP on 127.0.0.1, and under concurrent submissions.

Every cosignature it returns is checked twice: with the small verifier written
from the spec text in tests/provenance/spec_cosignature.py, and with
provenance.cosignature / provenance.policy.
"""

from __future__ import annotations

import base64
import http.client
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from provenance import checkpoint as cp
from provenance.cosignature import parse_witness_key, verify_cosignature
from provenance.issue.keys import generate_private_key, public_bytes
from provenance.issue.sign import sign_checkpoint
from provenance.issue.tree import MemoryTree
from provenance.policy import evaluate, parse_policy
from provenance.witness import add_checkpoint_body, parse_conflict, parse_cosignatures
from provenance.witness.protocol import MAX_BODY_BYTES
from provenance.witness.server import Witness, make_server
from provenance.witness.state import State
from tests.provenance.spec_cosignature import spec_verify_line, spec_vkey

ORIGIN = "registry.example.org/log"
NAME = "witness.example.org/w1"
T0 = 1_700_000_000


@dataclass
class Log:
    key: Ed25519PrivateKey = field(default_factory=generate_private_key)
    tree: MemoryTree = field(default_factory=MemoryTree)
    origin: str = ORIGIN

    def grow(self, to: int, tag: str = "") -> Log:
        while self.tree.size < to:
            self.tree.append(f"leaf {self.tree.size}{tag}".encode())
        return self

    def vkey(self) -> cp.VerifierKey:
        return cp.parse_verifier_key(cp.verifier_key(self.origin, public_bytes(self.key)), alg=cp.ALG_ED25519)

    def note(self, size: int, key: Ed25519PrivateKey | None = None) -> str:
        return sign_checkpoint(self.origin, size, self.tree.root(size), key or self.key)

    def request(self, old: int, size: int) -> bytes:
        proof = self.tree.consistency_proof(old, size) if 0 < old else []
        return add_checkpoint_body(old, proof, self.note(size))


@dataclass
class Server:
    witness: Witness
    port: int
    key: Ed25519PrivateKey

    def post(self, body: bytes, *, path: str = "/add-checkpoint", method: str = "POST") -> tuple[int, str, bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request(method, path, body=body)
            resp = conn.getresponse()
            return resp.status, resp.getheader("Content-Type") or "", resp.read()
        finally:
            conn.close()

    def cosign(self, log: Log, old: int, size: int) -> str:
        """Submit; on 200 check the cosignature both ways and return the cosigned note."""
        status, _, body = self.post(log.request(old, size))
        assert status == 200, body
        lines = parse_cosignatures(body)
        assert len(lines) == 1
        note = log.note(size)
        pub = public_bytes(self.key)
        assert spec_verify_line(note[: note.index("\n\n") + 1], lines[0], NAME, pub) > 0
        cosigned = note + lines[0]
        verify_cosignature(cp.parse_checkpoint(cosigned), parse_witness_key(spec_vkey(NAME, pub)))
        return cosigned


class Clock:
    def __init__(self) -> None:
        self.now = float(T0)

    def __call__(self) -> float:
        return self.now


def start(state: Path, logs: list[Log], key: Ed25519PrivateKey, clock: Clock | None = None) -> Iterator[Server]:
    witness = Witness(
        name=NAME,
        key=key,
        logs={log.origin: [log.vkey()] for log in logs},
        state=State(state),
        clock=clock or Clock(),
    )
    server = make_server(witness, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield Server(witness, server.server_address[1], key)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


@pytest.fixture
def log() -> Log:
    return Log().grow(20)


@pytest.fixture
def witness_key() -> Ed25519PrivateKey:
    return generate_private_key()


@pytest.fixture
def server(tmp_path: Path, log: Log, witness_key: Ed25519PrivateKey) -> Iterator[Server]:
    yield from start(tmp_path / "witness.sqlite", [log], witness_key)


# --- 200 ----------------------------------------------------------------------


def test_the_first_checkpoint_of_an_empty_log_is_cosigned_from_old_size_0(server: Server, log: Log) -> None:
    cosigned = server.cosign(log, 0, 0)
    policy = parse_policy(
        f"log {cp.verifier_key(ORIGIN, public_bytes(log.key))}\nwitness W {server.witness.vkey}\nquorum W\n"
    )
    result = evaluate(cosigned, policy, now=T0)
    assert result.valid and result.cosigned == {"W": T0}


def test_a_first_checkpoint_of_any_size_needs_old_size_0_and_no_proof(server: Server, log: Log) -> None:
    server.cosign(log, 0, 7)
    assert server.witness.state.latest(ORIGIN).size == 7


def test_the_log_grows_with_valid_consistency_proofs(server: Server, log: Log) -> None:
    server.cosign(log, 0, 3)
    for old, new in [(3, 4), (4, 8), (8, 13), (13, 20)]:
        server.cosign(log, old, new)
    latest = server.witness.state.latest(ORIGIN)
    assert (latest.size, latest.root, latest.note) == (20, log.tree.root(20), log.note(20))


def test_the_same_checkpoint_size_and_root_is_cosigned_again(server: Server, log: Log) -> None:
    server.cosign(log, 0, 5)
    server.cosign(log, 5, 5)


def test_the_witness_says_it_is_the_witness_vkey(server: Server, witness_key: Ed25519PrivateKey) -> None:
    assert server.witness.vkey == spec_vkey(NAME, public_bytes(witness_key))


def test_cosignature_timestamps_never_go_backwards(tmp_path: Path, log: Log, witness_key: Ed25519PrivateKey) -> None:
    clock = Clock()
    for srv in start(tmp_path / "w.sqlite", [log], witness_key, clock):
        first = srv.cosign(log, 0, 5)
        clock.now -= 3600  # the clock is stepped back
        second = srv.cosign(log, 5, 9)
        stamp = [
            verify_cosignature(cp.parse_checkpoint(n), parse_witness_key(srv.witness.vkey)).timestamp
            for n in (first, second)
        ]
        assert stamp == [T0, T0]


# --- 409 ----------------------------------------------------------------------


def test_a_stale_old_size_is_409_with_the_witness_size_as_text_x_tlog_size(server: Server, log: Log) -> None:
    server.cosign(log, 0, 9)
    for old, size in [(0, 12), (5, 12), (12, 15)]:
        status, ctype, body = server.post(log.request(old, size))
        assert (status, ctype, body) == (409, "text/x.tlog.size", b"9\n")
        assert parse_conflict(body, ctype) == 9
    server.cosign(log, 9, 12)  # a client that learnt the size from the 409 goes on


def test_a_second_root_for_the_witness_size_is_409(server: Server, log: Log) -> None:
    server.cosign(log, 0, 6)
    fork = Log(key=log.key).grow(6, tag="fork")
    status, ctype, body = server.post(fork.request(6, 6))
    assert (status, ctype, body) == (409, "text/x.tlog.size", b"6\n")
    assert server.witness.state.latest(ORIGIN).root == log.tree.root(6)


# --- 422 ----------------------------------------------------------------------


def test_a_wrong_consistency_proof_is_422_and_kept_as_evidence(server: Server, log: Log) -> None:
    server.cosign(log, 0, 5)
    proof = log.tree.consistency_proof(5, 11)
    flipped = [bytes([proof[0][0] ^ 1]) + proof[0][1:], *proof[1:]]
    for bad in (flipped, proof[:-1], [*proof, proof[0]], []):
        status, _, _ = server.post(add_checkpoint_body(5, bad, log.note(11)))
        assert status == 422
    fork = Log(key=log.key).grow(11, tag="fork")
    status, _, _ = server.post(add_checkpoint_body(5, fork.tree.consistency_proof(5, 11), fork.note(11)))
    assert status == 422
    assert server.witness.state.latest(ORIGIN).size == 5
    assert len(server.witness.state.evidence(ORIGIN)) == 5


def test_a_proof_from_old_size_0_must_be_empty(server: Server, log: Log) -> None:
    status, _, _ = server.post(add_checkpoint_body(0, [log.tree.root(1)], log.note(4)))
    assert status == 422


def test_a_proof_between_equal_sizes_must_be_empty(server: Server, log: Log) -> None:
    server.cosign(log, 0, 4)
    status, _, _ = server.post(add_checkpoint_body(4, [log.tree.root(4)], log.note(4)))
    assert status == 422


# --- 404, 403 -----------------------------------------------------------------


def test_an_unknown_origin_is_404(server: Server) -> None:
    other = Log(origin="other.example.org/log").grow(3)
    status, _, body = server.post(other.request(0, 3))
    assert status == 404 and b"other.example.org/log" in body


def test_a_checkpoint_not_signed_by_the_configured_log_key_is_403(server: Server, log: Log) -> None:
    status, _, _ = server.post(add_checkpoint_body(0, [], log.note(3, key=generate_private_key())))
    assert status == 403
    tampered = log.note(3).replace("\n3\n", "\n4\n", 1)  # the log's key ID, but over another body
    status, _, _ = server.post(add_checkpoint_body(0, [], tampered))
    assert status == 403
    assert server.witness.state.latest(ORIGIN).size == 0


def test_unknown_signatures_next_to_the_logs_are_ignored(server: Server, log: Log) -> None:
    note = log.note(3)
    extra = sign_checkpoint(ORIGIN, 3, log.tree.root(3), generate_private_key()).split("\n\n")[1]
    status, _, _ = server.post(add_checkpoint_body(0, [], note + extra))
    assert status == 200


# --- 400 and the HTTP envelope ------------------------------------------------


def _garbage(log: Log) -> list[bytes]:
    note = log.note(5).encode()
    h = base64.b64encode(log.tree.root(2)).decode()
    return [
        b"",
        b"\xff\xfe",
        b"hello",
        b"old 0\n" + note,  # no empty line
        b"old 01\n\n" + note,
        b"old -1\n\n" + note,
        b"old  0\n\n" + note,
        b"older 0\n\n" + note,
        b"old 0 \n\n" + note,
        b"old 99999999999999999999\n\n" + note,
        f"old 2\n{h[:-4]}\n\n".encode() + note,  # not 32 bytes
        b"old 2\nnot base64!\n\n" + note,
        f"old 2\n{h}\r\n\n".encode() + note,
        ("old 2\n" + f"{h}\n" * 64 + "\n").encode() + note,  # 64 proof lines
        b"old 0\n\nnot a note\n",
        b"old 0\n\n" + note.replace(b"\n5\n", b"\n05\n"),
        b"old 0\n\n" + note.rstrip(b"\n"),
        b"old 6\n\n" + note,  # old size above the checkpoint's
    ]


def test_malformed_requests_are_400(server: Server, log: Log) -> None:
    for body in _garbage(log):
        status, _, answer = server.post(body)
        assert status == 400, (body, answer)
    assert server.witness.state.latest(ORIGIN).size == 0


def test_a_body_over_the_cap_is_413_and_other_methods_and_paths_are_refused(server: Server, log: Log) -> None:
    assert server.post(b"x" * (MAX_BODY_BYTES + 1))[0] == 413
    assert server.post(b"", method="GET")[0] == 405
    assert server.post(log.request(0, 1), path="/add-checkpoint/")[0] == 404
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(b"POST /add-checkpoint HTTP/1.0\r\nHost: x\r\n\r\n")
        assert sock.recv(100).split(b" ")[1] == b"411"


# --- state ----------------------------------------------------------------------


def test_a_restarted_witness_remembers_every_log(tmp_path: Path, log: Log, witness_key: Ed25519PrivateKey) -> None:
    other = Log(origin="other.example.org/log").grow(4)
    for srv in start(tmp_path / "w.sqlite", [log, other], witness_key):
        srv.cosign(log, 0, 8)
        srv.cosign(other, 0, 4)
    for srv in start(tmp_path / "w.sqlite", [log, other], witness_key):
        assert srv.post(log.request(0, 10))[2] == b"8\n"
        assert srv.post(other.request(0, 4))[2] == b"4\n"
        srv.cosign(log, 8, 10)


# --- concurrency ----------------------------------------------------------------


def _consistent(a: tuple[int, bytes], b: tuple[int, bytes], trees: list[MemoryTree]) -> bool:
    """Whether some tree holds both (size, root) heads: the smaller is a prefix of the larger."""
    return any(t.size >= max(a[0], b[0]) and t.root(a[0]) == a[1] and t.root(b[0]) == b[1] for t in trees)


def test_concurrent_submissions_of_two_forks_never_get_two_inconsistent_cosignatures(
    tmp_path: Path, witness_key: Ed25519PrivateKey
) -> None:
    """A log that signs two forks, sent by 8 threads to two witness servers sharing one state file (as two processes would)."""
    key = generate_private_key()
    forks = [Log(key=key).grow(4).grow(40, tag=f"fork{i}") for i in range(2)]
    state = tmp_path / "w.sqlite"
    cosigned: list[tuple[int, bytes]] = []
    lock = threading.Lock()
    servers_a, servers_b = start(state, forks[:1], witness_key), start(state, forks[:1], witness_key)
    servers = [next(servers_a), next(servers_b)]

    def submit(worker: int) -> None:
        fork, srv = forks[worker % 2], servers[worker // 2 % 2]
        old = 0
        for size in range(3 + worker % 3, 41, 3):
            for _ in range(5):  # a few retries after 409, as a real client would
                proof = fork.tree.consistency_proof(old, size) if 0 < old <= size else []
                status, ctype, body = srv.post(add_checkpoint_body(min(old, size), proof, fork.note(size)))
                if status == 200:
                    with lock:
                        cosigned.append((size, fork.tree.root(size)))
                    old = size
                    break
                if status == 409:
                    old = parse_conflict(body, ctype)
                    continue
                break  # 422 (the other fork is ahead) or 400 (old above size): next size

    threads = [threading.Thread(target=submit, args=(w,)) for w in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    for gen in (servers_a, servers_b):
        gen.close()
    assert len(cosigned) > 5
    trees = [f.tree for f in forks]
    for i, a in enumerate(cosigned):
        for b in cosigned[i + 1 :]:
            assert _consistent(a, b, trees), (a, b)
    latest = State(state).latest(ORIGIN)
    assert latest.size == max(s for s, _ in cosigned)  # never rolled back


# --- client helpers -------------------------------------------------------------


def test_the_client_helpers_build_the_exact_body_and_refuse_malformed_answers(log: Log) -> None:
    from provenance.errors import VerificationError

    proof = log.tree.consistency_proof(3, 7)
    body = add_checkpoint_body(3, proof, log.note(7))
    assert (
        body == ("old 3\n" + "".join(base64.b64encode(h).decode() + "\n" for h in proof) + "\n" + log.note(7)).encode()
    )
    with pytest.raises(VerificationError):
        add_checkpoint_body(3, [proof[0]] * 64, log.note(7))
    with pytest.raises(VerificationError):
        add_checkpoint_body(-1, [], log.note(7))
    assert parse_conflict(b"12\n", "text/x.tlog.size; charset=utf-8") == 12
    for answer, ctype in [(b"12\n", "text/plain"), (b"12", "text/x.tlog.size"), (b"012\n", "text/x.tlog.size")]:
        with pytest.raises(VerificationError):
            parse_conflict(answer, ctype)
    for answer in [b"", b"\xe2\x80\x94 w AAAA", b"- w AAAAAAAA\n", b"\xe2\x80\x94 w !!\n"]:
        with pytest.raises(VerificationError):
            parse_cosignatures(answer)
