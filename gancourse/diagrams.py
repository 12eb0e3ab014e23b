"""Diagrams of the course's ideas, drawn with matplotlib: one function per picture, each returning its figure.

Every chapter opens one of these where a picture explains more than a paragraph: the game (Chapter 1), the
derivation's route (2), Algorithm 1 (3), the lean DCGAN's layers and shapes (4), how a set of digits is measured
(5), the three kinds of cure for a rotating game (6), where each remedy acts in the loop (7), the conditional
generator and the projection discriminator (8), the super-resolution pipeline (9) and the processes of a
multi-GPU run (the training-at-scale page). The DCGAN's shapes are not typed in: ``dcgan_layers`` runs the
networks once and reads them, so the picture cannot drift from the code.

The drawing is a few boxes (``Node``) joined by arrows (``Edge``) on a canvas measured in box units;
``flow`` lays them out. Colours are ``gancourse.viz``'s Okabe–Ito palette: blue for the generator, vermillion for
the discriminator, grey for data, orange for losses and what acts on them.
"""

from __future__ import annotations

from dataclasses import dataclass

import matplotlib.pyplot as plt
import torch
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch
from torch import nn

from gancourse.viz import BLACK, BLUE, GREEN, ORANGE, PURPLE, VERMILLION

__all__ = [
    "Edge", "Node", "algorithm_1", "conditional_networks", "dcgan_layers", "derivation_route", "flow",
    "measuring_digits", "multi_gpu_run", "superres_pipeline", "the_game", "three_cures", "where_remedies_act",
]

FILL = {"G": "#D6E9F5", "D": "#F7DCCB", "data": "#EEEEEE", "loss": "#FBECCB", "idea": "#DCEFE7", "plain": "white"}
EDGE_COLOUR = {"G": BLUE, "D": VERMILLION, "data": "#777777", "loss": ORANGE, "idea": GREEN, "plain": "white"}


@dataclass(frozen=True)
class Node:
    """A box centred at ``xy`` (canvas units), ``size`` (width, height); ``kind`` picks its colours (``FILL``)."""

    text: str
    xy: tuple[float, float]
    kind: str = "data"
    size: tuple[float, float] = (1.8, 0.8)
    fontsize: float = 9.5


@dataclass(frozen=True)
class Edge:
    """An arrow from node ``start`` to node ``end``; ``bend`` curves it (0: straight), ``dashed`` for feedback."""

    start: str
    end: str
    label: str = ""
    bend: float = 0.0
    dashed: bool = False
    colour: str = BLACK
    both_ways: bool = False
    label_at: tuple[float, float] | None = None  # where the label goes, when the default spot is crowded


def flow(nodes: dict[str, Node], edges: list[Edge], canvas: tuple[float, float], title: str = "",
         inches_per_unit: float = 0.75, y_from: float = 0.0) -> plt.Figure:
    """Draw ``nodes`` and ``edges`` on a canvas of (width, height) units whose bottom edge is at ``y_from``;
    arrows end at the boxes' borders."""
    for edge in edges:
        for key in (edge.start, edge.end):
            if key not in nodes:
                raise KeyError(f"edge {edge.start!r} -> {edge.end!r} names no node {key!r}; nodes: {sorted(nodes)}")
    width, height = canvas
    fig, ax = plt.subplots(figsize=(width * inches_per_unit, height * inches_per_unit), layout="constrained")
    ax.set(xlim=(0, width), ylim=(y_from, y_from + height), aspect="equal")
    ax.axis("off")
    patches = {}
    for key, node in nodes.items():
        (x, y), (w, h) = node.xy, node.size
        patch = FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0.02,rounding_size=0.12",
                               facecolor=FILL[node.kind], edgecolor=EDGE_COLOUR[node.kind], linewidth=1.4)
        ax.add_patch(patch)
        ax.text(x, y, node.text, ha="center", va="center", fontsize=node.fontsize, wrap=False)
        patches[key] = patch
    for edge in edges:
        start, end = nodes[edge.start].xy, nodes[edge.end].xy
        arrow = FancyArrowPatch(start, end, patchA=patches[edge.start], patchB=patches[edge.end],
                                arrowstyle="<|-|>" if edge.both_ways else "-|>", mutation_scale=13,
                                color=edge.colour, linewidth=1.3,
                                linestyle=(0, (4, 3)) if edge.dashed else "-",
                                connectionstyle=f"arc3,rad={edge.bend}", shrinkA=2, shrinkB=2)
        ax.add_patch(arrow)
        if edge.label:
            ax.text(*(edge.label_at or _label_spot(nodes[edge.start], nodes[edge.end], edge.bend)), edge.label,
                    ha="center", va="center", fontsize=8.5, color=edge.colour)
    if title:
        ax.set_title(title, fontsize=11)
    return fig


