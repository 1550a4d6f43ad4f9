"""The gateway, our HTTP service: selfie uploads, Unico's webhook, the codec server, health.

`service` builds and serves it (`python -m onboarding.gateway`); `uploads` takes selfies, as
many at once as `upload_slots` lets in, `webhook` and `webhook_auth` take Unico's
notifications, `codec_server` decrypts for operators' tools, and `bearer` checks, alike on
every route, the tokens of callers who send one.
"""
