"""Identifiers and generated secrets payment mints (passed into the domain, never made inside it).

Gateway member ids (KaiinId) are random, 13 alphanumerics (the strictest known limit): a deleted id can never be
registered again at the gateway (K69), and a random id is never reused, even across database restores.
"""

from __future__ import annotations

import secrets
import string
import uuid

from pydantic import SecretStr

_ALNUM = string.ascii_uppercase + string.digits


class RandomIds:
    """The `IdSource` of production."""

    def attempt_id(self) -> str:
        return str(uuid.uuid4())

    def change_id(self) -> str:
        return str(uuid.uuid4())

    def kaiin_id(self) -> str:
        """`K` + 12 random characters (36^12, about 62 bits)."""
        return "K" + "".join(secrets.choice(_ALNUM) for _ in range(12))

    def kaiin_pass(self) -> SecretStr:
        """12 random alphanumerics, as every known client uses; stored encrypted, sent only to the gateway."""
        alphabet = string.ascii_letters + string.digits
        return SecretStr("".join(secrets.choice(alphabet) for _ in range(12)))

    def proc_no(self) -> str:
        """A 3-D Secure ProcNo: 7 random digits (the gateway refuses a ProcNo used before, K89)."""
        return f"{secrets.randbelow(10_000_000):07d}"
