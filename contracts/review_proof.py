"""The proof that a review answer comes from a verified reviewer.

The reviewers' console logs people in with the company's identity provider (OpenID
Connect) and signs each answer it sends for them: a compact JWS (EdDSA, Ed25519) whose
claims name the person as the provider verified them (`sub`, `email`, `name`, `roles`)
and bind the answer (the onboarding's workflow id, the decision, the reason code, a
SHA-256 of the note), for `PROOF_SECONDS`. The workers hold only the console's public
keys (`REVIEW_SIGNER_KEYS`, `kid:base64url-key` entries: several during a rotation), so
nobody who can reach Temporal, the calling service included, can sign an answer: they
would need the console's private key, which only the console holds.

The update's validator checks the proof (`verify_proof`) before anything reaches history;
the handler, which also runs on replay, only reads the claims (`proof_claims`): a key
retired since must not change what a recorded answer meant.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from onboarding_client.contract.errors import refusal

PROOF_ISSUER = "onboarding-console"
PROOF_SECONDS = 300  # an answer signed now must reach the workflow within five minutes
ALGORITHM = "EdDSA"
REVIEW_ROLES = frozenset({"reviewer", "senior_reviewer"})
SENIOR_ROLE = "senior_reviewer"
UNVERIFIED = "review.unverified"
INVALID_PROOF = "review.invalid_proof"
FORBIDDEN = "review.forbidden"
_KEY_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


class SignerKeyError(ValueError):
    """The signer keys are malformed; the message names the problem, never key material."""


@dataclass(frozen=True)
class VerifiedReviewer:
    """The person the identity provider verified, as the proof names them."""

    sub: str
    email: str
    name: str
    roles: frozenset[str]

    @property
    def may_review(self) -> bool:
        return bool(self.roles & REVIEW_ROLES)

    @property
    def senior(self) -> bool:
        return SENIOR_ROLE in self.roles


@dataclass(frozen=True)
class AnswerBinding:
    """What a proof binds: which onboarding, and which answer."""

    workflow_id: str
    decision: str
    reason: str | None
    note: str | None


@dataclass
class TrustedSigners:
    """The console keys a worker trusts, by key id (filled when the worker starts)."""

    keys: dict[str, Ed25519PublicKey] = field(default_factory=dict)

    def replace(self, keys: Mapping[str, Ed25519PublicKey]) -> None:
        self.keys = dict(keys)


# The worker's process fills this at start (worker.py); the validator reads it.
trusted_signers = TrustedSigners()


def note_digest(note: str | None) -> str:
    return hashlib.sha256((note or "").encode("utf-8")).hexdigest()


def sign_proof(
    key: Ed25519PrivateKey,
    key_id: str,
    reviewer: VerifiedReviewer,
    binding: AnswerBinding,
    now: datetime,
) -> str:
    """The console's signature of one answer, for one verified reviewer."""
    issued = int(now.timestamp())
    claims = {
        "iss": PROOF_ISSUER,
        "sub": reviewer.sub,
        "email": reviewer.email,
        "name": reviewer.name,
        "roles": sorted(reviewer.roles),
        "wid": binding.workflow_id,
        "decision": binding.decision,
        "reason": binding.reason,
        "note_sha256": note_digest(binding.note),
        "iat": issued,
        "exp": issued + PROOF_SECONDS,
    }
    return jwt.encode(claims, key, algorithm=ALGORITHM, headers={"kid": key_id})


def verify_proof(
    proof: str | None, binding: AnswerBinding, now: datetime, signers: TrustedSigners
) -> VerifiedReviewer:
    """The verified reviewer, or a refusal (`review.unverified`, `review.invalid_proof`,
    `review.forbidden`) that says what is wrong and never echoes the proof."""
    if not proof:
        raise refusal(
            UNVERIFIED,
            "an answer needs a verified reviewer: answer in the reviewers' console",
        )
    if not signers.keys:
        raise refusal(UNVERIFIED, "this worker trusts no console key (REVIEW_SIGNER_KEYS)")
    try:
        key_id = jwt.get_unverified_header(proof).get("kid")
    except jwt.PyJWTError:
        raise refusal(INVALID_PROOF, "the proof is not a signed token") from None
    key = signers.keys.get(key_id) if isinstance(key_id, str) else None
    if key is None:
        raise refusal(INVALID_PROOF, "the proof is signed with a key this worker does not trust")
    try:
        # Time is the workflow's, checked below: the library's clock is not deterministic.
        claims = jwt.decode(
            proof,
            key,
            algorithms=[ALGORITHM],
            issuer=PROOF_ISSUER,
            options={"verify_exp": False, "verify_iat": False, "verify_nbf": False},
        )
    except jwt.PyJWTError:
        raise refusal(INVALID_PROOF, "the proof's signature or issuer is wrong") from None
    moment = now.timestamp()
    if not _number(claims.get("exp")) or moment > claims["exp"]:
        raise refusal(INVALID_PROOF, "the proof has expired: open the case and answer again")
    if not _number(claims.get("iat")) or claims["iat"] > moment + 60:
        raise refusal(INVALID_PROOF, "the proof was issued in the future")
    if claims.get("wid") != binding.workflow_id:
        raise refusal(INVALID_PROOF, "the proof is for another onboarding")
    same = (
        claims.get("decision") == binding.decision
        and claims.get("reason") == binding.reason
        and claims.get("note_sha256") == note_digest(binding.note)
    )
    if not same:
        raise refusal(INVALID_PROOF, "the proof was signed for another answer")
    reviewer = reviewer_of(claims)
    if not reviewer.may_review:
        raise refusal(FORBIDDEN, f"{reviewer.email} has no reviewer role")
    return reviewer


def proof_claims(proof: str) -> VerifiedReviewer:
    """The reviewer a proof names, read without checking it: for the handler, after the
    validator checked it (and on replay, where keys may have been retired since)."""
    return reviewer_of(jwt.decode(proof, options={"verify_signature": False}))


def reviewer_of(claims: Mapping[str, Any]) -> VerifiedReviewer:
    roles = claims.get("roles")
    return VerifiedReviewer(
        sub=str(claims.get("sub") or ""),
        email=str(claims.get("email") or ""),
        name=str(claims.get("name") or ""),
        roles=frozenset(r for r in roles if isinstance(r, str))
        if isinstance(roles, list)
        else frozenset(),
    )


def parse_signer_keys(text: str) -> dict[str, Ed25519PublicKey]:
    """`kid:base64url(raw 32-byte Ed25519 public key)` entries, by commas or lines."""
    keys: dict[str, Ed25519PublicKey] = {}
    for line in text.splitlines():
        for entry in line.split("#", 1)[0].split(","):
            if not (entry := entry.strip()):
                continue
            key_id, _, encoded = entry.partition(":")
            if not _KEY_ID.fullmatch(key_id) or not encoded:
                raise SignerKeyError(
                    "a signer key is `kid:base64url-key` (kid: 1-64 of A-Z a-z 0-9 . _ -)"
                )
            if key_id in keys:
                raise SignerKeyError(f"signer key id {key_id!r} is listed twice")
            try:
                raw = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
                keys[key_id] = Ed25519PublicKey.from_public_bytes(raw)
            except (binascii.Error, ValueError):
                raise SignerKeyError(
                    f"signer key {key_id!r} is not a base64url Ed25519 public key"
                ) from None
    return keys


def public_key_text(key_id: str, key: Ed25519PrivateKey) -> str:
    """The `kid:key` entry a worker trusts for this console key."""
    raw = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return f"{key_id}:{base64.urlsafe_b64encode(raw).rstrip(b'=').decode()}"


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
