"""HTTP API of the subscription service: operator (`operator.py`), storefront my-page (`storefront.py`), the dev
clock (`dev.py`, only with `SUBSCRIPTION_DEV_CLOCK=true`); errors as problem+json (`errors.py`)."""
