"""The error catalogs: every code of every seed, in a catalog, with the class it must have."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from activities import classification, error_system, error_systems
from activities.catalog import CatalogError, load_catalog
from onboarding.cli.explain import catalogs
from onboarding_client.contract.errors import ErrorClass

SEEDS = Path(__file__).parents[2] / "spec" / "seeds"

T, R, K, IR, C, CFG, L, NF, P, AE = (
    ErrorClass.TRANSIENT,
    ErrorClass.RATE_LIMITED,
    ErrorClass.TOKEN_EXPIRED,
    ErrorClass.INVALID_REQUEST,
    ErrorClass.RECAPTURE,
    ErrorClass.CONFIGURATION,
    ErrorClass.LOCKED,
    ErrorClass.NOT_FOUND,
    ErrorClass.PERMANENT,
    ErrorClass.ALREADY_EXISTS,
)

# The expected class of every code in the seeds, written out here independently of the
# catalog files: docs/error-classes.md where it names the code, the catalogs' reasoning else.
EXPECTED: dict[str, dict[str, ErrorClass]] = {
    "unico-auth": {
        "1.0.1": CFG, "1.0.14": CFG, "1.1.1": CFG, "1.2.4": K, "1.2.5": CFG, "1.2.6": CFG,
        "1.2.7": K, "1.2.11": CFG, "1.2.14": CFG, "1.2.18": L, "1.2.19": CFG, "1.2.20": CFG,
        "1.2.21": CFG, "1.2.22": CFG, "1.3.1": CFG, "1.3.2": CFG,
    },
    "unico-process": {
        "10201": CFG, "10501": K, "10502": K, "10506": CFG, "10507": C, "10508": C,
        "20001": CFG, "20002": CFG, "20003": IR, "20004": IR, "20005": IR, "20006": IR,
        "20009": IR, "20023": P, "20505": IR, "20506": IR, "20507": IR, "20807": IR, "20900": IR,
        "30017": CFG, "50001": NF, "99999": T,
    },
    "identity-cloud": {
        "100": IR, "200": IR, "201": IR, "205": CFG, "210": IR, "211": IR, "212": IR, "213": IR,
        "214": IR, "221": CFG, "222": CFG, "223": CFG, "224": CFG, "226": CFG, "232": P,
        "233": P, "234": P, "300": T, "310": NF, "320": P, "330": P, "340": IR, "341": IR,
        "342": IR, "352": IR, "360": IR, "361": AE, "362": IR, "363": IR, "380": IR, "390": IR,
        "402": CFG, "403": CFG, "413": C, "414": K, "415": C, "416": C, "417": C, "420": CFG,
        "480": T, "500": T, "510": R, "540": T,
    },
    "mfa": {
        "invalid_token": K, "insufficient_scope": CFG, "invalid_bearer_format": CFG,
        "enrollment_conflict": AE, "tenant_not_found": CFG, "login_transaction_not_found": C,
        "error_sending_push_notification": T, "push_notification_wrong_credentials": CFG,
        "invalid_otp": IR, "invalid_recovery_code": IR, "invalid_body": IR,
        "invalid_query_string": IR, "enrollment_transaction_not_found": C,
        "invalid_phone_number": IR, "error_sending_sms": T, "feature_disabled": CFG,
        "feature_disabled_by_admin": CFG, "pn_endpoint_disabled": C, "too_many_sms": R,
        "too_many_pn": R, "too_many_sms_per_tenant": R, "too_many_pn_per_tenant": R,
        "field_required": IR, "method_not_found": P, "no_method_available": CFG,
        "enrollment_method_disabled": CFG, "auth_method_disabled": CFG,
        "invalid_otp_format": IR, "invalid_recovery_code_format": IR, "transaction_expired": C,
        "already_enrolled": AE, "not_enrolled": P, "invalid_enrollment": P,
    },
}  # fmt: skip

CASES = [(system, code, cls) for system, codes in EXPECTED.items() for code, cls in codes.items()]


@pytest.mark.parametrize(("system", "code", "expected"), CASES, ids=lambda v: str(v))
def test_every_seed_code_has_its_class(system: str, code: str, expected: ErrorClass) -> None:
    entry = catalogs()[system].entries[code]
    assert entry.error_class is expected
    # The classifier takes the code's own entry, whatever HTTP status came with it.
    for status in (None, 200, 400, 401, 500):
        found = classification(error_system(system), code, status)
        assert (found.error_class, found.rule) == (expected, "code")


def _seed(prefix: str) -> str:
    (path,) = SEEDS.glob(f"{prefix}_*.txt")
    return path.read_text(encoding="utf-8")


def seed_codes() -> dict[str, set[str]]:
    """Every code each seed names, read from the seed files themselves."""
    auth = set(re.findall(r"(?<![\d.])1\.\d+\.\d+(?![\d.])", _seed("000") + _seed("001")))
    # Seed 002 puts each code alone on a line before its name; "100" also opens a category.
    identity = set(re.findall(r"^(\d{3})$", _seed("002"), re.MULTILINE))
    # Seed 003 is a table: `code | description |`, after a header row.
    mfa = set(re.findall(r"^([a-z_]+) \|", _seed("003"), re.MULTILINE))
    # Seed 004 puts each five-digit code alone on a line, or after the example's closing brace.
    process = set(re.findall(r"^\}?(\d{5})$", _seed("004"), re.MULTILINE))
    return {"unico-auth": auth, "identity-cloud": identity, "mfa": mfa, "unico-process": process}


def test_the_seed_parser_finds_what_the_seeds_hold() -> None:
    found = seed_codes()
    assert {system: len(codes) for system, codes in found.items()} == {
        "unico-auth": 16,
        "identity-cloud": 43,
        "mfa": 33,
        "unico-process": 22,
    }
    assert {"1.2.20", "1.2.21", "540", "invalid_enrollment", "20023", "99999"} <= set().union(
        *found.values()
    )


@pytest.mark.parametrize("system", EXPECTED)
def test_every_code_in_the_seeds_is_in_a_catalog_and_no_other(system: str) -> None:
    listed = set(catalogs()[system].entries)
    in_seeds = seed_codes()[system]
    assert in_seeds - listed == set(), "seed codes missing from the catalog"
    assert listed - in_seeds == set(), "catalog codes that no seed names"
    assert set(EXPECTED[system]) == in_seeds, "this test's table covers every seed code"


def test_every_entry_is_described() -> None:
    for catalog in catalogs().values():
        for entry in catalog.entries.values():
            assert entry.name and entry.description, entry
    # Seed 004 is Portuguese: each of its codes keeps the seed's own words beside ours.
    assert all(e.description_pt for e in catalogs()["unico-process"].entries.values())
    assert catalogs()["unico-auth"].entries["1.2.7"].description_pt


def test_the_catalog_files_are_the_four_systems() -> None:
    assert len(error_systems()) == 4
    assert set(catalogs()) == {"unico-auth", "unico-process", "identity-cloud", "mfa"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('system = "x"\ntitle = "x"\n[[code]]\ncode = "1"\ndescription = "d"\nclass = "nope"\n',
         "code 1: unknown class 'nope'"),
        ('system = "x"\ntitle = "x"\n[[code]]\ncode = "1"\nclass = "transient"\n',
         "code 1: `description` must be a non-empty string"),
        ('system = "x"\ntitle = "x"\n', "no [[code]] entries"),
        ('system = "x"\ntitle = "x"\n[[code]]\ncode = "1"\ndescription = "d"\nclass = "gone"\n'
         '[[code]]\ncode = "1"\ndescription = "d"\nclass = "gone"\n', "code 1: listed twice"),
        ('system = "x"\ntitle = "x"\n[http_status]\n"500" = "flaky"\n[[code]]\ncode = "1"\n'
         'description = "d"\nclass = "gone"\n', "http_status 500: unknown class 'flaky'"),
        ("system = ", "bad.toml: "),
    ],
)  # fmt: skip
def test_a_malformed_catalog_fails_loudly(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(CatalogError) as caught:
        load_catalog(path)
    assert str(caught.value).startswith("bad.toml")
    assert message in str(caught.value)
