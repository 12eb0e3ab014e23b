"""Draw the figures of the book's prose pages (the chapters draw their own when they run).

    python tools/draw_book_figures.py      # writes book/figures/*.png

Each figure comes from a function of ``gancourse.diagrams``; rerun this after changing one.
"""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

from gancourse.diagrams import multi_gpu_run  # noqa: E402

FIGURES = Path(__file__).resolve().parents[1] / "book" / "figures"
DRAWN = {"multi_gpu_run.png": multi_gpu_run}


def main() -> None:
    FIGURES.mkdir(exist_ok=True)
    for name, draw in DRAWN.items():
        draw().savefig(FIGURES / name, dpi=110)
        print(f"wrote {FIGURES / name}")


if __name__ == "__main__":
    main()
