"""The ``metapix`` experiment's report: Table 1 beside the paper's, Figures 2 and 5 (PNG, JSON, CSV), the
ablations and Figure 3, from the finished stages. Every figure in it is computed from the stages' scores."""

from __future__ import annotations

import csv
import io
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from metaframe.api import Results, atomic_write, write_json

METRICS = ("ssim", "psnr", "mse", "person_ssim", "person_psnr", "person_mse")
HEADERS = ("SSIM ↑", "PSNR ↑", "MSE ↓", "p.SSIM ↑", "p.PSNR ↑", "p.MSE ↓")
# Table 1 of the paper (512 px, real dance videos, full frame): SSIM, PSNR (dB), MSE
PAPER = {
    "Random, K = ∞": (0.68, 19.56, 2427.18),
    "Pretrain, K = ∞": (0.69, 19.31, 2673.40),
    "Random": (0.08, 9.51, 7801.19),
    "Pretrain": (0.35, 12.00, 5576.28),
    "MetaPix": (0.39, 13.73, 4696.00),
}


def score_name(label: str, k: int, t: int, seed: int) -> str:
    """The folder of the Score stage of init ``label`` at K, T and seed."""
    return f"score-{label}-k{k}-t{t}-s{seed}"


@dataclass(frozen=True)
class Layout:
    """Where the numbers of each table and figure are: the settings the plan was made with."""

    k: int
    t: int
    k_all: int
    upper_t: int
    seeds: tuple[int, ...]
    ks: tuple[int, ...]
    ts: tuple[int, ...]
    summary: str


def mean_std(results: Results, names: Sequence[str]) -> dict[str, tuple[float, float]] | None:
    """Each metric's mean and standard deviation (0 for one run) over the named Score stages."""
    rows = [results.result(name)["metrics"] for name in names if name in results]
    if not rows:
        return None
    spread = {}
    for metric in METRICS:
        values = [row[metric] for row in rows]
        spread[metric] = (statistics.fmean(values), statistics.stdev(values) if len(values) > 1 else 0.0)
    return spread


def cell(metric: str, value: tuple[float, float], runs: int = 1) -> str:
    """A table cell: the mean, and its standard deviation over ``runs`` when there are several."""
    mean, std = value
    digits = 3 if "ssim" in metric else 2 if "psnr" in metric else 0
    text = f"{mean:.{digits}f}"
    return f"{text} ± {std:.{digits}f}" if runs > 1 else text


def table1_rows(layout: Layout) -> list[tuple[str, int | str, int | str, list[str]]]:
    """(label, K, T, the Score stages averaged) of Table 1."""
    k, t, seeds = layout.k, layout.t, layout.seeds
    each = lambda label: [score_name(label, k, t, s) for s in seeds]  # noqa: E731
    upper = lambda label: score_name(label, layout.k_all, layout.upper_t, seeds[0])  # noqa: E731
    return [
        ("warp (learns nothing)", k, "–", [score_name("warp", k, t, seeds[0])]),
        ("copy-nearest (learns nothing)", k, "–", [score_name("copy-nearest", k, t, seeds[0])]),
        ("mean-support (learns nothing)", k, "–", [score_name("mean-support", k, t, seeds[0])]),
        ("Random, K = ∞", f"∞ ({layout.k_all})", layout.upper_t, [upper("random")]),
        ("Pretrain, K = ∞", f"∞ ({layout.k_all})", layout.upper_t, [upper("pretrain")]),
        ("Random", k, t, each("random")),
        ("Pretrain", k, t, each("pretrain")),
        ("Pretrain at equal compute", k, t, [score_name(f"pretrain-equal-s{s}", k, t, s) for s in seeds]),
        ("MetaPix", k, t, [score_name(f"metapix-s{s}", k, t, s) for s in seeds]),
    ]


