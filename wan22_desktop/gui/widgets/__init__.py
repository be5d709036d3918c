"""Small widgets shared by the views (status area, placeholders, progress delegate, ...)."""
