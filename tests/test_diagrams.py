"""The course's diagrams draw, say what the chapters say, and read the DCGAN's shapes from the networks."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from gancourse import diagrams  # noqa: E402
from gancourse.conditional import ProjectionDiscriminator  # noqa: E402
from gancourse.models import LeanDCGANDiscriminator, LeanDCGANGenerator  # noqa: E402


def _texts(figure: plt.Figure) -> str:
    return "\n".join(text.get_text() for ax in figure.axes for text in ax.texts)


@pytest.mark.parametrize("draw, words", [
    (diagrams.the_game, ["generator", "discriminator", "noise", "real sample"]),
    (diagrams.derivation_route, ["JSD", "non-saturating"]),
    (lambda: diagrams.algorithm_1(k=3), ["update $D$", "update $G$", "$k = 3$"]),
    (diagrams.measuring_digits, ["frozen digit", "Fréchet distance", "confidence"]),
    (diagrams.three_cures, ["change the game", "change the step", "change what you report"]),
    (diagrams.where_remedies_act, ["DiffAugment", "spectral norm", "R1", "TTUR", "an average of $G$"]),
    (diagrams.conditional_networks, ["condition $y$", "$\\phi(x)$", "$V y$"]),
    (diagrams.superres_pipeline, ["7×7", "bicubic", "content loss", "adversarial"]),
    (diagrams.multi_gpu_run, ["process 3", "all-reduce", "torchrun"]),
])
def test_each_diagram_draws_its_parts(draw, words):
    figure = draw()
    try:
        text = _texts(figure)
        for word in words:
            assert word in text, f"{word!r} missing from {draw}"
        assert len(figure.axes[0].patches) >= 4  # boxes and arrows
    finally:
        plt.close(figure)


def test_the_dcgan_shapes_come_from_the_networks():
    figure = diagrams.dcgan_layers(LeanDCGANGenerator(latent_dim=64), LeanDCGANDiscriminator(), latent_dim=64)
    try:
        text = _texts(figure)
        for shape in ("(128, 7, 7)", "(64, 14, 14)", "(1, 28, 28)", "(32, 14, 14)", "(3136)", "logit"):
            assert shape in text
    finally:
        plt.close(figure)
    wider = diagrams.layer_stages(LeanDCGANGenerator(latent_dim=16, width=8), torch.zeros(2, 16))
    assert [shape for _, shape in wider] == [(16, 7, 7), (8, 14, 14), (1, 28, 28)]


def test_layer_stages_leave_the_network_as_it_was():
    D = ProjectionDiscriminator(condition_dim=12).body
    D.train()
    before = {k: v.clone() for k, v in D.state_dict().items()}
    diagrams.layer_stages(D, torch.zeros(4, 1, 28, 28))
    assert D.training
    assert all((before[k] == v).all() for k, v in D.state_dict().items())  # batch-norm statistics untouched


def test_bad_diagram_input_is_one_clear_error():
    with pytest.raises(KeyError, match="names no node 'nowhere'"):
        diagrams.flow({"a": diagrams.Node("a", (1, 1))}, [diagrams.Edge("a", "nowhere")], (3, 2))
    with pytest.raises(ValueError, match="at least 2 processes"):
        diagrams.multi_gpu_run(1)
