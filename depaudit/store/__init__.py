"""The store: SQLAlchemy Core schema, engine, collect-side writer, read-only reader.

- ``schema`` tables and migrations (``compact_v4``: the step to the content layout);
- ``writer`` batches a collect's commits into transactions, using ``lock`` (the
  per-repo lease), ``runs`` (which finding runs open and close; pure), ``parts``
  (environments stored by content-addressed parts), ``finding_rows`` (findings stored
  once per repo) and ``refs`` (packed id lists; pure);
- ``reader`` is the read-only API of reports and the dashboard; ``live_snapshots``
  stores ``depaudit live`` observations.

Submodules are imported where needed (``depaudit.store.writer`` / ``.reader``) so
importing this package stays cheap.
"""
