"""Sample target for the harness: a tiny shop (``api`` + ``catalog``) with a
``naive`` and a ``resilient`` profile. See ``targets/README.md``."""

__version__ = "0.1"
