"""The notification domain: pure, standard library only (style rule 1)."""