def _exit(node: Node, dx: float, dy: float) -> float:
    """How far along (dx, dy) from ``node``'s centre its box ends, as a fraction of (dx, dy)."""
    (w, h) = node.size
    return min(w / 2 / abs(dx) if dx else float("inf"), h / 2 / abs(dy) if dy else float("inf"))


def _label_spot(start: Node, end: Node, bend: float) -> tuple[float, float]:
    """Beside the middle of the part of the arrow between the two boxes (the bend's apex for a curve), on the
    left of the direction of travel, so a label neither hides its arrow nor sits on a box."""
    dx, dy = end.xy[0] - start.xy[0], end.xy[1] - start.xy[1]
    length = max((dx * dx + dy * dy) ** 0.5, 1e-9)
    t = (_exit(start, dx, dy) + 1 - _exit(end, dx, dy)) / 2
    x, y = start.xy[0] + t * dx, start.xy[1] + t * dy
    return x + bend * dy * 0.5 - 0.3 * dy / length, y - bend * dx * 0.5 + 0.3 * dx / length


def the_game() -> plt.Figure:
    """Chapter 1: noise -> G -> fake; real and fake -> D -> probability; each player's update."""
    nodes = {
        "z": Node("noise $z$\n(random numbers)", (1.4, 2.6), "data", (2.2, 0.9)),
        "G": Node("generator $G$", (4.3, 2.6), "G"),
        "fake": Node("fake sample\n$G(z)$", (7.0, 2.6)),
        "real": Node("real sample $x$\nfrom the data", (7.0, 0.6)),
        "D": Node("discriminator $D$", (9.8, 1.6), "D"),
        "out": Node("$D(\\cdot)$: probability\nthat its input is real", (12.8, 1.6), "plain", (2.6, 0.9)),
    }
    edges = [
        Edge("z", "G"), Edge("G", "fake"), Edge("fake", "D"), Edge("real", "D"), Edge("D", "out"),
        Edge("out", "G", "$G$ is updated to make $D$ call its fakes real", bend=0.3, dashed=True, colour=BLUE,
             label_at=(8.4, 4.05)),
        Edge("out", "D", "$D$ is updated to tell real from fake", bend=-0.9, dashed=True, colour=VERMILLION,
             label_at=(11.3, -0.15)),
    ]
    return flow(nodes, edges, (14.4, 4.8), "The GAN game", y_from=-0.5)


