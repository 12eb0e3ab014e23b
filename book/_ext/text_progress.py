"""IPython startup file for the kernels that execute the chapters for the book (`make book`, `make test`).

`tqdm.auto` draws an ipywidgets bar in a notebook. A static page can show such a bar only by loading the widget
manager's JavaScript (megabytes, from a CDN: not offline), and the output's text fallback is the bar's first state
("0%"); tqdm's text bar leaves one line per refresh in a saved notebook. In these kernels a bar prints one line, its
final state, when it closes, e.g. "100%|██████████| 3000/3000 [01:10<00:00, 42.5it/s]". Learners running a
chapter in Jupyter or Colab keep the live widget. The Makefile copies this file into the IPYTHONDIR it gives the
kernels.
"""


def _text_progress_bars() -> None:
    """Point tqdm.autonotebook (which tqdm.auto builds on) at the text bar; leaves no name in the notebook."""
    import io
    import sys
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import tqdm.autonotebook
        import tqdm.std

    class TextProgress(tqdm.std.tqdm):
        def __init__(self, *args, **kwargs):
            kwargs["file"] = io.StringIO()  # the refreshes go nowhere
            kwargs.setdefault("ascii", False)  # block characters, as on a terminal
            super().__init__(*args, **kwargs)

        def close(self):
            show = not self.disable and self.leave is not False  # close() disables the bar: print once
            super().close()
            if show:
                print(self, file=sys.stdout, flush=True)

    tqdm.autonotebook.tqdm = TextProgress
    tqdm.autonotebook.trange = lambda *args, **kwargs: TextProgress(range(*args), **kwargs)


_text_progress_bars()
del _text_progress_bars
