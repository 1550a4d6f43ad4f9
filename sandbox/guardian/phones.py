"""Phone numbers: the E.164 shape Guardian takes, and the test phones.

Like a payment provider's test cards, a number's last four digits choose what happens to
an SMS sent to it; any other well-formed number receives it.
"""

from __future__ import annotations

import re
from enum import Enum
from typing import TypeGuard

E164 = re.compile(r"\+[0-9]{8,15}")


class Phone(Enum):
    DELIVERS = "delivers"
    FAILS_ONCE = "0001"  # the first SMS to it fails (500 error_sending_sms), the next arrives
    REFUSED = "0002"  # the provider refuses the number (400 invalid_phone_number)
    ENROLLED_ELSEWHERE = "0003"  # another person enrolled it (409 enrollment_conflict)


def well_formed(phone: object) -> TypeGuard[str]:
    return isinstance(phone, str) and E164.fullmatch(phone) is not None


def behaviour(phone: str) -> Phone:
    for kind in Phone:
        if phone.endswith(kind.value):
            return kind
    return Phone.DELIVERS
