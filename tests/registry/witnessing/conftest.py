"""Real tlog-witnesses (provenance.witness servers) on 127.0.0.1, in threads, and the registry configured to use them."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from provenance.checkpoint import ALG_ED25519, parse_verifier_key, verifier_key
from provenance.issue.keys import generate_private_key
from provenance.witness.server import ThreadingWSGIServer, Witness, make_server
from provenance.witness.state import State
from registry.witnessing import published

ORIGIN = "registry.example.org/log"


@dataclass
class RunningWitness:
    name: str
    key: Ed25519PrivateKey
    witness: Witness
    server: ThreadingWSGIServer
    thread: threading.Thread

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def vkey(self) -> str:
        return self.witness.vkey

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


def start_witness(
    name: str, state: Path, log_public_key: bytes, key: Ed25519PrivateKey | None = None
) -> RunningWitness:
    log_key = parse_verifier_key(verifier_key(ORIGIN, log_public_key), alg=ALG_ED25519)
    key = key or generate_private_key()
    witness = Witness(name=name, key=key, logs={ORIGIN: [log_key]}, state=State(state))
    server = make_server(witness, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return RunningWitness(name, key, witness, server, thread)


def free_port_url() -> str:
    """A URL where nothing listens: a witness that is down."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def policy_text(witnesses: list[tuple[str, str, str]], quorum: str = "all") -> str:
    lines = [f"witness {name} {vkey} {url}\n" for name, vkey, url in witnesses]
    names = " ".join(name for name, _, _ in witnesses)
    return "".join(lines) + f"group registry-witnesses {quorum} {names}\nquorum registry-witnesses\n"


@pytest.fixture
def log_public_key(keys: Any) -> bytes:
    from registry.transparency.keys import active_key

    key, _ = active_key("checkpoint")
    return bytes(key.public_key)


@pytest.fixture
def witnesses(tmp_path: Path, log_public_key: bytes) -> Iterator[list[RunningWitness]]:
    running = [start_witness(f"witness.example/w{i}", tmp_path / f"w{i}.sqlite", log_public_key) for i in (1, 2)]
    yield running
    for w in running:
        w.stop()


@pytest.fixture
def witnessing(settings: Any, witnesses: list[RunningWitness]) -> list[RunningWitness]:
    """The registry asks both witnesses; its quorum is both."""
    settings.REGISTRY_WITNESS_POLICY = policy_text([(w.name, w.vkey, w.url) for w in witnesses])
    settings.REGISTRY_WITNESS_TIMEOUT = 5
    published.forget()
    yield witnesses
    published.forget()
