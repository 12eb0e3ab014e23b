"""IPython startup file for the kernels that execute the chapters for the book (`make book`, `make test`).

`tqdm.auto` draws an ipywidgets bar in a notebook. A static page can show such a bar only by loading the widget
manager's JavaScript (megabytes, from a CDN: not offline), and the output's text fallback is the bar's first state
("0%"). These kernels use tqdm's text bar instead, on stdout; the book shows its last state (myst-nb keeps what
follows the last carriage return), e.g. "100%|██████████| 3000/3000 [01:10<00:00, 42.5it/s]". Learners running a
chapter in Jupyter or Colab keep the widget. The Makefile copies this file into the IPYTHONDIR it gives the kernels.
"""


def _text_progress_bars() -> None:
    """Point tqdm.autonotebook (which tqdm.auto builds on) at the text bar; leaves no name in the notebook."""
    import sys
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import tqdm.autonotebook
        import tqdm.std

    class TextProgress(tqdm.std.tqdm):
        def __init__(self, *args, **kwargs):
            kwargs.setdefault("file", sys.stdout)
            super().__init__(*args, **kwargs)

    tqdm.autonotebook.tqdm = TextProgress
    tqdm.autonotebook.trange = lambda *args, **kwargs: TextProgress(range(*args), **kwargs)


_text_progress_bars()
del _text_progress_bars
