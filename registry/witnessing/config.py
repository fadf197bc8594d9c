"""The witnesses the registry asks for cosignatures: a C2SP tlog-policy file (docs/operations.md, "Witnesses").

``REGISTRY_WITNESS_POLICY`` (or ``REGISTRY_WITNESS_POLICY_FILE``) holds
``witness <name> <vkey> <url>`` lines, where the URL is the witness's
submission prefix (``<url>/add-checkpoint``), and the ``group``/``quorum``
lines the registry publishes at ``/tlog/policy``. The log's own line is not
written there: the registry adds it from its checkpoint keys. Settings check
the file when they load (:func:`parse_witness_policy`), so a typo stops the
process instead of silently running unwitnessed.
"""

from __future__ import annotations

from functools import lru_cache

from django.conf import settings

from provenance.checkpoint import verifier_key
from provenance.policy import NONE, Policy, PolicyError, parse_policy


def parse_witness_policy(text: str) -> Policy:
    """The policy, refused unless every witness has an http(s) URL and no log line is given."""
    policy = parse_policy(text)
    if policy.logs:
        raise PolicyError(0, "the registry writes its own log line: remove the 'log' lines")
    for witness in policy.witnesses.values():
        if not witness.url or not witness.url.startswith(("http://", "https://")):
            raise PolicyError(0, f"witness {witness.name} needs the URL of its submission prefix (http:// or https://)")
    return policy


@lru_cache(maxsize=4)
def _parsed(text: str) -> Policy:
    return parse_witness_policy(text)


def witness_policy() -> Policy | None:
    """The configured witnesses, or None when witnessing is off (no policy configured)."""
    text = settings.REGISTRY_WITNESS_POLICY
    return _parsed(text) if text else None


def enabled() -> bool:
    return bool(settings.REGISTRY_WITNESS_POLICY)


def policy_text(policy: Policy | None, log_keys: list[bytes]) -> str:
    """The tlog-policy file the registry publishes: its log key(s), the witnesses with their URLs, the quorum."""
    origin = settings.REGISTRY_LOG_ORIGIN
    site = settings.SITE_URL.rstrip("/") + "/tlog"
    lines = [f"# The policy of the log {origin}, published for convenience: pin your own copy.\n"]
    lines += [f"log {verifier_key(origin, key)} {site}\n" for key in log_keys]
    if policy is None:
        return "".join([*lines, f"quorum {NONE}\n"])
    for w in policy.witnesses.values():
        lines.append(f"witness {w.name} {w.key} {w.url}\n" if w.url else f"witness {w.name} {w.key}\n")
    for g in policy.groups.values():
        threshold = "all" if g.threshold == len(g.members) else str(g.threshold)
        lines.append(f"group {g.name} {threshold} {' '.join(g.members)}\n")
    lines.append(f"quorum {policy.quorum}\n")
    return "".join(lines)
