"""Payment's HTTP edge (FastAPI routers built from `Deps`): `internal.py` for checkout (`X-Internal-Token`),
`payments.py` (a payment's view and the resolution of an unknown authorization) and `actions.py` (operator
actions) for operators (`X-Operator-Key`), `views.py` the JSON views they share."""
