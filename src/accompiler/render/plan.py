"""Plan JSON -> a one-screen summary for `accard plan`."""

from __future__ import annotations

from typing import Any

from ..diagnostics import DIAGNOSTICS


def _size(size: int) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000  # type: ignore[assignment]
    return ""


def _formats(claim: dict[str, Any]) -> str:
    """The record format, or each data set's when they differ."""
    data_sets = [("held-out", claim["heldout"]), ("fresh", claim.get("fresh"))]
    data_sets += [(f"`{t['name']}`", t) for t in claim.get("transfer") or []]
    named = [(label, d["records"]["format"]) for label, d in data_sets if d]
    if len({form for _, form in named}) <= 1:
        return str(named[0][1] if named else claim["records"]["format"])
    return ", ".join(f"{label} {form}" for label, form in named)


def render_plan(plan: dict[str, Any]) -> str:
    claim, settings = plan["claim"], plan["settings"]
    defense = claim["defense"]
    relabel = defense.get("relabel")
    lines = [
        f"plan for: {claim['title']}",
        f"  defense {defense['name']} claims {defense['mechanism']}"
        + (f"; auditor relabels it {relabel['to']} ({relabel['because']})" if relabel else ""),
        f"  model {claim['model']} · records {_formats(claim)}",
        "",
        f"inputs ({len(plan['inputs'])} files)",
    ]
    width = max((len(i["role"]) for i in plan["inputs"]), default=0)
    path_width = max((len(i["path"]) for i in plan["inputs"]), default=0)
    for item in plan["inputs"]:
        lines.append(
            f"  {item['role']:<{width}}  {item['path']:<{path_width}}  "
            f"({_size(item['size'])}, sha256 {item['sha256'][:12]})"
        )
    boot = settings["bootstrap"]
    lines += [
        "",
        f"settings: {boot['resamples']} question-clustered paired resamples, "
        f"{boot['confidence']:.0%} two-sided percentile CIs, seed {boot['seed']}; "
        f"tau_fresh {settings['tau_fresh']}, rho_at {settings['rho_at']}"
        + (
            f", max_deploy_cost {settings['max_deploy_cost']}"
            if settings["max_deploy_cost"] is not None
            else ""
        ),
        "",
        "steps",
    ]
    for step in plan["steps"]:
        if step["kind"] != "diagnostic":
            lines.append(f"  load + bootstrap  {step['name'].removeprefix('records.')}")
            continue
        entry = DIAGNOSTICS.get(step["name"])
        label = entry.label if entry else step["name"]
        if step["status"] == "not_evaluable":
            lines.append(f"  {label:<26} not evaluable: {step['reason']}")
        else:
            lines.append(f"  {label:<26} reads {', '.join(step['reads'])}")
    return "\n".join(lines)
