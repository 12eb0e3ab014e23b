import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from gancourse.viz import animate_grids, image_grid, plot_curves, plot_figure1_panel, show_grid  # noqa: E402


def test_image_grid_maps_minus_one_one_to_unit_range():
    images = torch.cat([-torch.ones(2, 1, 4, 4), torch.ones(2, 1, 4, 4)])
    grid = image_grid(images, nrow=2)
    assert grid.shape == (2 * 4 + 3 * 2, 2 * 4 + 3 * 2, 3)  # torchvision pads 2 px and repeats gray to RGB
    assert grid[2, 2, 0] == 0.0 and grid[-3, -3, 0] == 1.0
    with pytest.raises(ValueError):
        image_grid(torch.zeros(4, 4))
    show_grid(images, nrow=2, title="t")
    plt.close("all")


def test_figure1_panel_draws_three_curves_and_mapping():
    x = np.linspace(-1, 1, 11)
    fig, ax = plt.subplots()
    plot_figure1_panel(ax, x, np.ones_like(x) / 2, np.ones_like(x) / 2, np.full_like(x, 0.5), np.zeros(3), np.zeros(3))
    assert len(ax.lines) == 3 + 3  # p_data, p_g, D, one line per z
    plot_curves(ax, {"a": [1, 2], "b": [2, 1]})
    plt.close(fig)


def test_animate_grids_has_one_frame_per_snapshot_in_step_order():
    snapshots = {50: torch.ones(4, 1, 6, 6), 1: -torch.ones(4, 1, 6, 6)}
    animation = animate_grids(snapshots, nrow=2)
    frames = []
    for frame in range(2):
        animation._func(frame)
        frames.append(animation._fig.axes[0].get_title())
    assert frames == ["step 1", "step 50"]
    assert "<script" in animation.to_jshtml()  # renders every frame, as the book does
    with pytest.raises(ValueError, match="snapshot_at"):
        animate_grids({})
