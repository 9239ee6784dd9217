"""The command line (``python -m sockviz``) and ``sockviz run``."""

from ._main import main

__all__ = ["main"]
