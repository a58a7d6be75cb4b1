"""Alembic scripts of the monitoring store (``env.py``, ``versions/``); run through
``hepatorisk.monitoring.store_migrations``, never imported directly."""
