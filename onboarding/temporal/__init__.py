"""Temporal plumbing shared by every process of ours that talks to Temporal.

`connection` reads where Temporal is and how to prove who we are (a profile and the
TEMPORAL_* variables, as Temporal's own tools read them); `client` is the one way to connect
and the client library other services import (start an onboarding, read it, store a
selfie); `converter` and `codec` encrypt every payload; `operator_view` is what an
onboarding shows in the Web UI from its start.
"""
