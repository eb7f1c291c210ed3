"""Use cases of the subscription service, one async function per command (style rule 3).

Each is load -> decide (pure domain) -> save + outbox in one unit of work. Modules: `starting` (a first order
completed), `renewals` (the scheduler's due cycles and the renewal orders' outcomes), `managing` (operator and
buyer changes), `queries` (views), `shops` (the renewal timing projection).
"""

from services.subscription.handlers.deps import Deps

__all__ = ["Deps"]
