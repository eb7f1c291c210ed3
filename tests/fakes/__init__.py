"""In-memory fakes of the services' ports, for handler unit tests (docs/services.md). Each fake passes the same
contract suite (tests/contract/) as the real adapter it stands in for."""
