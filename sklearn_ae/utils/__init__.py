"""Helpers shared by the estimators, tests and benchmarks."""

from ._discovery import all_estimators

__all__ = ["all_estimators"]
