"""A tiny prompt language, English and Chinese: words -> (digit, stroke thickness, slant) -> a condition vector.

    parse_prompt("a bold, slanted seven")  == Request(digit=7, thickness="bold", slant="slanted")
    parse_prompt("一个粗的、倾斜的七")        == Request(digit=7, thickness="bold", slant="slanted")
    parse_prompt("thin upright 2")          == Request(digit=2, thickness="thin", slant="upright")
    parse_prompt("draw a thick 7 leaning right") == parse_prompt("画一个粗的向右倾斜的7")

Latin words are split at spaces and punctuation and must each be in the vocabulary; Chinese, written without
spaces, is cut by longest match against the vocabulary ("一个" is a filler before "一" is the digit one). Any
word outside the vocabulary raises one ``PromptError`` that lists the whole vocabulary.

``condition`` turns a request into what the chapter's generator takes: a one-hot digit (10) and the requested
ranks of thickness and slant among the training digits (see ``gancourse.attributes.attribute_ranks``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import torch

from gancourse.attributes import attribute_ranks
from gancourse.models import N_CLASSES, one_hot_digits

__all__ = ["THICKNESS", "VOCABULARY", "PromptError", "Request", "condition", "parse_prompt", "tokenize"]

DIGITS = {
    **{word: d for d, word in enumerate("zero one two three four five six seven eight nine".split())},
    **{str(d): d for d in range(N_CLASSES)},
    **{char: d for d, char in enumerate("零一二三四五六七八九")},
    "〇": 0,
}
THICKNESS = {"thin": "thin", "light": "thin", "细": "thin", "细的": "thin",
             "bold": "bold", "thick": "bold", "heavy": "bold", "粗": "bold", "粗的": "bold"}
SLANT = {"upright": "upright", "straight": "upright", "正": "upright", "正的": "upright", "直": "upright",
         "直的": "upright", "slanted": "slanted", "italic": "slanted", "leaning": "slanted", "倾斜": "slanted",
         "倾斜的": "slanted", "斜": "slanted", "斜的": "slanted"}
# Words a learner types around a request that ask for nothing themselves: "draw me a bold 3", "画一个三".
# "right" and "向右" are fillers because slanted already means leaning right; "left" is not known, so a prompt
# asking for a left lean is refused rather than misread.
FILLERS = ("a", "an", "the", "digit", "number", "and", "please", "draw", "make", "write", "show", "give",
           "generate", "me", "i", "want", "would", "like", "can", "you", "of", "with", "to", "in", "that", "is",
           "right", "stroke", "strokes",
           "一个", "个", "的", "数字", "和", "请", "画", "写", "生成", "给我", "我要", "要", "来", "一下", "向右",
           "往右", "右", "笔画", "字")
VOCABULARY = {**dict.fromkeys(DIGITS, "digit"), **dict.fromkeys(THICKNESS, "thickness"),
              **dict.fromkeys(SLANT, "slant"), **dict.fromkeys(FILLERS, "filler")}

# Requested rank among training digits (0 = thinnest / most left-leaning, 1 = boldest / most right-leaning).
# "upright" is not a rank but a measurement, zero shear; ``condition`` converts it with the data's slants.
THICKNESS_RANK = {"thin": 0.1, None: 0.5, "bold": 0.9}
SLANT_RANK = {None: 0.5, "slanted": 0.9}
UPRIGHT_SHEAR = 0.0

_SEPARATORS = re.compile(r"[\s,.;:!?，。、；：！？]+")
_LATIN = re.compile(r"[A-Za-z0-9]+")


class PromptError(ValueError):
    """A prompt the parser cannot read; the message says why and lists the vocabulary."""


@dataclass(frozen=True)
class Request:
    """What a prompt asks for: a digit 0-9, a thickness ("thin", "bold" or None) and a slant
    ("upright", "slanted" or None); None means "as the data usually are" (the median)."""

    digit: int
    thickness: str | None = None
    slant: str | None = None


def _vocabulary_text() -> str:
    """The vocabulary grouped by role, one line per role."""
    lines = []
    for role in ("digit", "thickness", "slant", "filler"):
        words = [w for w, r in VOCABULARY.items() if r == role]
        lines.append(f"  {role}: {', '.join(words)}")
    return "\n".join(lines)


def _fail(message: str) -> PromptError:
    return PromptError(f"{message}\nThe words I know:\n{_vocabulary_text()}")


def tokenize(text: str) -> list[str]:
    """Split a prompt into vocabulary words (lower-cased Latin words; Chinese by longest match)."""
    if not isinstance(text, str):
        raise TypeError(f"a prompt is a string, got {type(text).__name__}")
    longest = max(len(w) for w in VOCABULARY)
    tokens: list[str] = []
    for chunk in _SEPARATORS.split(text.strip()):
        position = 0
        while position < len(chunk):
            latin = _LATIN.match(chunk, position)
            if latin:  # a whole Latin word or numeral, never a prefix of one ("bolder" is not "bold")
                word = latin.group().lower()
                if word not in VOCABULARY:
                    raise _fail(f"unknown word {latin.group()!r} in {text!r}")
                tokens.append(word)
                position = latin.end()
                continue
            for size in range(min(longest, len(chunk) - position), 0, -1):
                if chunk[position : position + size] in VOCABULARY:
                    tokens.append(chunk[position : position + size])
                    position += size
                    break
            else:
                raise _fail(f"unknown word at {chunk[position:]!r} in {text!r}")
    return tokens


def parse_prompt(text: str) -> Request:
    """Read a prompt into a ``Request``; exactly one digit, at most one thickness and one slant word."""
    found: dict[str, list] = {"digit": [], "thickness": [], "slant": []}
    for token in tokenize(text):
        role = VOCABULARY[token]
        if role != "filler":
            table = {"digit": DIGITS, "thickness": THICKNESS, "slant": SLANT}[role]
            found[role].append(table[token])
    if len(found["digit"]) != 1:
        raise _fail(f"a prompt names exactly one digit; {text!r} names {len(found['digit'])}")
    for role in ("thickness", "slant"):
        if len(set(found[role])) > 1:
            raise _fail(f"{text!r} asks for {' and '.join(found[role])} at once")
    return Request(found["digit"][0], *(found[r][0] if found[r] else None for r in ("thickness", "slant")))


def condition(request: Request, training_attributes: torch.Tensor) -> torch.Tensor:
    """The generator's condition for ``request``: float32 (12,) = one-hot digit (10), thickness rank, slant rank.

    ``training_attributes``: (M, 2) measured (thickness, slant) of the training digits, which define the ranks.
    """
    if training_attributes.ndim != 2 or training_attributes.shape[1] != 2:
        raise ValueError(f"training_attributes must be (M, 2), got {tuple(training_attributes.shape)}")
    if request.slant == "upright":
        upright = torch.tensor([[0.0, UPRIGHT_SHEAR]], dtype=training_attributes.dtype)
        slant_rank = attribute_ranks(upright, training_attributes)[0, 1].item()
    else:
        slant_rank = SLANT_RANK[request.slant]
    ranks = torch.tensor([THICKNESS_RANK[request.thickness], slant_rank])
    return torch.cat([one_hot_digits(torch.tensor(request.digit)), ranks])
