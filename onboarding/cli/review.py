"""`onboarding review`: the reviews waiting, and a reviewer's answer to one.

onboarding review list [--json]
onboarding review approve|reject|recapture REQUEST_ID --reviewer ID [--note TEXT] [--json]
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime, timedelta
from typing import Any

from temporalio.exceptions import ApplicationError

from contracts.review import ReviewAnswer, ReviewDecision, parse_review_answer
from onboarding.cli.common import CommandError, dump, emit, load_settings
from onboarding.temporal.client import connect
from onboarding.temporal.reviews import WaitingReview, review_onboarding, waiting_reviews

ANSWERS = {
    "approve": ReviewDecision.APPROVED,
    "reject": ReviewDecision.REJECTED,
    "recapture": ReviewDecision.RECAPTURE,
}


def add_parser(commands: Any, json_flag: argparse.ArgumentParser) -> None:
    review = commands.add_parser("review", help="the reviews waiting, and answers to them")
    actions = review.add_subparsers(dest="action", required=True)
    actions.add_parser("list", parents=[json_flag], help="waiting reviews, oldest first")
    for action, decision in ANSWERS.items():
        answer = actions.add_parser(
            action, parents=[json_flag], help=f"settle a review as {decision.value}"
        )
        answer.add_argument("request_id")
        answer.add_argument("--reviewer", required=True, help="your operator id")
        answer.add_argument("--note", help="why, for the audit trail (kept encrypted)")


async def cmd_review(args: argparse.Namespace) -> int:
    if args.action != "list":
        # Refused here as the workflow's validator would, before connecting to anything.
        answer = _checked_answer(args)
    client = await connect(load_settings())
    if args.action == "list":
        now = datetime.now(UTC)
        reviews = await waiting_reviews(client)
        emit(args.json, [_row(review, now) for review in reviews], waiting_table(reviews, now))
        return 0
    answered = await review_onboarding(client, args.request_id, answer)
    record = answered.review
    payload = {"request_id": args.request_id, **dump(answered)}
    by = f"{record.decision.value} by {record.reviewer}"
    text = f"{args.request_id}: {answered.outcome.value} ({by})"
    emit(args.json, payload, text)
    return 0


def _checked_answer(args: argparse.Namespace) -> ReviewAnswer:
    raw = {"decision": ANSWERS[args.action].value, "reviewer": args.reviewer}
    if args.note is not None:
        raw["note"] = args.note
    try:
        return parse_review_answer(raw)
    except ApplicationError as refused:
        raise CommandError(f"{refused.message} ({refused.type})") from None


def _row(review: WaitingReview, now: datetime) -> dict[str, Any]:
    brief = review.brief
    return {
        "request_id": review.request_id,
        "process_id": brief.process_id,
        "score": brief.score,
        "reasons": [dump(reason) for reason in brief.reasons],
        "waiting_since": brief.waiting_since.isoformat(),
        "waited_seconds": round(review.waited(now).total_seconds()),
        "deadline": brief.deadline.isoformat(),
        "due_in_seconds": round(review.due_in(now).total_seconds()),
        "due_soon": review.due_soon(now),
    }


def waiting_table(reviews: list[WaitingReview], now: datetime) -> str:
    if not reviews:
        return "no review is waiting"
    head = f"{'request id':<34} {'score':>5} {'waited':>8} {'due in':>8}  reasons"
    lines = [head, "-" * len(head)]
    for review in reviews:
        brief = review.brief
        score = "-" if brief.score is None else str(brief.score)
        flag = "  DUE SOON" if review.due_soon(now) else ""
        reasons = ", ".join(reason.code for reason in brief.reasons)
        lines.append(
            f"{review.request_id:<34} {score:>5} {span_text(review.waited(now)):>8} "
            f"{span_text(review.due_in(now)):>8}  {reasons}{flag}"
        )
    return "\n".join(lines)


def span_text(span: timedelta) -> str:
    """`45 s`, `12 min`, `3.5 h`: as a reviewer reads a wait."""
    seconds = span.total_seconds()
    if abs(seconds) < 120:
        return f"{seconds:.0f} s"
    if abs(seconds) < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
