"""The console's pages: the queue of waiting reviews, one case, and the answer to it.

Every page needs a logged-in person; the queue and the cases need a reviewer's role
(`reviewer` or `senior_reviewer`): anyone else is told so, and sees no case. An answer
is a form with the session's CSRF token; the console signs it for the logged-in reviewer
(`contracts/review_proof.py`) and sends update `review`, whose validator checks the proof.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.templating import Jinja2Templates
from temporalio.client import Client
from temporalio.exceptions import ApplicationError

from activities.selfies import SelfieBackend, SelfieNotFound
from contracts.evidence import EvidenceBroken, EvidenceSeal
from contracts.review_proof import REVIEW_ROLES, AnswerBinding, VerifiedReviewer, sign_proof
from onboarding.console.audit import AUDIT_ROLES, EvidenceAudit
from onboarding.console.reasons import ReasonCode, reason_for
from onboarding.console.sessions import CSRF_FIELD, csrf_ok, csrf_token, current_reviewer
from onboarding.runtime.console_settings import ConsoleSettings
from onboarding.temporal.reviews import claim_review, review_input, review_onboarding, span_text
from onboarding.temporal.step_updates import UpdateRefused
from onboarding_client.contract.names import workflow_id_for
from onboarding_client.contract.request import Subject
from onboarding_client.contract.review import (
    NOT_AWAITING,
    ReviewAnswer,
    ReviewClaim,
    ReviewDecision,
    ReviewHold,
    ReviewRecord,
    parse_review_answer,
)
from onboarding_client.reviews import WaitingReview, waiting_review, waiting_reviews


@dataclass
class Console:
    """What the pages share: settings, templates, Temporal, the reasons, the signing key,
    and the evidence: the selfie store, the seal that opens it, the audit of views."""

    settings: ConsoleSettings
    templates: Jinja2Templates
    temporal: Client
    reasons: dict[ReviewDecision, tuple[ReasonCode, ...]]
    signing_key: Ed25519PrivateKey
    selfies: SelfieBackend
    evidence: EvidenceSeal
    audit: EvidenceAudit

    def page(self, request: Request, name: str, status_code: int = 200, **context: Any) -> Response:
        reviewer, _ = current_reviewer(request.session, self.settings.session_idle_seconds)
        context = {
            "reviewer": reviewer,
            "csrf_field": CSRF_FIELD,
            "csrf_token": csrf_token(request.session) if reviewer else "",
            **context,
        }
        return self.templates.TemplateResponse(request, name, context, status_code=status_code)

    def gate(
        self, request: Request, roles: frozenset[str] = REVIEW_ROLES
    ) -> VerifiedReviewer | Response:
        """The reviewer (one of `roles`), or the answer for whoever may not be here."""
        reviewer, expired = current_reviewer(request.session, self.settings.session_idle_seconds)
        if reviewer is None:
            request.session["next"] = request.url.path
            return RedirectResponse("/login?expired=1" if expired else "/login", status_code=303)
        if not reviewer.roles & roles:
            if roles == REVIEW_ROLES:
                title, needs = "No reviewer role", "no reviewer role: ask your administrator for it"
            else:
                title, needs = "Not for your role", f"no role {' or '.join(sorted(roles))}"
            message = f"You are logged in as {reviewer.email}, who has {needs}."
            return self.page(request, "message.html", 403, title=title, message=message)
        return reviewer

    # --- the queue ----------------------------------------------------------------------

    async def queue(self, request: Request) -> Response:
        reviewer = self.gate(request)
        if isinstance(reviewer, Response):
            return reviewer
        now = datetime.now(UTC)
        reviews = await waiting_reviews(self.temporal)
        reason = request.query_params.get("reason", "")
        due_soon = request.query_params.get("due") == "soon"
        codes = sorted({r.code for review in reviews for r in review.brief.reasons})
        shown = [
            review
            for review in reviews
            if (not reason or any(r.code == reason for r in review.brief.reasons))
            and (not due_soon or review.due_soon(now))
        ]
        pages = max(1, -(-len(shown) // PAGE_SIZE))
        page = min(max(_int(request.query_params.get("page"), 1), 1), pages)
        rows = [_row(review, now) for review in shown[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]]
        return self.page(
            request,
            "reviews.html",
            rows=rows,
            matching=len(shown),
            page=page,
            pages=pages,
            total=len(reviews),
            codes=codes,
            reason=reason,
            due_soon=due_soon,
            done=request.query_params.get("done"),
        )

    # --- one case -----------------------------------------------------------------------

    async def case(self, request: Request) -> Response:
        """One case: opening it holds it for this reviewer, unless another holds it."""
        reviewer = self.gate(request)
        if isinstance(reviewer, Response):
            return reviewer
        request_id = request.path_params["request_id"]
        review = await waiting_review(self.temporal, request_id)
        if review is None:
            return self._gone(request, request_id, 404)
        hold = review.brief.held_by
        if _may_answer(reviewer, _live(hold), review.brief.first_review) is None:
            try:
                claimed = await claim_review(
                    self.temporal, request_id, self._claim(reviewer, request_id, "claim")
                )
                hold = claimed.held_by
            except UpdateRefused as refused:
                if refused.code == NOT_AWAITING:
                    return self._gone(request, request_id, 409)
                # Held by another meanwhile: the page says by whom.
                fresh = await waiting_review(self.temporal, request_id)
                hold = fresh.brief.held_by if fresh is not None else hold
        return await self._case_page(request, review, reviewer, hold)

    async def release(self, request: Request) -> Response:
        """Let a held review go: its holder, or a senior reviewer for anyone's."""
        posted = await self._posted(request)
        if isinstance(posted, Response):
            return posted
        reviewer, request_id, _ = posted
        try:
            await claim_review(
                self.temporal, request_id, self._claim(reviewer, request_id, "release")
            )
        except UpdateRefused as failed:
            review = await waiting_review(self.temporal, request_id)
            if review is None:
                return self._gone(request, request_id, 409)
            hold = review.brief.held_by
            return await self._case_page(request, review, reviewer, hold, str(failed))
        return RedirectResponse(f"/reviews?done={request_id}: released", status_code=303)

    async def evidence_image(self, request: Request) -> Response:
        """The image of a waiting review, for a reviewer; every view is recorded."""
        reviewer = self.gate(request)
        if isinstance(reviewer, Response):
            return reviewer
        request_id = request.path_params["request_id"]
        if await waiting_review(self.temporal, request_id) is None:
            return Response("no review waits", status_code=404, media_type="text/plain")
        given = await review_input(self.temporal, request_id)
        try:
            sealed = await run_in_threadpool(
                self.selfies.get_evidence, given.selfie_ref if given else ""
            )
            image = self.evidence.open(sealed, given.selfie_ref if given else "")
        except (SelfieNotFound, EvidenceBroken):
            return Response(
                "no image is kept for this review", status_code=404, media_type="text/plain"
            )
        await run_in_threadpool(self.audit.record, reviewer, request_id)
        headers = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}
        return Response(image, media_type=image_type(image), headers=headers)

    async def audit_page(self, request: Request) -> Response:
        reviewer = self.gate(request, AUDIT_ROLES)
        if isinstance(reviewer, Response):
            return reviewer
        views = await run_in_threadpool(self.audit.views)
        return self.page(request, "audit.html", views=views)

    def _claim(self, reviewer: VerifiedReviewer, request_id: str, action: str) -> ReviewClaim:
        binding = AnswerBinding(workflow_id_for(request_id), action, None, None)
        proof = self._sign(reviewer, binding)
        return ReviewClaim(action="claim" if action == "claim" else "release", proof=proof)

    def _sign(self, reviewer: VerifiedReviewer, binding: AnswerBinding) -> str:
        key_id = self.settings.signing_key_id
        return sign_proof(self.signing_key, key_id, reviewer, binding, datetime.now(UTC))

    def _gone(self, request: Request, request_id: str, status_code: int) -> Response:
        return self.page(
            request,
            "message.html",
            status_code,
            title="No review waits",
            message=f"The onboarding {request_id} is not waiting for a review.",
        )

    async def _case_page(
        self,
        request: Request,
        review: WaitingReview,
        reviewer: VerifiedReviewer,
        hold: ReviewHold | None,
        error: str | None = None,
        **form: Any,
    ) -> Response:
        now = datetime.now(UTC)
        brief = review.brief
        live_hold = _live(hold)
        given = await review_input(self.temporal, review.request_id)
        subject = given.subject if given is not None else None
        first = brief.first_review
        return self.page(
            request,
            "case.html",
            400 if error else 200,
            case=_row(review, now),
            brief=brief,
            signals=brief.signals,
            person=None
            if subject is None
            else {"name": subject.name, "cpf": mask_cpf(subject.code)},
            hold=live_hold,
            mine=live_hold is not None and live_hold.reviewer_id == reviewer.sub,
            may_answer=_may_answer(reviewer, live_hold, first),
            may_release=live_hold is not None
            and (live_hold.reviewer_id == reviewer.sub or reviewer.senior),
            first=first,
            reasons=self.reasons,
            error=error,
            form=form,
        )

    async def _posted(
        self, request: Request
    ) -> tuple[VerifiedReviewer, str, dict[str, str]] | Response:
        """A case's form from a reviewer of this session: who, which case, the fields."""
        reviewer = self.gate(request)
        if isinstance(reviewer, Response):
            return reviewer
        fields = await self._form(request)
        if isinstance(fields, Response):
            return fields
        return reviewer, request.path_params["request_id"], fields

    async def _form(self, request: Request) -> dict[str, str] | Response:
        """The form's fields, or the refusal of a form that did not come from this session."""
        async with request.form(max_files=0, max_fields=8) as form:
            fields = {k: v for k, v in form.items() if isinstance(v, str)}
        if csrf_ok(request.session, fields.get(CSRF_FIELD)):
            return fields
        return self.page(
            request,
            "message.html",
            403,
            title="The form was refused",
            message="This form did not come from your session of the console (or it "
            "expired). Open the case again and answer from its page.",
        )

    async def decide(self, request: Request) -> Response:
        posted = await self._posted(request)
        if isinstance(posted, Response):
            return posted
        reviewer, request_id, fields = posted
        review = await waiting_review(self.temporal, request_id)
        if review is None:
            return self._gone(request, request_id, 409)
        hold = review.brief.held_by
        answer = self._answer(fields)
        if isinstance(answer, str):
            return await self._case_page(request, review, reviewer, hold, answer, **fields)
        binding = AnswerBinding(
            workflow_id_for(request_id), answer.decision.value, answer.reason, answer.note
        )
        signed = answer.model_copy(update={"proof": self._sign(reviewer, binding)})
        try:
            answered = await review_onboarding(self.temporal, request_id, signed)
        except UpdateRefused as failed:
            return await self._case_page(request, review, reviewer, hold, str(failed), **fields)
        if answered.awaiting is not None:
            done = f"{request_id}: approved, awaiting a senior reviewer's confirmation"
        else:
            done = f"{request_id}: {answered.outcome.value}"
        return RedirectResponse(f"/reviews?done={done}", status_code=303)

    def _answer(self, fields: dict[str, str]) -> ReviewAnswer | str:
        """The answer the form asks for, or what is wrong with it, in words."""
        try:
            decision = ReviewDecision(fields.get("decision", ""))
        except ValueError:
            return "Choose approve, reject or ask for a new capture."
        picked = reason_for(self.reasons, decision, fields.get("reason", ""))
        if picked is None:
            return f"Choose a reason that explains {decision.value}."
        try:
            return parse_review_answer(
                {
                    "decision": decision.value,
                    "reason": picked.code,
                    "note": fields.get("note") or None,
                }
            )
        except ApplicationError as refused:
            return f"{refused.message} ({refused.type})"


