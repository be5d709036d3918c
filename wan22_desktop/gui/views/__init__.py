"""The main window's views (one module each; see ``view_registry``)."""
