"""SQLAlchemy data layer: the job queue, the history of generations, downloads, settings.

Entry points (all take a ``Database`` from ``database.open_database``/``open_app_database``):

* ``db.queue``   - enqueue/list/move/pause/cancel/retry/edit/delete jobs; the runner's atomic
  ``claim_next``, progress, ``finish_job``/``fail_job`` and start-up recovery (``start_runner``).
* ``db.lease``   - the one-runner-per-data-dir lease (SQLite), runner registration and the
  per-runner leases of a shared PostgreSQL queue.
* ``db.location`` - which database a data folder uses (``wan22 db use``); ``db.copy`` moves a
  queue and history between databases.
* ``db.history`` - paged, filtered and full-text-searched generations; marks, delete, re-run.
* ``db.views``   - rows as JSON-safe dicts.

SQLite specifics (pragmas, locking, FTS5) are confined to ``db.sqlite``, PostgreSQL specifics
(server clock, advisory locks, trigram search) to ``db.postgres``; migrations live in
``db/migrations`` and run from ``db.migrate``.
"""
