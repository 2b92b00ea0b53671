"""Benchmarks of the knowledge base's build: `python -m bench [scale|rebuild|demos|serve] [--quick]` (see README.md)."""
