"""Assemble ``docs/benchmarks.md`` from the result tables in ``benchmarks/results``.

Run: python -m benchmarks report
"""

from __future__ import annotations

import re

from ._harness import RESULTS, ROOT

ORDER = ["dimred_defaults", "families", "fit_cost", "grid_search", "dimred_mnist", "outliers_adbench", "outliers_adbench_covariance_missing0", "outliers_adbench_covariance_missing", "outliers_adbench_novelty_covariance", "outliers_adbench_one_network", "outliers_adbench_ensemble", "ensemble_cost", "outliers_embeddings", "outliers_adbench_peers", "outliers_embeddings_peers", "outliers_adbench_novelty_peers", "outliers_embeddings_novelty_peers", "outliers_adbench_missing", "impute", "restoration_photos_A", "restoration_photos_B", "restoration_adapt_photos_A", "restoration_adapt_photos_B", "restoration_adapt_sure_photos_A", "restoration_adapt_sure_photos_B", "restoration_mnist", "restoration_mnist_compress", "restoration_inpaint_mnist", "restoration_inpaint_photos_A", "restoration_inpaint_photos_B", "restoration_adapt_inpaint_photos_A", "restoration_adapt_inpaint_photos_B", "restoration_conv_map_photos_A", "restoration_compress_residual_mnist_A", "restoration_compress_residual_mnist_B", "restoration_compress_residual_photos_A", "restoration_compress_residual_photos_B", "restoration_compress_transform_photos_A", "restoration_compress_transform_photos_B", "restoration_inpaint_patches_photos_A", "restoration_residual_photos_A", "restoration_residual_photos_B", "restoration_residual_mnist", "restoration_deblur_patches_photos_A", "outlier_search_tabular", "outlier_search_tabular_forest-screened", "outlier_search_embeddings_forest-screened", "oneclass_mnist", "speed", "gpu", "gpu_1000000", "scaling", "scaling_memory", "scaling_partial_fit",
         "denoising_mnist", "vae_mnist", "images_mnist"]

INTRO = """# Benchmark results

Each section below was written by the command it names, on the machine it names
(`python -m benchmarks report` gathers them from `benchmarks/results/`). Ratios
are measured within one run, never across runs. The data is read from
`../shared/data` (see its README for sources and protocols).
"""


def main(argv=None):
    names = [n for n in ORDER if (RESULTS / f"{n}.md").exists()]
    names += sorted(p.stem for p in RESULTS.glob("*.md") if p.stem not in ORDER)
    parts = [INTRO]
    for name in names:
        text = (RESULTS / f"{name}.md").read_text()
        # Images sit beside the tables; the page lives in docs/.
        text = re.sub(r"\]\(([\w.-]+\.png)\)", r"](../benchmarks/results/\1)", text)
        parts.append(text)
    out = ROOT / "docs" / "benchmarks.md"
    out.write_text("\n".join(parts))
    print(f"wrote {out} from {len(names)} result files")


if __name__ == "__main__":
    main()
