"""Payment's handlers (docs/services.md): one module per flow, module-level `async def verb_noun(deps, ...)`.

- `orders.py`: `place_payment` (OrderPlaced), `resolve_payment` (an unknown authorization's truth)
- `actions.py`: operator actions: `run_action`, `capture_orders`, `resolve_action`, `record_order_total`
- `shops.py`: `store_credentials`, `record_shop_settings`, `find_stored_card`
- `status.py`: `view_payment`, `read_live_status` (1Search)
- `steps.py`: the one gateway step they share (record, send outside any transaction, apply)
- `deps.py`: `Deps` and `Policy`, built once in `app.py`
"""
