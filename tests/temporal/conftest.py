"""The Temporal tests share the session's embedded dev server (`temporal_server`, defined in
tests/conftest.py so the HTTP tests can start workflows on it too)."""
