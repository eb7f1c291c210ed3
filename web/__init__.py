"""Browser front ends over the services' public HTTP APIs: the operator console (`web.console`) and the demo
storefront (`web.storefront`). They hold no rule and no database: every decision is the services' answer."""
