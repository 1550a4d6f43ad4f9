"""`onboarding explain` and the reaction table it reads: every class has a reaction."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from activities.catalog import load_catalog
from onboarding.cli.explain import ERROR_SYSTEMS, UnknownCode, catalogs, explain, explain_all
from onboarding.cli.main import main
from onboarding_client.contract.errors import CATALOG_CLASSES, ErrorClass
from onboarding_client.contract.outcome import Outcome
from onboarding_client.contract.status import Stage
from workflows.reactions import REACTIONS, WORKFLOW_HANDLED, Remedy, reaction_for


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["explain", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_a_code_as_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "1.2.18", "--json")
    assert code == 0
    answer = json.loads(out)
    assert {k: answer[k] for k in ("system", "code", "name", "class")} == {
        "system": "unico-auth",
        "code": "1.2.18",
        "name": "account_locked",
        "class": "locked",
    }
    assert "temporarily locked" in answer["description"]
    assert "blocked_locked" in answer["worker_does"]


def test_portuguese_stays_beside_the_english(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, "20507", "--system", "unico-process", "--json")
    answer = json.loads(out)
    assert answer["class"] == "invalid_request"
    assert "CPF fora do padrão" in answer["description_pt"]
    assert answer["worker_does"] == "no retry: outcome invalid_request"


def test_text_output_names_the_class_and_the_action(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "10201")
    assert code == 0
    assert out.startswith("unico-process 10201 (invalid_api_key): configuration")
    assert "the worker: an operator must act" in out


def test_a_code_covered_by_a_catch_all(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, "215", "--json")
    answer = json.loads(out)
    assert (answer["class"], answer["matched_by"], answer["covered_by"]) == (
        "invalid_request",
        "catch_all",
        "210",
    )


@pytest.mark.parametrize(
    "args", [("99998",), ("1.2.99", "--system", "unico-auth"), ("215", "--system", "mfa")]
)
def test_an_unknown_code_exits_2_with_one_line(capsys: pytest.CaptureFixture[str], args) -> None:
    code, out, err = run(capsys, *args)
    assert code == 2 and out == ""
    assert err.startswith("onboarding explain: no catalog") and err.count("\n") == 1
    assert "HTTP status" in err


def test_no_code_and_no_all_is_an_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys)
    assert code == 2 and "give a CODE" in err


def test_all_lists_every_catalogued_code(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--all", "--json")
    rows = json.loads(out)
    assert code == 0
    assert len(rows) == sum(len(c.entries) for c in catalogs().values()) == 114
    assert {row["class"] for row in rows} == CATALOG_CLASSES - {"gone"}
    _, text, _ = run(capsys, "--all")
    assert text.splitlines()[0].split() == ["system", "code", "name", "class"]
    assert "  locked: the account is locked" in text


def test_a_code_in_several_systems_lists_every_match(tmp_path: Path, capsys) -> None:
    for system, name in (("alpha", "a.toml"), ("beta", "b.toml")):
        (tmp_path / name).write_text(
            f'system = "{system}"\ntitle = "{system}"\n'
            f'[[code]]\ncode = "42"\ndescription = "{system} says no"\nclass = "permanent"\n'
        )
    known = {name: load_catalog(tmp_path / f"{name[0]}.toml") for name in ("alpha", "beta")}
    answers = explain("42", known=known)
    assert [(a.system, a.description) for a in answers] == [
        ("alpha", "alpha says no"),
        ("beta", "beta says no"),
    ]
    assert [a.system for a in explain("42", "beta", known)] == ["beta"]
    with pytest.raises(UnknownCode):
        explain("43", known=known)
    assert len(explain_all(known)) == 2


def test_the_cli_knows_the_catalogs_systems() -> None:
    assert set(ERROR_SYSTEMS) == set(catalogs())


def test_every_class_has_a_reaction() -> None:
    assert set(REACTIONS) == {*ErrorClass, ErrorClass.AMBIGUOUS_CREATE}
    assert reaction_for("no such type").outcome is Outcome.ERROR
    # The activity retries these two; the workflow handles every other type.
    assert set(WORKFLOW_HANDLED) == set(REACTIONS) - {"transient", "rate_limited"}
    finishing = {t: r.outcome for t, r in REACTIONS.items() if r.remedy is Remedy.FINISH}
    assert finishing == {
        "invalid_request": Outcome.INVALID_REQUEST,
        "recapture": Outcome.RECAPTURE,
        "permanent": Outcome.ERROR,
        "already_exists": Outcome.ERROR,  # never reaches the workflow: the activity adopts
    }
    waiting = {t: r.stage for t, r in REACTIONS.items() if r.remedy is Remedy.WAIT_FOR_OPERATOR}
    assert waiting == {
        "configuration": Stage.BLOCKED_CONFIGURATION,
        "locked": Stage.BLOCKED_LOCKED,
    }
