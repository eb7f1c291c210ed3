"""Repository checks that the generic linters cannot express; `make lint` runs them."""
