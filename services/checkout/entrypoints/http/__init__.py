"""HTTP API of the checkout service: admin (shop creation), operator (settings, orders), storefront."""
