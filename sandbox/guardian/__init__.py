"""The Auth0 stand-in: the tenant's client-credentials grant and Management API enrollment
tickets (`management`, under `/auth0/`), and Guardian's enrollment API for the SMS factor
(`enrollment_api`, under `/guardian/`): start-flow, sms-enroll, verify-otp.

The state lives in small stores (`tickets`, `transactions`, `enrollments`, `inbox`), the
per-user SMS limit in `ratelimit`, the test phones in `phones`, the error envelopes in
`errors`. No SMS leaves the sandbox: each one lands in the inbox that an admin endpoint shows.
"""
