"""`onboarding review`: the reviews waiting.

onboarding review list [--json]

An answer is the reviewers' console's: it must name a verified reviewer, and only the
console, which logs reviewers in with the identity provider, holds the key that signs that
proof (contracts/review_proof.py). A command line that signed would let whoever runs it
answer as anyone. So `review approve|reject|recapture` only say where to answer.
"""

from __future__ import annotations

import argparse
import os
from datetime import UTC, datetime
from typing import Any

from onboarding.cli.common import CommandError, dump, emit, load_settings
from onboarding.runtime.console_settings import ConsoleSettings
from onboarding.runtime.settings import read_settings
from onboarding.temporal.client import connect
from onboarding.temporal.reviews import span_text
from onboarding_client.contract.review import ReviewDecision
from onboarding_client.reviews import WaitingReview, waiting_reviews

ANSWERS = {
    "approve": ReviewDecision.APPROVED,
    "reject": ReviewDecision.REJECTED,
    "recapture": ReviewDecision.RECAPTURE,
}


def add_parser(commands: Any, json_flag: argparse.ArgumentParser) -> None:
    review = commands.add_parser("review", help="the reviews waiting (answers: the console)")
    actions = review.add_subparsers(dest="action", required=True)
    actions.add_parser("list", parents=[json_flag], help="waiting reviews, oldest first")
    for action, decision in ANSWERS.items():
        answer = actions.add_parser(
            action, parents=[json_flag], help=f"where to answer {decision.value}: the console"
        )
        answer.add_argument("request_id")
        # Taken, so that an old script gets the console's address rather than a usage error.
        answer.add_argument("--reviewer", help=argparse.SUPPRESS)
        answer.add_argument("--note", help=argparse.SUPPRESS)


async def cmd_review(args: argparse.Namespace) -> int:
    settings = load_settings()
    if args.action != "list":
        console = read_settings(ConsoleSettings, os.environ)
        raise CommandError(console_only(console.public_url, args.request_id))
    client = await connect(settings)
    now = datetime.now(UTC)
    reviews = await waiting_reviews(client)
    emit(args.json, [_row(review, now) for review in reviews], waiting_table(reviews, now))
    return 0


def console_only(console_url: str, request_id: str) -> str:
    return (
        f"answer in the reviewers' console: {console_url.rstrip('/')}/reviews/{request_id} "
        "(an answer must name a reviewer the identity provider verified; the command line "
        "cannot prove who runs it)"
    )


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