PAGE_SIZE = 100  # rows of the queue on one page, oldest first


def _int(text: str | None, default: int) -> int:
    return int(text) if text is not None and text.isdigit() else default


def image_type(image: bytes) -> str:
    """The media type of the image kept (PNG, JPEG or WebP, by content)."""
    if image.startswith(b"\x89PNG"):
        return "image/png"
    if image[:4] == b"RIFF" and image[8:12] == b"WEBP":
        return "image/webp"
    return "image/jpeg"


def _live(hold: ReviewHold | None) -> ReviewHold | None:
    return hold if hold is not None and hold.until > datetime.now(UTC) else None


def _person(subject: Subject | None) -> dict[str, str] | None:
    return None if subject is None else {"name": subject.name, "cpf": mask_cpf(subject.code)}


def mask_cpf(code: str) -> str:
    """A CPF as a reviewer may see it: the middle six digits (`***.456.789-**`)."""
    digits = "".join(c for c in code if c.isdigit())
    if len(digits) != 11:
        return "***"
    return f"***.{digits[3:6]}.{digits[6:9]}-**"


def _may_answer(
    reviewer: VerifiedReviewer, hold: ReviewHold | None, first: ReviewRecord | None
) -> str | None:
    """None when this reviewer may answer now; else why not, in words."""
    if hold is not None and hold.reviewer_id != reviewer.sub:
        return f"{hold.reviewer} holds this case until {hold.until:%H:%M} UTC."
    if first is not None and first.reviewer_id == reviewer.sub:
        return "You approved it: a second, different reviewer (a senior) confirms or overrules."
    if first is not None and not reviewer.senior:
        return "A senior reviewer confirms or overrules this approval."
    return None


def _row(review: WaitingReview, now: datetime) -> dict[str, Any]:
    brief = review.brief
    hold = _live(brief.held_by)
    return {
        "holder": hold.reviewer if hold else None,
        "second_reviewer": brief.first_review is not None,
        "request_id": review.request_id,
        "score": brief.score,
        "reasons": [reason.code for reason in brief.reasons],
        "process_id": brief.process_id,
        "waiting_since": brief.waiting_since,
        "deadline": brief.deadline,
        "waited": _span(review.waited(now)),
        "due_in": _span(review.due_in(now)),
        "due_soon": review.due_soon(now),
    }


def _span(span: timedelta) -> str:
    return "overdue" if span.total_seconds() < 0 else span_text(span)
