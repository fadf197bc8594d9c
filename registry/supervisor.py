"""``make run``: the demo registry with two local witnesses, its workers and gunicorn, as one process.

Starts (each in its own process group, so a Ctrl-C reaches this supervisor,
which then stops them in order):

- two ``python -m provenance witness serve`` on 127.0.0.1:8101 and :8102,
  keys and state under ``var/witnesses/`` (keys generated on the first run,
  encrypted with ``var/witness_passphrase``);
- ``manage.py witness_rounds --interval 1``;
- ``manage.py db_worker`` (the background worker of batch imports and signing);
- ``manage.py expire_prepared --interval 60`` (deletes expired co-signing prepares, docs/operations.md);
- gunicorn (``PORT``/``BIND`` as registry/gunicorn.conf.py reads them).

The registry's witness policy (``var/witnesses/policy``: both witnesses,
quorum both) is written on every start and given to the worker and gunicorn
as ``REGISTRY_WITNESS_POLICY_FILE``, so the demo's checkpoints are cosigned
within a second or two of each append. If any child exits, everything stops.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

BASE = Path(__file__).resolve().parent.parent
PY = sys.executable
WITNESSES = (("w1", 8101), ("w2", 8102))
STOP_GRACE = 10.0


def _var() -> Path:
    return Path(os.environ.get("REGISTRY_VAR_DIR") or BASE / "var")


def _run(*cmd: str, env: dict[str, str] | None = None) -> str:
    out = subprocess.run(cmd, cwd=BASE, env=env, check=True, capture_output=True, text=True)  # noqa: S603 - our argv
    return out.stdout


def prepare(var: Path) -> tuple[Path, Path, Path]:
    """Witness keys (once), the log's keys for the witnesses, and the registry's policy; returns their paths."""
    wdir = var / "witnesses"
    wdir.mkdir(parents=True, exist_ok=True, mode=0o700)
    passphrase = var / "witness_passphrase"
    if not passphrase.exists():
        passphrase.write_text(secrets.token_urlsafe(32) + "\n")
        passphrase.chmod(0o600)
    lines = []
    for name, port in WITNESSES:
        key, vkey = wdir / f"{name}.key", wdir / f"{name}.vkey"
        if not key.exists():
            printed = _run(
                PY, "-m", "provenance", "witness", "keygen", "--key", str(key), "--name", f"demo.witness/{name}",
                "--passphrase-file", str(passphrase),
            )  # fmt: skip
            vkey.write_text(printed.strip() + "\n")
        lines.append(f"witness {name} {vkey.read_text().strip()} http://127.0.0.1:{port}\n")
    logs = wdir / "logs.conf"
    logs.write_text(_run(PY, "manage.py", "log_vkeys"))
    policy = wdir / "policy"
    policy.write_text("".join(lines) + "group demo-witnesses all w1 w2\nquorum demo-witnesses\n")
    return wdir, logs, policy


def _wait_for_ports(ports: list[int], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    for port in ports:
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                time.sleep(0.1)


def main() -> int:
    var = _var()
    wdir, logs, policy = prepare(var)
    env = {**os.environ, "REGISTRY_WITNESS_POLICY_FILE": str(policy)}
    commands = [
        [
            PY,
            "-m",
            "provenance",
            "witness",
            "serve",
            "--key",
            str(wdir / f"{name}.key"),
            "--name",
            f"demo.witness/{name}",
            "--passphrase-file",
            str(var / "witness_passphrase"),
            "--state",
            str(wdir / f"{name}.sqlite"),
            "--config",
            str(logs),
            "--listen",
            f"127.0.0.1:{port}",
        ]  # fmt: skip
        for name, port in WITNESSES
    ]
    commands.append([PY, "manage.py", "witness_rounds", "--interval", "1"])
    commands.append([PY, "manage.py", "db_worker", "--no-reload"])
    commands.append([PY, "manage.py", "expire_prepared", "--interval", "60"])
    commands.append(
        [str(Path(PY).parent / "gunicorn"), "registry.wsgi:application", "--config", "registry/gunicorn.conf.py"]
    )
    children: list[subprocess.Popen[bytes]] = []
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    try:
        for n, cmd in enumerate(commands):
            if n == len(WITNESSES):
                _wait_for_ports([port for _, port in WITNESSES])  # the first round finds the witnesses up
            # A session of its own: the terminal's Ctrl-C reaches only us, and we stop the children in order.
            children.append(subprocess.Popen(cmd, cwd=BASE, env=env, start_new_session=True))  # noqa: S603 - our argv
            time.sleep(0.2)
        print(
            "make run: witnesses on :8101 and :8102, witness rounds every second, the task worker, "
            "expired prepares deleted every minute, gunicorn; "
            "Ctrl-C stops all"
        )
        while not stopping and all(c.poll() is None for c in children):
            time.sleep(0.2)
    finally:
        for child in reversed(children):  # gunicorn first, the witnesses last
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE
        for child in reversed(children):
            try:
                child.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
    # Stopped by Ctrl-C or SIGTERM: a clean exit. Otherwise a child exited on its own: say which, fail.
    for cmd, child in zip(commands, children, strict=False):
        if not stopping and child.returncode not in (0, -signal.SIGTERM):
            print(f"make run: {' '.join(cmd)[:120]} exited with {child.returncode}", file=sys.stderr)
    return 0 if stopping else 1


if __name__ == "__main__":
    sys.exit(main())
