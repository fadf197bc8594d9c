"""A C2SP tlog-witness: the ``add-checkpoint`` rules (:class:`Witness`) and a WSGI app serving them.

The checks run in this order, each with the status tlog-witness gives it
(docs/protocol.md §13.3):

1. body over :data:`~provenance.witness.protocol.MAX_BODY_BYTES` → 413;
   unparseable (old size line, proof lines, empty line, signed note) → 400;
2. the checkpoint's origin is not a configured log → 404;
3. no signature of a configured key for that origin verifies → 403;
4. old size above the checkpoint's size → 400;
5. old size is not the size of the latest checkpoint cosigned for the origin
   (0 if none) → 409, body ``<that size>\\n``, ``Content-Type: text/x.tlog.size``;
   same size but another root hash → 409 likewise;
6. the consistency proof from the old size does not verify (it must be empty
   from 0) → 422, and the log-signed request is kept as evidence;
7. otherwise the checkpoint is recorded and cosigned → 200, one
   cosignature/v1 line.

Steps 5 to 7 are one SQLite ``BEGIN IMMEDIATE`` transaction
(provenance/witness/state.py), so concurrent requests are serialised and no
two inconsistent checkpoints of an origin are ever cosigned. The cosignature's
timestamp is taken inside that transaction and never goes backwards for an
origin, so "as of this time, this is the largest tree I have seen" holds.
"""

from __future__ import annotations

import logging
import socketserver
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer
from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from provenance import merkle
from provenance.checkpoint import VerifierKey
from provenance.cosignature import witness_verifier_key
from provenance.errors import ProofError
from provenance.issue.keys import public_bytes
from provenance.issue.sign import cosign_checkpoint
from provenance.witness.protocol import (
    MAX_BODY_BYTES,
    PATH,
    SIZE_CONTENT_TYPE,
    RequestError,
    bad_request,
    parse_add_checkpoint,
)
from provenance.witness.state import State

log = logging.getLogger("provenance.witness")


def _conflict(size: int, why: str) -> RequestError:
    log.info("409: %s", why)
    return RequestError(409, why, body=f"{size}\n", content_type=SIZE_CONTENT_TYPE)


class Witness:
    """One witness identity (name and Ed25519 key) over the logs it is configured for."""

    def __init__(
        self,
        *,
        name: str,
        key: Ed25519PrivateKey,
        logs: Mapping[str, Sequence[VerifierKey]],
        state: State,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.name = name
        self.key = key
        self.logs = {origin: list(keys) for origin, keys in logs.items()}
        self.state = state
        self.clock = clock
        self.vkey = witness_verifier_key(name, public_bytes(key))

    def add_checkpoint(self, body: bytes) -> str:
        """The cosignature line(s) for a request ``body``, or :class:`RequestError` with the status to answer."""
        request = parse_add_checkpoint(body)
        cp = request.checkpoint
        keys = self.logs.get(cp.origin)
        if keys is None:
            raise RequestError(404, f"unknown log origin {cp.origin!r}")
        if not any(cp.signed_by(k) for k in keys):
            raise RequestError(403, f"no signature of a trusted key for {cp.origin} verifies")
        if request.old_size > cp.size:
            raise bad_request(f"old size {request.old_size} exceeds the checkpoint size {cp.size}")
        refusal: RequestError | None = None
        line = ""
        with self.state.transaction() as tx:
            latest = tx.latest(cp.origin)
            now = int(self.clock())
            if request.old_size != latest.size:
                refusal = _conflict(latest.size, f"old size {request.old_size}, but the witness is at {latest.size}")
            elif cp.size == latest.size and cp.root != latest.root:
                refusal = _conflict(latest.size, f"a second root hash for size {cp.size}")
                tx.keep_evidence(cp.origin, now, "another root for the same size", body)
            else:
                try:
                    merkle.verify_consistency(latest.size, cp.size, latest.root, cp.root, request.proof)
                except ProofError as exc:
                    refusal = RequestError(422, f"the consistency proof does not verify: {exc}")
                    tx.keep_evidence(cp.origin, now, str(exc), body)
            if refusal is None:
                timestamp = max(now, latest.cosigned_at)  # never earlier than what it said before
                line = cosign_checkpoint(cp.body, timestamp, name=self.name, key=self.key)
                tx.record(cp.origin, cp.size, cp.root, request.note, timestamp)
        if refusal is not None:
            raise refusal  # after COMMIT: the evidence is kept, the record unchanged
        return line


def make_app(witness: Witness) -> WSGIApplication:
    """The WSGI app: ``POST /add-checkpoint`` and nothing else."""

    def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        def answer(status: str, body: str, content_type: str, extra: Sequence[tuple[str, str]] = ()) -> list[bytes]:
            data = body.encode("utf-8")
            headers = [("Content-Type", content_type), ("Content-Length", str(len(data))), *extra]
            start_response(status, headers)
            return [data]

        text = "text/plain; charset=utf-8"
        if environ.get("PATH_INFO") != PATH:
            return answer("404 Not Found", "not found\n", text)
        if environ.get("REQUEST_METHOD") != "POST":
            return answer("405 Method Not Allowed", "use POST\n", text, [("Allow", "POST")])
        try:
            length = int(environ.get("CONTENT_LENGTH") or "")
        except ValueError:
            return answer("411 Length Required", "a Content-Length is required\n", text)
        if length > MAX_BODY_BYTES or length < 0:
            return answer("413 Content Too Large", f"the body exceeds {MAX_BODY_BYTES} bytes\n", text)
        body = environ["wsgi.input"].read(length)
        try:
            if len(body) != length:
                raise bad_request("the body is shorter than its Content-Length")
            lines = witness.add_checkpoint(body)
        except RequestError as exc:
            return answer(f"{exc.status} {_REASONS[exc.status]}", exc.body, exc.content_type)
        except Exception:  # never a traceback to the client; the operator's log has it
            log.exception("add-checkpoint failed")
            return answer("500 Internal Server Error", "internal error\n", text)
        return answer("200 OK", lines, text)

    return app


_REASONS = {
    400: "Bad Request",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    422: "Unprocessable Entity",
}


class _Handler(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's name
        log.info("%s %s", self.address_string(), format % args)


class ThreadingWSGIServer(socketserver.ThreadingMixIn, WSGIServer):
    """wsgiref's server, one thread per connection (the state file serialises what must be)."""

    daemon_threads = True
    allow_reuse_address = True


def make_server(witness: Witness, host: str, port: int) -> ThreadingWSGIServer:
    server = ThreadingWSGIServer((host, port), _Handler)
    server.set_app(make_app(witness))
    return server
