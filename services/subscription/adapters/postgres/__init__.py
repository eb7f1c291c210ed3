"""PostgreSQL adapters of the subscription service: one repository module per table group, SQL as text."""
