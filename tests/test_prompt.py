import pytest
import torch

from gancourse.prompt import PromptError, Request, condition, parse_prompt, tokenize


@pytest.mark.parametrize(("text", "expected"), [
    ("a bold, slanted seven", Request(7, "bold", "slanted")),
    ("一个粗的、倾斜的七", Request(7, "bold", "slanted")),
    ("thin upright 2", Request(2, "thin", "upright")),
    ("细的、正的二", Request(2, "thin", "upright")),
    ("Zero", Request(0)),
    ("〇", Request(0)),
    ("一个一", Request(1)),  # "一个" is "a", then "一" is the digit one
    ("an italic 9", Request(9, slant="slanted")),
    ("a thick 5 and upright", Request(5, "bold", "upright")),
    ("粗的 four", Request(4, "bold")),
])
def test_prompts_in_both_languages(text, expected):
    assert parse_prompt(text) == expected


def test_english_and_chinese_prompts_agree_for_every_digit():
    english = "zero one two three four five six seven eight nine".split()
    for digit, (word, char) in enumerate(zip(english, "零一二三四五六七八九", strict=True)):
        assert parse_prompt(f"a thin slanted {word}") == parse_prompt(f"细的倾斜的{char}") == Request(
            digit, "thin", "slanted")
        assert parse_prompt(str(digit)).digit == digit


def test_unknown_words_get_one_error_listing_the_vocabulary():
    for text in ("a bolder seven", "一个胖的七", "a seven!?, please paint", "a seven leaning left"):
        with pytest.raises(PromptError) as error:
            parse_prompt(text)
        message = str(error.value)
        assert "unknown word" in message
        for word in ("seven", "七", "bold", "粗的", "slanted", "倾斜的", "upright", "正的"):
            assert word in message


def test_what_a_learner_types_first_is_understood():
    assert parse_prompt("draw a 7") == parse_prompt("画一个七") == Request(7)
    assert parse_prompt("画一个三") == Request(3)
    assert parse_prompt("a thick seven leaning right") == parse_prompt("一个粗的向右倾斜的7") == Request(
        7, "bold", "slanted")
    assert parse_prompt("draw me a bold 3, please") == Request(3, "bold")


def test_ill_formed_requests_are_refused():
    with pytest.raises(PromptError, match="exactly one digit"):
        parse_prompt("a bold slanted")
    with pytest.raises(PromptError, match="exactly one digit"):
        parse_prompt("seven 8")
    with pytest.raises(PromptError, match="bold and thin"):
        parse_prompt("a bold thin 7")
    with pytest.raises(TypeError, match="string"):
        parse_prompt(7)


def test_tokenize_keeps_latin_words_whole():
    assert tokenize("A BOLD seven.") == ["a", "bold", "seven"]
    with pytest.raises(PromptError):
        tokenize("sevens")


def test_condition_vector():
    attributes = torch.tensor([[2.0, -0.2], [2.5, 0.1], [3.0, 0.3], [3.5, 0.5]])
    vector = condition(parse_prompt("a bold, slanted seven"), attributes)
    assert vector.shape == (12,) and vector[:10].argmax() == 7 and vector[:10].sum() == 1
    assert vector[10:].tolist() == pytest.approx([0.9, 0.9])
    upright = condition(parse_prompt("thin upright 2"), attributes)
    assert upright[10:].tolist() == pytest.approx([0.1, 0.25])  # zero shear lies above one of four slants
    assert condition(parse_prompt("3"), attributes)[10:].tolist() == pytest.approx([0.5, 0.5])
    with pytest.raises(ValueError, match=r"\(M, 2\)"):
        condition(parse_prompt("3"), torch.zeros(4))
