"""`onboarding otp`: the person's side of the MFA step, for the dev stack and support.

onboarding otp submit REQUEST_ID [--code CODE] [--json]   (no --code: asked for, unechoed)
onboarding otp resend REQUEST_ID [--json]
"""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import Any

from onboarding.cli.common import CommandError, dump, emit, load_settings
from onboarding.temporal.client import connect
from onboarding.temporal.otp import resend_code, submit_code


def add_parser(commands: Any, json_flag: argparse.ArgumentParser) -> None:
    otp = commands.add_parser("otp", help="send the person's MFA code, or ask for another SMS")
    actions = otp.add_subparsers(dest="action", required=True)
    submit = actions.add_parser("submit", parents=[json_flag], help="the code from the SMS")
    submit.add_argument("request_id")
    submit.add_argument("--code", help="the code (default: asked for, not echoed)")
    resend = actions.add_parser("resend", parents=[json_flag], help="another SMS")
    resend.add_argument("request_id")


async def cmd_otp(args: argparse.Namespace) -> int:
    if args.action == "submit":
        code = args.code if args.code is not None else _read_code()
        client = await connect(load_settings())
        answer = await submit_code(client, args.request_id, code)
        if answer.accepted:
            text = f"{args.request_id}: accepted; recovery code {answer.recovery_code}"
        elif answer.attempts_left is not None:
            text = f"{args.request_id}: {answer.reason}, {answer.attempts_left} attempt(s) left"
        else:
            text = f"{args.request_id}: {answer.reason}"
        emit(args.json, {"request_id": args.request_id, **dump(answer)}, text)
        return 0 if answer.accepted else 1
    client = await connect(load_settings())
    sent = await resend_code(client, args.request_id)
    if sent.sent:
        text = f"{args.request_id}: another SMS is on its way"
    else:
        when = f", try again after {sent.retry_at:%H:%M:%S} UTC" if sent.retry_at else ""
        text = f"{args.request_id}: not sent ({sent.reason}{when})"
    emit(args.json, {"request_id": args.request_id, **dump(sent)}, text)
    return 0 if sent.sent else 1


def _read_code() -> str:
    if sys.stdin.isatty():
        return getpass.getpass("code from the SMS: ")
    line = sys.stdin.readline().strip()
    if not line:
        raise CommandError("no code: pass --code, or give it on stdin")
    return line
