"""The MFA step's activities: Auth0's Management API (a token, an enrollment ticket) and
Guardian's enrollment API (start the flow, send the SMS, check the person's code).

The Guardian transaction (its token, the device account, the recovery code) never reaches
the workflow in a form it can read: `sealing` seals it with a key derived from the workers'
payload keys, for the workflow to carry and hand back.
"""
