"""A real browser on the stack as users run it: Debian's Chromium driven by Playwright
(from PyPI; `make test` installs the `chromium` package when it is missing; nothing is
downloaded at test time), headless, on a fresh profile, with the flags that keep it off
the network."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from devstack.stack import DevPorts, DevStackConfig, free_port, stack_environment
from tests.e2e.local_stack import Stack, running_stack
from tests.support import serving_process

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# No background traffic: this machine's network refuses it, and tests need none.
QUIET = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PASSWORDS = {
    "ana@reviewers.example": "ana-dev-password",
    "bruno@reviewers.example": "bruno-dev-password",
    "carla@support.example": "carla-dev-password",
}


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    assert Path(CHROMIUM).exists(), "chromium is missing: `make test` installs it"
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=QUIET)
        yield launched
        launched.close()


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_stack(tmp_path_factory.mktemp("browser") / "stack") as running:
        yield running


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    """A person's own browser: cookies of its own."""
    opened = browser.new_context(viewport={"width": 1366, "height": 900})
    yield opened
    opened.close()


def console_url(stack: Stack) -> str:
    return f"http://127.0.0.1:{stack.ports['console']}"


def log_in(page: Page, console: str, username: str) -> None:
    """Through the identity provider's page, as a person does."""
    page.goto(f"{console}/reviews")
    page.get_by_role("link", name="Log in with the company account").click()
    page.get_by_label("Email address").fill(username)
    page.get_by_label("Password").fill(PASSWORDS[username])
    page.get_by_role("button", name="Continue").click()
    page.wait_for_load_state()


@pytest.fixture(scope="session")
def impatient_console(stack: Stack) -> Iterator[str]:
    """A second console on the same stack whose sessions end after 2 s without a request."""
    ports = replace(DevPorts(**stack.ports), console=free_port())
    env = stack_environment(DevStackConfig(stack.state_dir, ports))
    env["CONSOLE_SESSION_IDLE_SECONDS"] = "2"
    command = [sys.executable, "-m", "onboarding.console"]
    log = stack.state_dir / "logs" / "impatient-console.log"
    with serving_process(command, ports.console, log, env) as url:
        yield url