def table1(layout: Layout, results: Results) -> tuple[list[str], dict[str, Any]]:
    """Table 1's markdown lines and its numbers."""
    lines = [
        f"| init | K | T | {' | '.join(HEADERS)} | paper SSIM / PSNR / MSE |",
        "|---|---|---|" + "---|" * len(HEADERS) + "---|",
    ]
    numbers = {}
    seeds = 0  # how many seeds of the learned rows have finished (a partial report may have fewer)
    for label, k, t, names in table1_rows(layout):
        spread = mean_std(results, names)
        seeds = max(seeds, sum(name in results for name in names))
        if spread is None:
            continue
        runs = sum(name in results for name in names)
        numbers[label] = {metric: {"mean": m, "std": s, "runs": runs} for metric, (m, s) in spread.items()}
        paper = PAPER.get(label)
        paper_text = f"{paper[0]:.2f} / {paper[1]:.2f} / {paper[2]:,.0f}" if paper else ""
        values = " | ".join(cell(metric, spread[metric], runs) for metric in METRICS)
        lines.append(f"| {label} | {k} | {t} | {values} | {paper_text} |")
    lines.append("")
    runs = f"mean ± std over {seeds} seeds" if seeds > 1 else "one seed"
    if seeds < len(layout.seeds):
        runs += f" of the {len(layout.seeds)} asked for (the others have not finished)"
    lines.append(
        f"Learned rows: {runs}; the rows that learn nothing and the K = ∞ rows are one evaluation. "
        "`p.`: inside the person's box. ↑ higher is better, ↓ lower is better."
    )
    return lines, numbers


def margins(numbers: dict[str, Any]) -> list[str]:
    """MetaPix against both Pretrain baselines, beside the paper's margins, and whether each is met."""
    paper_m, paper_p = PAPER["MetaPix"], PAPER["Pretrain"]
    goal = {"ssim": paper_m[0] - paper_p[0], "psnr": paper_m[1] - paper_p[1], "mse": paper_m[2] / paper_p[2] - 1}
    lines = []
    if "MetaPix" not in numbers:
        return lines
    for base in ("Pretrain", "Pretrain at equal compute"):
        if base not in numbers:
            continue
        parts, met = [], []
        for scope, prefix in (("full frame", ""), ("person's box", "person_")):
            mine = {m: numbers["MetaPix"][prefix + m]["mean"] for m in ("ssim", "psnr", "mse")}
            theirs = {m: numbers[base][prefix + m]["mean"] for m in ("ssim", "psnr", "mse")}
            gain = {
                "ssim": mine["ssim"] - theirs["ssim"],
                "psnr": mine["psnr"] - theirs["psnr"],
                "mse": mine["mse"] / theirs["mse"] - 1,
            }
            met += [gain["ssim"] >= goal["ssim"], gain["psnr"] >= goal["psnr"], gain["mse"] <= goal["mse"]]
            parts.append(f"{scope} {gain['ssim']:+.3f} SSIM, {gain['psnr']:+.2f} dB, {gain['mse']:+.0%} MSE")
        verdict = "met" if all(met) else f"not met ({sum(met)} of {len(met)} margins reached)"
        paper = f"{goal['ssim']:+.2f} SSIM, {goal['psnr']:+.2f} dB, {goal['mse']:+.0%} MSE"
        lines.append(f"* MetaPix − {base}: {'; '.join(parts)} — the paper's margins ({paper}): **{verdict}**.")
    return lines


def sweep_series(layout: Layout, axis: str) -> dict[str, dict[int, str]]:
    """Series label → {x value → Score stage} of Figure 2 (``axis`` K) or Figure 5 (``axis`` T)."""
    first = f"metapix-s{layout.seeds[0]}"
    table, values = (layout.k, layout.ks) if axis == "K" else (layout.t, layout.ts)

    def at(label: str, x: int) -> str:
        k, t = (x, layout.t) if axis == "K" else (layout.k, x)
        return score_name(label, k, t, layout.seeds[0])

    def trained(x: int) -> str:  # MetaPix meta-trained at this K (or T)
        return first if x == table else f"metapix-{axis.lower()}{x}"

    return {
        f"MetaPix (trained at {axis}={table})": {x: at(first, x) for x in values},
        f"MetaPix (trained at each {axis})": {x: at(trained(x), x) for x in values},
        "Pretrain": {x: at("pretrain", x) for x in values},
        "Random": {x: at("random", x) for x in values},
        # they learn nothing, so T does not change them: Table 1's row at every T
        **{
            label: {x: score_name(label, x if axis == "K" else layout.k, layout.t, layout.seeds[0]) for x in values}
            for label in ("warp", "copy-nearest", "mean-support")
        },
    }


