"""`IdSource` from random UUIDs: order ids that reveal nothing (not a count, not a time)."""

from __future__ import annotations

import uuid


class RandomIds:
    def order_id(self) -> str:
        return f"ord_{uuid.uuid4().hex}"
