"""Command line: ``python -m provenance verify|inspect|monitor|witness|keygen|sign|key-jwk``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from provenance import disputes, jcs, observations
from provenance.bundle import Verifier
from provenance.describe import describe_disclosure, describe_statement
from provenance.encoding import b64decode
from provenance.errors import ProvenanceError
from provenance.keys import KeySet
from provenance.labelsign import add_label_parsers
from provenance.policy import parse_policy
from provenance.statement import parse_statement
from provenance.terminal import escape, escape_json
from provenance.tlogproof import bundle_from_proof, parse_proof, proof_from_bundle
from provenance.witness.command import add_witness_parser


def _read(path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise ProvenanceError(f"cannot read {path}: {exc.strerror}") from exc


def _load_json(path: str) -> Any:
    """Parse a file strictly: a duplicated member is refused, never resolved (last or first wins)."""
    try:
        return jcs.loads(_read(path))
    except ProvenanceError as exc:
        raise ProvenanceError(f"{path} is not valid protocol JSON: {exc}") from exc


def _verifier(args: argparse.Namespace) -> Verifier:
    policy = parse_policy(_read(args.policy)) if args.policy else None
    if args.max_age is not None and policy is None:
        raise ProvenanceError("--max-age needs --policy (it bounds the age of the cosignatures a policy counts)")
    return Verifier(
        KeySet.from_json(_read(args.jwks)),
        policy=policy,
        max_age=args.max_age,
        require_label_signature=getattr(args, "require_label_signature", False),
    )


def _evidence(data: bytes) -> tuple[Any, Any]:
    """(bundle, witnessed): a bundle's bytes as they are, or a lookup answer's ``bundle`` and ``witnessed``."""
    try:
        value = jcs.loads(data)
    except ProvenanceError:
        return data, None  # the bundle_format check names the problem
    if isinstance(value, dict) and "bundle" in value and "mediaType" not in value:
        return value["bundle"], value.get("witnessed")
    return data, None


def cmd_verify(args: argparse.Namespace) -> int:
    try:
        verifier = _verifier(args)
        bundle, witnessed = _evidence(_read(args.bundle))
    except ProvenanceError as exc:
        print(f"INVALID input: {escape(exc)}")
        return 1
    if _payload_type(bundle) == disputes.DISPUTE_PAYLOAD_TYPE:  # a dispute step (docs/protocol.md §15)
        if args.isrc or args.upc:
            print("INVALID input: a dispute step's bundle answers no identifier lookup: drop --isrc/--upc")
            return 1
        return _report(disputes.verify_dispute_bundle(bundle, verifier), args.json)
    if _payload_type(bundle) == observations.OBSERVATION_PAYLOAD_TYPE:  # a platform's observation (§16)
        if args.isrc or args.upc:
            print("INVALID input: an observation's bundle answers no identifier lookup: drop --isrc/--upc")
            return 1
        return _report(observations.verify_observation_bundle(bundle, verifier), args.json)
    # The bytes: parsed strictly by the bundle_format check. The identifiers: bound by the identifier check.
    result = verifier.verify(bundle, isrc=args.isrc, upc=args.upc, witnessed=witnessed)
    return _report(result, args.json)


def _payload_type(bundle: Any) -> Any:
    """The envelope's payloadType, read loosely to pick the checks; the checks then parse strictly."""
    try:
        value = jcs.loads(bundle) if isinstance(bundle, bytes | str) else bundle
        return value["envelope"]["payloadType"]
    except (ProvenanceError, TypeError, KeyError):
        return None


def _report(result: Any, as_json: bool) -> int:
    if as_json:
        print(escape_json(json.dumps(result.to_dict(), indent=2)))
    else:
        print(escape(result.summary()))
        if result.valid and result.label_checked:
            print(f"Signed    {escape(result.attestation)}")
        if result.valid and result.disclosure is not None:
            print(describe_disclosure(result.disclosure))
    return 0 if result.valid else 1


def cmd_proof_verify(args: argparse.Namespace) -> int:
    """A tlog-proof file whose ``extra`` is the entry: verified as the bundle it holds (docs/protocol.md §13.5)."""
    try:
        verifier = _verifier(args)
        bundle = bundle_from_proof(parse_proof(_read(args.proof)))
    except ProvenanceError as exc:
        print(f"INVALID input: {escape(exc)}")
        return 1
    return _report(verifier.verify(bundle, isrc=args.isrc, upc=args.upc), args.json)


