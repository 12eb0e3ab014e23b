import pytest

from gancourse.claims import Claims


def test_on_the_measured_setting_a_claim_is_its_outcome(capsys):
    claims = Claims(measured={"device": "cpu", "STEPS": 2_500}, now={"device": "cpu", "STEPS": 2_500})
    assert claims.measured_here
    assert claims.hold(True, "meets the bar") is True
    assert claims.hold(False, "meets the bar") is False  # so `assert claims.hold(...)` fails as a plain assert
    assert capsys.readouterr().out == ""


def test_elsewhere_a_claim_is_reported_with_the_setting_it_was_measured_at(capsys):
    claims = Claims(measured={"device": "cpu", "STEPS": 2_500}, now={"device": "cpu", "STEPS": 10_000})
    assert not claims.measured_here
    opening = capsys.readouterr().out
    assert opening.count("\n") == 1 and "STEPS = 10,000" in opening and "STEPS = 2,500" in opening
    assert claims.hold(False, "meets the bar") is True
    line = capsys.readouterr().out
    assert line == ("not checked at this setting: 'meets the bar' does not hold in this run; "
                    "it was measured with STEPS = 2,500.\n")


def test_several_measured_values_and_bad_use():
    claims = Claims(measured={"STEPS": (2_500, 5_000)}, now={"STEPS": 5_000})
    assert claims.measured_here
    with pytest.raises(ValueError, match="give both the same names"):
        Claims(measured={"STEPS": 2_500}, now={"STEPS": 2_500, "device": "cpu"})
    with pytest.raises(ValueError, match="in words"):
        claims.hold(True, "")
