"""`onboarding dev` and `onboarding demo`: the commands the dev tooling adds to `onboarding`.

They come with the dev tooling's distribution (an entry point in group `onboarding.commands`):
the product's CLI names them, and without the tooling says in one line where they come from.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from devstack import demo
from devstack.stack import DevPorts, DevStackConfig
from devstack.supervisor import run_dev_stack
from onboarding.cli.common import emit, load_settings
from onboarding.cli.plugins import Command
from onboarding.temporal.client import connect


def add_dev(commands: Any, json_flag: argparse.ArgumentParser) -> None:
    dev = commands.add_parser("dev", parents=[json_flag], help="run the local stack")
    dev.add_argument("--state-dir", type=Path, default=Path(".state"))
    defaults = DevPorts()
    dev.add_argument("--temporal-port", type=int, default=defaults.temporal)
    dev.add_argument("--ui-port", type=int, default=defaults.ui)
    dev.add_argument("--gateway-port", type=int, default=defaults.gateway)
    dev.add_argument("--sandbox-port", type=int, default=defaults.sandbox)
    dev.add_argument("--console-port", type=int, default=defaults.console)
    dev.add_argument(
        "--async-delay", type=float, default=5.0, help="seconds the sandbox takes to score"
    )
    dev.add_argument(
        "--no-webhooks", action="store_true", help="the sandbox sends no webhook: polling only"
    )


def cmd_dev(args: argparse.Namespace) -> int:
    ports = DevPorts(
        args.temporal_port, args.ui_port, args.gateway_port, args.sandbox_port, args.console_port
    )
    return run_dev_stack(
        DevStackConfig(args.state_dir, ports, args.async_delay, webhooks=not args.no_webhooks)
    )


def add_demo(commands: Any, json_flag: argparse.ArgumentParser) -> None:
    commands.add_parser("demo", parents=[json_flag], help="run every scenario CPF")


async def cmd_demo(args: argparse.Namespace) -> int:
    settings = load_settings()
    client = await connect(settings)
    rows = await demo.run_demo(client, settings, progress=None if args.json else print)
    all_match = all(row.matches for row in rows)
    payload = {"all_match": all_match, "rows": [row.as_json() for row in rows]}
    emit(args.json, payload, demo.table(rows))
    return 0 if all_match else 1


DEV = Command("dev", add_dev, cmd_dev)
DEMO = Command("demo", add_demo, cmd_demo)
