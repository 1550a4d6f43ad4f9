"""A running stack's `env` file: what `onboarding dev` writes (secrets as file paths, values
shell-quoted), and how every `onboarding` command reads it: as defaults under the
environment, a secret never taken twice, Temporal's connection whole or not at all; and the
gateway token's file form, which the file gives."""

from __future__ import annotations

import os
import re
import shlex
import stat
import subprocess
from pathlib import Path

import pytest

from devstack import credentials
from devstack.stack import (
    DevPorts,
    DevStack,
    DevStackConfig,
    banner,
    env_path,
    shell_environment,
    stack_environment,
)
from onboarding.cli.main import main
from onboarding.cli.stack_env import (
    defaults_under,
    env_file,
    export_lines,
    read_env_file,
    stack_defaults,
)
from onboarding.gateway.uploads import upload_token
from onboarding.runtime.errors import SettingsError
from onboarding.runtime.secrets import load_gateway_token, with_dev_secrets
from onboarding.runtime.settings import Settings
from tests.support import LOOPBACK, TEST_KEYS

ODD = {"A_URL": "http://127.0.0.1:1/x?a=1&b=2", "SPACED": "a b 'c' \"d\" $HOME `x`", "EMPTY": ""}


def test_the_file_reads_back_what_was_written_and_a_shell_agrees(tmp_path: Path) -> None:
    path = tmp_path / "env"
    path.write_text(export_lines(ODD) + "not an export line\nexport 'unclosed\n")
    assert read_env_file(path) == ODD
    names = " ".join(f'"${name}"' for name in ODD)
    shell = subprocess.run(
        ["bash", "-c", f". {shlex.quote(str(path))} 2>/dev/null; printf '%s\\n' {names}"],
        capture_output=True,
        text=True,
        env={"PATH": os.environ["PATH"]},
        check=False,
    )
    assert shell.stdout.split("\n")[:3] == list(ODD.values())


def test_no_file_adds_nothing(tmp_path: Path) -> None:
    assert read_env_file(tmp_path / "missing") == {}
    assert env_file({}) == Path(".state/env")
    assert env_file({"STATE_DIR": str(tmp_path)}) == tmp_path / "env"


def test_the_environment_wins_variable_by_variable() -> None:
    found = {"GATEWAY_URL": "http://file", "CONSOLE_PUBLIC_URL": "http://console"}
    assert defaults_under({"GATEWAY_URL": "http://mine"}, found) == {
        "CONSOLE_PUBLIC_URL": "http://console"
    }
    # An empty variable counts as unset (Compose passes unset ones so).
    assert defaults_under({"GATEWAY_URL": " "}, found) == found


@pytest.mark.parametrize("given", ["GATEWAY_API_TOKEN", "GATEWAY_API_TOKEN_FILE"])
def test_a_secret_given_either_way_takes_neither_form_from_the_file(given: str) -> None:
    found = {"GATEWAY_API_TOKEN_FILE": "/stack/keys/gateway-token", "STATE_DIR": "/stack"}
    assert defaults_under({given: "mine"}, found) == {"STATE_DIR": "/stack"}


@pytest.mark.parametrize(
    "given", ["TEMPORAL_PROFILE", "TEMPORAL_API_KEY", "TEMPORAL_GRPC_META_X", "TEMPORAL_ADDRESS"]
)
def test_temporal_comes_whole_from_the_environment_or_the_file(given: str) -> None:
    found = {
        "TEMPORAL_CONFIG_FILE": "/stack/temporal.toml",
        "TEMPORAL_ADDRESS": "127.0.0.1:1234",
        "TEMPORAL_NAMESPACE": "default",
        "GATEWAY_URL": "http://127.0.0.1:1235",
    }
    assert defaults_under({given: "x"}, found) == {"GATEWAY_URL": "http://127.0.0.1:1235"}
    # A variable of ours that only shares the prefix does not count.
    assert defaults_under({"TEMPORAL_WORKER_BUILD_ID": "b"}, found) == found


def test_the_defaults_last_only_as_long_as_the_block(tmp_path: Path) -> None:
    (tmp_path / "env").write_text(export_lines({"GATEWAY_URL": "http://f", "NEW_ONE": "n"}))
    environ = {"STATE_DIR": str(tmp_path), "GATEWAY_URL": "http://mine"}
    with stack_defaults(environ) as added:
        assert added == {"NEW_ONE": "n"}
        assert environ["NEW_ONE"] == "n" and environ["GATEWAY_URL"] == "http://mine"
    assert environ == {"STATE_DIR": str(tmp_path), "GATEWAY_URL": "http://mine"}


# --- the commands -------------------------------------------------------------------------


