"""Everything that needs torch. Runs in worker processes, never in the GUI process."""
