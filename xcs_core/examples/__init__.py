"""Example programs shipped with xcs (used by ``xcs demo`` and the docs)."""