def derivation_route() -> plt.Figure:
    """Chapter 2: from the value function to the JSD, and what the non-saturating loss minimises instead."""
    nodes = {
        "V": Node("value function\n$V(D, G)$", (1.5, 2.4), "loss"),
        "Dstar": Node("best $D$ for a fixed $G$:\n$D^* = p_{data} / (p_{data} + p_g)$", (5.8, 2.4), "D", (3.4, 0.9)),
        "C": Node("$C(G) = V(D^*, G)$\n$= -\\log 4 + 2\\,\\mathrm{JSD}(p_{data} \\| p_g)$", (10.4, 3.6), "idea",
                  (3.6, 0.9)),
        "min": Node("smallest at $p_g = p_{data}$,\nwhere $D^* = 1/2$", (14.4, 3.6), "plain", (2.8, 0.9)),
        "NS": Node("non-saturating $G$ loss, its gradient:\n"
                   "$\\nabla[\\mathrm{KL}(p_g \\| p_{data}) - 2\\,\\mathrm{JSD}]$", (10.4, 1.2),
                   "G", (3.6, 0.9)),
        "mode": Node("favours one mode:\nmisses are cheap", (14.4, 1.2), "plain", (2.8, 0.9)),
    }
    edges = [Edge("V", "Dstar", "maximise over $D$"), Edge("Dstar", "C", "minimax $G$ loss", bend=-0.15),
             Edge("C", "min"), Edge("Dstar", "NS", "$-\\log D(G(z))$", bend=0.15), Edge("NS", "mode")]
    return flow(nodes, edges, (16.0, 4.6), "Chapter 2's route")


def algorithm_1(k: int = 1) -> plt.Figure:
    """Chapter 3: one iteration of Goodfellow et al.'s Algorithm 1, k discriminator steps then one generator step."""
    nodes = {
        "sampleD": Node("draw $m$ noise vectors\nand $m$ real samples", (2.0, 3.0), "data", (3.0, 0.9)),
        "stepD": Node("update $D$: ascend\n$\\frac{1}{m}\\sum \\log D(x) + \\log(1 - D(G(z)))$", (7.0, 3.0), "D",
                      (4.4, 0.9)),
        "sampleG": Node("draw $m$ fresh\nnoise vectors", (12.0, 3.0), "data", (2.8, 0.9)),
        "stepG": Node("update $G$: descend\n$\\frac{1}{m}\\sum -\\log D(G(z))$ (in practice)", (11.4, 0.8), "G",
                      (4.4, 0.9)),
    }
    edges = [Edge("sampleD", "stepD"),
             Edge("stepD", "sampleD", f"$k$ times (here $k = {k}$)", bend=0.55, label_at=(4.5, 4.75)),
             Edge("stepD", "sampleG", "then"), Edge("sampleG", "stepG"),
             Edge("stepG", "sampleD", "next iteration, until the budget is spent", bend=-0.2, dashed=True,
                  label_at=(5.2, 0.85))]
    return flow(nodes, edges, (13.8, 5.4), "Algorithm 1: one iteration")


def _layer_name(module: nn.Module) -> str:
    if isinstance(module, nn.ConvTranspose2d):
        return f"transposed conv {module.kernel_size[0]}×{module.kernel_size[1]}, stride {module.stride[0]}"
    if isinstance(module, nn.Conv2d):
        return f"conv {module.kernel_size[0]}×{module.kernel_size[1]}, stride {module.stride[0]}"
    if isinstance(module, nn.Linear):
        return "linear"
    if isinstance(module, nn.BatchNorm2d):
        return "batch norm"
    if isinstance(module, nn.LeakyReLU):
        return f"LeakyReLU {module.negative_slope:g}"
    return {"ReLU": "ReLU", "Tanh": "tanh", "Flatten": "flatten"}.get(type(module).__name__, type(module).__name__)


