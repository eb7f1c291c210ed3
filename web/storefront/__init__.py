"""The demo storefront: the example a shop's developers copy. A product page, a 3-step checkout (cart → buyer and
shipping → card) where the gateway's token script turns the card into a one-time token in the browser (the card
number never reaches this server or the services), the outcome with the buyer message the API gives (R16), 3-D
Secure-style `action_required` answers followed by auto-submitting the given form, and a member's my-page."""
