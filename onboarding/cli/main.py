"""The `onboarding` command: the local stack, onboardings, and the policy, from a shell.

Every command takes `--json` for machine-readable output. Failures print one line on
stderr and exit non-zero: no tracebacks for a stack that is down or a bad argument.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import uuid
from collections.abc import Awaitable, Callable
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from temporalio.client import WorkflowFailureError
from temporalio.service import RPCError, RPCStatusCode

from contracts.unico import UnicoProcess
from onboarding.cli import explain, otp, plugins, review
from onboarding.cli.common import (
    CommandError,
    Exit,
    describe_result,
    dump,
    emit,
    load_settings,
    outcome_exit,
    status_text,
)
from onboarding.cli.stack_env import stack_defaults
from onboarding.runtime.entry import leave
from onboarding.runtime.errors import SettingsError, StackUnavailable
from onboarding.runtime.logs import configure_logging
from onboarding.runtime.telemetry import forward_core_logs
from onboarding.temporal.client import connect, store_selfie
from onboarding.temporal.step_updates import UpdateRefused
from onboarding_client.contract.request import OnboardingRequest
from onboarding_client.onboardings import (
    handle_for,
    onboarding_status,
    start_for_decision,
    start_onboarding,
)
from workflows import decide, parse_request

# --- commands ---------------------------------------------------------------------------


async def cmd_start(args: argparse.Namespace) -> int:
    settings = load_settings()
    # A capture is stored as the SDK made it; the store and the worker tell it by content.
    # Beside --capture, --selfie is the image the person saw: the reviewers' evidence.
    if args.capture is None and args.selfie is None:
        raise CommandError("give the person's --selfie (an image) or --capture (the SDK's)")
    selfie = _read_selfie(args.capture or args.selfie)
    preview = _read_selfie(args.selfie) if args.capture and args.selfie else None
    raw: dict[str, Any] = {
        "request_id": args.request_id or uuid.uuid4().hex,
        "subject": {"code": args.cpf, "name": args.name, "email": args.email, "phone": args.phone},
        "selfie_ref": "pending-upload",
    }
    options: dict[str, Any] = {}
    if args.review:
        options["review"] = {"enabled": True}
    if args.register:
        options["account"] = {"register": True}
    if args.mfa:
        options["mfa"] = {"enroll": True}
    if options:
        raw["options"] = options
    # Refuse here what the workflow would refuse, before uploading anything.
    checked = parse_request(raw)
    if not isinstance(checked, OnboardingRequest):
        raise CommandError(f"invalid request ({checked.code}): {checked.message}")
    client = await connect(settings)
    selfie_ref = await store_selfie(settings, selfie, preview)
    request = OnboardingRequest.model_validate({**raw, "selfie_ref": selfie_ref})
    if args.wait_decision:
        handle, decision = await start_for_decision(client, request, settings.task_queue)
        payload: dict[str, Any] = {"workflow_id": handle.id, "decision": dump(decision)}
        emit(args.json, payload, f"started {handle.id}\n{describe_result(payload['decision'])}")
        return outcome_exit(decision.outcome)
    handle = await start_onboarding(client, request, settings.task_queue)
    payload = {"workflow_id": handle.id}
    text = f"started {handle.id}"
    code = Exit.DONE
    if args.wait:
        result = await handle.result()
        payload["result"] = dump(result)
        text += "\n" + describe_result(payload["result"])
        code = outcome_exit(result.outcome)
    emit(args.json, payload, text)
    return code


async def cmd_status(args: argparse.Namespace) -> int:
    client = await connect(load_settings())
    status = dump(await onboarding_status(client, args.request_id))
    emit(args.json, status, status_text(status))
    return 0


async def cmd_result(args: argparse.Namespace) -> int:
    client = await connect(load_settings())
    result = await handle_for(client, args.request_id).result()
    emit(args.json, dump(result), describe_result(dump(result)))
    return outcome_exit(result.outcome)


def cmd_decide(args: argparse.Namespace) -> int:
    source = sys.stdin if args.file == "-" else _open_text(args.file)
    try:
        process = UnicoProcess.model_validate_json(source.read())
    except ValidationError as exc:
        raise CommandError(f"not a GET /processes/v1 answer: {exc.errors()[0]['msg']}") from None
    decision = decide(process)
    payload = {"outcome": decision.outcome, "reasons": [dump(r) for r in decision.reasons]}
    text = f"outcome: {decision.outcome or 'not final yet'}\n" + "\n".join(
        f"  {r.code}: {r.message}" for r in decision.reasons
    )
    emit(args.json, payload, text)
    return 0


def cmd_explain(args: argparse.Namespace) -> int:
    if args.all:
        answers = explain.explain_all()
        payload: Any = [answer.as_json() for answer in answers]
        text = explain.table(answers)
    elif args.code is None:
        raise CommandError("give a CODE, or --all")
    else:
        answers = explain.explain(args.code, args.system)
        payload = [answer.as_json() for answer in answers]
        payload = payload[0] if len(payload) == 1 else payload  # a list when several match
        text = explain.describe(answers)
    emit(args.json, payload, text)
    return 0


# --- helpers ----------------------------------------------------------------------------


def _read_selfie(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise CommandError(f"cannot read the selfie {path}: {exc.strerror}") from None


def _open_text(path: str) -> Any:
    try:
        return open(path, encoding="utf-8")
    except OSError as exc:
        raise CommandError(f"cannot read {path}: {exc.strerror}") from None


# --- parser -----------------------------------------------------------------------------


def build_parser() -> tuple[argparse.ArgumentParser, dict[str, plugins.Handler]]:
    """The parser, and the handler of each command."""
    parser = argparse.ArgumentParser(prog="onboarding", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    json_flag = argparse.ArgumentParser(add_help=False)
    json_flag.add_argument("--json", action="store_true", help="machine-readable output")

    start = commands.add_parser("start", parents=[json_flag], help="start an onboarding")
    start.add_argument("--cpf", required=True)
    start.add_argument("--name", required=True)
    start.add_argument(
        "--selfie",
        type=Path,
        help="image file (PNG, JPEG or WebP); beside --capture, the image the person saw, "
        "kept for reviewers and never sent to Unico",
    )
    start.add_argument(
        "--capture",
        type=Path,
        help="a file holding the sealed string of Unico's SDK (`encrypted`), for liveness",
    )
    start.add_argument("--email")
    start.add_argument("--phone")
    start.add_argument("--request-id", help="idempotency key (default: a new id)")
    start.add_argument(
        "--review", action="store_true", help="a `review` decision waits for a reviewer"
    )
    start.add_argument(
        "--register", action="store_true", help="an approved person gets an Identity Cloud account"
    )
    start.add_argument(
        "--mfa",
        action="store_true",
        help="an approved person enrolls --phone in Guardian MFA (needs --register)",
    )
    waiting = start.add_mutually_exclusive_group()
    waiting.add_argument("--wait", action="store_true", help="wait for the whole journey")
    waiting.add_argument(
        "--wait-decision",
        action="store_true",
        help="wait only for the identity decision (update-with-start)",
    )

    for name, text in (("status", "where an onboarding is"), ("result", "wait for a result")):
        command = commands.add_parser(name, parents=[json_flag], help=text)
        command.add_argument("request_id")

    decide_cmd = commands.add_parser(
        "decide", parents=[json_flag], help="decide on a GET /processes/v1 answer"
    )
    decide_cmd.add_argument("file", nargs="?", default="-", help="JSON file, or - for stdin")

    explain_cmd = commands.add_parser(
        "explain", parents=[json_flag], help="what an error code means and what the worker does"
    )
    explain_cmd.add_argument("code", nargs="?", help="e.g. 1.2.18, 20507, 414, invalid_otp")
    explain_cmd.add_argument("--system", choices=explain.ERROR_SYSTEMS)
    explain_cmd.add_argument("--all", action="store_true", help="every catalogued code")

    review.add_parser(commands, json_flag)
    otp.add_parser(commands, json_flag)
    # The commands other distributions add (the dev tooling's `dev` and `demo`).
    present = plugins.installed()
    for plugin in present.values():
        plugin.add_parser(commands, json_flag)
    handlers: dict[str, plugins.Handler] = {
        **HANDLERS,
        **{plugin.name: plugin.handler for plugin in present.values()},
        **plugins.add_missing(commands, present),
    }
    return parser, handlers


HANDLERS: dict[str, Callable[[argparse.Namespace], int | Awaitable[int]]] = {
    "start": cmd_start,
    "status": cmd_status,
    "result": cmd_result,
    "decide": cmd_decide,
    "explain": cmd_explain,
    "review": review.cmd_review,
    "otp": otp.cmd_otp,
}


def main(argv: list[str] | None = None) -> int:
    """Run one command; its exit code is an `Exit` (argparse's usage errors exit 2 too)."""
    parser, handlers = build_parser()
    args = parser.parse_args(argv)
    # A running stack's env file, under the environment; `dev` starts a stack of its own.
    found: AbstractContextManager[object] = (
        nullcontext() if args.command == "dev" else stack_defaults()
    )
    try:
        with found:
            outcome = handlers[args.command](args)
            return asyncio.run(outcome) if asyncio.iscoroutine(outcome) else int(outcome)  # type: ignore[arg-type]
    except (
        CommandError,
        SettingsError,
        StackUnavailable,
        UpdateRefused,
        ValueError,
        plugins.NotInstalled,
    ) as exc:
        print(f"onboarding {args.command}: {exc}", file=sys.stderr)
        return Exit.COULD_NOT_RUN
    except WorkflowFailureError as exc:
        print(f"onboarding {args.command}: the onboarding failed: {exc.cause}", file=sys.stderr)
        return Exit.ANSWERED_NO
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            print(f"onboarding {args.command}: no such onboarding", file=sys.stderr)
        else:
            print(f"onboarding {args.command}: Temporal answered: {exc.message}", file=sys.stderr)
        return Exit.COULD_NOT_RUN
    except KeyboardInterrupt:
        return Exit.INTERRUPTED


def entry() -> None:
    """Console entry point: run, then leave without interpreter teardown (runtime.entry)."""
    configure_logging("WARNING")  # library warnings as redacted JSON lines on stderr
    forward_core_logs()  # the SDK core's too
    leave(main())


if __name__ == "__main__":
    entry()
