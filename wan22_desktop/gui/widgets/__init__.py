"""Small widgets shared by the views (status area, plan panel, progress delegate, ...)."""
