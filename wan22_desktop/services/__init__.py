"""The operations the GUI's views call, over ``db/`` and ``runtime.planning``: typed arguments in,
frozen row dataclasses out. No Qt and no torch here; no SQLAlchemy session or ORM row leaves.

Every function here touches the database, so views call them inside ``ctx.tasks.run_db``.
"""