def cmd_proof_export(args: argparse.Namespace) -> int:
    """A bundle or lookup answer as a tlog-proof: offline from its own checkpoint, or the registry's witnessed one."""
    from provenance.monitor import HttpRegistry

    try:
        bundle, _ = _evidence(_read(args.bundle))
        if isinstance(bundle, bytes):
            bundle = jcs.loads(bundle)
        if args.url:
            text = HttpRegistry(args.url).tlog_proof(bundle["log"]["index"])
            # Refuse to write a file that is not about this bundle's entry.
            if bundle_from_proof(parse_proof(text))["envelope"] != bundle["envelope"]:
                raise ProvenanceError("the registry's tlog-proof is not about this bundle's entry")
        else:
            text = proof_from_bundle(bundle)
    except (ProvenanceError, KeyError, TypeError) as exc:
        print(f"ERROR cannot export: {escape(exc)}", file=sys.stderr)
        return 1
    if args.output == "-":
        sys.stdout.write(text)
    else:
        Path(args.output).write_text(text, encoding="utf-8")
        print(f"wrote {escape(args.output)}")
    return 0


def cmd_inspect(args: argparse.Namespace) -> int:
    try:
        bundle = _load_json(args.bundle)
        envelope = bundle["envelope"] if isinstance(bundle, dict) and "envelope" in bundle else bundle
        statement = parse_statement(b64decode(envelope["payload"], "payload"))
    except (ProvenanceError, KeyError, TypeError) as exc:
        print(f"cannot inspect: {escape(exc)}", file=sys.stderr)
        return 1
    print(describe_statement(statement))
    if isinstance(bundle, dict) and isinstance(bundle.get("log"), dict):
        log = bundle["log"]
        print(
            f"Log       {escape(log.get('origin'))} leaf {escape(log.get('index'))} of {escape(log.get('tree_size'))}"
        )
    print("(not verified: run `python -m provenance verify` to check signatures and proofs)")
    return 0


def cmd_monitor(args: argparse.Namespace) -> int:
    """Exit 0 when the log only grew, 3 on an alarm (fork, rollback, bad signature), 1 when it cannot check."""
    import time

    from provenance.monitor import Alarm, HttpRegistry, Monitor, QuorumNotMet, load_state, write_state

    try:
        registry = HttpRegistry(args.url)
        peers = [HttpRegistry(url) for url in args.peer]
        policy = parse_policy(_read(args.policy)) if args.policy else None
        state = load_state(args.state)
        if args.jwks:
            jwks = _load_json(args.jwks)
        elif "jwks" in state:
            jwks = state["jwks"]
        else:
            # Trust on first use: pin the keys now; later key changes need --jwks.
            jwks = registry.jwks()
            print(f"pinned {len(jwks.get('keys', []))} key(s) from {escape(args.url)}/.well-known/jwks.json")
        keys = KeySet.from_jwks(jwks)
        tiles = args.source == "tiles"

        def fetch(source: HttpRegistry) -> str:
            return source.tlog_checkpoint() if tiles else source.checkpoint()

        consistency = registry.consistency_from_tiles if tiles else registry.consistency
        note = fetch(registry)
        origin = args.origin or state.get("origin") or note.split("\n", 1)[0]
        if not state:
            write_state(args.state, {"origin": origin, "jwks": jwks})
        monitor = Monitor(args.state, keys, origin, policy=policy, max_age=args.max_age)
        for round_ in range(args.count):
            if round_:
                time.sleep(args.interval)
                note = fetch(registry)
            print(escape(monitor.observe(note, consistency).summary()), flush=True)
            for peer in peers:  # what others are shown, proven against the registry's own tiles
                print(
                    f"peer {escape(peer.base)}: "
                    + escape(monitor.observe(fetch(peer), consistency, may_lag=True).summary()),
                    flush=True,
                )
    except QuorumNotMet as exc:
        print(f"ERROR quorum not met: {escape(exc)}")
        return 1
    except Alarm as exc:
        print(f"ALARM {escape(exc)}")
        for evidence in exc.evidence:
            # The note came from the network: each of its lines escaped (a hostile one could hold ESC).
            print("--- evidence: signed checkpoint ---")
            for line in evidence.removesuffix("\n").split("\n"):
                print(escape(line))
        return 3
    except ProvenanceError as exc:
        print(f"ERROR {escape(exc)}")
        return 1
    return 0


