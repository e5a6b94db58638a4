"""Test support: real servers (Temporal dev server, PostgreSQL, the platform's processes)."""
