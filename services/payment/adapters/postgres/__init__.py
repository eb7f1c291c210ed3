"""PostgreSQL adapters of the payment ports (asyncpg; explicit SQL with $n parameters)."""
