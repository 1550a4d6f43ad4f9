"""`onboarding dev`'s watch over the stack it started, as a process manager would keep it.

A worker that dies (a crash, `kill -9`) is started again: it holds nothing of its own, since
Temporal keeps every onboarding, so the new one takes up where the dead one stopped, while
the server, the sandbox (its processes, records and fault rules) and the gateway run on.
The wait before a restart doubles while the worker keeps dying soon after its start (1 s,
2 s, 4 s ... 30 s), so a worker that cannot start does not spin; a run that lasted 30 s
resets it. Any other part that dies stops the whole stack: those hold the state.
"""

from __future__ import annotations

import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

from devstack.stack import Child, DevStack, DevStackConfig, DevStackError, banner

FIRST_DELAY_SECONDS = 1.0
MAX_DELAY_SECONDS = 30.0
STABLE_AFTER_SECONDS = 30.0  # a run this long makes the next death count as a first one
CHECK_EVERY_SECONDS = 0.5


@dataclass
class RestartBackoff:
    """The wait before each restart of one worker."""

    next_delay: float = FIRST_DELAY_SECONDS

    def after_exit(self, ran_for: float) -> float:
        if ran_for >= STABLE_AFTER_SECONDS:
            self.next_delay = FIRST_DELAY_SECONDS
        delay = self.next_delay
        self.next_delay = min(delay * 2, MAX_DELAY_SECONDS)
        return delay


def exit_description(returncode: int) -> str:
    """`code 1`, or `code -9 (SIGKILL)` for a process a signal ended."""
    if returncode < 0:
        try:
            return f"code {returncode} ({signal.Signals(-returncode).name})"
        except ValueError:
            pass
    return f"code {returncode}"


class Supervisor:
    """Restarts the stack's dead workers; a dead part of another kind is a DevStackError."""

    def __init__(self, stack: DevStack, say: Callable[[str], None]) -> None:
        self._stack = stack
        self._say = say
        self._backoffs: dict[str, RestartBackoff] = {}
        self._restart_at: dict[str, float] = {}  # dead workers waiting out their delay

    def check(self, now: float) -> None:
        for child in list(self._stack.children):
            returncode = child.process.poll()
            if returncode is None:
                continue
            if not child.restartable:
                raise DevStackError(f"{child.name} stopped unexpectedly; see {child.log}")
            if child.name not in self._restart_at:
                self._schedule(child, returncode, now)
            elif now >= self._restart_at[child.name]:
                del self._restart_at[child.name]
                restarted = self._stack.respawn(child)
                self._say(f"{child.name} restarted (pid {restarted.pid})")

    def _schedule(self, child: Child, returncode: int, now: float) -> None:
        backoff = self._backoffs.setdefault(child.name, RestartBackoff())
        delay = backoff.after_exit(now - child.started_at)
        self._restart_at[child.name] = now + delay
        self._say(
            f"{child.name} exited with {exit_description(returncode)}; "
            f"restarting it in {delay:g}s (see {child.log})"
        )


def say(text: str) -> None:
    print(f"onboarding dev: {text}", file=sys.stderr, flush=True)


def run_dev_stack(config: DevStackConfig | None = None) -> int:
    stack = DevStack(config)
    stopping = False

    def request_stop(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    try:
        stack.start()
        print(banner(stack.config), flush=True)
        supervisor = Supervisor(stack, say)
        while not stopping:
            supervisor.check(time.monotonic())
            time.sleep(CHECK_EVERY_SECONDS)
        print("stopping the stack ...", flush=True)
        code = 0
    except DevStackError as exc:
        say(str(exc))
        code = 1
    finally:
        unclean = stack.stop()  # whatever happened, no child outlives the supervisor
    for child in unclean:
        say(f"{child} did not stop cleanly")
    return 1 if unclean else code
