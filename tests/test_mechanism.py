"""Diagnostic (c): the r x r signature against dense float64 algebra, on real PEFT adapters."""

from __future__ import annotations

import json
import math
import pickle
import shutil
from pathlib import Path

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from accompiler.adapters import AdapterError, iter_modules, module_names, open_adapter
from accompiler.diagnostics.mechanism.read import measure
from accompiler.stats.energy import ModuleEnergy, classify
from accompiler.stats.signature import (
    rank_tolerance,
    reference_basis,
    reference_subspace,
    split_energy,
)
from conftest import FIXTURES

ADAPTERS = FIXTURES / "adapters"
VARIANTS = sorted(p.name for p in ADAPTERS.iterdir())
ROLES = ("undefended", "defended", "reference")


def _open(folder: Path):
    weights = next(folder.glob("adapter_model.*"))
    return open_adapter(
        weights.read_bytes(),
        weights.name,
        (folder / "adapter_config.json").read_bytes(),
        None,
        str(weights),
    )


def _dense_updates(folder: Path) -> dict[str, tuple[np.ndarray, float]]:
    """dW per module, materialised in float64 with torch's own readers."""
    torch = pytest.importorskip("torch")
    from safetensors.torch import load_file

    config = json.loads((folder / "adapter_config.json").read_text())
    weights = next(folder.glob("adapter_model.*"))
    state = (
        load_file(str(weights))
        if weights.suffix == ".safetensors"
        else torch.load(str(weights), weights_only=True)
    )
    updates, eps = {}, {}
    for key in state:
        if ".lora_A." not in key:
            continue
        module = key.split(".lora_A.")[0].removeprefix("base_model.model.")
        a = state[key].to(torch.float64).numpy()
        b = state[key.replace("lora_A", "lora_B")].to(torch.float64).numpy()
        suffix = module.rsplit(".", 1)[1]
        r = config["rank_pattern"].get(suffix, config["r"])
        alpha = config["alpha_pattern"].get(suffix, config["lora_alpha"])
        scale = alpha / (math.sqrt(r) if config["use_rslora"] else r)
        updates[module] = scale * b @ a
        eps[module] = float(torch.finfo(state[key].dtype).eps)
        assert a.shape[0] == r
    return {m: (updates[m], eps[m]) for m in updates}


def _dense_signature(variant: str) -> tuple[float, float]:
    energies = np.sum(list(_dense_energies(variant).values()), axis=0)
    return math.sqrt(energies[2] / energies[0]), math.sqrt(energies[3] / energies[1])


def _dense_energies(variant: str) -> dict[str, np.ndarray]:
    """Per module (in_U, out_U, in_D, out_D), every dW materialised, P from a dense SVD."""
    u, d, r = (_dense_updates(ADAPTERS / variant / role) for role in ROLES)
    per_module = {}
    for module, (dw_r, eps) in r.items():
        energies = np.zeros(4)
        left, singular, _ = np.linalg.svd(dw_r, full_matrices=False)
        rtol = rank_tolerance(dw_r.shape, min(dw_r.shape[0], 4), eps)
        basis = left[:, singular > rtol * singular[0]]
        projector = basis @ basis.T
        for k, dw in enumerate((u[module][0], d[module][0])):
            inside = projector @ dw
            energies[2 * k] += np.sum(inside**2)
            energies[2 * k + 1] += np.sum((dw - inside) ** 2)
        per_module[module] = energies
    return per_module


@pytest.mark.parametrize("variant", VARIANTS)
def test_signature_matches_dense_float64(variant: str) -> None:
    if variant == "bin":
        pytest.importorskip("torch")
    u, d, r = (_open(ADAPTERS / variant / role) for role in ROLES)
    evidence = measure(u, d, r)
    modules, coverage = list(evidence.modules), evidence.coverage_json()
    signature = classify(modules, 0.6)
    alpha_t, alpha_a = _dense_signature(variant)
    assert len(modules) == 6
    assert coverage == {"not_in_reference": [], "reference_only": []}
    assert signature.alpha_t == pytest.approx(alpha_t, rel=1e-9)
    assert signature.alpha_a == pytest.approx(alpha_a, rel=1e-9)
    dense = _dense_energies(variant)
    total_inside = sum(e[0] for e in dense.values())
    from accompiler.diagnostics.mechanism import per_module

    for row in per_module(evidence.modules):
        assert row["share_of_attack_energy"] == pytest.approx(
            dense[row["module"]][0] / total_inside, rel=1e-9
        )
    for module in modules:
        expected = dense[module.name]
        got = [module.in_u, module.out_u, module.in_d, module.out_d]
        assert got == pytest.approx(list(expected), rel=1e-9), module.name


