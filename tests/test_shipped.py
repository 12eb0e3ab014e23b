"""The files shipped in gancourse/assets/: each matches its recorded SHA-256, and its loader refuses a damaged copy."""

import re

import pytest

from gancourse import classifier, data
from gancourse.shipped import ShippedFileError, asset_path, checked, sha256

SHIPPED = {data.SAMPLE_NAME: data.SAMPLE_SHA256, classifier.WEIGHTS_NAME: classifier.WEIGHTS_SHA256,
           classifier.SECOND_WEIGHTS_NAME: classifier.SECOND_WEIGHTS_SHA256}


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_shipped_files_match_their_recorded_hashes(name):
    assert sha256(asset_path(name)) == SHIPPED[name]
    assert checked(asset_path(name), SHIPPED[name]) == asset_path(name)


def test_checked_names_the_file_and_the_remedy(tmp_path):
    path = tmp_path / "weights.pt"
    with pytest.raises(FileNotFoundError, match=f"^{re.escape(str(path))} is missing: do this$"):
        checked(path, "0" * 64, remedy="do this")
    path.write_bytes(b"not the recorded contents")
    with pytest.raises(ShippedFileError, match=f"^{re.escape(str(path))} has SHA-256 {sha256(path)}, expected 0{{64}}"):
        checked(path, "0" * 64)


def test_a_damaged_classifier_file_is_refused(tmp_path, monkeypatch):
    copy = tmp_path / classifier.WEIGHTS_NAME
    raw = bytearray(classifier.weights_path().read_bytes())
    raw[-1] ^= 0x01
    copy.write_bytes(bytes(raw))
    monkeypatch.setattr(classifier, "weights_path", lambda name="digit": copy)
    with pytest.raises(ShippedFileError, match=f"^{re.escape(str(copy))} .*python -m gancourse.classifier train"):
        classifier.load_classifier()
    copy.unlink()
    with pytest.raises(FileNotFoundError, match=f"^{re.escape(str(copy))} is missing"):
        classifier.load_classifier()
