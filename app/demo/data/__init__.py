"""Synthetic agency data for a fictional town: the demo's and the tests' data, never real people."""

from app.demo.data.generate import GeneratedTown, generate

__all__ = ["GeneratedTown", "generate"]