def layer_stages(network: nn.Module, x: torch.Tensor) -> list[tuple[str, tuple[int, ...]]]:
    """Run ``network`` on ``x`` once and group its layers into stages, each a weight layer (linear or
    convolution) and the layers after it: [(names joined, shape of what the stage hands on, without batch)].

    The shape handed on is the input of the next stage's first layer, so a reshape between layers (the lean
    generator's linear output viewed as 7×7 maps) shows as the maps.
    """
    calls: list[tuple[nn.Module, tuple[int, ...], tuple[int, ...]]] = []
    hooks = [m.register_forward_hook(lambda m, i, o: calls.append((m, tuple(i[0].shape[1:]), tuple(o.shape[1:]))))
             for m in network.modules() if not list(m.children())]
    was_training = network.training
    try:
        network.eval()
        with torch.no_grad():
            network(x)
    finally:
        network.train(was_training)
        for hook in hooks:
            hook.remove()
    stages: list[list[int]] = []
    for index, (module, _, _) in enumerate(calls):
        if isinstance(module, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)) or not stages:
            stages.append([])
        stages[-1].append(index)
    result = []
    for number, members in enumerate(stages):
        names = ", ".join(_layer_name(calls[i][0]) for i in members)
        handed_on = calls[stages[number + 1][0]][1] if number + 1 < len(stages) else calls[members[-1]][2]
        result.append((names, handed_on))
    return result


def _two_lines(names: str) -> str:
    """"conv 4×4, stride 2, batch norm, ReLU" -> the weight layer, then the layers after it on a second line."""
    first, _, rest = names.partition(", ")
    if first.startswith(("conv", "transposed")):  # "stride 2" belongs to the convolution
        stride, _, rest = rest.partition(", ")
        first = f"{first}, {stride}"
    return f"{first}\n{rest}" if rest else first


def _shape(shape: tuple[int, ...]) -> str:
    return "(" + ", ".join(str(s) for s in shape) + ")" if len(shape) > 1 else f"({shape[0]})"


def dcgan_layers(generator: nn.Module, discriminator: nn.Module, latent_dim: int = 64) -> plt.Figure:
    """Chapter 4: the lean DCGAN's stages with the shape each hands on, read from one forward pass of each."""
    g_stages = layer_stages(generator, torch.zeros(2, latent_dim))
    d_stages = layer_stages(discriminator, torch.zeros(2, 1, 28, 28))
    nodes, edges, step = {}, [], 3.7
    nodes["z"] = Node(f"noise $z$\n{_shape((latent_dim,))}", (1.3, 3.2), "data", (1.8, 0.9))
    previous = "z"
    for i, (names, shape) in enumerate(g_stages):
        key = f"g{i}"
        nodes[key] = Node(f"{_two_lines(names)}\n→ {_shape(shape)}", (1.5 + step * (i + 1), 3.2), "G",
                          (3.3, 1.15), 8.5)
        edges.append(Edge(previous, key))
        previous = key
    nodes["x"] = Node(f"image\n{_shape((1, 28, 28))}", (1.3, 0.9), "data", (1.8, 0.9))
    previous = "x"
    for i, (names, shape) in enumerate(d_stages):
        key = f"d{i}"
        label = "logit" if shape == (1,) else _shape(shape)
        nodes[key] = Node(f"{_two_lines(names)}\n→ {label}", (1.5 + step * (i + 1), 0.9), "D",
                          (3.3, 1.15), 8.5)
        edges.append(Edge(previous, key))
        previous = key
    width = 1.5 + step * (max(len(g_stages), len(d_stages)) + 0.55)
    fig = flow(nodes, edges, (width, 4.2), "The lean DCGAN: generator (top), discriminator (bottom)")
    return fig


def measuring_digits() -> plt.Figure:
    """Chapter 5: samples and reference digits through one frozen classifier, and the measures each output feeds."""
    nodes = {
        "samples": Node("1,000 generated\ndigits", (1.8, 3.0)),
        "reference": Node("1,000 reference digits\n(no network trained on them)", (1.8, 1.0), "data", (3.4, 0.9)),
        "clf": Node("frozen digit\nclassifier", (5.4, 2.0), "idea", (2.2, 0.9)),
        "features": Node("features (64 numbers\nper digit)", (8.8, 3.0), "data", (2.6, 0.9)),
        "probs": Node("probabilities\n(10 per digit)", (8.8, 1.0), "data", (2.6, 0.9)),
        "fd": Node("Fréchet distance, KID,\nprecision and recall", (13.4, 3.0), "loss", (3.0, 0.9)),
        "conf": Node("confidence, class\ncoverage, score", (13.4, 1.0), "loss", (3.0, 0.9)),
    }
    edges = [Edge("samples", "clf"), Edge("reference", "clf"), Edge("clf", "features"), Edge("clf", "probs"),
             Edge("features", "fd", "compare\nthe two sets"), Edge("probs", "conf", "generated\ndigits only")]
    return flow(nodes, edges, (15.2, 4.0), "How a set of digits is measured")


