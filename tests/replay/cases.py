"""What `make histories` records: every scenario CPF, and the paths around them.

One row per case. A group names how the sandbox behaves while its cases run (async delay,
webhooks on or off); cases of a group run concurrently. New paths (an error class, a new
workflow branch) get a row here, and `make histories` records them in a new batch.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from devstack.scenarios import SCENARIOS
from onboarding_client.contract.outcome import Outcome


@dataclass(frozen=True)
class Group:
    name: str
    async_delay_seconds: float
    webhooks: bool
    options: dict[str, Any]
    faults: tuple[dict[str, Any], ...] = ()  # sandbox fault rules while the group runs


WEBHOOK = Group(
    "webhook",
    1.0,
    True,
    {"poll_initial_seconds": 30, "poll_max_seconds": 30, "max_process_attempts": 2},
)
# Without the webhook (the sandbox sends none), no wait for it: polling from the start.
NO_WEBHOOK_WAIT = {"webhook_wait_seconds": 0}
POLLING = Group(
    "polling",
    1.0,
    False,
    {
        "poll_initial_seconds": 0.5,
        "poll_max_seconds": 1,
        "max_process_attempts": 2,
        **NO_WEBHOOK_WAIT,
    },
)
# Unico takes long: deadlines, cancellations and continue-as-new happen while it works.
SLOW = Group(
    "slow", 6.0, False, {"poll_initial_seconds": 0.5, "poll_max_seconds": 0.5, **NO_WEBHOOK_WAIT}
)
# A `review` decision waits for a reviewer (the shortest deadline the input rules allow).
REVIEW = Group(
    "review",
    1.0,
    True,
    {
        "poll_initial_seconds": 30,
        "poll_max_seconds": 30,
        "review": {"enabled": True, "deadline_seconds": 60},
    },
)
# The account step: an approved person's record in Identity Cloud. Operator waits are
# short, so a block heals within the recording; fault rules make a group of their own.
_ACCOUNT_OPTIONS = {
    "poll_initial_seconds": 30,
    "poll_max_seconds": 30,
    "configuration_retry": {"initial_seconds": 1, "max_seconds": 2},
    "account": {"register": True},
}
ACCOUNT = Group("account", 1.0, True, _ACCOUNT_OPTIONS)
ACCOUNT_LOST_ANSWER = Group(
    "account-lost-answer",
    1.0,
    True,
    _ACCOUNT_OPTIONS,
    ({"endpoint": "entity.create", "drop_connection": True},),
)
ACCOUNT_BLOCKED = Group(
    "account-blocked",
    1.0,
    True,
    _ACCOUNT_OPTIONS,
    ({"endpoint": "entity.create", "code": 402, "times": 2},),
)
# The MFA step, after the account step (the Auth0 user comes from the record).
MFA = Group(
    "mfa",
    1.0,
    True,
    {**_ACCOUNT_OPTIONS, "mfa": {"enroll": True, "deadline_seconds": 60}},
)
# Each error class's reaction, from a fault at the sandbox: one group (and one case) each,
# so that a rule's `times` counts that case's calls only. Operator waits are short, so a
# block heals within the recording.
_REACTION_OPTIONS = {
    "poll_initial_seconds": 0.5,
    "poll_max_seconds": 1,
    "configuration_retry": {"initial_seconds": 1, "max_seconds": 2},
    "locked_retry": {"initial_seconds": 1, "max_seconds": 2},
    **NO_WEBHOOK_WAIT,
}
REACTION_FAULTS: dict[str, tuple[str, tuple[dict[str, Any], ...] | dict[str, Any], Outcome]] = {
    # class: (CPF, the fault (or faults, in order), the outcome it leads to)
    "transient": ("12345678909", {"endpoint": "create", "code": 99999}, Outcome.APPROVED),
    "rate_limited": (
        "12345678909",
        {"endpoint": "create", "status": 429, "retry_after": 1},
        Outcome.APPROVED,
    ),
    "token_expired": ("12345678909", {"endpoint": "create", "code": 10501}, Outcome.APPROVED),
    "configuration": (
        "12345678909",
        {"endpoint": "create", "code": 10201, "times": 2},
        Outcome.APPROVED,
    ),
    # The worker holds a token already: a refused one makes it ask for another, locked once.
    "locked": (
        "12345678909",
        ({"endpoint": "create", "code": 10501}, {"endpoint": "token", "code": "1.2.18"}),
        Outcome.APPROVED,
    ),
    "invalid_request": (
        "12345678909",
        {"endpoint": "create", "code": 20003},
        Outcome.INVALID_REQUEST,
    ),
    "recapture": ("12345678909", {"endpoint": "create", "code": 10507}, Outcome.RECAPTURE),
    "not_found": ("00000000272", {"endpoint": "get", "code": 50001}, Outcome.APPROVED),
    "permanent": ("12345678909", {"endpoint": "create", "status": 409}, Outcome.ERROR),
    "ambiguous_create": (
        "12345678909",
        {"endpoint": "create", "drop_connection": True},
        Outcome.APPROVED,
    ),
}
REACTION_GROUPS = {
    error_class: Group(
        f"reaction-{error_class}",
        1.0,
        False,
        _REACTION_OPTIONS,
        faults if isinstance(faults, tuple) else (faults,),
    )
    for error_class, (_, faults, _) in REACTION_FAULTS.items()
}
GROUPS = (
    WEBHOOK,
    POLLING,
    SLOW,
    REVIEW,
    ACCOUNT,
    ACCOUNT_LOST_ANSWER,
    ACCOUNT_BLOCKED,
    MFA,
    *REACTION_GROUPS.values(),
)
# What the person sends, in order, once the code waits: the code from the SMS, a wrong one,
# a malformed one (refused by the validator: no event), or a request for another SMS.
SMS_CODE, WRONG_CODE, RESEND = "<sms>", "<wrong>", "<resend>"


@dataclass(frozen=True)
class Case:
    name: str
    group: Group
    cpf: str
    expected: Outcome
    options: dict[str, Any] = field(default_factory=dict)
    small_selfie: bool = False  # under 640x480: refused with 20807 before any call to Unico
    cancel_while_waiting: bool = False
    # Sent in order once the review waits; all but the last are refused by the validator,
    # and leave no event. Empty: nobody answers (the deadline) unless canceled.
    review_answers: tuple[dict[str, Any], ...] = ()
    # Sent in order once the review waits, before `review_answers`, each taken: holds
    # (`{"claim": "ana"}`, `{"release": "bruno"}`) and a first approval awaiting four eyes.
    review_first: tuple[dict[str, Any], ...] = ()
    cancel_while_reviewing: bool = False
    early_decision: bool = False  # started by update-with-start, asking for the decision
    # Once the review waits, what no handler can use: signals with extra arguments (in
    # history, ignored) and updates of the wrong arity (refused, no event).
    stray_input: bool = False
    capture: dict[str, Any] | None = None  # a capture of Unico's SDK: its order to the sandbox
    stored_ago_seconds: float = 0  # the selfie came this long ago (a capture past its time)
    subject: dict[str, str] = field(default_factory=dict)  # e-mail, phone
    account: str | None = None  # the account step's status the result must carry
    person_sends: tuple[str, ...] = ()  # the MFA conversation (SMS_CODE, WRONG_CODE, ...)
    mfa: str | None = None  # the MFA step's status the result must carry
    # Started by a client without the codec: refused `request.not_encrypted` (its input,
    # in clear, holds no one's data: the recording keeps it)
    in_clear: bool = False


# The reviewer an answer is signed for as it is sent, as the console signs it.
SIGNED_AS = "signed_as"


def _answer(decision: str, by: str = "ana", **more: Any) -> dict[str, Any]:
    """An answer from the reviewers' console, for `by` (Ana, or Bruno the senior), signed
    when it is sent."""
    return {"decision": decision, SIGNED_AS: by, **more}


def _typed(decision: str, **more: Any) -> dict[str, Any]:
    """An answer typed by a client, with no proof: the workflow refuses it."""
    return {"decision": decision, **more}


def _scenario_cases(group: Group, cpfs: set[str] | None = None) -> list[Case]:
    return [
        Case(f"{group.name}-{s.cpf}-{s.expected.value}", group, s.cpf, s.expected)
        for s in SCENARIOS
        if cpfs is None or s.cpf in cpfs
    ]


CASES: tuple[Case, ...] = (
    *_scenario_cases(WEBHOOK),
    *_scenario_cases(POLLING, {"00000000272", "00000000604", "00000000868", "00000001163"}),
    Case("invalid-cpf", POLLING, "12345678900", Outcome.INVALID_REQUEST),
    Case("capture-live", POLLING, "12345678909", Outcome.APPROVED, capture={"liveness": "live"}),
    Case("capture-spoof", POLLING, "12345678909", Outcome.REJECTED, capture={"liveness": "spoof"}),
    Case(
        "capture-expired", POLLING, "12345678909", Outcome.RECAPTURE,
        capture={"age_seconds": 601},
    ),
    Case(
        "capture-expired-before-any-call", POLLING, "12345678909", Outcome.RECAPTURE,
        capture={}, stored_ago_seconds=601,
    ),
    Case("small-selfie", POLLING, "12345678909", Outcome.INVALID_REQUEST, small_selfie=True),
    Case("deadline", SLOW, "00000000353", Outcome.EXPIRED, {"deadline_seconds": 2}),
    Case("canceled", SLOW, "00000000353", Outcome.CANCELED, cancel_while_waiting=True),
    Case("continue-as-new", SLOW, "00000000272", Outcome.APPROVED),
    Case(
        "review-approved", REVIEW, "00000000353", Outcome.APPROVED,
        review_answers=(_answer("approved", note="documento conferido"),),
    ),
    Case(
        "review-rejected", REVIEW, "00000000353", Outcome.REJECTED,
        review_answers=(_answer("rejected"),),
    ),
    Case(
        "review-recapture", REVIEW, "00000000604", Outcome.RECAPTURE,
        review_answers=(_answer("recapture", note="selfie escura"),),
    ),
    Case("review-deadline", REVIEW, "00000000353", Outcome.REVIEW),
    Case(
        "review-deadline-rejects", REVIEW, "00000000353", Outcome.REJECTED,
        {"review": {"enabled": True, "deadline_seconds": 60, "on_deadline": "rejected"}},
    ),
    Case("review-canceled", REVIEW, "00000000353", Outcome.CANCELED, cancel_while_reviewing=True),
    Case(
        "review-refused-then-approved", REVIEW, "00000000353", Outcome.APPROVED,
        review_answers=(
            _typed("maybe"), _typed("approved", reviewer="ana b"),
            _typed("approved", reviewer="ana"), _answer("approved"),
        ),
    ),
    Case(
        "review-after-stray-input", REVIEW, "00000000353", Outcome.APPROVED,
        review_answers=(_answer("approved"),), stray_input=True,
    ),
    Case(
        "review-held-released-then-answered", REVIEW, "00000000353", Outcome.REJECTED,
        review_first=({"claim": "ana"}, {"release": "bruno"}, {"claim": "bruno"}),
        review_answers=(_answer("rejected", by="ana"), _answer("rejected", by="bruno")),
    ),
    Case(
        "review-four-eyes-confirmed", REVIEW, "00000001244", Outcome.APPROVED,
        review_first=({"claim": "ana"}, _answer("approved", reason="documents.match")),
        review_answers=(_answer("approved"), _answer("approved", by="bruno")),
    ),
    Case(
        "review-four-eyes-overruled", REVIEW, "00000001244", Outcome.REJECTED,
        review_first=(_answer("approved"),),
        review_answers=(_answer("rejected", by="bruno", reason="fraud.suspected"),),
    ),
    Case("early-decision-sync", REVIEW, "12345678909", Outcome.APPROVED, early_decision=True),
    Case("early-decision-async", REVIEW, "00000000272", Outcome.APPROVED, early_decision=True),
    Case("input-in-clear", POLLING, "12345678909", Outcome.INVALID_REQUEST, in_clear=True),
    Case(
        "early-decision-review", REVIEW, "00000000353", Outcome.APPROVED,
        review_answers=(_answer("approved"),), early_decision=True,
    ),
    Case(
        "account-registered", ACCOUNT, "52998224725", Outcome.APPROVED,
        subject={"email": "pessoa.teste@example.com", "phone": "+55 11 91234-0000"},
        account="registered",
    ),
    Case("account-existing", ACCOUNT, "11144477735", Outcome.APPROVED, account="existing"),
    Case(
        "account-email-taken", ACCOUNT, "39053344705", Outcome.APPROVED,
        subject={"email": "ana.existing@example.com"}, account="failed",
    ),
    Case(
        "account-after-review", ACCOUNT, "00000000353", Outcome.APPROVED,
        {"review": {"enabled": True, "deadline_seconds": 60}},
        review_answers=(_answer("approved"),), account="registered",
    ),
    Case("account-not-approved", ACCOUNT, "00000000191", Outcome.REJECTED),
    Case(
        "account-adopted-after-a-lost-answer", ACCOUNT_LOST_ANSWER, "39053340033",
        Outcome.APPROVED, account="registered",
    ),
    Case(
        "account-blocked-then-healed", ACCOUNT_BLOCKED, "24843803057", Outcome.APPROVED,
        account="registered",
    ),
    Case(
        "mfa-a-typo-then-enrolled", MFA, "76263712082", Outcome.APPROVED,
        subject={"phone": "+55 11 97000-1111"}, account="registered",
        person_sends=("12a4", WRONG_CODE, SMS_CODE), mfa="enrolled",
    ),
    Case(
        "mfa-resend-then-enrolled", MFA, "94571468083", Outcome.APPROVED,
        subject={"phone": "+55 11 97000-2222"}, account="registered",
        person_sends=(RESEND, SMS_CODE), mfa="enrolled",
    ),
    Case(
        "mfa-attempts-run-out", MFA, "84434884093", Outcome.APPROVED,
        {"mfa": {"enroll": True, "deadline_seconds": 60, "max_attempts": 2}},
        subject={"phone": "+55 11 97000-3333"}, account="registered",
        person_sends=(WRONG_CODE, WRONG_CODE), mfa="failed",
    ),
    Case(
        "mfa-deadline", MFA, "51388548011", Outcome.APPROVED,
        subject={"phone": "+55 11 97000-4444"}, account="registered", mfa="expired",
    ),
    Case(
        "mfa-already-enrolled", MFA, "28437627079", Outcome.APPROVED,
        subject={"phone": "+55 11 97000-0003"}, account="registered", mfa="already_enrolled",
    ),
    Case(
        "mfa-phone-refused", MFA, "41817363000", Outcome.APPROVED,
        subject={"phone": "+55 11 97000-0002"}, account="registered", mfa="failed",
    ),
    Case(
        "mfa-user-given-no-account", MFA, "12345678909", Outcome.APPROVED,
        {"account": {"register": False}, "mfa": {"enroll": True, "user_id": "auth0|replay"}},
        subject={"phone": "+55 11 97000-5555"}, person_sends=(SMS_CODE,), mfa="enrolled",
    ),
    *(
        Case(f"reaction-{error_class}", REACTION_GROUPS[error_class], cpf, expected)
        for error_class, (cpf, _, expected) in REACTION_FAULTS.items()
    ),
)  # fmt: skip
