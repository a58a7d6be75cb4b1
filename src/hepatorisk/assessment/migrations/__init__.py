"""Alembic scripts of the audit database (``env.py``, ``versions/``); run through
``hepatorisk.assessment.audit_migrations``, never imported directly."""