def three_cures() -> plt.Figure:
    """Chapter 6: the rotating field and the three kinds of cure the chapter tries."""
    nodes = {
        "problem": Node("gradient steps on a two-player game\nrotate around the equilibrium", (6.0, 3.3), "D",
                        (5.0, 0.9)),
        "game": Node("change the game\nR1, R2, instance noise", (1.9, 1.0), "idea", (3.4, 0.9)),
        "step": Node("change the step\nextragradient, optimistic,\nnegative momentum", (6.0, 1.0), "idea",
                     (3.4, 1.1)),
        "report": Node("change what you report\nthe average of the iterates", (10.1, 1.0), "idea", (3.6, 0.9)),
    }
    edges = [Edge("problem", "game", "damp the rotation"), Edge("problem", "step", "look ahead"),
             Edge("problem", "report", "average it out")]
    return flow(nodes, edges, (12.0, 4.2), "Why training circles, and three kinds of cure")


def where_remedies_act() -> plt.Figure:
    """Chapter 7: the training loop, with each remedy written next to the part it changes."""
    nodes = {
        "z": Node("noise $z$", (1.0, 3.6), "data", (1.5, 0.7)),
        "G": Node("generator $G$", (3.6, 3.6), "G", (2.2, 0.8)),
        "real": Node("real digits", (3.6, 1.4), "data", (2.2, 0.8)),
        "aug": Node("what $D$ sees\nDiffAugment", (6.9, 2.5), "loss", (2.4, 0.9)),
        "D": Node("discriminator $D$\nspectral norm, minibatch\ndiscrimination, packing", (10.5, 2.5), "D",
                  (3.4, 1.2)),
        "loss": Node("the loss pair\nNS, LSGAN, hinge, WGAN, RpGAN,\nfeature matching, label smoothing",
                     (10.5, 0.5), "loss", (4.4, 1.0)),
        "step": Node("$D$'s step\nR1, R2, gradient penalty,\ngradient clipping, its learning rate (TTUR)", (10.5, 4.6),
                     "loss", (4.4, 1.0)),
        "avg": Node("after the step\nan average of $G$", (3.6, 5.3), "loss", (2.6, 0.9)),
    }
    edges = [Edge("z", "G"), Edge("G", "aug"), Edge("real", "aug"), Edge("aug", "D"), Edge("D", "loss"),
             Edge("step", "D", colour=ORANGE), Edge("G", "avg", dashed=True, colour=ORANGE),
             Edge("loss", "G", "gradients", bend=-0.3, dashed=True, colour=BLUE)]
    return flow(nodes, edges, (13.2, 6.5), "Where each remedy acts", y_from=-0.3)


