"""Command line: ``python -m provenance verify|inspect|monitor|witness|keygen|sign``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from provenance import jcs
from provenance.bundle import Verifier
from provenance.describe import describe_disclosure, describe_statement
from provenance.encoding import b64decode
from provenance.errors import ProvenanceError
from provenance.keys import KeySet
from provenance.labelsign import add_label_parsers
from provenance.statement import parse_statement
from provenance.terminal import escape, escape_json
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


def cmd_verify(args: argparse.Namespace) -> int:
    try:
        verifier = Verifier(KeySet.from_json(_read(args.jwks)), require_label_signature=args.require_label_signature)
        bundle = _read(args.bundle)
    except ProvenanceError as exc:
        print(f"INVALID input: {escape(exc)}")
        return 1
    # The bytes: parsed strictly by the bundle_format check. The identifiers: bound by the identifier check.
    result = verifier.verify(bundle, isrc=args.isrc, upc=args.upc)
    if args.json:
        print(escape_json(json.dumps(result.to_dict(), indent=2)))
    else:
        print(escape(result.summary()))
        if result.valid and result.label_checked:
            print(f"Signed    {escape(result.attestation)}")
        if result.valid and result.disclosure is not None:
            print(describe_disclosure(result.disclosure))
    return 0 if result.valid else 1


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

    from provenance.monitor import Alarm, HttpRegistry, Monitor, load_state, write_state

    try:
        registry = HttpRegistry(args.url)
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
        note = registry.checkpoint()
        origin = args.origin or state.get("origin") or note.split("\n", 1)[0]
        if not state:
            write_state(args.state, {"origin": origin, "jwks": jwks})
        monitor = Monitor(args.state, keys, origin)
        for round_ in range(args.count):
            if round_:
                time.sleep(args.interval)
                note = registry.checkpoint()
            print(escape(monitor.observe(note, registry.consistency).summary()), flush=True)
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m provenance", description="Verify AI-disclosure bundles offline.")
    sub = parser.add_subparsers(dest="command", required=True)
    v = sub.add_parser("verify", help="check a bundle against a JWKS (exit 0 when valid, 1 when not)")
    v.add_argument("bundle")
    v.add_argument("--jwks", required=True, help="the registry's /.well-known/jwks.json, saved to a file")
    v.add_argument("--isrc", help="the ISRC you looked up: the bundle must cover it; prints its disclosure")
    v.add_argument("--upc", help="the UPC you looked up: the bundle must be that release's; prints its disclosure")
    v.add_argument("--json", action="store_true", help="print every check (and the disclosure) as JSON")
    v.add_argument(
        "--require-label-signature",
        action="store_true",
        help="fail a bundle that only the registry attests (no valid label signature, docs/protocol.md §14)",
    )
    v.set_defaults(func=cmd_verify)
    i = sub.add_parser("inspect", help="print a bundle's statement readably (no verification)")
    i.add_argument("bundle")
    i.set_defaults(func=cmd_inspect)
    m = sub.add_parser("monitor", help="follow the log's checkpoints; exit 3 on a fork or rollback")
    m.add_argument("--url", required=True, help="the registry's base URL, e.g. https://registry.example.org")
    m.add_argument("--state", required=True, help="file keeping the pinned keys and the last verified checkpoint")
    m.add_argument("--jwks", help="pin these keys instead of trusting the registry's JWKS on first use")
    m.add_argument("--origin", help="expected log origin (default: pinned on first use)")
    m.add_argument("--count", type=int, default=1, help="checkpoints to observe in this run (default 1)")
    m.add_argument("--interval", type=float, default=60.0, help="seconds between observations")
    m.set_defaults(func=cmd_monitor)
    add_witness_parser(sub)
    add_label_parsers(sub)
    args = parser.parse_args(argv)
    code: int = args.func(args)
    return code
