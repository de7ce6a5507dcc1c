"""The end-to-end demo scenario seeded by ``mamori demo``."""
