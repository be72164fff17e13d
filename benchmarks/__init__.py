"""Benchmarks for sklearn_ae: one module per question, run with ``python -m benchmarks``."""
