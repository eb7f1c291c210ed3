"""Technology adapters of the checkout service: PostgreSQL and the payment service's HTTP API."""
