"""The change rules: which way each kind of change moves a claim (PROTOCOL, "Which way a
change moves a claim"). One table; the README's table is rendered from it (a test holds it)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..claim.settings import SETTINGS, Setting

WEAKENED, STRENGTHENED, NEUTRAL = "weakened", "strengthened", "neutral"
CLASSES = (WEAKENED, STRENGTHENED, NEUTRAL)


@dataclass(frozen=True)
class Rule:
    """A kind of change: a stable id, its class, why, and the rule of the opposite change."""

    id: str
    cls: str
    reason: str
    reverse: str | None = None
    """The rule the same change read backwards follows (weakened <-> strengthened, added <->
    removed); None when it follows this rule itself (a change between two values)."""


@dataclass(frozen=True)
class Change:
    """One classified change between two revisions. `path` names the field: a JSON path in
    the card, or `claim:` + a path into the claim for what only a spec holds."""

    id: str
    cls: str
    reason: str
    path: str
    old: Any
    new: Any

    def to_json(self) -> dict[str, Any]:
        """The change as `schemas/diff.v1.schema.json` describes it."""
        return {
            "id": self.id,
            "class": self.cls,
            "reason": self.reason,
            "path": self.path,
            "old": self.old,
            "new": self.new,
        }


def _pair(weaker: str, stronger: str, why_weaker: str, why_stronger: str) -> tuple[Rule, Rule]:
    return (
        Rule(weaker, WEAKENED, why_weaker, stronger),
        Rule(stronger, STRENGTHENED, why_stronger, weaker),
    )


_CLAIM = (
    Rule("title.changed", NEUTRAL, "the claim's title changed"),
    Rule("defense.renamed", NEUTRAL, "the defense is named differently"),
    Rule("model.changed", NEUTRAL, "the claim is about another model"),
    Rule("records.changed", NEUTRAL, "the records are read in another format or field map"),
    Rule("heldout.renamed", NEUTRAL, "the held-out task is named differently"),
    *_pair(
        "fresh.removed",
        "fresh.added",
        "the fresh set was removed: (b) can no longer be evaluated",
        "a fresh set was added: (b) tests generalisation to unseen subjects",
    ),
    *_pair(
        "transfer.removed",
        "transfer.added",
        "a transfer target was removed: (d) has one target fewer to pass",
        "a transfer target was added: (d) has one target more to pass",
    ),
    Rule("transfer.renamed", NEUTRAL, "a transfer target is named differently (same records)"),
    *_pair(
        "mechanism.to_shrinkage",
        "mechanism.to_attack_targeted",
        "the claimed mechanism became shrinkage: a less specific claim, which any update that "
        "merely got smaller satisfies",
        "the claimed mechanism became attack_targeted: a more specific claim, that the defense "
        "removes the attack's direction and keeps the rest",
    ),
    *_pair(
        "relabel.added",
        "relabel.removed",
        "a permissive relabel was added: the permissive verdict may pass on the auditor's class",
        "the permissive relabel was removed: both verdicts judge the claimed class",
    ),
    *_pair(
        "relabel.to_shrinkage",
        "relabel.to_attack_targeted",
        "the relabel now recodes to shrinkage, the less specific class",
        "the relabel now recodes to attack_targeted, the more specific class",
    ),
    Rule("relabel.reason_changed", NEUTRAL, "the relabel's reason changed"),
    Rule("adapter.scale.changed", NEUTRAL, "a plain .safetensors adapter is scaled differently"),
)

# Which way a setting tightens the claim, and why; every other setting is neutral: it moves
# no gate in one direction (PROTOCOL: rank_rtol, min_clusters, safelora_threshold, seed).
_TIGHTER_WHEN: dict[str, tuple[str, str, str]] = {
    "resamples": (
        "raised",
        "fewer bootstrap resamples: every bound carries more Monte-Carlo error",
        "more bootstrap resamples: every bound carries less Monte-Carlo error",
    ),
    "confidence": (
        "raised",
        "a lower confidence level narrows every interval: a bound clears 0 more easily",
        "a higher confidence level widens every interval: a bound clears 0 less easily",
    ),
    "tau_fresh": (
        "raised",
        "(b) accepts a smaller share of the held-out reduction on fresh subjects",
        "(b) demands a larger share of the held-out reduction on fresh subjects",
    ),
    "rho_at": (
        "lowered",
        "a larger rho_AT still signs as attack_targeted: (c) is easier to pass as claimed",
        "a smaller rho_AT is needed to sign as attack_targeted: (c) is harder to pass",
    ),
    "max_deploy_cost": (
        "lowered",
        "(a) lets the defense cost more deployment accuracy",
        "(a) lets the defense cost less deployment accuracy",
    ),
}
_OPPOSITE = {"raised": "lowered", "lowered": "raised"}


def _setting_rules(setting: Setting) -> tuple[Rule, ...]:
    """A directed setting's raised/lowered pair (and removed/added when it may be unset: an
    unset gate is off, the loosest value); a neutral setting's one `changed` rule."""
    prefix = f"settings.{setting.name}"
    if setting.name not in _TIGHTER_WHEN:
        why = f"`{setting.name}` changed — {setting.rule.help}; it moves no gate one way"
        return (Rule(f"{prefix}.changed", NEUTRAL, why),)
    tighter, why_weaker, why_stronger = _TIGHTER_WHEN[setting.name]
    looser = _OPPOSITE[tighter]
    rules: tuple[Rule, ...] = _pair(
        f"{prefix}.{looser}", f"{prefix}.{tighter}", why_weaker, why_stronger
    )
    if setting.optional:
        rules += _pair(
            f"{prefix}.removed",
            f"{prefix}.added",
            f"`{setting.name}` is no longer set: its gate is off",
            f"`{setting.name}` is now set: its gate is on",
        )
    return rules


