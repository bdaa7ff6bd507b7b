"""Figures (seaborn / matplotlib), shared by the notebooks and the report.

Each ``*_figure`` function takes tidy tables and returns a matplotlib Figure. Sites are
labelled with their display names and codes with their English labels when the caller
passes ``names`` and ``labels`` (the report and notebooks do), titles and axis labels
are written as a reader would write them.
:func:`save_svg` writes it deterministically (no date, fixed element ids) and
atomically, so the same tables give the same SVG bytes.
"""

from __future__ import annotations

import io
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.colors import BoundaryNorm, ListedColormap
from matplotlib.ticker import FuncFormatter, MaxNLocator

from analysis.comparison import NOT_REPORTED, matrix_wide
from analysis.io import atomic_write_bytes
from analysis.sources import CATEGORIES

STATE_COLOURS = {
    NOT_REPORTED: "#f2f2f2", "practiced": "#7fbf7b", "improved": "#7fbf7b",
    "mixed": "#e6cf8b", "lacking": "#ef8a7a", "problem": "#ef8a7a", "reported": "#f4a582",
}
STATE_LABELS = {NOT_REPORTED: "Not reported", "practiced": "Practised"}
VALENCE_COLOURS = {"positive": "#1b7837", "negative": "#b2182b"}

CATEGORY_TITLES = {"dimension": "Interpersonal communication dimensions",
                   "practice": "Leadership and office practices", "barrier": "Barriers",
                   "outcome": "Outcomes"}

STATE_SCALE = [NOT_REPORTED, "practiced", "improved", "mixed", "lacking", "problem", "reported"]

# Labels are data (site names, code labels): "$" prints as a dollar sign, never as the
# start of mathtext that a name could make unparseable.
plt.rcParams.update({"svg.hashsalt": "analysis-kit", "svg.fonttype": "path",
                     "font.family": "DejaVu Sans", "font.size": 9, "text.parse_math": False})


def save_svg(fig: plt.Figure, path: str | Path) -> Path:
    """Write ``fig`` as SVG without a date and with fixed ids; close it."""
    buf = io.BytesIO()
    fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(fig)
    return atomic_write_bytes(path, buf.getvalue())


def framework_figure(matrix: pd.DataFrame, category: str, title: str = "",
                     names: dict[str, str] | None = None,
                     labels: dict[str, str] | None = None) -> plt.Figure:
    """Heatmap of one category: codes (rows) x sites (columns), colour = state,
    number = primary segments."""
    states = matrix_wide(matrix, category, "state")
    counts = matrix_wide(matrix, category, "n_segments").astype(int)
    index = states.apply(lambda col: col.map(STATE_SCALE.index))
    cmap = ListedColormap([STATE_COLOURS[s] for s in STATE_SCALE])
    norm = BoundaryNorm(np.arange(-0.5, len(STATE_SCALE)), cmap.N)
    height = 0.32 * len(states) + 1.2
    fig, ax = plt.subplots(figsize=(1.1 * len(states.columns) + 3.2, height))
    shown = index.rename(columns=names or {}, index=labels or {})
    sns.heatmap(shown, cmap=cmap, norm=norm, cbar=False, linewidths=0.8, linecolor="white",
                annot=counts.where(counts > 0).map(lambda n: "" if pd.isna(n) else f"{int(n)}"),
                fmt="", annot_kws={"color": "black", "fontsize": 8}, ax=ax)
    ax.set_xlabel("")
    ax.set_ylabel("")
    ax.tick_params(axis="x", rotation=0 if len(states.columns) <= 5 else 30)
    ax.set_title(title or f"{CATEGORY_TITLES.get(category, category.capitalize())} by site",
                 fontsize=10)
    used = [s for s in STATE_SCALE if (states == s).any().any()]
    handles = [plt.Rectangle((0, 0), 1, 1, color=STATE_COLOURS[s]) for s in used]
    ax.legend(handles, [STATE_LABELS.get(s, s.replace("_", " ").capitalize()) for s in used], loc="upper left",
              bbox_to_anchor=(1.01, 1), frameon=False, fontsize=8,
              title="Number: primary segments", title_fontsize=7.5)
    return fig


def _in_words(text: str, width: float) -> plt.Figure:
    """A figure that has nothing to draw: what it would show, said in one wrapped line."""
    fig, ax = plt.subplots(figsize=(width, 1.2))
    ax.axis("off")
    ax.text(0, 0.5, text, wrap=True, va="center", fontsize=9)
    return fig


