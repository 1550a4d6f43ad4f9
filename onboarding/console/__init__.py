"""The reviewers' console: a web page where the people who settle reviews log in with the
company's identity provider, see the waiting reviews and answer them.

`app` builds and serves it (`python -m onboarding.console`); `login` is the OpenID Connect
login; `sessions` the cookie session, its idle timeout and the forms' CSRF token; `pages`
the queue, the case and the answer, which it signs for the verified reviewer
(`contracts/review_proof.py`); `reasons` the reason codes of `reasons.json`; `settings` the
`CONSOLE_*` settings.
"""
