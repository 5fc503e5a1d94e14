"""BuildTrace Desktop: find every change between two revisions of a drawing set."""

__version__ = "0.1.0"
