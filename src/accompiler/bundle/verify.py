"""A bundle -> a Verification: opened safely, its card validated (schema and consistency),
and reproduced from its spec and inputs; one report for an editor (text, JSON, Markdown)."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._version import __version__
from ..card.comparison import EXACT, Tolerance
from ..card.reproduce import Reproduction
from ..problems import Problem, SpecError
from .manifest import Manifest
from .reader import LIMITS, Bundle, Limits, open_bundle

VERIFICATION_VERSION = "1"


@dataclass(frozen=True)
class Verification:
    """What `accard verify` found. `verified`: the card is valid and consistent, and the
    bundle's spec and inputs reproduce it (and, with `require_pass`, it passes strictly)."""

    source: str
    manifest: Manifest
    card_problems: list[Problem]
    """Why the card is not a valid card (empty when it is); notes included."""
    reproduction: Reproduction | None
    spec_problems: list[Problem] = field(default_factory=list)
    """Why the bundle's spec or inputs could not be recomputed."""
    verdict: dict[str, Any] | None = None
    """The card's own verdict (when it is valid)."""
    require_pass: bool = False

    @property
    def card_valid(self) -> bool:
        return self.verdict is not None

    @property
    def claim_passes(self) -> bool:
        return bool(self.verdict and self.verdict["strict"]["pass"])

    @property
    def verified(self) -> bool:
        return not self.reasons()

    def reasons(self) -> list[str]:
        """Why the bundle is not verified ([] when it is)."""
        reasons = [f"the card is not valid: {p.summary}" for p in self.card_problems if p.is_error]
        reasons += [f"the spec or an input is wrong: {p.summary}" for p in self.spec_problems]
        if self.reproduction is not None and not self.reproduction.reproduced:
            reasons.append(self.reproduction.headline())
        if self.require_pass and self.card_valid and not self.claim_passes:
            reasons.append("the claim does not pass strictly (--require-pass)")
        return reasons

    def problems(self) -> list[Problem]:
        """Every reason as problems (for --problems json|github)."""
        found = [p for p in self.card_problems if p.is_error] + self.spec_problems
        if self.reproduction is not None:
            found += self.reproduction.problems()
        return found

    def to_json(self) -> dict[str, Any]:
        verdict = self.verdict
        return {
            "verification_version": VERIFICATION_VERSION,
            "bundle": self.source,
            "verified": self.verified,
            "reasons": self.reasons(),
            "tool": {"name": "accard", "version": __version__},
            "manifest": self.manifest.to_json(),
            "card": {
                "valid": self.card_valid,
                "problems": [_problem(p) for p in self.card_problems],
                "verdict": verdict,
            },
            "claim_passes": self.claim_passes if verdict else None,
            "require_pass": self.require_pass,
            "spec_problems": [_problem(p) for p in self.spec_problems],
            "reproduction": self.reproduction.to_json() if self.reproduction else None,
        }


def _problem(problem: Problem) -> dict[str, Any]:
    from ..problems import problems_document

    entry: dict[str, Any] = problems_document([problem])["problems"][0]
    return entry


def verify_bundle(
    path: Path,
    *,
    tolerance: Tolerance = EXACT,
    require_pass: bool = False,
    limits: Limits = LIMITS,
    display: str | None = None,
) -> Verification:
    """Open `path` in a temporary folder (removed afterwards), validate its card and
    reproduce it from its spec.

    Raises:
        SpecError: the bundle itself is malformed or unsafe (exit 2).
    """
    with tempfile.TemporaryDirectory(prefix="accard-verify-") as folder:
        bundle = open_bundle(path, Path(folder) / "bundle", limits, display)
        return _verify(bundle, tolerance, require_pass)


def _verify(bundle: Bundle, tolerance: Tolerance, require_pass: bool) -> Verification:
    from ..card import read_card
    from ..card.reproduce import reproduce

    manifest = bundle.manifest
    card_name = bundle.display(manifest.card)
    card, card_problems = read_card(bundle.card, card_name)
    base = Verification(bundle.source, manifest, card_problems, None, require_pass=require_pass)
    if card is None:
        return base
    verdict = card["verdict"]
    try:
        reproduction = reproduce(
            bundle.spec,
            card,
            card_bytes=bundle.card.read_bytes(),
            tolerance=tolerance,
            display=(bundle.display(manifest.spec), card_name),
        )
    except SpecError as error:
        return Verification(
            bundle.source, manifest, card_problems, None, error.problems, verdict, require_pass
        )
    return Verification(
        bundle.source, manifest, card_problems, reproduction, [], verdict, require_pass
    )
