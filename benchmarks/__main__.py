"""Run one benchmark: ``python -m benchmarks <name> [--quick] [options]``.

Names are the modules of this package that define ``main(argv)``.
"""

from __future__ import annotations

import importlib
import sys

BENCHMARKS = {
    "speed": "benchmarks.speed",
    "gpu": "benchmarks.gpu",
    "scaling": "benchmarks.scaling",
    "dimred": "benchmarks.dimred",
    "families": "benchmarks.families",
    "fit_cost": "benchmarks.fit_cost",
    "grid_search": "benchmarks.grid_search",
    "oneclass": "benchmarks.oneclass",
    "denoising": "benchmarks.denoising",
    "vae": "benchmarks.vae",
    "images": "benchmarks.images",
    "outliers": "benchmarks.outliers",
    "impute": "benchmarks.impute",
    "restoration": "benchmarks.restoration",
    "outlier_search": "benchmarks.outlier_search",
    "ensemble": "benchmarks.ensemble",
    "report": "benchmarks.report",
    "fetch": "benchmarks.fetch",
}


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] not in BENCHMARKS:
        names = ", ".join(sorted(BENCHMARKS))
        print(f"usage: python -m benchmarks {{{names}}} [--quick] [options]")
        return 2
    module = importlib.import_module(BENCHMARKS[argv[0]])
    module.main(argv[1:])
    return 0


if __name__ == "__main__":
    sys.exit(main())
