"""decide(process, bands) -> Decision: the onboarding's verdict on one Unico answer. Pure.

The rules follow seed 004 ("Cenários de response") and Unico's published score bands:
`unicoId` yes/no is final by itself; `inconclusive` is settled by liveness, the
identity-fraudster flag and the risk score bands. A decision may ask for a new process
(status 5, or a score that never came): the workflow does that while attempts remain.
"""

from __future__ import annotations

from contracts.unico import ProcessStatus, UnicoProcess
from onboarding_client.contract.outcome import Outcome, Reason
from onboarding_client.contract.request import PolicyBands
from onboarding_client.contract.result import Decision
from onboarding_client.contract.review import ReviewSignals


def _verdict(outcome: Outcome | None, code: str, message: str, *, retry: bool = False) -> Decision:
    return Decision(
        outcome=outcome, reasons=[Reason(code=code, message=message)], retry_new_process=retry
    )


def decide(process: UnicoProcess, bands: PolicyBands | None = None) -> Decision:
    bands = bands or PolicyBands()
    status = process.status
    if status in (ProcessStatus.PROCESSING, ProcessStatus.IN_ANALYSIS):
        return _verdict(None, f"status.{status}", "Unico is still processing; not final yet")
    if status == ProcessStatus.CANCELED:
        return _verdict(Outcome.CANCELED, "status.4", "Unico canceled the process")
    if status == ProcessStatus.ERROR:
        return _verdict(Outcome.ERROR, "status.5", "Unico ended the process in error", retry=True)
    if status != ProcessStatus.FINISHED:
        return _verdict(Outcome.ERROR, f"status.{status}", "Unico answered an unknown status")
    return _decide_finished(process, bands)


def _decide_finished(process: UnicoProcess, bands: PolicyBands) -> Decision:
    unico_id = process.unico_id.result if process.unico_id else None
    if unico_id == "yes":
        return _verdict(Outcome.APPROVED, "unico_id.yes", "identity verified (unicoId yes)")
    if unico_id == "no":
        return _verdict(Outcome.REJECTED, "unico_id.no", "identity not verified (unicoId no)")
    if unico_id != "inconclusive":
        return _verdict(
            Outcome.REVIEW, "unico_id.unexpected", "finished without a known unicoId result"
        )
    if process.liveness == 2:
        return _verdict(Outcome.REJECTED, "liveness.2", "liveness check failed (not live)")
    score = process.score
    if score is None:
        return _verdict(
            Outcome.REVIEW,
            "score.missing",
            "inconclusive and the risk score was dropped: a person must review",
            retry=True,
        )
    fraudster = process.identity_fraudsters is not None and (
        process.identity_fraudsters.result == "yes"
    )
    if fraudster and score <= 0:
        return _verdict(
            Outcome.REJECTED,
            "fraudster.yes",
            f"identity fraudster flag with risk score {score}",
        )
    return _by_score(score, bands)


def _by_score(score: int, bands: PolicyBands) -> Decision:
    if score == 0:
        return _verdict(Outcome.RECAPTURE, "score.0", "risk score 0: a new capture is needed")
    if score <= bands.deny_max:
        return _verdict(Outcome.REJECTED, "score.deny", f"risk score {score} is in the deny band")
    if score >= bands.approve_min:
        return _verdict(
            Outcome.APPROVED, "score.approve", f"risk score {score} is in the approve band"
        )
    in_review_band = score <= bands.review_negative_max or score >= bands.review_positive_min
    code = "score.review" if in_review_band else "score.unbanded"
    return _verdict(Outcome.REVIEW, code, f"risk score {score}: the client evaluates")


def score_band(score: int | None, bands: PolicyBands) -> str | None:
    """The band a score falls in, as `_by_score` reads the bands: `zero`, `deny`,
    `review_negative`, `unbanded`, `review_positive` or `approve`; None without a score."""
    if score is None:
        return None
    if score == 0:
        return "zero"
    if score <= bands.deny_max:
        return "deny"
    if score >= bands.approve_min:
        return "approve"
    if score <= bands.review_negative_max:
        return "review_negative"
    if score >= bands.review_positive_min:
        return "review_positive"
    return "unbanded"


def review_signals(process: UnicoProcess, bands: PolicyBands | None = None) -> ReviewSignals:
    """What a reviewer weighs of Unico's answer: its signals and the score's band."""
    return ReviewSignals(
        unico_id=process.unico_id.result if process.unico_id else None,
        liveness=process.liveness,
        fraudster=process.identity_fraudsters.result if process.identity_fraudsters else None,
        serpro=process.government.serpro if process.government else None,
        score=process.score,
        band=score_band(process.score, bands or PolicyBands()),
    )
