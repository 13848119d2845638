"""The application layer: what depaudit does, for the CLI (and any other front end) to call.

- :mod:`depaudit.app.audit` — audit one tree (check, baseline, collect, live all use it);
- :mod:`depaudit.app.collect` — collect one repository's history into the store;
- :mod:`depaudit.app.scheduler` — collect many repositories (``collect --repos``);
  :mod:`depaudit.app.shards` splits them between processes (``--shard K/N``),
  :mod:`depaudit.app.worker_pool` runs :mod:`depaudit.app.collect_worker` processes;
- :mod:`depaudit.app.baseline` — the findings a baseline report or revision already has;
- :mod:`depaudit.app.live` — compare a live environment with the declared one.

The CLI parses arguments, calls one of these, renders the result and picks the exit
code. Errors a user can cause come back as one-line exceptions of each module.
"""
