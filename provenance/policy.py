"""C2SP tlog-policy files (known logs, witnesses, groups, one quorum) and checking a cosigned checkpoint against one.

The file (docs/protocol.md §13.2)::

    log <vkey> [<url>]                   # a log's Ed25519 note key (type 0x01); its name is the origin
    witness <name> <vkey> [<url>]        # a witness's cosignature/v1 key (type 0x04)
    group <name> all|any|<k> <name>...   # k of its n members witnessed (1 <= k <= n)
    quorum <name>|none                   # exactly one

Choices where tlog-policy leaves room, all refusals with the line number:
a last line without its newline is refused (every line is newline-terminated);
``k`` is decimal without leading zeros; each defined name may be a group member
at most once in the whole file (so a witness counts towards the quorum one way
only); a name may not be redefined; only Ed25519 keys are supported (a policy
naming an ML-DSA witness is refused, not silently weakened); at most
:data:`MAX_ENTRIES` logs, witnesses and groups each. Names are opaque octets:
the file is decoded with ``surrogateescape`` so that no two byte strings compare
equal, and a vkey's name must still be UTF-8 as signed-note requires.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from provenance.checkpoint import ALG_ED25519, Checkpoint, VerifierKey, parse_checkpoint, parse_verifier_key
from provenance.cosignature import NoCosignature, parse_witness_key, verify_cosignature
from provenance.errors import ProvenanceError, VerificationError

NONE = "none"
MAX_ENTRIES = 256  # logs, witnesses and groups each; the spec asks for at least 32
MAX_POLICY_BYTES = 1_000_000
CLOCK_SKEW = 300  # seconds a cosignature's timestamp may lie ahead of ``now`` and still count
_K = re.compile(r"[1-9][0-9]*")
_WHITESPACE = re.compile(r"[ \t]+")
_FORBIDDEN = re.compile(rb"[\x00-\x08\x0b-\x1f\x7f]")  # allowed: tab, newline, 0x20-0x7E, 0x80-0xFF


class PolicyError(ProvenanceError):
    """A policy file does not follow tlog-policy; ``line`` is 1-based (0: the file as a whole)."""

    def __init__(self, line: int, message: str) -> None:
        self.line = line
        super().__init__(f"policy line {line}: {message}" if line else f"policy: {message}")


@dataclass(frozen=True)
class Log:
    key: VerifierKey
    url: str | None = None


@dataclass(frozen=True)
class Witness:
    name: str
    key: VerifierKey
    url: str | None = None


@dataclass(frozen=True)
class Group:
    name: str
    threshold: int
    members: tuple[str, ...]


@dataclass(frozen=True)
class Policy:
    logs: tuple[Log, ...]
    witnesses: Mapping[str, Witness]
    groups: Mapping[str, Group]
    quorum: str

    def logs_for(self, origin: str) -> list[VerifierKey]:
        return [log.key for log in self.logs if log.key.name == origin]

    def satisfied(self, cosigned: set[str] | frozenset[str], name: str | None = None) -> bool:
        """Whether the witnesses in ``cosigned`` meet the quorum (or witness/group ``name``)."""
        name = self.quorum if name is None else name
        if name == NONE:
            return True
        if name in self.witnesses:
            return name in cosigned
        group = self.groups[name]
        return sum(self.satisfied(cosigned, member) for member in group.members) >= group.threshold


def _tokens(line: str) -> list[str]:
    return [t for t in _WHITESPACE.split(line) if t]


def parse_policy(data: bytes | str) -> Policy:
    """Parse a tlog-policy file; :class:`PolicyError` names the first offending line."""
    raw = data.encode("utf-8", "surrogateescape") if isinstance(data, str) else data
    if len(raw) > MAX_POLICY_BYTES:
        raise PolicyError(0, f"the file exceeds {MAX_POLICY_BYTES} bytes")
    if raw and not raw.endswith(b"\n"):
        raise PolicyError(raw.count(b"\n") + 1, "the last line does not end with a newline")
    logs: list[Log] = []
    witnesses: dict[str, Witness] = {}
    groups: dict[str, Group] = {}
    quorum: str | None = None
    used_as_member: set[str] = set()
    log_keys: set[bytes] = set()
    witness_keys: set[bytes] = set()
    for number, octets in enumerate(raw.split(b"\n")[:-1], start=1):
        bad = _FORBIDDEN.search(octets)
        if bad:
            raise PolicyError(number, f"control character 0x{bad.group()[0]:02x} is not allowed")
        tokens = _tokens(octets.decode("utf-8", "surrogateescape"))
        if not tokens or tokens[0].startswith("#"):
            continue
        keyword, args = tokens[0], tokens[1:]

        def key(text: str, alg: int, number: int = number) -> VerifierKey:
            try:
                return parse_verifier_key(text, alg=alg)
            except (VerificationError, UnicodeEncodeError) as exc:
                raise PolicyError(number, str(exc)) from exc

        def new_name(name: str, number: int = number) -> str:
            if name == NONE:
                raise PolicyError(number, "the name 'none' is predefined")
            if name in witnesses or name in groups:
                raise PolicyError(number, f"the name {name!r} is already defined")
            return name

        if keyword == "log":
            if len(args) not in (1, 2):
                raise PolicyError(number, "expected: log <vkey> [<url>]")
            vkey = key(args[0], ALG_ED25519)
            if vkey.public_key in log_keys:
                raise PolicyError(number, f"duplicate log key {vkey.name}")
            log_keys.add(vkey.public_key)
            logs.append(Log(vkey, args[1] if len(args) == 2 else None))
            if len(logs) > MAX_ENTRIES:
                raise PolicyError(number, f"more than {MAX_ENTRIES} logs")
        elif keyword == "witness":
            if len(args) not in (2, 3):
                raise PolicyError(number, "expected: witness <name> <vkey> [<url>]")
            name = new_name(args[0])
            try:
                wkey = parse_witness_key(args[1])
            except (VerificationError, UnicodeEncodeError) as exc:
                raise PolicyError(number, str(exc)) from exc
            if wkey.public_key in witness_keys:
                raise PolicyError(number, f"duplicate witness key {wkey.name}")
            witness_keys.add(wkey.public_key)
            witnesses[name] = Witness(name, wkey, args[2] if len(args) == 3 else None)
            if len(witnesses) > MAX_ENTRIES:
                raise PolicyError(number, f"more than {MAX_ENTRIES} witnesses")
        elif keyword == "group":
            if len(args) < 3:
                raise PolicyError(number, "expected: group <name> all|any|<k> <name>...")
            name, spec, members = new_name(args[0]), args[1], args[2:]
            for member in members:
                if member == NONE:
                    raise PolicyError(number, "'none' cannot be a group member")
                if member not in witnesses and member not in groups:
                    raise PolicyError(number, f"{member!r} is not a witness or group defined above")
                if member in used_as_member:
                    raise PolicyError(number, f"{member!r} is already a group member")
                used_as_member.add(member)
            if spec == "all":
                k = len(members)
            elif spec == "any":
                k = 1
            elif _K.fullmatch(spec) and int(spec) <= len(members):
                k = int(spec)
            else:
                raise PolicyError(number, f"threshold {spec!r} is not all, any or a number from 1 to {len(members)}")
            groups[name] = Group(name, k, tuple(members))
            if len(groups) > MAX_ENTRIES:
                raise PolicyError(number, f"more than {MAX_ENTRIES} groups")
        elif keyword == "quorum":
            if len(args) != 1:
                raise PolicyError(number, "expected: quorum <name>")
            if quorum is not None:
                raise PolicyError(number, "a second quorum line")
            if args[0] != NONE and args[0] not in witnesses and args[0] not in groups:
                raise PolicyError(number, f"{args[0]!r} is not a witness or group defined above")
            quorum = args[0]
        else:
            raise PolicyError(number, f"unknown keyword {keyword!r}")
    if quorum is None:
        raise PolicyError(0, "no quorum line")
    return Policy(logs=tuple(logs), witnesses=witnesses, groups=groups, quorum=quorum)


@dataclass(frozen=True)
class Evaluation:
    """What a policy says of one signed checkpoint note."""

    checkpoint: Checkpoint | None
    log_signature_valid: bool
    quorum_met: bool
    cosigned: Mapping[str, int]  # witness name (the policy's) -> timestamp of its counted cosignature
    problems: tuple[str, ...] = field(default=())

    @property
    def valid(self) -> bool:
        return self.log_signature_valid and self.quorum_met

    @property
    def newest_cosignature(self) -> int | None:
        return max(self.cosigned.values(), default=None)

    def summary(self) -> str:
        if self.valid:
            return f"VALID: log signature and quorum met by {', '.join(sorted(self.cosigned)) or 'none needed'}"
        return "INVALID: " + "; ".join(self.problems)


def evaluate(
    note: str,
    policy: Policy,
    *,
    now: int | None = None,
    max_age: int | None = None,
    logs: Sequence[VerifierKey] = (),
) -> Evaluation:
    """Check a checkpoint note's log signature and its cosignatures against ``policy``.

    The log signature must come from a policy log (or one of ``logs``, for a
    policy that leaves the logs to context) named as the origin. A witness
    counts when one of its lines verifies; lines of unknown keys and lines
    that do not verify are ignored, never fatal (the problems say which).
    With ``max_age``, a cosignature older than ``now - max_age`` seconds does
    not count; a cosignature more than :data:`CLOCK_SKEW` seconds in the future
    never counts. ``now`` defaults to the clock.
    """
    try:
        cp = parse_checkpoint(note)
    except VerificationError as exc:
        return Evaluation(None, False, False, {}, (f"not a checkpoint: {exc}",))
    problems: list[str] = []
    log_keys = [*policy.logs_for(cp.origin), *(k for k in logs if k.name == cp.origin)]
    log_ok = any(cp.signed_by(k) for k in log_keys)
    if not log_keys:
        problems.append(f"the policy knows no log {cp.origin!r}")
    elif not log_ok:
        problems.append(f"no valid signature by the log {cp.origin}")
    now = int(time.time()) if now is None else now
    cosigned: dict[str, int] = {}
    for name, witness in policy.witnesses.items():
        try:
            cosignature = verify_cosignature(cp, witness.key)
        except NoCosignature:
            continue
        except VerificationError as exc:
            problems.append(str(exc))
            continue
        if cosignature.timestamp > now + CLOCK_SKEW:
            problems.append(f"witness {name}: cosignature time {cosignature.timestamp} is in the future")
        elif max_age is not None and cosignature.timestamp < now - max_age:
            problems.append(f"witness {name}: cosignature time {cosignature.timestamp} is older than {max_age} s")
        else:
            cosigned[name] = cosignature.timestamp
    quorum_met = policy.satisfied(frozenset(cosigned))
    if not quorum_met:
        problems.append(
            f"quorum {policy.quorum!r} not met (valid cosignatures: {', '.join(sorted(cosigned)) or 'none'})"
        )
    return Evaluation(cp, log_ok, quorum_met, cosigned, tuple(problems))
