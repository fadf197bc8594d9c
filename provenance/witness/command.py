"""``python -m provenance witness keygen|serve``: create a witness key, run the witness over HTTP.

The signing modules load only when a witness command runs, so that verifying
(``python -m provenance verify``) still loads nothing of provenance.issue.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path


def cmd_keygen(args: argparse.Namespace) -> int:
    from provenance.checkpoint import check_key_name
    from provenance.cosignature import witness_verifier_key
    from provenance.issue.keys import generate_private_key, private_key_to_pem, public_bytes
    from provenance.witness.config import read_passphrase

    check_key_name(args.name)
    passphrase = read_passphrase(args.passphrase_file)
    if passphrase is None:
        print(
            "warning: no passphrase (WITNESS_KEY_PASSPHRASE or --passphrase-file): the key is stored unencrypted",
            file=sys.stderr,
        )
    key = generate_private_key()
    pem = private_key_to_pem(key, passphrase)
    try:  # O_EXCL: never overwrite a witness's identity
        fd = os.open(args.key, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        print(f"ERROR {args.key} exists; a witness key is never overwritten", file=sys.stderr)
        return 1
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
    print(witness_verifier_key(args.name, public_bytes(key)))
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from provenance.checkpoint import check_key_name
    from provenance.errors import ProvenanceError
    from provenance.witness.config import (
        load_key,
        logs_by_origin,
        parse_log_file,
        parse_log_option,
        read_passphrase,
    )
    from provenance.witness.server import Witness, make_server
    from provenance.witness.state import State

    try:
        check_key_name(args.name)
        keys = [parse_log_option(v) for v in args.log]
        if args.config:
            keys += parse_log_file(Path(args.config).read_text(encoding="utf-8"), args.config)
        if not keys:
            raise ProvenanceError("no log to witness: give --log ORIGIN=VKEY or --config FILE")
        host, _, port = args.listen.rpartition(":")
        witness = Witness(
            name=args.name,
            key=load_key(args.key, read_passphrase(args.passphrase_file)),
            logs=logs_by_origin(keys),
            state=State(args.state),
        )
        server = make_server(witness, host or "127.0.0.1", int(port))
    except (ProvenanceError, OSError, ValueError) as exc:
        print(f"ERROR {exc}", file=sys.stderr)
        return 1
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    bound_host, bound_port = server.server_address[:2]
    print(f"witness {witness.vkey}", flush=True)
    print(f"listening on http://{bound_host!s}:{bound_port}/add-checkpoint for {', '.join(witness.logs)}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


def add_witness_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    w = sub.add_parser("witness", help="run a C2SP tlog-witness (cosign checkpoints of logs you follow)")
    wsub = w.add_subparsers(dest="witness_command", required=True)
    k = wsub.add_parser("keygen", help="create the witness's Ed25519 key; print its verifier key")
    k.add_argument("--key", required=True, help="file to create (OpenSSH PEM, mode 0600)")
    k.add_argument("--name", required=True, help="the witness's key name, e.g. witness.example.org/w1")
    k.add_argument("--passphrase-file", help="encrypt with this passphrase (default: $WITNESS_KEY_PASSPHRASE)")
    k.set_defaults(func=cmd_keygen)
    s = wsub.add_parser("serve", help="answer POST /add-checkpoint")
    s.add_argument("--key", required=True, help="the witness key file (from witness keygen)")
    s.add_argument("--name", required=True, help="the witness's key name, as given to keygen")
    s.add_argument("--passphrase-file", help="the key's passphrase (default: $WITNESS_KEY_PASSPHRASE)")
    s.add_argument("--state", required=True, help="SQLite file keeping the latest cosigned checkpoint per log")
    s.add_argument("--log", action="append", default=[], metavar="ORIGIN=VKEY", help="a log to witness (repeat)")
    s.add_argument("--config", help="file of 'log <vkey>' lines (tlog-policy log lines)")
    s.add_argument("--listen", default="127.0.0.1:8080", help="HOST:PORT (port 0: any free port)")
    s.set_defaults(func=cmd_serve)