def conditional_networks() -> plt.Figure:
    """Chapter 8: the conditional generator and the projection discriminator."""
    nodes = {
        "z": Node("noise $z$ (64)", (1.3, 4.5), "data", (2.0, 0.7)),
        "y1": Node("condition $y$ (12): digit,\nthickness and slant ranks", (1.9, 3.3), "idea", (3.2, 0.9)),
        "G": Node("$G(z, y)$: $z$ and $y$\njoined, then the lean $G$", (6.2, 3.9), "G", (3.4, 0.9)),
        "x": Node("image $x$", (9.6, 3.9), "data", (1.8, 0.7)),
        "phi": Node("$\\phi(x)$: the lean\n$D$'s body (3,136)", (9.6, 2.3), "D", (2.8, 0.9)),
        "y2": Node("the same $y$", (6.2, 0.8), "idea", (2.0, 0.7)),
        "V": Node("$V y$: one learned column\nper entry of $y$", (9.6, 0.8), "D", (3.0, 0.8)),
        "out": Node("logit $= \\psi(\\phi(x))$\n$+ \\langle V y, \\phi(x) \\rangle$", (13.4, 1.55), "loss",
                    (3.0, 0.9)),
    }
    edges = [Edge("z", "G"), Edge("y1", "G"), Edge("G", "x"), Edge("x", "phi"), Edge("phi", "out"),
             Edge("y2", "V"), Edge("V", "out")]
    return flow(nodes, edges, (15.0, 5.3), "Conditional generator (top) and projection discriminator (bottom)")


def superres_pipeline() -> plt.Figure:
    """Chapter 9: how a 7×7 thumbnail becomes a 28×28 digit, and the three losses that can train the network."""
    nodes = {
        "hr": Node("true digit\n28×28", (1.2, 3.4), "data", (1.9, 0.9)),
        "lr": Node("thumbnail 7×7\n(area average ÷4)", (4.3, 3.4), "data", (2.6, 0.9)),
        "bic": Node("bicubic ×4", (7.6, 4.3), "idea", (2.2, 0.7)),
        "net": Node("network: convolutions,\nresidual blocks, 2 sub-pixel ×2", (7.6, 2.5), "G", (3.6, 0.9)),
        "sr": Node("output 28×28\n= bicubic + correction", (11.4, 3.4), "data", (3.2, 0.9)),
        "pixel": Node("pixel loss: squared error\nto the true digit", (9.0, 0.6), "loss", (3.4, 0.9)),
        "content": Node("content loss: to the true\ndigit in the classifier's maps", (12.9, 0.6), "loss",
                        (3.8, 0.9)),
        "adv": Node("adversarial loss:\n$D$, real digit or output?", (16.8, 0.6), "D", (3.4, 0.9)),
    }
    edges = [Edge("hr", "lr"), Edge("lr", "bic"), Edge("lr", "net"), Edge("bic", "sr"), Edge("net", "sr"),
             Edge("sr", "pixel"), Edge("sr", "content"), Edge("sr", "adv", bend=-0.1)]
    return flow(nodes, edges, (18.6, 4.9), "Super-resolution: the pipeline and its losses")


def multi_gpu_run(processes: int = 4) -> plt.Figure:
    """The training-at-scale page: torchrun's processes, each with its device, data shard and model copies."""
    if processes < 2:
        raise ValueError(f"a multi-GPU run has at least 2 processes, got {processes}")
    spacing = 3.4
    nodes = {"torchrun": Node("torchrun starts one process per GPU", (spacing * processes / 2, 4.4), "plain",
                              (5.0, 0.7))}
    edges = []
    for rank in range(processes):
        x = spacing * (rank + 0.5)
        extra = "\nwrites checkpoint\nand metrics" if rank == 0 else ""
        nodes[f"p{rank}"] = Node(f"process {rank}: GPU {rank}\ncopies of $G$ and $D$\nshard {rank} of the data"
                                 + extra, (x, 2.6), "G" if rank else "idea", (3.0, 1.6 if rank == 0 else 1.2), 8.5)
        edges += [Edge("torchrun", f"p{rank}", colour="#777777"),
                  Edge(f"p{rank}", "allreduce", colour=PURPLE, both_ways=True)]
    nodes["allreduce"] = Node("after each backward pass: gradients averaged across processes (all-reduce),\n"
                              "so every copy takes the same step", (spacing * processes / 2, 0.5), "loss",
                              (spacing * processes - 0.6, 0.9))
    return flow(nodes, edges, (spacing * processes, 5.0), "A multi-GPU run with DistributedDataParallel")
