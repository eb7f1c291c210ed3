"""The checkout domain: shop card-method settings, checkout validation (R1-R10) and the order state machine.

Standard library only (style rule 1): time, ids and payment-number sequences are passed in, money is integer
yen, and nothing here knows about Kafka, HTTP or PostgreSQL.
"""
