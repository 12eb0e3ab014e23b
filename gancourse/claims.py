"""Where a chapter's claims were measured, and what its checks do on a setting where they were not.

A chapter states numbers and asserts them. Some of those numbers belong to a setting: the device's budget (a
chapter may train longer on a GPU), or a constant the text invites the learner to change (``STEPS``). The checks
were measured on some settings only (on five seeds, ``benchmarks/results/``). ``Claims`` names them once, at the
top of a chapter; each setting-bound check is then written ::

    assert claims.hold(bar.met(report), "the lean DCGAN meets the bar")

On a measured setting ``hold`` returns the outcome, so the assert checks the claim as before. Elsewhere it prints
one line, the claim, whether it held in this run, and the setting it was measured at, and returns True: the
learner who raised ``STEPS`` reads a sentence, not a traceback, and the claim is not passed off as checked.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["Claims"]


def _word(value: object) -> str:
    return f"{value:,}" if isinstance(value, int) else str(value)


def _describe(setting: Mapping[str, tuple]) -> str:
    """``{"STEPS": (2_500,), "device": ("cpu",)}`` -> ``STEPS = 2,500, device = cpu``."""
    return ", ".join(f"{name} = {' or '.join(_word(v) for v in values)}" for name, values in setting.items())


class Claims:
    """The setting a chapter's checks were measured at (``measured``) and the one this run has (``now``).

    ``measured`` maps each setting-bound name (``"device"``, ``"STEPS"``, ...) to its measured value, or to a tuple
    of measured values; ``now`` gives every one of those names its value in this run. Creating it on an unmeasured
    setting prints one line saying so.
    """

    def __init__(self, measured: Mapping[str, object], now: Mapping[str, object]) -> None:
        if set(now) != set(measured):
            raise ValueError(f"now names {sorted(now)} but measured names {sorted(measured)}: give both the same names")
        self.measured = {name: value if isinstance(value, tuple) else (value,) for name, value in measured.items()}
        self.now = dict(now)
        self.differences = {name: value for name, value in self.now.items() if value not in self.measured[name]}
        if self.differences:
            now = {name: (value,) for name, value in self.differences.items()}
            print(f"This run's setting ({_describe(now)}) is not one the text's numbers were measured "
                  f"at ({self.was()}): the checks that depend on it print their outcome instead of stopping.")

    @property
    def measured_here(self) -> bool:
        """True when this run's setting is one the checks were measured at."""
        return not self.differences

    def was(self) -> str:
        """The measured setting, in words: ``device = cpu, STEPS = 2,500``."""
        shown = self.differences or self.measured  # the names that differ, or all of them
        return _describe({name: self.measured[name] for name in shown})

    def hold(self, outcome: object, claim: str) -> bool:
        """The claim's outcome on a measured setting; elsewhere a printed line and True (see the module docstring)."""
        if not isinstance(claim, str) or not claim:
            raise ValueError("claim must say, in words, what is checked")
        if self.measured_here:
            return bool(outcome)
        verdict = "holds" if outcome else "does not hold"
        print(f"not checked at this setting: '{claim}' {verdict} in this run; it was measured with {self.was()}.")
        return True