@pytest.fixture
def stack_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A stack's file under STATE_DIR whose Temporal is at a port where nothing listens."""
    address = f"{LOOPBACK}:{DevPorts.free().temporal}"
    keys = tmp_path / "keys"
    keys.mkdir()
    (keys / "payload-keys").write_text(TEST_KEYS + "\n")
    values = {
        "TEMPORAL_ADDRESS": address,
        "TEMPORAL_NAMESPACE": "default",
        "STATE_DIR": str(tmp_path),
        "ONBOARDING_ENCRYPTION_KEYS_FILE": str(keys / "payload-keys"),
    }
    (tmp_path / "env").write_text(export_lines(values))
    for name in list(os.environ):
        if name.startswith(("TEMPORAL_", "ONBOARDING_ENCRYPTION_KEYS")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("STATE_DIR", str(tmp_path))
    return address


def test_a_command_finds_the_stack_in_the_file(
    stack_file: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["status", "r-1"]) == 2
    assert f"cannot reach Temporal at {stack_file}" in capsys.readouterr().err
    assert "TEMPORAL_ADDRESS" not in os.environ, "taken away after the command"


def test_a_variable_of_the_environment_wins_over_the_file(
    stack_file: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    mine = f"{LOOPBACK}:{DevPorts.free().temporal}"
    monkeypatch.setenv("TEMPORAL_ADDRESS", mine)
    assert main(["status", "r-1"]) == 2
    err = capsys.readouterr().err
    assert f"cannot reach Temporal at {mine}" in err and stack_file not in err


# --- what `onboarding dev` writes ---------------------------------------------------------


def config(tmp_path: Path, payload_keys: str | None = None) -> DevStackConfig:
    made = DevStackConfig(tmp_path / "state", DevPorts.free(), payload_keys=payload_keys)
    return DevStack(made).config


def test_the_stack_names_its_secrets_by_their_files_never_their_values(tmp_path: Path) -> None:
    made = config(tmp_path)
    environment = stack_environment(made)
    values = shell_environment(made, environment)
    assert values["ONBOARDING_ENCRYPTION_KEYS_FILE"] == str(made.keys_dir / "payload-keys")
    assert values["GATEWAY_API_TOKEN_FILE"] == str(made.keys_dir / "gateway-token")
    assert values["TEMPORAL_ADDRESS"] == f"{LOOPBACK}:{made.ports.temporal}"
    assert values["SANDBOX_URL"] == f"http://{LOOPBACK}:{made.ports.sandbox}"
    assert values["GUARDIAN_URL"] == f"http://{LOOPBACK}:{made.ports.sandbox}/guardian"
    assert values["CONSOLE_PUBLIC_URL"] == f"http://{LOOPBACK}:{made.ports.console}"
    assert values["STATE_DIR"] == str(made.state_dir)
    text = export_lines(values)
    for secret in (environment["GATEWAY_API_TOKEN"], environment["CODEC_AUTH_TOKEN"]):
        assert secret not in text
    assert (made.keys_dir / "payload-keys").read_text().split(":")[1].strip() not in text


def test_a_keyring_given_as_a_value_gets_a_private_file_of_its_own(tmp_path: Path) -> None:
    made = config(tmp_path, payload_keys=TEST_KEYS)
    values = shell_environment(made, stack_environment(made))
    keyring = Path(values["ONBOARDING_ENCRYPTION_KEYS_FILE"])
    assert keyring.read_text().strip() == TEST_KEYS
    assert stat.S_IMODE(keyring.stat().st_mode) == 0o600
    assert TEST_KEYS not in export_lines(values)


def test_the_banner_says_how_to_reach_this_stack_and_no_other(tmp_path: Path) -> None:
    # Ports that share no digits' run with the defaults (a free port may: 47233).
    ports = DevPorts(temporal=21001, ui=21002, gateway=21003, sandbox=21004, console=21005)
    made = DevStackConfig(tmp_path / "state", ports)
    said = banner(made)
    tried = said.split("Try, in another terminal:\n", 1)[1].splitlines()
    assert tried[0] == f"  . {shlex.quote(str(env_path(made)))}"
    defaults = (7233, 8088, 8089, 8090, 8233)
    assert not [port for port in defaults if re.search(rf"(?<!\d){port}(?!\d)", said)]
    rows = said.split("\nTry", 1)[0].splitlines()[1:]
    columns = {re.match(r"  \S+(?: \S+)*  +", row).end() for row in rows}  # type: ignore[union-attr]
    assert len(rows) == 10 and len(columns) == 1, "every value in one column"


def test_a_shell_that_sourced_a_stack_leads_no_new_stack_there(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GATEWAY_API_TOKEN_FILE", "/another/stack/keys/gateway-token")
    environment = stack_environment(config(tmp_path))
    assert "GATEWAY_API_TOKEN_FILE" not in environment
    assert environment["GATEWAY_API_TOKEN"] == credentials.gateway_token(
        tmp_path / "state" / "keys"
    )


# --- the gateway's token from a file: the form the env file gives it --------------------


def test_the_gateway_token_comes_from_its_file_for_the_cli_and_the_gateway(tmp_path: Path) -> None:
    path = tmp_path / "gateway-token"
    path.write_text("token-from-a-file\n")
    path.chmod(0o600)
    given = Settings(gateway_api_token_file=path, state_dir=tmp_path / "no-stack")
    token = with_dev_secrets(given).gateway_api_token
    assert token is not None and token.get_secret_value() == "token-from-a-file"
    assert upload_token(given).accepts({"authorization": "Bearer token-from-a-file"})
    both = Settings(gateway_api_token="mine", gateway_api_token_file=path)
    with pytest.raises(SettingsError, match="not both"):
        load_gateway_token(both)