def sweep(layout: Layout, results: Results, axis: str, stem: str) -> tuple[list[str], dict[str, Any]]:
    """A sweep's numbers (JSON, CSV), its picture and its markdown."""
    series = sweep_series(layout, axis)
    data: dict[str, Any] = {"x": axis, "values": list(layout.ks if axis == "K" else layout.ts), "series": {}}
    for label, points in series.items():
        data["series"][label] = {
            metric: [results.result(name)["metrics"][metric] if name in results else None for name in points.values()]
            for metric in METRICS
        }
    out = results.out
    write_json(out / f"{stem}.json", data)
    atomic_write(out / f"{stem}.csv", lambda tmp: tmp.write_text(sweep_csv(data)))
    draw_sweep(data, out / f"{stem}.png")
    head = f"| {axis} | series | {' | '.join(HEADERS)} |"
    lines = [head, "|---|---|" + "---|" * len(HEADERS)]
    for index, x in enumerate(data["values"]):
        for label, metrics in data["series"].items():
            values = [metrics[m][index] for m in METRICS]
            if None in values:
                continue
            shown = " | ".join(cell(m, (v, 0.0)) for m, v in zip(METRICS, values))
            lines.append(f"| {x} | {label} | {shown} |")
    return lines, data


def sweep_csv(data: dict[str, Any]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([data["x"], "series", *METRICS])
    for index, x in enumerate(data["values"]):
        for label, metrics in data["series"].items():
            writer.writerow([x, label, *(metrics[m][index] for m in METRICS)])
    return buffer.getvalue()


def draw_sweep(data: dict[str, Any], path: Path) -> None:
    """SSIM, PSNR and MSE against K (or T): the full frame on top, the person's box below."""
    import matplotlib  # noqa: PLC0415 - only the report draws

    matplotlib.use("Agg")
    from matplotlib import pyplot  # noqa: PLC0415

    figure, axes = pyplot.subplots(2, 3, figsize=(12, 6.5), constrained_layout=True)
    names = {"ssim": "SSIM ↑", "psnr": "PSNR (dB) ↑", "mse": "MSE ↓"}
    for row, prefix in enumerate(("", "person_")):
        for column, metric in enumerate(("ssim", "psnr", "mse")):
            axis = axes[row][column]
            for label, metrics in data["series"].items():
                points = [(x, y) for x, y in zip(data["values"], metrics[prefix + metric]) if y is not None]
                if points:
                    axis.plot(*zip(*points), marker="o", label=label)
            axis.set_xscale("log", base=2)
            axis.set_xticks(data["values"], [str(v) for v in data["values"]])
            axis.set_xlabel(data["x"])
            axis.set_title(("person's box: " if prefix else "full frame: ") + names[metric])
            axis.grid(alpha=0.3)
    if axes[0][0].lines:  # (a partial report may have no point yet)
        axes[0][0].legend(fontsize=8)
    atomic_write(path, lambda tmp: figure.savefig(tmp, format="png", dpi=90))
    pyplot.close(figure)


def ablations(layout: Layout, results: Results) -> tuple[list[str], dict[str, Any]]:
    """ε = 1 vs 0.1, both networks vs the generator only, beside Pretrain (K, T of Table 1, first seed)."""
    first = layout.seeds[0]
    rows = {
        "Pretrain": score_name("pretrain", layout.k, layout.t, first),
        "MetaPix, ε = 1, both networks (the paper's)": score_name(f"metapix-s{first}", layout.k, layout.t, first),
        "MetaPix, ε = 0.1": score_name("metapix-epsilon-0.1", layout.k, layout.t, first),
        "MetaPix, generator only (discriminator kept from pretraining)": score_name(
            "metapix-generator-only", layout.k, layout.t, first
        ),
    }
    lines = [f"| variant | {' | '.join(HEADERS)} |", "|---|" + "---|" * len(HEADERS)]
    numbers = {}
    for label, name in rows.items():
        if name not in results:
            continue
        metrics = results.result(name)["metrics"]
        numbers[label] = {m: metrics[m] for m in METRICS}
        lines.append(f"| {label} | {' | '.join(cell(m, (metrics[m], 0.0)) for m in METRICS)} |")
    return lines, numbers


def temporal(results: Results) -> tuple[list[str], dict[str, Any]]:
    """Figure 3: the strip, the video and each one's temporal std beside the real frames'."""
    if "temporal" not in results:
        return [], {}
    made = results.result("temporal")
    scores = made["scores"]
    first = next(iter(scores.values()))
    numbers = {"real": first["temporal_std_real"], **{label: s["temporal_std"] for label, s in scores.items()}}
    lines = [
        f"![Figure 3: real frames, then each model's]({'temporal/' + made['strip']})",
        "",
        f"Held-out dancer `{made['task']}`: rows are the real frames, then {', '.join(scores)}, personalized "
        f"as in Table 1 and rendering all {made['frames']} held-out frames "
        f"({min(8, made['frames'])} shown, evenly spaced); "
        f"the video is [temporal/{made['mp4']}](temporal/{made['mp4']}) (the same rows side by side).",
        "",
        "| frames | temporal std (std over frames of the mean intensity) | SSIM ↑ | PSNR ↑ | MSE ↓ |",
        "|---|---|---|---|---|",
        f"| real | {numbers['real']:.3f} | | | |",
    ]
    for label, s in scores.items():
        lines.append(f"| {label} | {s['temporal_std']:.3f} | {s['ssim']:.3f} | {s['psnr']:.2f} | {s['mse']:.0f} |")
    return lines, numbers


def write(layout: Layout, results: Results) -> str:
    """The report's body; writes ``fig2-k.*``, ``fig5-t.*`` and ``results.json`` beside it."""
    table, table_numbers = table1(layout, results)
    fig2, fig2_data = sweep(layout, results, "K", "fig2-k")
    fig5, fig5_data = sweep(layout, results, "T", "fig5-t")
    ablation, ablation_numbers = ablations(layout, results)
    coherence, coherence_numbers = temporal(results)
    write_json(
        results.out / "results.json",
        {
            "table1": table_numbers,
            "figure2": fig2_data,
            "figure5": fig5_data,
            "ablations": ablation_numbers,
            "temporal_std": coherence_numbers,
        },
    )
    body = [
        "# MetaPix, reproduced",
        "",
        f"Scale: {layout.summary}. Scores: SSIM / PSNR (dB) / MSE on 0–255 frames, averaged per held-out "
        "video then over videos, on the full frame and inside the person's box (`p.`).",
        "",
        f"## Table 1 (K = {layout.k}, T = {layout.t})",
        "",
        *table,
        "",
        *margins(table_numbers),
        "",
        f"## Figure 2: personalization from K frames (T = {layout.t})",
        "",
        "![Figure 2](fig2-k.png)",
        "",
        "Numbers: [fig2-k.json](fig2-k.json), [fig2-k.csv](fig2-k.csv).",
        "",
        *fig2,
        "",
        f"## Figure 5: personalization for T iterations (K = {layout.k})",
        "",
        "![Figure 5](fig5-t.png)",
        "",
        "Numbers: [fig5-t.json](fig5-t.json), [fig5-t.csv](fig5-t.csv). MetaPix trained at another T gets "
        "the same number of inner steps as at T = " + f"{layout.t} (fewer meta-iterations for a larger T).",
        "",
        *fig5,
        "",
        f"## Ablations (K = {layout.k}, T = {layout.t})",
        "",
        *ablation,
        "",
        "## Figure 3: temporal coherence",
        "",
        *coherence,
    ]
    return "\n".join(body) + "\n"