def _witness_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--policy", help="your pinned C2SP tlog-policy file: require its quorum of witness cosignatures"
    )
    parser.add_argument(
        "--max-age", type=int, metavar="SECONDS", help="with --policy: cosignatures older than this do not count"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m provenance", description="Verify AI-disclosure bundles offline.")
    sub = parser.add_subparsers(dest="command", required=True)
    v = sub.add_parser("verify", help="check a bundle against a JWKS (exit 0 when valid, 1 when not)")
    v.add_argument("bundle")
    v.add_argument("--jwks", required=True, help="the registry's /.well-known/jwks.json, saved to a file")
    v.add_argument("--isrc", help="the ISRC you looked up: the bundle must cover it; prints its disclosure")
    v.add_argument("--upc", help="the UPC you looked up: the bundle must be that release's; prints its disclosure")
    v.add_argument("--json", action="store_true", help="print every check (and the disclosure) as JSON")
    _witness_options(v)
    v.add_argument(
        "--require-label-signature",
        action="store_true",
        help="fail a bundle that only the registry attests (no valid label signature, docs/protocol.md §14)",
    )
    v.set_defaults(func=cmd_verify)
    p = sub.add_parser("proof", help="C2SP tlog-proof files: export a bundle as one, verify one")
    psub = p.add_subparsers(dest="proof_command", required=True)
    pe = psub.add_parser("export", help="write a bundle (or lookup answer) as a tlog-proof file")
    pe.add_argument("bundle", help="a bundle or a lookup answer (JSON)")
    pe.add_argument("--url", help="ask this registry for the proof against its newest cosigned checkpoint")
    pe.add_argument("-o", "--output", default="-", help="file to write (default: standard output)")
    pe.set_defaults(func=cmd_proof_export)
    pv = psub.add_parser("verify", help="check a tlog-proof (entry in 'extra') like a bundle (exit 0 when valid)")
    pv.add_argument("proof")
    pv.add_argument("--jwks", required=True, help="the registry's /.well-known/jwks.json, saved to a file")
    pv.add_argument("--isrc", help="the ISRC the entry must cover")
    pv.add_argument("--upc", help="the UPC the entry must be about")
    pv.add_argument("--json", action="store_true", help="print every check as JSON")
    _witness_options(pv)
    pv.set_defaults(func=cmd_proof_verify)
    i = sub.add_parser("inspect", help="print a bundle's statement readably (no verification)")
    i.add_argument("bundle")
    i.set_defaults(func=cmd_inspect)
    m = sub.add_parser("monitor", help="follow the log's checkpoints; exit 3 on a fork, split view or rollback")
    m.add_argument("--url", required=True, help="the registry's base URL, e.g. https://registry.example.org")
    m.add_argument("--state", required=True, help="file keeping the pinned keys and the last verified checkpoint")
    m.add_argument("--jwks", help="pin these keys instead of trusting the registry's JWKS on first use")
    m.add_argument("--origin", help="expected log origin (default: pinned on first use)")
    m.add_argument("--count", type=int, default=1, help="checkpoints to observe in this run (default 1)")
    m.add_argument("--interval", type=float, default=60.0, help="seconds between observations")
    m.add_argument(
        "--source",
        choices=["tiles", "api"],
        default="tiles",
        help="tiles: /tlog/checkpoint (cosigned) and proofs computed from /tlog/ tiles (default); "
        "api: /api/v1/log/checkpoint and /api/v1/log/consistency",
    )
    m.add_argument("--policy", help="your pinned tlog-policy: require its quorum, alarm on a witnessed split view")
    m.add_argument("--max-age", type=int, metavar="SECONDS", help="with --policy: older cosignatures do not count")
    m.add_argument(
        "--peer",
        action="append",
        default=[],
        metavar="URL",
        help="another vantage point on the same log (a mirror): its checkpoint must be consistent too (repeat)",
    )
    m.set_defaults(func=cmd_monitor)
    add_witness_parser(sub)
    add_label_parsers(sub)
    args = parser.parse_args(argv)
    code: int = args.func(args)
    return code
