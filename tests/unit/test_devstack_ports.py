"""The local stack's ports: one picked for a child stays its own until the child listens,
and a server that dies at start-up is reported at once, by its exit."""

import contextlib
import json
import socket
import sys
from pathlib import Path

import pytest

from devstack.stack import (
    LOOPBACK,
    DevStackError,
    free_port,
    register_search_attributes,
    start_child,
    wait_for_port,
)


def test_a_picked_port_goes_to_no_other_asker_and_its_child_still_binds_it() -> None:
    picked = {free_port() for _ in range(200)}
    with contextlib.ExitStack() as held:
        # What the Temporal dev server does for its inner services: bind(0), many times.
        others = set()
        for _ in range(500):
            sock = held.enter_context(socket.socket())
            sock.bind((LOOPBACK, 0))
            others.add(sock.getsockname()[1])
    assert len(picked) == 200
    assert not picked & others
    with socket.socket() as child:  # as Go, uvicorn and asyncio listen: SO_REUSEADDR
        child.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        child.bind((LOOPBACK, picked.pop()))
        child.listen()


def test_a_server_that_exits_at_start_up_is_reported_by_its_exit(tmp_path: Path) -> None:
    command = [sys.executable, "-c", "import sys; sys.exit(3)"]
    server = start_child("temporal", command, {}, tmp_path / "temporal.log")
    server.process.wait(10)
    with pytest.raises(DevStackError, match=r"temporal exited \(code 3\) at start-up"):
        register_search_attributes(free_port(), server, timeout=3600)
    attempts = server.log.read_text().splitlines()
    assert len(attempts) == 1  # one try, not an hour of them against a server that is gone
    record = json.loads(attempts[0])
    assert record["command"] == "operator search-attribute create" and record["exit"] != 0


def test_a_child_that_exits_before_its_port_opens_is_reported_by_its_exit(
    tmp_path: Path,
) -> None:
    command = [sys.executable, "-c", "import sys; sys.exit(4)"]
    gateway = start_child("gateway", command, {}, tmp_path / "gateway.log")
    gateway.process.wait(10)
    with pytest.raises(DevStackError, match=r"gateway exited \(code 4\) at start-up"):
        wait_for_port(free_port(), timeout=3600, child=gateway)
