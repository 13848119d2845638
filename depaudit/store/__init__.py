"""The store: SQLAlchemy Core schema, engine, collect-side writer, read-only reader.

Submodules are imported where needed (``depaudit.store.writer`` / ``.reader``) so
importing this package stays cheap.
"""
