"""What the diagnostics read: bootstrapped data sets and what a diagnostic prepared."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..claim.model import Claim
from ..stats.intervals import BootstrapResult, Interval


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

    @property
    def installed(self) -> bool:
        return self.boot is not None and self.interval("installed_gap").ci_low > 0

    def not_installed_reason(self) -> str:
        if self.boot is None:
            return self.reason
        gap = self.interval("installed_gap")
        return (
            f"the attack installed no gap on `{self.name}`: the lower "
            f"{self.boot.confidence:.0%} bound of the undefended gap is {gap.ci_low:+.3f}, "
            "not above 0"
        )


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
    return {
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


def reported(result: DataSetResult, *names: str) -> dict[str, Any]:
    """The named intervals of a data set, reported whether or not a gate reads them (null
    only when the data set could not be bootstrapped at all)."""
    return {name: interval_json(result, name) if result.boot else None for name in names}


def upper_below_zero(result: DataSetResult, name: str) -> tuple[bool, str]:
    interval = result.interval(name)
    assert result.boot is not None
    level = f"{result.boot.confidence:.0%}"
    if interval.ci_high < 0:
        return True, ""
    return False, (
        f"the upper {level} bound of {name} on `{result.name}` is "
        f"{interval.ci_high:+.3f}, not below 0"
    )
