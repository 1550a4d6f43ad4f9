"""Identity Cloud's entity API: the account step's side effects.

`mapping.py` turns the person into the record's attributes, `credentials.py` signs each call
as the API client, `entity_api.py` makes one call and reads its answer (HTTP 200 with `stat`),
and `accounts.py` is the activity: create the record, or adopt the one that holds the CPF.
"""
