"""Descent Lab's training engine: pure Python and torch, no Qt (the GUI is a view over it)."""

__version__ = "0.1.0"
