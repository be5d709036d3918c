"""PySide6 desktop GUI. Never imports torch: it talks to the engine through the worker protocol."""
