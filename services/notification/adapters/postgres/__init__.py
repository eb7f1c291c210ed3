"""PostgreSQL adapters of the notification service: the mail log, the order snapshots, the shop projection."""