@pytest.mark.parametrize("variant", VARIANTS)
def test_modules_in_threads_measure_what_one_thread_does(
    variant: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Large adapters are measured module by module in threads (BLAS single-threaded in
    each), small ones in the calling thread: the same energies, in the same order."""
    if variant == "bin":
        pytest.importorskip("torch")
    adapters = [_open(ADAPTERS / variant / role) for role in ROLES]
    inline = measure(*adapters)
    monkeypatch.setattr("accompiler.diagnostics.mechanism.read.THREADED_ELEMENTS", 0)
    threaded = measure(*adapters)
    assert [m.name for m in threaded.modules] == [m.name for m in inline.modules]
    for ours, theirs in zip(threaded.modules, inline.modules, strict=True):
        assert [ours.in_u, ours.out_u, ours.in_d, ours.out_d] == pytest.approx(
            [theirs.in_u, theirs.out_u, theirs.in_d, theirs.out_d], rel=1e-12
        )


def test_patterns_change_rank_and_scale() -> None:
    adapter = _open(ADAPTERS / "patterns" / "undefended")
    names = module_names(adapter)
    scales = {
        m.name.rsplit(".", 1)[1]: (m.a.shape[0], m.scale)
        for m in iter_modules(adapter, names, sorted(names))
    }
    assert scales == {"q_proj": (2, 4.0), "v_proj": (4, 8.0), "up_proj": (4, 2.0)}


def test_rslora_scale() -> None:
    adapter = _open(ADAPTERS / "rslora" / "undefended")
    names = module_names(adapter)
    assert {m.scale for m in iter_modules(adapter, names, sorted(names))} == {4.0}


def test_bf16_is_widened_bit_exactly() -> None:
    torch = pytest.importorskip("torch")
    from safetensors.torch import load_file

    folder = ADAPTERS / "bf16" / "undefended"
    expected = load_file(str(folder / "adapter_model.safetensors"))
    adapter = _open(folder)
    names = module_names(adapter)
    for module in iter_modules(adapter, names, sorted(names)):
        key = f"base_model.model.{module.name}.lora_A.weight"
        assert np.array_equal(module.a, expected[key].to(torch.float64).numpy())
        assert module.eps == 2.0**-7


# --- properties of the algebra -------------------------------------------------------------

# r < out, so the reference leaves room outside its subspace (else alpha_A is undefined).
shapes = st.tuples(st.integers(5, 24), st.integers(4, 24), st.integers(1, 4))


def _factors(rng: np.random.Generator, out: int, inp: int, r: int):
    return rng.normal(size=(out, r)), rng.normal(size=(r, inp))


def _signature(u, d, ref, scale_d: float = 1.0):
    subspace = reference_subspace(*ref)
    in_u, out_u = split_energy(subspace, *u, 1.0)
    in_d, out_d = split_energy(subspace, *d, scale_d)
    return classify([ModuleEnergy("m", subspace.rank, in_u, out_u, in_d, out_d)], 0.6)


@settings(max_examples=60, deadline=None)
@given(shapes, st.integers(0, 2**32 - 1), st.floats(0.05, 3.0))
def test_uniform_shrinkage_gives_alpha_equal_c(shape, seed, c) -> None:
    rng = np.random.default_rng(seed)
    u, ref = _factors(rng, *shape), _factors(rng, *shape)
    result = _signature(u, u, ref, scale_d=c)
    assume(result.measured is not None)  # U almost orthogonal to R: the degenerate rule
    assert result.alpha_t == pytest.approx(c, rel=1e-9)
    assert result.alpha_a == pytest.approx(c, rel=1e-9)
    assert result.measured == ("shrinkage" if c < 1 else "none")


@settings(max_examples=60, deadline=None)
@given(shapes, st.integers(0, 2**32 - 1))
def test_removing_the_attack_subspace_is_attack_targeted(shape, seed) -> None:
    rng = np.random.default_rng(seed)
    u, ref = _factors(rng, *shape), _factors(rng, *shape)
    basis = reference_basis(*ref)
    d = (u[0] - basis @ (basis.T @ u[0]), u[1])
    result = _signature(u, d, ref)
    assume(result.measured is not None)  # U almost orthogonal to R: the degenerate rule
    assert result.alpha_t == pytest.approx(0, abs=1e-6)
    assert result.alpha_a == pytest.approx(1, rel=1e-9)
    assert result.measured == "attack_targeted"


@settings(max_examples=60, deadline=None)
@given(shapes, st.integers(0, 2**32 - 1))
def test_invariant_to_refactorising_b_a(shape, seed) -> None:
    rng = np.random.default_rng(seed)
    out, inp, r = shape
    u, d, ref = (_factors(rng, *shape) for _ in range(3))
    mix = rng.normal(size=(r, r)) + 3 * np.eye(r)
    inverse = np.linalg.inv(mix)
    re = [(b @ mix, inverse @ a) for b, a in (u, d, ref)]
    first, second = _signature(u, d, ref), _signature(*re)
    assume(first.measured is not None)
    assert second.alpha_t == pytest.approx(first.alpha_t, rel=1e-7)
    assert second.alpha_a == pytest.approx(first.alpha_a, rel=1e-7)


def test_rank_deficient_reference_adds_no_directions() -> None:
    rng = np.random.default_rng(0)
    b = rng.normal(size=(40, 2)) @ rng.normal(size=(2, 8))
    a = rng.normal(size=(8, 30))
    basis = reference_basis(b, a)
    assert basis.shape == (40, 2)
    assert np.allclose(basis.T @ basis, np.eye(2), atol=1e-10)
    dense_left = np.linalg.svd(b @ a, full_matrices=False)[0][:, :2]
    assert np.allclose(basis @ basis.T, dense_left @ dense_left.T, atol=1e-10)
    stored = b.astype(np.float32).astype(np.float64)
    rtol = rank_tolerance((40, 30), 8, float(np.finfo(np.float32).eps))
    assert reference_basis(stored, a, rtol).shape == (40, 2)


def test_degenerate_rules() -> None:
    none_inside = classify([ModuleEnergy("m", 1, 0.0, 1.0, 0.0, 1.0)], 0.6)
    assert none_inside.measured is None and "no energy inside" in none_inside.reason
    zero_d = classify([ModuleEnergy("m", 1, 1.0, 1.0, 0.0, 0.0)], 0.6)
    assert (zero_d.alpha_t, zero_d.rho_at, zero_d.measured) == (0.0, None, "shrinkage")
    infinite = classify([ModuleEnergy("m", 1, 1.0, 1.0, 0.25, 0.0)], 0.6)
    assert (infinite.rho_at, infinite.measured) == (None, "shrinkage")


# --- untrusted adapters --------------------------------------------------------------------


class _CreatesFile:
    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


@pytest.mark.filterwarnings("ignore:Detected pickle protocol")
@pytest.mark.parametrize("container", ["raw pickle", "torch.save zip"])
def test_malicious_pickle_never_runs(tmp_path: Path, container: str) -> None:
    torch = pytest.importorskip("torch")
    import io

    marker = tmp_path / "pwned"
    state = {"x.lora_A.weight": _CreatesFile(str(marker))}
    if container == "raw pickle":
        payload = pickle.dumps(state)
    else:
        buffer = io.BytesIO()
        torch.save(state, buffer)
        payload = buffer.getvalue()
    with pytest.raises(AdapterError, match="refused"):
        open_adapter(payload, "adapter_model.bin", b'{"r": 4, "lora_alpha": 8}', None, "evil")
    assert not marker.exists()


def test_missing_r_is_a_problem() -> None:
    folder = ADAPTERS / "fp32" / "undefended"
    with pytest.raises(AdapterError, match="lacks a positive `lora_alpha`"):
        open_adapter(
            (folder / "adapter_model.safetensors").read_bytes(),
            "w.safetensors",
            b'{"r": 4}',
            None,
            "x",
        )


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda b: b[:4], "shorter than its header"),
        (lambda b: (10**9).to_bytes(8, "little") + b[8:], "header length"),
        (lambda b: b[:-16], "outside the file"),
        (lambda b: b[:8] + b"[" + b[9:], "not valid JSON"),
    ],
)
def test_corrupt_safetensors(mutate, message) -> None:
    data = (ADAPTERS / "fp32" / "undefended" / "adapter_model.safetensors").read_bytes()
    with pytest.raises(AdapterError, match=message):
        open_adapter(mutate(data), "w.safetensors", b'{"r": 4, "lora_alpha": 8}', None, "x")


def test_module_mismatch_names_the_modules(tmp_path: Path) -> None:
    from safetensors.numpy import load_file, save_file

    source = ADAPTERS / "fp32" / "defended"
    tensors = load_file(str(source / "adapter_model.safetensors"))
    dropped = {k: v for k, v in tensors.items() if "layers.1.up_proj" not in k}
    target = tmp_path / "defended"
    target.mkdir()
    shutil.copy(source / "adapter_config.json", target)
    save_file(dropped, str(target / "adapter_model.safetensors"))
    u, r = _open(ADAPTERS / "fp32" / "undefended"), _open(ADAPTERS / "fp32" / "reference")
    with pytest.raises(AdapterError, match=r"only undefended: \['layers.1.up_proj'\]"):
        measure(u, _open(target), r)


def test_non_finite_adapter_values_are_a_problem(tmp_path: Path) -> None:
    from safetensors.numpy import load_file, save_file

    source = ADAPTERS / "fp32" / "defended"
    tensors = load_file(str(source / "adapter_model.safetensors"))
    key = next(k for k in tensors if "lora_B" in k)
    tensors[key] = tensors[key].copy()
    tensors[key][0, 0] = np.nan
    target = tmp_path / "defended"
    target.mkdir()
    shutil.copy(source / "adapter_config.json", target)
    save_file(tensors, str(target / "adapter_model.safetensors"))
    u, r = _open(ADAPTERS / "fp32" / "undefended"), _open(ADAPTERS / "fp32" / "reference")
    with pytest.raises(AdapterError, match="NaN or infinite"):
        measure(u, _open(target), r)


def test_deeply_nested_config_json_is_a_problem() -> None:
    data = (ADAPTERS / "fp32" / "undefended" / "adapter_model.safetensors").read_bytes()
    with pytest.raises(AdapterError, match="not valid JSON"):
        open_adapter(data, "w.safetensors", b"[" * 100_000 + b"]" * 100_000, None, "x")


# --- SafeLoRA's own statistic ----------------------------------------------------------------


def _dense_safelora_cosine(v: np.ndarray, b: np.ndarray, a: np.ndarray) -> float:
    c = v @ v.T / np.linalg.norm(v)
    update = b @ a
    moved = c @ update
    return float(np.sum(moved * update) / (np.linalg.norm(moved) * np.linalg.norm(update)))


@settings(max_examples=50, deadline=None)
@given(shapes, st.integers(0, 2**32 - 1))
def test_safelora_cosine_matches_dense(shape, seed) -> None:
    from accompiler.stats.signature import safelora_cosine

    rng = np.random.default_rng(seed)
    out, inp, r = shape
    v = rng.normal(size=(out, inp)) @ np.diag(rng.uniform(0.1, 2, size=inp))
    b, a = _factors(rng, *shape)
    assert safelora_cosine(v, b, a) == pytest.approx(_dense_safelora_cosine(v, b, a), rel=1e-9)
    assert safelora_cosine(np.zeros((out, inp)), b, a) is None


def test_safelora_statistic_on_the_card(tmp_path: Path) -> None:
    from safetensors.numpy import save_file

    from accompiler import check

    folder = tmp_path / "claim"
    shutil.copytree(ADAPTERS / "fp32", folder / "adapters")
    records = Path(__file__).parent.parent / "specs" / "invalid" / "data" / "records.jsonl"
    shutil.copy(records, folder / "records.jsonl")
    u = _open(ADAPTERS / "fp32" / "undefended")
    names = module_names(u)
    rng = np.random.default_rng(5)
    base, aligned = {}, {}
    for module in iter_modules(u, names, sorted(names)):
        shape = (module.b.shape[0], module.a.shape[1])
        base[f"{module.name}.weight"] = rng.normal(size=shape).astype(np.float32)
        aligned[f"{module.name}.weight"] = base[f"{module.name}.weight"] + 0.1 * rng.normal(
            size=shape
        ).astype(np.float32)
    save_file(base, str(folder / "base.safetensors"))
    save_file(aligned, str(folder / "aligned.safetensors"))
    (folder / "claim.ac").write_text(
        'accard 1\nclaim "t" {\n  defense "SafeLoRA" {\n    mechanism attack_targeted\n  }\n'
        '  model "m"\n  heldout "h" {\n    file "records.jsonl"\n  }\n  adapters {\n'
        '    undefended "adapters/undefended"\n    defended "adapters/defended"\n'
        '    reference "adapters/reference"\n    base "base.safetensors"\n'
        '    aligned "aligned.safetensors"\n  }\n}\n'
    )
    safelora = check(folder / "claim.ac")["diagnostics"]["mechanism"]["safelora"]
    assert len(safelora["modules"]) == 6 and safelora["threshold"] == 0.5
    for row, module in zip(safelora["modules"], iter_modules(u, names, sorted(names)), strict=True):
        v = base[f"{module.name}.weight"].astype(np.float64) - aligned[
            f"{module.name}.weight"
        ].astype(np.float64)
        expected = _dense_safelora_cosine(v, module.scale * module.b, module.a)
        assert row["cosine"] == pytest.approx(expected, rel=1e-9)
        assert row["projected"] == (expected <= 0.5)
    assert safelora["projected"] == sum(r["projected"] for r in safelora["modules"])


def _rewrite(tmp_path: Path, variant: str, role: str, rename=None, transform=None) -> Path:
    from safetensors.numpy import load_file, save_file

    source = ADAPTERS / variant / role
    tensors = load_file(str(source / "adapter_model.safetensors"))
    if transform:
        tensors = transform(tensors)
    if rename:
        tensors = {rename(k): v for k, v in tensors.items()}
    target = tmp_path / f"{variant}-{role}"
    target.mkdir()
    shutil.copy(source / "adapter_config.json", target)
    save_file(tensors, str(target / "adapter_model.safetensors"))
    return target


@pytest.mark.parametrize(
    "spelling",
    [
        lambda k: k.replace(".lora_A.", ".lora_A.default.").replace(".lora_B.", ".lora_B.default."),
        lambda k: k.replace("lora_A", "lora_down").replace("lora_B", "lora_up"),
        lambda k: k.removeprefix("base_model.model."),
    ],
    ids=["adapter-name", "down-up", "no-prefix"],
)
def test_other_key_spellings_give_the_same_signature(tmp_path: Path, spelling) -> None:
    u, d, r = (_open(ADAPTERS / "fp32" / role) for role in ROLES)
    expected = classify(list(measure(u, d, r).modules), 0.6)
    renamed = _open(_rewrite(tmp_path, "fp32", "defended", rename=spelling))
    assert classify(list(measure(u, renamed, r).modules), 0.6) == expected


def test_shape_disagreement_names_the_module(tmp_path: Path) -> None:
    def widen(tensors):
        key = next(k for k in tensors if "layers.0.q_proj.lora_A" in k)
        return {**tensors, key: np.concatenate([tensors[key], tensors[key]], axis=1)}

    u, r = _open(ADAPTERS / "fp32" / "undefended"), _open(ADAPTERS / "fp32" / "reference")
    d = _open(_rewrite(tmp_path, "fp32", "defended", transform=widen))
    with pytest.raises(AdapterError, match=r"module `layers.0.q_proj` has different shapes"):
        measure(u, d, r)
