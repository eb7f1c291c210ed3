"""The chaos run (issue 17): the whole system as processes on its own PostgreSQL and Kafka, fed checkouts while a
seeded schedule kills services, restarts the broker and the database, and makes the gateway and SMTP fail; then
`deploy.invariants` judges what is left. `make chaos` runs the long profile; `test_chaos_short.py` the short one."""
