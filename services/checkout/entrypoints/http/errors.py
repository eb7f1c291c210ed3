"""Checkout's refusals over HTTP: `ApiError` is a `delivery.problems.Problem` (RFC 9457 problem details with a
stable `reason_code`, one shape for every service), raised with the names of `OrderRejected` (`reason_code`; the
`reason` text is the problem's `detail`), so a storefront handles a 422 and a rejected order alike. Details such as
`rejections` or `field` become members of the problem; `errors` are its field errors. Installed by
`delivery.http.service_app`.
"""

from __future__ import annotations

from typing import Any

from delivery.problems import Problem


class ApiError(Problem):
    def __init__(self, status: int, code: str, message: str, **details: Any):
        errors = details.pop("errors", ())
        super().__init__(status, code, message, errors=errors, **details)
        self.code = code
        self.message = message