def site_profile_figure(matrix: pd.DataFrame, site: str, name: str = "",
                        labels: dict[str, str] | None = None) -> plt.Figure:
    """Diverging bars, one row per reported canonical code of one site: its positive
    segments to the right of zero, its negative ones to the left (whole numbers)."""
    part = matrix[(matrix["site"] == site) & (matrix["state"] != NOT_REPORTED)]
    title = f"What the {name or site} study reports: segments per code"
    if part.empty:  # no accepted coding yet: said in words, not an empty chart
        return _in_words(f"{title}: no code yet (the site has no accepted coded segment).", 7)
    rows = [f"{category.capitalize()}: {(labels or {}).get(code, code.replace('_', ' '))}"
            for category, code in zip(part["category"], part["code"])]
    positive = part["n_positive"].astype(int).to_numpy()
    negative = part["n_negative"].astype(int).to_numpy()
    height = 0.25 * max(len(part), 4) + 1.3
    fig, ax = plt.subplots(figsize=(7, height))
    y = np.arange(len(part))
    ax.barh(y, positive, height=0.7, color=VALENCE_COLOURS["positive"], label="Positive")
    ax.barh(y, -negative, height=0.7, color=VALENCE_COLOURS["negative"], label="Negative")
    ax.axvline(0, color="black", linewidth=0.6)
    ax.set_yticks(y, rows)
    ax.set_ylim(len(part) - 0.5, -0.5)  # first code on top
    ax.set_xlim(-max(int(negative.max(initial=0)), 1) - 0.5,
                max(int(positive.max(initial=0)), 1) + 0.5)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{abs(round(value))}"))
    ax.set_xlabel("Primary segments (negative to the left, positive to the right)")
    ax.set_title(title, fontsize=10)
    below_label = -0.5 / (height * (fig.subplotpars.top - fig.subplotpars.bottom))  # 0.5 in
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, below_label), ncol=2, frameon=False)
    return fig


def similarity_figure(similarity: pd.DataFrame, names: dict[str, str] | None = None) -> plt.Figure:
    """Clustered heatmap of Jaccard similarity between sites (average linkage).

    A site that reports no code (no accepted coding yet) has no similarity to any site
    (0 of 0 codes): it is left out and named under the figure. With fewer than two sites
    left there is nothing to cluster, and the figure says so in words."""
    title = "Similarity of the sites (Jaccard index over the codes they report)"
    wide = similarity.pivot(index="site_a", columns="site_b", values="jaccard").astype(float)
    undefined = [site for site in wide.index if np.isnan(wide.at[site, site])]
    wide = wide.drop(index=undefined, columns=undefined)
    wide = wide.rename(index=names or {}, columns=names or {})
    left_out = ("Left out, reporting no code: "
                + ", ".join((names or {}).get(s, s) for s in undefined) + ".") if undefined else ""
    if len(wide) < 2:
        return _in_words(f"{title}: fewer than two sites report codes, nothing to compare. "
                         f"{left_out}", 5)
    grid = sns.clustermap(wide, method="average", cmap="Blues", vmin=0, vmax=1, annot=True,
                          fmt=".2f", figsize=(5, 5), cbar_pos=(0.02, 0.82, 0.03, 0.15),
                          dendrogram_ratio=0.15)
    grid.ax_heatmap.set_xlabel("")
    grid.ax_heatmap.set_ylabel("")
    grid.figure.suptitle(title, fontsize=10, y=1.02)
    if left_out:
        grid.figure.text(0.5, -0.02, left_out, ha="center", va="top", fontsize=8)
    return grid.figure


def prevalence_figure(prevalence: pd.DataFrame,
                      labels: dict[str, str] | None = None) -> plt.Figure:
    """Share of primary segments per canonical code with its Wilson 95% interval."""
    part = prevalence[prevalence["n_segments"] > 0]
    part = part.assign(_order=part["category"].map(CATEGORIES.index)).sort_values(
        ["_order", "share_segments"], ascending=[True, False], kind="stable")
    fig, ax = plt.subplots(figsize=(6.5, 0.22 * len(part) + 1))
    y = np.arange(len(part))
    colours = part["category"].map({"dimension": "#2166ac", "practice": "#1b7837",
                                    "barrier": "#b2182b", "outcome": "#762a83"})
    ax.errorbar(part["share_segments"], y,
                xerr=[part["share_segments"] - part["seg_ci_low"],
                      part["seg_ci_high"] - part["share_segments"]],
                fmt="none", ecolor="#888888", elinewidth=1)
    ax.scatter(part["share_segments"], y, c=list(colours), s=14, zorder=3)
    ax.set_yticks(y, part["category"].str.capitalize() + ": "
                  + part["code"].map(lambda c: (labels or {}).get(c, c.replace("_", " "))))
    ax.invert_yaxis()
    ax.set_xlabel("Share of primary segments (Wilson 95% interval)")
    ax.set_title("How often each code is coded, across all segments", fontsize=10)
    return fig


def category_figure(counts: pd.DataFrame, names: dict[str, str] | None = None) -> plt.Figure:
    """Segments per site and category, positive and negative side by side."""
    data = counts.assign(site=counts["site"].map(lambda s: (names or {}).get(s, s)),
                         valence=counts["valence"].str.capitalize())
    grid = sns.catplot(data=data, x="site", y="n_segments", hue="valence", col="category",
                       kind="bar", height=2.4, aspect=0.9,
                       palette={"Positive": "#1b7837", "Negative": "#b2182b"})
    grid.set_axis_labels("", "Primary segments")
    grid.set_titles("{col_name}")
    for ax in grid.axes.flat:
        ax.tick_params(axis="x", rotation=45)
    return grid.figure


def show(fig: plt.Figure) -> None:
    """Display a figure once in a notebook and close it (no second display by the backend)."""
    from IPython.display import display

    display(fig)
    plt.close(fig)
