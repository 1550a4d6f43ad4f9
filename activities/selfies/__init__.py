"""The selfie's life on the activity side: a claim check, so that an image never enters a
Temporal payload.

A caller stores the bytes and passes the returned `selfie_ref` to the workflow; the activity
that calls Unico fetches the bytes by ref (`inspection` first checks them as Unico would),
and the onboarding's last step deletes them (`cleanup`). Stores: `local_store` (a private
directory) and `s3_store` (S3-compatible object storage), both `backend.SelfieBackend`.
"""
