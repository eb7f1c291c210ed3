"""One contract suite per port, run against the fake and the real adapter, so the two cannot drift."""
