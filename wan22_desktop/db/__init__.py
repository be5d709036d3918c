"""SQLAlchemy data layer: the job queue, the history of generations, downloads, settings."""
