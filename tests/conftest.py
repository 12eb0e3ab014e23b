"""The unit tests' data: the offline sample, whatever MNIST files the machine has.

The chapters (nbmake, outside this folder) take the learner's path: full MNIST where its files are in the data
root, as CI installs them. The unit tests here check code, not claims about data, so they run on the 5,000 shipped
digits: fast, and the same on every machine. A test that needs torchvision's files names their root itself
(``FULL_MNIST_ROOT``: the data root as the test run found it, before this fixture empties it).
"""

import pytest

from gancourse.data import default_data_root

FULL_MNIST_ROOT = default_data_root()


@pytest.fixture(autouse=True)
def offline_sample(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("GANCOURSE_OFFLINE", "1")
    monkeypatch.setenv("GANCOURSE_DATA", str(tmp_path_factory.mktemp("no-mnist")))
