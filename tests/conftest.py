"""The unit tests' data: the offline sample, whatever MNIST files the machine has.

The chapters (nbmake, outside this folder) take the learner's path: full MNIST where its files are in the data
root, as CI installs them. The unit tests here check code, not claims about data, so they run on the 5,000 shipped
digits: fast, and the same on every machine. A test that needs torchvision's files names their root itself
(``FULL_MNIST_ROOT``: the data root as the test run found it, before these fixtures empty it).

The setting is made here, once, for every test in this folder, the benchmarks' smoke tests included: tests need
not set it again. It is made for each module, before the module's own fixtures run (a module-scoped fixture that
starts torchrun sees it too), and again for each test, with a fresh empty data root. It lives in the environment of
the test's process, so the processes a test starts (a chapter's kernel, the command line, torchrun's workers)
inherit it when they are given ``os.environ`` plus their own variables. It ends with the module: the chapters that
nbmake runs in the same pytest session keep the learner's path (so no session-scoped fixture here may need it).
"""

import pytest

from gancourse.data import default_data_root

FULL_MNIST_ROOT = default_data_root()


def _offline(monkeypatch: pytest.MonkeyPatch, root) -> None:
    """No network probe, no download, and an empty data root: ``load_mnist`` returns the offline sample."""
    monkeypatch.setenv("GANCOURSE_OFFLINE", "1")
    monkeypatch.setenv("GANCOURSE_DATA", str(root))


@pytest.fixture(scope="module", autouse=True)
def offline_sample_for_the_module(tmp_path_factory):
    with pytest.MonkeyPatch.context() as monkeypatch:
        _offline(monkeypatch, tmp_path_factory.mktemp("no-mnist-module"))
        yield


@pytest.fixture(autouse=True)
def offline_sample(tmp_path_factory, monkeypatch):
    _offline(monkeypatch, tmp_path_factory.mktemp("no-mnist"))
