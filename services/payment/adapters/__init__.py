"""Adapters of the payment service: the technology-specific implementations of its ports."""