_INPUTS = (
    Rule("input.changed", NEUTRAL, "the content read in this role changed"),
    Rule("input.moved", NEUTRAL, "the same content is read from another path"),
    Rule("input.added", NEUTRAL, "a file is read in a new role", "input.removed"),
    Rule("input.removed", NEUTRAL, "a file is no longer read in this role", "input.added"),
)

_RESULTS = (
    *_pair(
        "status.pass_lost",
        "status.pass_gained",
        "a diagnostic (or gate) that passed no longer does",
        "a diagnostic (or gate) now passes",
    ),
    Rule("status.changed", NEUTRAL, "a status changed between fail and not_evaluable"),
    *_pair(
        "verdict.pass_lost",
        "verdict.pass_gained",
        "a verdict that passed no longer does",
        "a verdict now passes",
    ),
    Rule(
        "bound.moved",
        NEUTRAL,
        "an interval bound moved by more than its Monte-Carlo error",
    ),
    Rule(
        "estimate.moved",
        NEUTRAL,
        "a number computed from the full data (no Monte-Carlo error) changed",
    ),
    Rule("result.changed", NEUTRAL, "a result the card reports changed"),
    Rule("warning.added", NEUTRAL, "the card warns about something new", "warning.removed"),
    Rule("warning.removed", NEUTRAL, "a warning is gone", "warning.added"),
    Rule("tool.changed", NEUTRAL, "another accard version made the card"),
)

RULES: dict[str, Rule] = {
    rule.id: rule
    for rule in (*_CLAIM, *(r for s in SETTINGS for r in _setting_rules(s)), *_INPUTS, *_RESULTS)
}
"""Every rule by id, in the order the README's table lists them."""


def change(rule_id: str, path: str, old: Any, new: Any, detail: str = "") -> Change:
    """A change by its rule; `detail` (e.g. the shift and its Monte-Carlo error) extends the
    rule's reason."""
    rule = RULES[rule_id]
    reason = f"{rule.reason} ({detail})" if detail else rule.reason
    return Change(rule.id, rule.cls, reason, path, old, new)


def setting_direction(name: str) -> str | None:
    """'raised' or 'lowered' for the direction that tightens `name`; None when neutral."""
    entry = _TIGHTER_WHEN.get(name)
    return entry[0] if entry else None


def rules_table() -> str:
    """The rules as the Markdown table the README shows (a test holds the README to it)."""
    lines = ["| change | class | why |", "|---|---|---|"]
    lines += [f"| `{r.id}` | {r.cls} | {r.reason} |" for r in RULES.values()]
    return "\n".join(lines)
