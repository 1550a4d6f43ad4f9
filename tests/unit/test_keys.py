"""Secrets from settings: the keyring and the Unico key, from a variable or a file."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from activities import SystemSettingsError
from activities.unico import UnicoSettings
from onboarding.runtime.errors import SettingsError
from onboarding.runtime.secrets import load_keyring, with_dev_secrets
from onboarding.runtime.settings import Settings
from onboarding_client.config import CallerConfig, CallerConfigError
from tests.support import TEST_KEYS, fixed_key, make_key_pair


def settings(**values: object) -> Settings:
    return Settings.model_validate(values)


def secret_file(tmp_path: Path, text: str, mode: int) -> Path:
    path = tmp_path / "secret"
    path.write_text(text)
    path.chmod(mode)
    return path


def test_keys_from_a_variable() -> None:
    keyring = load_keyring(settings(onboarding_encryption_keys=TEST_KEYS))
    assert keyring.current_id == "test-1"


def test_keys_from_a_private_file_load_without_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = secret_file(tmp_path, f"a:{fixed_key('a')}\nb:{fixed_key('b')}\n", 0o600)
    keyring = load_keyring(settings(onboarding_encryption_keys_file=path))
    assert keyring.key_ids == ["a", "b"]
    assert caplog.records == []


def test_a_key_file_open_to_others_loads_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = secret_file(tmp_path, f"a:{fixed_key('a')}", 0o644)
    load_keyring(settings(onboarding_encryption_keys_file=path))
    (record,) = caplog.records
    assert record.levelno == logging.WARNING
    assert "chmod 600" in record.getMessage() and "644" in record.getMessage()
    assert fixed_key("a") not in record.getMessage()


@pytest.mark.parametrize(
    ("values", "words"),
    [
        ({}, "ONBOARDING_ENCRYPTION_KEYS .*is not set"),
        ({"onboarding_encryption_keys": "a:short"}, "ONBOARDING_ENCRYPTION_KEYS: key 'a'"),
        (
            {"onboarding_encryption_keys": TEST_KEYS, "onboarding_encryption_keys_file": "x"},
            "not both",
        ),
        ({"onboarding_encryption_keys_file": "/nonexistent/keys"}, "cannot read"),
        ({"onboarding_encryption_keys": TEST_KEYS, "onboarding_encryption_key_id": "x"}, "'x'"),
    ],
)
def test_refusals_name_the_setting(values: dict[str, object], words: str) -> None:
    with pytest.raises(SettingsError, match=words) as refused:
        load_keyring(settings(**values))
    assert TEST_KEYS.split(":")[1] not in str(refused.value)


def test_the_worker_and_a_caller_refuse_an_unreadable_key_file_alike() -> None:
    said = "ONBOARDING_ENCRYPTION_KEYS_FILE: cannot read /nonexistent/keys: No such file"
    with pytest.raises(SettingsError, match=f"^{said}"):
        load_keyring(settings(onboarding_encryption_keys_file="/nonexistent/keys"))
    with pytest.raises(CallerConfigError, match=f"^{said}"):
        CallerConfig.from_environment({"ONBOARDING_ENCRYPTION_KEYS_FILE": "/nonexistent/keys"})


def test_the_unico_key_from_a_variable_or_a_file(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = make_key_pair(tmp_path).private  # mode 600
    pem = path.read_bytes()
    assert UnicoSettings(private_key=pem.decode()).private_key_pem() == pem
    assert UnicoSettings(private_key_file=path).private_key_pem() == pem
    assert caplog.records == []
    path.chmod(0o640)
    assert UnicoSettings(private_key_file=path).private_key_pem() == pem
    (warning,) = caplog.records
    assert "UNICO_PRIVATE_KEY_FILE" in warning.getMessage() and "640" in warning.getMessage()
    assert pem.decode()[40:80] not in warning.getMessage()


def test_a_bad_unico_key_in_a_variable_is_refused_without_echoing_it() -> None:
    with pytest.raises(
        SystemSettingsError, match=r"^UNICO_PRIVATE_KEY is not an unencrypted"
    ) as bad:
        UnicoSettings(private_key="not-a-key-s3cr3t").private_key_pem()
    assert "s3cr3t" not in str(bad.value)
    with pytest.raises(SystemSettingsError, match="UNICO_PRIVATE_KEY_FILE"):
        UnicoSettings(service_account="a@b.iam.acesso.io", api_key="k").check()


def test_the_cli_falls_back_to_the_dev_keyring_only_when_none_is_set(tmp_path: Path) -> None:
    bare = settings(state_dir=tmp_path)
    assert with_dev_secrets(bare) == bare  # no dev stack here: nothing to fall back to
    (tmp_path / "keys").mkdir()
    secret_file(tmp_path / "keys", "", 0o600).rename(tmp_path / "keys" / "payload-keys")
    assert with_dev_secrets(bare).onboarding_encryption_keys_file == (
        tmp_path / "keys" / "payload-keys"
    )
    configured = settings(state_dir=tmp_path, onboarding_encryption_keys=TEST_KEYS)
    assert with_dev_secrets(configured) == configured


def test_the_cli_falls_back_to_the_dev_gateway_token_only_when_none_is_set(
    tmp_path: Path,
) -> None:
    bare = settings(state_dir=tmp_path, onboarding_encryption_keys=TEST_KEYS)
    assert with_dev_secrets(bare).gateway_api_token is None
    (tmp_path / "keys").mkdir()
    (tmp_path / "keys" / "gateway-token").write_text("dev-token\n")
    found = with_dev_secrets(bare).gateway_api_token
    assert found is not None and found.get_secret_value() == "dev-token"
    configured = settings(state_dir=tmp_path, gateway_api_token="mine")
    assert with_dev_secrets(configured) == configured
