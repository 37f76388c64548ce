"""What the diagnostics read: bootstrapped data sets and what a diagnostic prepared."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..canonical import round_numbers
from ..claim.model import Claim
from ..stats.intervals import BootstrapResult, Interval

IntervalJson = Mapping[str, Any]
"""An interval as the card records it (`interval_json`): the rules below read only this, so a
run and `accard validate` (which re-derives every status from a saved card) decide alike."""


@dataclass(frozen=True)
class DataSetResult:
    """A data set after loading and bootstrapping; `boot` is None when it is degenerate."""

    key: str
    name: str
    subjects: frozenset[str]
    boot: BootstrapResult | None
    reason: str = ""
    records_format: str = "canonical"

    def interval(self, name: str) -> Interval:
        assert self.boot is not None
        return self.boot.intervals[name]

    def reported(self, name: str) -> dict[str, Any] | None:
        """The named interval as the card records it, or None (not bootstrapped)."""
        return interval_json(self, name) if self.boot is not None else None

    @property
    def installed(self) -> bool:
        return installed(self.reported("installed_gap"))

    def not_installed_reason(self) -> str:
        if self.boot is None:
            return self.reason
        return not_installed_reason(self.name, self.reported("installed_gap"), self.reason)


@dataclass(frozen=True)
class RunContext:
    claim: Claim
    datasets: dict[str, DataSetResult]
    prepared: Mapping[str, Any] = field(default_factory=dict)
    """What each diagnostic's `prepare` step returned, by diagnostic name."""


def interval_json(result: DataSetResult, name: str) -> dict[str, Any]:
    """An interval with everything a reader needs beside it: level, method, clusters, B, seed."""
    assert result.boot is not None
    boot, interval = result.boot, result.interval(name)
    document: dict[str, Any] = {
        "estimate": interval.estimate,
        "ci_low": interval.ci_low,
        "ci_high": interval.ci_high,
        "level": boot.confidence,
        "sidedness": "two-sided",
        "method": "percentile",
        "clusters": boot.clusters,
        "resamples": boot.resamples,
        "seed": boot.seed,
        "mc_error": {"ci_low": interval.mc_error_low, "ci_high": interval.mc_error_high},
        "cross_check": {
            "se": interval.se_cluster,
            "t_low": interval.t_low,
            "t_high": interval.t_high,
            "df": boot.clusters - 1,
            "sign_disagreement": interval.sign_disagreement,
        },
    }
    # Rounded as the card records it, so every gate decides on the numbers a reader sees.
    rounded: dict[str, Any] = round_numbers(document)
    return rounded


def reported(result: DataSetResult, *names: str) -> dict[str, Any]:
    """The named intervals of a data set, reported whether or not a gate reads them (null
    only when the data set could not be bootstrapped at all)."""
    return {name: result.reported(name) for name in names}


def installed(gap: IntervalJson | None) -> bool:
    """PROTOCOL's precondition: the lower bound of the undefended gap is above 0."""
    return gap is not None and gap["ci_low"] > 0


def not_installed_reason(dataset: str, gap: IntervalJson | None, missing: str = "") -> str:
    if gap is None:
        return missing or f"`{dataset}` could not be bootstrapped"
    return (
        f"the attack installed no gap on `{dataset}`: the lower {gap['level']:.0%} bound of "
        f"the undefended gap is {gap['ci_low']:+.3f}, not above 0"
    )


def upper_below_zero(interval: IntervalJson, name: str, dataset: str) -> tuple[bool, str]:
    """The gate of (a), (b) and (d): the upper bound of `name` is below 0 (and why not)."""
    if interval["ci_high"] < 0:
        return True, ""
    return False, (
        f"the upper {interval['level']:.0%} bound of {name} on `{dataset}` is "
        f"{interval['ci_high']:+.3f}, not below 0"
    )
