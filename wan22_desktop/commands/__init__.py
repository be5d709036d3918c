"""Command groups of the ``wan22`` CLI, one module each."""
