"""Edges of the checkout service: Kafka subscribers and the HTTP API (admin, operator, storefront)."""
