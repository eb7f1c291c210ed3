"""PostgreSQL adapters: repositories, the unit of work, outcome notifications (LISTEN/NOTIFY)."""
