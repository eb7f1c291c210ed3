"""Use cases of the checkout service, one async function per command (style rule 3).

Each is load -> decide (pure domain) -> save + outbox in one unit of work; calls to the payment service
happen between units of work, never inside one. Modules: `shops` (admin and operator settings),
`checkouts` (storefront API and `checkout.requests`), `renewals` (`subscriptions.commands`), `payments`
(`payments.events`), `orders` (operator and storefront views).
"""

from services.checkout.handlers.deps import Deps

__all__ = ["Deps"]
