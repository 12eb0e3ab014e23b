"""The tests' own set-up: the data setting of conftest.py, the one script loader (scripts.py), and the browser
test's skip that CI turns into a failure."""

import os
from pathlib import Path

import pytest
from conftest import FULL_MNIST_ROOT
from scripts import load_script
from test_book_browser import REQUIRED, skip_unless_required


@pytest.fixture(scope="module")
def module_setting() -> dict[str, str | None]:
    """What a module-scoped fixture (such as test_distributed.py's torchrun run) finds in the environment."""
    return {name: os.environ.get(name) for name in ("GANCOURSE_OFFLINE", "GANCOURSE_DATA")}


def test_module_scoped_fixtures_get_the_offline_sample(module_setting):
    assert module_setting["GANCOURSE_OFFLINE"] == "1"
    root = Path(module_setting["GANCOURSE_DATA"])
    assert root != FULL_MNIST_ROOT and root.is_dir() and not any(root.iterdir())


def test_each_test_gets_its_own_empty_data_root(module_setting):
    assert os.environ["GANCOURSE_OFFLINE"] == "1"
    root = Path(os.environ["GANCOURSE_DATA"])
    assert root != Path(module_setting["GANCOURSE_DATA"]) and root.is_dir() and not any(root.iterdir())


def test_a_loaded_script_is_a_fresh_module_that_finds_the_scripts_beside_it():
    first = load_script("benchmarks/time_to_bar.py")  # its first lines import loops.py from benchmarks/
    assert first.__name__ == "time_to_bar" and first.__file__.endswith("benchmarks/time_to_bar.py")
    assert load_script("benchmarks/time_to_bar.py") is not first
    with pytest.raises(FileNotFoundError, match="no script at"):
        load_script("benchmarks/no_such_benchmark.py")


@pytest.mark.parametrize(("flag", "outcome"), [(None, pytest.skip.Exception), ("", pytest.skip.Exception),
                                               ("0", pytest.skip.Exception), ("1", pytest.fail.Exception)])
def test_the_browser_test_is_skipped_on_a_laptop_and_fails_where_ci_requires_it(monkeypatch, flag, outcome):
    if flag is None:
        monkeypatch.delenv(REQUIRED, raising=False)
    else:
        monkeypatch.setenv(REQUIRED, flag)
    with pytest.raises(outcome, match="no Chromium found"):
        skip_unless_required("no Chromium found")
