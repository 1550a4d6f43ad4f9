"""Without a payload key, nothing that talks to Temporal starts: one line, exit code 2."""

from __future__ import annotations

from pathlib import Path

import pytest

import worker
from onboarding.cli import main as cli
from onboarding.runtime import entry
from tests.support import make_key_pair


@pytest.fixture
def no_keys(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    for name in ("ONBOARDING_ENCRYPTION_KEYS", "ONBOARDING_ENCRYPTION_KEYS_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("STATE_DIR", str(tmp_path))  # no dev stack's keyring to fall back to
    monkeypatch.setenv("TEMPORAL_ADDRESS", "127.0.0.1:1")  # never reached
    # Keep pytest's log capture: the worker's main installs the JSON handler.
    monkeypatch.setattr(entry, "configure_logging", lambda level: None)
    return tmp_path


def assert_one_line_about_the_key(err: str) -> None:
    assert err.count("\n") == 1, err
    assert "ONBOARDING_ENCRYPTION_KEYS" in err


def test_the_worker_refuses(
    no_keys: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    keys = make_key_pair(no_keys / "keys")
    monkeypatch.setenv("UNICO_SERVICE_ACCOUNT", "svc@tenant.iam.acesso.io")
    monkeypatch.setenv("UNICO_PRIVATE_KEY_FILE", str(keys.private))
    monkeypatch.setenv("UNICO_API_KEY", "key")
    monkeypatch.setenv("TEMPORAL_WORKER_BUILD_ID", "test")
    assert worker.main([]) == 2
    assert_one_line_about_the_key(capsys.readouterr().err)


@pytest.mark.parametrize("command", [["status", "r-1"], ["result", "r-1"], ["demo"]])
def test_the_cli_refuses(
    no_keys: Path, command: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(command) == 2
    assert_one_line_about_the_key(capsys.readouterr().err)


def test_commands_without_temporal_need_no_key(
    no_keys: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    answer = tmp_path / "answer.json"
    answer.write_text('{"id": "p", "status": 3, "unicoId": {"result": "yes"}}')
    assert cli.main(["decide", str(answer), "--json"]) == 0
    assert '"approved"' in capsys.readouterr().out
