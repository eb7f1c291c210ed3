"""Edges of the payment service: Kafka subscribers and HTTP routes (thin; they call handlers)."""
