"""Agreement between two or more codings: ratings, characters and sentences.

Three kinds of input, one family of statistics (definitions and edge cases in
``docs/agreement.md``):

* **Ratings** -- a long table with one row per unit x coder x value (nominal
  values; a coder may skip a unit). :func:`agreement_table` gives percent
  agreement, Cohen's kappa (exactly two coders, with the asymptotic 95 %
  confidence interval of ``statsmodels`` clipped to [-1, 1]), Fleiss' kappa (``statsmodels``; when
  every unit has the same number of ratings) and Krippendorff's alpha at the
  nominal level (the ``krippendorff`` package) with a bootstrap confidence
  interval over units (fixed seed).
* **Characters** -- two coders' segments in one CAQDAS project (REFI-QDA):
  :func:`character_agreement` compares them per source and code the way NVivo's
  coding comparison does (every character of a source is a unit).
* **Sentences** -- two coding sheets of this kit: :func:`sentence_agreement`
  compares them per code (or category) with sentence x code as the unit, and
  gives precision and recall of sheet B against sheet A.

Undefined statistics are ``None`` (NaN in tables) with a one-line reason in a
``note``; nothing is silently turned into 0. Percent agreement is a percentage
(0-100); kappa and alpha are coefficients (-1..1).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.errors import InputError
from analysis.schema import Column, Schema, read_table

DEFAULT_SEED = 20261123
DEFAULT_RESAMPLES = 1000
CONFIDENCE = 0.95
ALL = "(all)"
"""Label of the pooled row of :func:`sentence_agreement` and :func:`presence_agreement`."""
COHEN_INTERVAL = ("asymptotic (Wald) 95 % interval, kappa +/- 1.96 ASE (statsmodels), clipped "
                  "to [-1, 1], the range of kappa")
"""Which confidence interval of Cohen's kappa is given (outputs say so)."""

RATINGS = Schema("ratings", (
    Column("unit"),
    Column("coder"),
    Column("value", required=False, hint="a category, or empty when the coder skipped the unit"),
))


# --------------------------------------------------------------------------- ratings input

def read_ratings(path: str | Path) -> pd.DataFrame:
    """Read a long-form ratings CSV (columns ``unit, coder, value``).

    Returns one row per rating: ``unit``, ``coder``, ``value`` (strings) and
    ``_line`` (the row's line in the file). An empty ``value`` means the coder
    skipped the unit: the row is dropped. Raises :class:`InputError` with file,
    line and column for a missing or unknown column, an empty file, a file
    without ratings, or a unit rated twice by the same coder.
    """
    path = Path(path)
    table = read_table(path, RATINGS)
    table = table[table["value"] != ""].reset_index(drop=True)
    return check_ratings(table, path)


def check_ratings(ratings: pd.DataFrame, file: str | Path = "<ratings>") -> pd.DataFrame:
    """Check a ratings table (``unit, coder, value`` and optionally ``_line``).

    Rows with a missing (NaN or empty) value are skipped ratings and dropped.
    Raises :class:`InputError` when a column is missing, there are no ratings,
    or a coder rated a unit twice (naming both lines). Returns the table with
    ``unit``, ``coder`` and ``value`` as strings.
    """
    for column in ("unit", "coder", "value"):
        if column not in ratings.columns:
            raise InputError(file, f"missing column '{column}' (expected columns: unit, coder, "
                             "value)", line=1 if "_line" in ratings.columns else None)
    table = ratings[ratings["value"].notna() & (ratings["value"].astype(str) != "")].copy()
    if table.empty:
        raise InputError(file, "no ratings (expected one row per unit x coder with a value)")
    for column in ("unit", "coder", "value"):
        table[column] = table[column].astype(str)
    lines = table["_line"] if "_line" in table.columns else pd.Series(
        [None] * len(table), index=table.index)
    dup = table.duplicated(["unit", "coder"], keep=False)
    if dup.any():
        first: dict[tuple[str, str], object] = {}
        for (unit, coder), line in zip(table.loc[dup, ["unit", "coder"]].itertuples(index=False),
                                       lines[dup]):
            if (unit, coder) in first:
                where = f" (first on line {first[(unit, coder)]})" if line is not None else ""
                raise InputError(file, f"coder '{coder}' rated unit '{unit}' twice{where}",
                                 line=line, column="coder")
            first[(unit, coder)] = line
    return table


def check_same_texts(path_a: str | Path, sheet_a: pd.DataFrame, path_b: str | Path,
                     sheet_b: pd.DataFrame) -> None:
    """Two coding sheets compared for agreement must code the same text(s).

    Raises :class:`InputError` naming both files and both sets of sources when the
    two (non-empty) sheets share no source: a kappa over two different studies
    would mean nothing. Sheets that share a source may differ in others (a coder
    may find nothing in one text of a site).
    """
    a, b = set(sheet_a["source_id"]), set(sheet_b["source_id"])
    if a and b and not a & b:
        line = sheet_b["_line"].iloc[0] if "_line" in sheet_b.columns else None
        raise InputError(path_b, f"sheet B codes source(s) {', '.join(sorted(b))} and sheet A "
                         f"({path_a}) codes {', '.join(sorted(a))}: agreement compares two "
                         "codings of the same text (give two sheets of one site)",
                         line=line, column="source_id")


# --------------------------------------------------------------------------- ratings statistics

@dataclass(frozen=True)
class Statistic:
    """One agreement statistic: its value, confidence interval and the units it used.

    ``value`` is ``None`` when the statistic does not apply or is undefined;
    ``note`` then says why. ``ci_low``/``ci_high`` are ``None`` where no interval
    is given.
    """

    statistic: str
    value: float | None
    ci_low: float | None = None
    ci_high: float | None = None
    n_units: int = 0
    note: str = ""


def reliability_matrix(ratings: pd.DataFrame) -> pd.DataFrame:
    """Units x coders: the value each coder gave each unit (NaN where skipped).

    Rows are units, columns coders, both sorted.
    """
    table = check_ratings(ratings)
    return table.pivot(index="unit", columns="coder", values="value").sort_index().sort_index(
        axis=1)


def value_counts(ratings: pd.DataFrame) -> pd.DataFrame:
    """Units x values: how many coders gave each value to each unit (sorted both ways)."""
    table = check_ratings(ratings)
    return pd.crosstab(table["unit"], table["value"]).sort_index().sort_index(axis=1)


def _pairable(counts: pd.DataFrame) -> pd.DataFrame:
    """The units rated by at least two coders (the only ones that carry agreement)."""
    return counts[counts.sum(axis=1) >= 2]


def percent_agreement(ratings: pd.DataFrame) -> Statistic:
    """Percent agreement: over units rated by at least two coders, the mean share of
    coder pairs that gave the same value, times 100.

    With two coders this is the percentage of commonly rated units on which they agree.
    """
    counts = _pairable(value_counts(ratings)).to_numpy(dtype=float)
    if len(counts) == 0:
        return Statistic("percent_agreement", None, note="no unit was rated by two coders")
    m = counts.sum(axis=1)
    share = (counts * (counts - 1)).sum(axis=1) / (m * (m - 1))
    return Statistic("percent_agreement", float(100 * share.mean()), n_units=len(counts))


def _kappa_from_table(table: np.ndarray, name: str, n_units: int) -> Statistic:
    """Cohen's kappa of a square contingency table (rows coder A, columns coder B)."""
    from statsmodels.stats.inter_rater import cohens_kappa

    total = table.sum()
    expected = float((table.sum(axis=1) * table.sum(axis=0)).sum() / total**2)
    if math.isclose(expected, 1.0):
        value = np.flatnonzero(table.sum(axis=1))
        return Statistic(name, None, n_units=n_units,
                         note="undefined: both coders gave every unit the same single value "
                              "(expected agreement 1, kappa 0/0)" if len(value) == 1 else
                              "undefined: expected agreement is 1")
    with np.errstate(divide="ignore", invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # z-test of H0 when its ASE is 0
        result = cohens_kappa(table, return_results=True)
    low, high = float(result.kappa_low), float(result.kappa_upp)
    notes = []
    if (table.sum(axis=1) > 0).sum() == 1 or (table.sum(axis=0) > 0).sum() == 1:
        notes.append("one coder gave a single value throughout: kappa is 0 by construction")
    if not (math.isfinite(low) and math.isfinite(high)) or float(result.std_kappa) == 0:
        low = high = None
        notes.append("asymptotic standard error is 0: no interval")
    elif low < -1 or high > 1:  # the Wald interval is symmetric and can leave kappa's range
        low, high = max(low, -1.0), min(high, 1.0)
        notes.append("interval clipped to [-1, 1], the range of kappa")
    return Statistic(name, float(result.kappa), low, high, n_units=n_units,
                     note="; ".join(notes))


def cohen_kappa(ratings: pd.DataFrame) -> Statistic:
    """Cohen's kappa for exactly two coders over the units both rated.

    The confidence interval is the asymptotic 95 % interval of
    ``statsmodels.stats.inter_rater.cohens_kappa`` (kappa +/- 1.96 ASE), clipped to
    [-1, 1] (a symmetric interval near 1 would otherwise exceed it; the note says
    so when it does, see :data:`COHEN_INTERVAL`). A coder who
    gives one value throughout while the other varies gives kappa 0 (no agreement
    beyond chance is possible); when both give the same single value kappa is 0/0
    and the statistic is ``None`` with a note.
    """
    table = check_ratings(ratings)
    coders = sorted(table["coder"].unique())
    if len(coders) != 2:
        return Statistic("cohen_kappa", None,
                         note=f"applies to exactly two coders (found {len(coders)})")
    wide = table.pivot(index="unit", columns="coder", values="value").dropna()
    if wide.empty:
        return Statistic("cohen_kappa", None, note="no unit was rated by both coders")
    values = sorted(set(wide[coders[0]]) | set(wide[coders[1]]))
    cross = pd.crosstab(wide[coders[0]], wide[coders[1]]).reindex(
        index=values, columns=values, fill_value=0)
    return _kappa_from_table(cross.to_numpy(dtype=float), "cohen_kappa", len(wide))


def fleiss_kappa(ratings: pd.DataFrame) -> Statistic:
    """Fleiss' kappa (``statsmodels.stats.inter_rater.fleiss_kappa``, method 'fleiss').

    Applies when every unit has the same number (at least two) of ratings; the
    coders need not be the same people on every unit. ``None`` with a note
    otherwise, and when every rating has the same value (kappa 0/0).
    """
    from statsmodels.stats.inter_rater import fleiss_kappa as sm_fleiss

    counts = value_counts(ratings)
    per_unit = counts.sum(axis=1)
    if per_unit.nunique() != 1:
        return Statistic("fleiss_kappa", None, n_units=len(counts),
                         note=f"units have different numbers of ratings ({per_unit.min()} to "
                              f"{per_unit.max()}); Fleiss' kappa needs the same number")
    if per_unit.iloc[0] < 2:
        return Statistic("fleiss_kappa", None, n_units=len(counts),
                         note="every unit has a single rating")
    table = counts.to_numpy(dtype=float)
    shares = table.sum(axis=0) / table.sum()
    if math.isclose(float((shares**2).sum()), 1.0):
        return Statistic("fleiss_kappa", None, n_units=len(counts),
                         note="undefined: every rating has the same value (kappa 0/0)")
    return Statistic("fleiss_kappa", float(sm_fleiss(table, method="fleiss")),
                     n_units=len(counts))


def _alpha(counts: np.ndarray) -> float:
    """Nominal Krippendorff's alpha of a units x values count matrix (NaN if undefined)."""
    import krippendorff

    with np.errstate(divide="ignore", invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return float(krippendorff.alpha(value_counts=counts, level_of_measurement="nominal"))


def krippendorff_alpha(ratings: pd.DataFrame, *, resamples: int = DEFAULT_RESAMPLES,
                       seed: int = DEFAULT_SEED, confidence: float = CONFIDENCE) -> Statistic:
    """Krippendorff's alpha, nominal level, with a bootstrap confidence interval.

    The point estimate is ``krippendorff.alpha(value_counts=..., level_of_measurement=
    "nominal")`` over the units rated by at least two coders (others carry no
    pairable values). The interval is a percentile bootstrap over those units:
    ``resamples`` samples of units drawn with replacement by
    ``numpy.random.default_rng(seed)``; samples in which alpha is undefined (one
    value only) are left out and counted in the note. ``None`` when fewer than
    two values are used (no variation: alpha 0/0) or no unit has two ratings; no
    interval with fewer than two pairable units.
    """
    counts = _pairable(value_counts(ratings))
    matrix = counts.loc[:, counts.sum(axis=0) > 0].to_numpy(dtype=float)
    if len(matrix) == 0:
        return Statistic("krippendorff_alpha", None, note="no unit was rated by two coders")
    if matrix.shape[1] < 2:
        return Statistic("krippendorff_alpha", None, n_units=len(matrix),
                         note="undefined: every pairable rating has the same value "
                              "(no variation, alpha 0/0)")
    value = _alpha(matrix)
    if len(matrix) < 2:
        return Statistic("krippendorff_alpha", value, n_units=1,
                         note="one unit: no bootstrap interval")
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, len(matrix), size=(resamples, len(matrix)))
    alphas = np.array([_alpha(matrix[idx]) if (matrix[idx].sum(axis=0) > 0).sum() > 1
                       else np.nan for idx in draws])
    defined = alphas[np.isfinite(alphas)]
    note = ""
    if len(defined) < resamples:
        note = f"{resamples - len(defined)} of {resamples} bootstrap samples had alpha undefined"
    if len(defined) == 0:
        return Statistic("krippendorff_alpha", value, n_units=len(matrix), note=note)
    tail = (1 - confidence) / 2
    low, high = np.quantile(defined, [tail, 1 - tail])
    return Statistic("krippendorff_alpha", value, float(low), float(high), len(matrix), note)


def agreement_table(ratings: pd.DataFrame, *, resamples: int = DEFAULT_RESAMPLES,
                    seed: int = DEFAULT_SEED) -> pd.DataFrame:
    """All statistics of a ratings table, one row per statistic.

    Columns: ``statistic`` (percent_agreement, cohen_kappa, fleiss_kappa,
    krippendorff_alpha), ``value``, ``ci_low``, ``ci_high``, ``n_units`` (units the
    statistic used), ``note`` (why a value or interval is missing). Missing
    values are NaN.
    """
    table = check_ratings(ratings)
    stats = [percent_agreement(table), cohen_kappa(table), fleiss_kappa(table),
             krippendorff_alpha(table, resamples=resamples, seed=seed)]
    frame = pd.DataFrame([s.__dict__ for s in stats])
    for column in ("value", "ci_low", "ci_high"):
        frame[column] = frame[column].astype(float)
    return frame


def _number(value) -> float | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) \
        else float(value)


def ratings_summary(ratings: pd.DataFrame, *, resamples: int = DEFAULT_RESAMPLES,
                    seed: int = DEFAULT_SEED) -> dict:
    """The statistics of a ratings table as one JSON-ready dict.

    Keys: percent_agreement, cohen_kappa, cohen_kappa_ci ([low, high]),
    cohen_kappa_interval (which interval: :data:`COHEN_INTERVAL`), fleiss_kappa,
    krippendorff_alpha, krippendorff_alpha_ci ([low, high]), n_units,
    n_coders, n_ratings, bootstrap (resamples, seed, confidence) and notes
    (statistic -> reason, for every statistic that is null or has a caveat).
    ``None`` where a statistic does not apply.
    """
    table = check_ratings(ratings)
    frame = agreement_table(table, resamples=resamples, seed=seed).set_index("statistic")

    def ci(name):
        low, high = _number(frame.at[name, "ci_low"]), _number(frame.at[name, "ci_high"])
        return None if low is None or high is None else [low, high]

    return {
        "percent_agreement": _number(frame.at["percent_agreement", "value"]),
        "cohen_kappa": _number(frame.at["cohen_kappa", "value"]),
        "cohen_kappa_ci": ci("cohen_kappa"),
        "cohen_kappa_interval": COHEN_INTERVAL,
        "fleiss_kappa": _number(frame.at["fleiss_kappa", "value"]),
        "krippendorff_alpha": _number(frame.at["krippendorff_alpha", "value"]),
        "krippendorff_alpha_ci": ci("krippendorff_alpha"),
        "n_units": int(table["unit"].nunique()),
        "n_coders": int(table["coder"].nunique()),
        "n_ratings": int(len(table)),
        "bootstrap": {"resamples": resamples, "seed": seed, "confidence": CONFIDENCE,
                      "method": "percentile, units resampled with replacement"},
        "notes": {name: note for name, note in frame["note"].items() if note},
    }


# --------------------------------------------------------------------------- binary units

def binary_agreement(n_units, coded_a, coded_b, coded_both) -> pd.DataFrame:
    """Agreement of two coders who each code a unit or not (vectorised over rows).

    Arguments are equal-length integer arrays: units, units coded by A, by B, by
    both. Returns ``percent_agreement`` (units where both or neither coded, per
    cent), ``cohen_kappa`` (NaN when expected agreement is 1: both coded all units
    or neither coded any), ``precision`` (of B against A: both / B; NaN when B
    coded nothing), ``recall`` (both / A; NaN when A coded nothing), ``f1`` (their
    harmonic mean; 0 when both are 0, NaN when either is NaN) and a ``note`` where
    kappa is undefined.
    """
    n = np.asarray(n_units, dtype=float)
    a = np.asarray(coded_a, dtype=float)
    b = np.asarray(coded_b, dtype=float)
    both = np.asarray(coded_both, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        observed = (n - a - b + 2 * both) / n
        expected = (a * b + (n - a) * (n - b)) / n**2
        degenerate = np.isclose(expected, 1.0) | (n == 0)
        kappa = np.where(degenerate, np.nan, (observed - expected) / (1 - expected))
        precision = np.where(b > 0, both / np.where(b > 0, b, 1), np.nan)
        recall = np.where(a > 0, both / np.where(a > 0, a, 1), np.nan)
        f1 = np.where(precision + recall > 0,
                      2 * precision * recall / (precision + recall), 0.0)
        f1 = np.where(np.isnan(precision) | np.isnan(recall), np.nan, f1)
    note = np.where(degenerate & (a == 0) & (b == 0), "kappa undefined: neither coder coded any unit",
                    np.where(degenerate, "kappa undefined: both coders coded every unit", ""))
    return pd.DataFrame({
        "percent_agreement": 100 * observed,
        "cohen_kappa": kappa,
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "note": note.astype(object),
    })


# --------------------------------------------------------------------------- characters

SEGMENT_COLUMNS = ("source", "user", "user_guid", "code", "start", "end")


def coders_listing(segments: pd.DataFrame) -> str:
    """The users who coded ``segments``, quoted and sorted ("'ana', 'budi'"); a name that
    several users share is followed by each one's GUID. "none" when nobody coded."""
    users = segments[["user", "user_guid"]].astype(str).drop_duplicates()
    shared = users["user"].duplicated(keep=False)
    return ", ".join(sorted(f"'{name}' ({guid})" if twin else f"'{name}'" for name, guid, twin
                            in zip(users["user"], users["user_guid"], shared))) or "none"


def coder_rows(segments: pd.DataFrame, coder: str) -> pd.Series:
    """Boolean mask of the segments of ``coder``: a user name, else a user GUID (braces
    and case ignored). A name that several users share is refused (give the GUID), and so
    is a coder with no segment; the ``ValueError`` names the users there are."""
    by_name = segments["user"].astype(str) == coder
    if by_name.any():
        guids = sorted(set(segments.loc[by_name, "user_guid"].astype(str)))
        if len(guids) > 1:
            raise ValueError(f"user name '{coder}' belongs to {len(guids)} users "
                             f"({', '.join(guids)}); give the user GUID instead")
        return by_name
    by_guid = segments["user_guid"].astype(str).str.lower() == coder.strip().strip("{}").lower()
    if by_guid.any():
        return by_guid
    raise ValueError(f"no codings by user '{coder}' (users with codings: "
                     f"{coders_listing(segments)})")


def _code_label(segments: pd.DataFrame) -> pd.Series:
    if "code_path" in segments.columns:
        path = segments["code_path"].fillna("").astype(str)
        return path.where(path != "", segments["code"].astype(str))
    return segments["code"].astype(str)


def _coverage(starts: np.ndarray, ends: np.ndarray, rows: np.ndarray, n_rows: int,
              length: int) -> np.ndarray:
    """Boolean matrix rows x characters: True where a span [start, end) of that row covers."""
    diff = np.zeros((n_rows, length + 1), dtype=np.int32)
    np.add.at(diff, (rows, starts), 1)
    np.add.at(diff, (rows, ends), -1)
    return np.cumsum(diff[:, :length], axis=1) > 0


def character_agreement(segments: pd.DataFrame, source_lengths: dict[str, int],
                        coder_a: str, coder_b: str) -> pd.DataFrame:
    """Character-level agreement of two coders per source and code (NVivo's definition).

    ``segments``: one row per coded segment with at least ``source, user,
    user_guid, code, start, end`` (code-point offsets, ``end`` exclusive; the
    ``segments`` table of ``analysis.exchange.read_qdpx``; ``code_path`` is used as
    the code's name when present). ``source_lengths``: characters per source.
    Coders are named by user name or user GUID.

    Every character of a source is a unit, coded at a code by a coder or not
    (overlapping segments of one coder count once). Returns one row per source x
    code, for every source of ``source_lengths`` and every code either coder used,
    sorted: ``source, code, n_chars, chars_a, chars_b, chars_both, chars_neither,
    percent_agreement`` (characters both or neither coded, per cent), ``cohen_kappa``,
    ``used_a``, ``used_b`` (did the coder use the code on the source at all) and
    ``presence_agree``. As in NVivo, complete agreement (including neither coder
    using the code on the source) gives kappa 1 although kappa is then 0/0; the
    ``note`` column says so. Segments of sources not in ``source_lengths`` (pictures,
    PDFs without text) are ignored.
    """
    missing = [c for c in SEGMENT_COLUMNS if c not in segments.columns]
    if missing:
        raise ValueError(f"segments lack column(s) {', '.join(missing)}")
    is_a, is_b = coder_rows(segments, coder_a), coder_rows(segments, coder_b)
    if (is_a & is_b).any():
        raise ValueError(f"'{coder_a}' and '{coder_b}' are the same user")
    frame = pd.DataFrame({
        "source": segments["source"].astype(str),
        "code": _code_label(segments),
        "start": segments["start"].astype(np.int64),
        "end": segments["end"].astype(np.int64),
        "coder": np.where(is_a, "a", np.where(is_b, "b", "")),
    })
    frame = frame[(frame["coder"] != "") & frame["source"].isin(list(source_lengths))]
    bad = frame[(frame["start"] < 0) | (frame["end"] < frame["start"])
                | (frame["end"] > frame["source"].map(source_lengths))]
    if len(bad):
        row = bad.iloc[0]
        raise ValueError(f"segment [{row.start}, {row.end}) of code '{row.code}' lies outside "
                         f"source '{row.source}' ({source_lengths[row.source]} characters)")
    codes = sorted(frame["code"].unique())
    index = {code: i for i, code in enumerate(codes)}
    parts = []
    for source in sorted(source_lengths):
        length = int(source_lengths[source])
        here = frame[frame["source"] == source]
        masks = {}
        for coder in ("a", "b"):
            mine = here[here["coder"] == coder]
            masks[coder] = _coverage(mine["start"].to_numpy(), mine["end"].to_numpy(),
                                     mine["code"].map(index).to_numpy(dtype=np.int64),
                                     len(codes), length)
        used = {c: np.zeros(len(codes), bool) for c in ("a", "b")}
        for coder in ("a", "b"):
            used[coder][here.loc[here["coder"] == coder, "code"].map(index).to_numpy(
                dtype=np.int64)] = True
        parts.append(pd.DataFrame({
            "source": source, "code": codes, "n_chars": length,
            "chars_a": masks["a"].sum(axis=1), "chars_b": masks["b"].sum(axis=1),
            "chars_both": (masks["a"] & masks["b"]).sum(axis=1),
            "used_a": used["a"], "used_b": used["b"],
        }))
    columns = ["source", "code", "n_chars", "chars_a", "chars_b", "chars_both", "chars_neither",
               "percent_agreement", "cohen_kappa", "used_a", "used_b", "presence_agree", "note"]
    if not parts or not codes:
        return pd.DataFrame(columns=columns)
    table = pd.concat(parts, ignore_index=True)
    for column in ("n_chars", "chars_a", "chars_b", "chars_both"):
        table[column] = table[column].astype(np.int64)
    table["chars_neither"] = (table["n_chars"] - table["chars_a"] - table["chars_b"]
                              + table["chars_both"])
    stats = binary_agreement(table["n_chars"], table["chars_a"], table["chars_b"],
                             table["chars_both"])
    table["percent_agreement"] = stats["percent_agreement"].to_numpy()
    complete = (table["chars_a"] == table["chars_both"]) & (table["chars_b"] == table["chars_both"])
    undefined = stats["cohen_kappa"].isna().to_numpy()
    table["cohen_kappa"] = np.where(undefined & complete.to_numpy(), 1.0,
                                    stats["cohen_kappa"].to_numpy())
    table["presence_agree"] = table["used_a"] == table["used_b"]
    table["note"] = np.where(undefined & complete.to_numpy(),
                             "complete agreement: kappa set to 1 as in NVivo (kappa is 0/0)", "")
    return table[columns].sort_values(["source", "code"], kind="stable").reset_index(drop=True)


def presence_agreement(char_table: pd.DataFrame) -> pd.DataFrame:
    """Did each coder use each code on each source at all? Agreement over sources.

    ``char_table`` is the result of :func:`character_agreement`. Returns one row
    per code, then a pooled row ``(all)`` over every source x code: ``code,
    n_units`` (sources), ``coded_a, coded_b, coded_both`` (sources where the
    coder(s) used the code), ``percent_agreement, cohen_kappa, note`` (kappa NaN
    when undefined: the code was used on every source by both, or on none).
    """
    grouped = char_table.groupby("code", sort=True).agg(
        n_units=("source", "size"),
        coded_a=("used_a", "sum"), coded_b=("used_b", "sum"),
        coded_both=("used_a", lambda s: int((s & char_table.loc[s.index, "used_b"]).sum())),
    ).reset_index()
    total = pd.DataFrame([{"code": ALL, **{c: int(grouped[c].sum()) for c in
                                          ("n_units", "coded_a", "coded_b", "coded_both")}}])
    table = pd.concat([grouped, total], ignore_index=True)
    stats = binary_agreement(table["n_units"], table["coded_a"], table["coded_b"],
                             table["coded_both"])
    for column in ("percent_agreement", "cohen_kappa", "note"):
        table[column] = stats[column].to_numpy()
    for column in ("n_units", "coded_a", "coded_b", "coded_both"):
        table[column] = table[column].astype(np.int64)
    return table


def character_summary(char_table: pd.DataFrame) -> pd.DataFrame:
    """Character-level agreement per code pooled over sources, then ``(all)``.

    Sums the character counts of :func:`character_agreement` over sources (so
    longer sources weigh more, as NVivo suggests for averaging) and recomputes:
    ``code, n_chars, chars_a, chars_b, chars_both, percent_agreement, cohen_kappa,
    note`` (kappa NaN when undefined).
    """
    counts = ["n_chars", "chars_a", "chars_b", "chars_both"]
    grouped = char_table.groupby("code", sort=True)[counts].sum().reset_index()
    total = pd.DataFrame([{"code": ALL, **{c: int(grouped[c].sum()) for c in counts}}])
    table = pd.concat([grouped, total], ignore_index=True).astype({c: np.int64 for c in counts})
    stats = binary_agreement(table["n_chars"], table["chars_a"], table["chars_b"],
                             table["chars_both"])
    for column in ("percent_agreement", "cohen_kappa", "note"):
        table[column] = stats[column].to_numpy()
    return table


# --------------------------------------------------------------------------- sentences

def _labels(segments: pd.DataFrame, by: str, codebook: pd.DataFrame | None,
            name: str) -> pd.Series:
    codes = segments["code"].astype(str)
    if by == "code":
        return codes
    if codebook is None:
        raise ValueError(f"by='{by}' needs a codebook (with a column '{by}')")
    if by not in codebook.columns:
        raise ValueError(f"the codebook has no column '{by}' (by= is 'code' or a codebook "
                         "column such as 'category' or 'canonical_code')")
    mapping = dict(zip(codebook["code"].astype(str), codebook[by].astype(str)))
    unknown = sorted(set(codes) - set(mapping))
    if unknown:
        raise ValueError(f"{name}: code(s) not in the codebook: {', '.join(unknown)}")
    return codes.map(mapping)


def coded_sentences(segments: pd.DataFrame, sentences: pd.DataFrame, *, by: str = "code",
                    codebook: pd.DataFrame | None = None, name: str = "segments") -> pd.DataFrame:
    """The sentences each label was coded in: one row per (source_id, sentence_no, label).

    A segment codes every sentence it overlaps by at least one character
    (``segment.start < sentence.end`` and ``segment.end > sentence.start``); a
    segment that lies wholly in the white space between sentences codes none.
    ``sentences`` is the table of :func:`analysis.text.sentences` (one text: every
    segment belongs to it) or of :func:`analysis.text.corpus_sentences` (with
    ``source_id``). Sorted, without duplicates; the label column is named ``by``.
    """
    for column in ("start", "end", "code"):
        if column not in segments.columns:
            raise ValueError(f"{name} lack column '{column}'")
    sents = sentences if "source_id" in sentences.columns else sentences.assign(source_id="")
    segs = segments.assign(_label=_labels(segments, by, codebook, name).to_numpy())
    if "source_id" in sentences.columns:
        if "source_id" not in segments.columns:
            raise ValueError(f"{name} lack column 'source_id' (sentences span several sources)")
        unknown = sorted(set(segs["source_id"].astype(str)) - set(sents["source_id"]))
        if unknown:
            raise ValueError(f"{name}: source(s) without sentences: {', '.join(unknown)}")
    else:
        segs = segs.assign(source_id="")
    # all sources in one pass: offsets made global by placing each source after the last
    sents = sents.sort_values(["source_id", "start"], kind="stable")
    number = {sid: i for i, sid in enumerate(sorted(set(sents["source_id"])))}
    span = int(max(sents["end"].max() if len(sents) else 0,
                   segs["end"].astype("int64").max() if len(segs) else 0)) + 1
    s_base = sents["source_id"].map(number).to_numpy("int64") * span
    g_base = segs["source_id"].map(number).to_numpy("int64") * span
    s_start = s_base + sents["start"].to_numpy("int64")
    s_end = s_base + sents["end"].to_numpy("int64")
    first = np.searchsorted(s_end, g_base + segs["start"].to_numpy("int64"), side="right")
    last = np.searchsorted(s_start, g_base + segs["end"].to_numpy("int64"), side="left") - 1
    count = np.maximum(last - first + 1, 0)
    which = np.repeat(np.arange(len(segs)), count)
    offsets = np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)
    index = np.repeat(first, count) + offsets
    out = pd.DataFrame({
        "source_id": sents["source_id"].to_numpy(object)[index],
        "sentence_no": sents["sentence_no"].to_numpy("int64")[index],
        by: segs["_label"].to_numpy(object)[which],
    })
    out = out.drop_duplicates().sort_values(["source_id", "sentence_no", by], kind="stable")
    if "source_id" not in sentences.columns:
        out = out.drop(columns="source_id")
    return out.reset_index(drop=True).astype({"sentence_no": np.int64})


def sentence_agreement(segments_a: pd.DataFrame, segments_b: pd.DataFrame,
                       sentences: pd.DataFrame, by: str = "code",
                       codebook: pd.DataFrame | None = None) -> pd.DataFrame:
    """Sentence-level agreement of two codings, per code (or category) and overall.

    Each sentence x label is a unit, coded by a coding when one of its segments
    with that label overlaps the sentence (see :func:`coded_sentences`). ``by`` is
    ``"code"`` (labels are the codes as written) or a column of ``codebook``
    (``"category"``, ``"canonical_code"``) that codes are mapped to. Coding A is the
    reference: precision and recall are those of B against A.

    Returns one row per label used by either coding (sorted), then ``(all)``
    pooling every sentence x label unit: ``<by>, n_units, coded_a, coded_b,
    coded_both, percent_agreement, cohen_kappa, precision, recall, f1, note``.
    Undefined values are NaN with a note (see :func:`binary_agreement`). With no
    label used by either coding, only the ``(all)`` row remains, with 0 units.
    """
    coded_a = coded_sentences(segments_a, sentences, by=by, codebook=codebook, name="coding A")
    coded_b = coded_sentences(segments_b, sentences, by=by, codebook=codebook, name="coding B")
    keys = [c for c in ("source_id", "sentence_no") if c in coded_a.columns]
    n_sentences = len(sentences)
    labels = sorted(set(coded_a[by]) | set(coded_b[by]))
    both = coded_a.merge(coded_b, on=[*keys, by])
    count = {name: frame.groupby(by).size().reindex(labels, fill_value=0).to_numpy()
             for name, frame in (("a", coded_a), ("b", coded_b), ("both", both))}
    table = pd.DataFrame({by: labels, "n_units": n_sentences, "coded_a": count["a"],
                          "coded_b": count["b"], "coded_both": count["both"]})
    total = {by: ALL, "n_units": n_sentences * len(labels), "coded_a": int(count["a"].sum()),
             "coded_b": int(count["b"].sum()), "coded_both": int(count["both"].sum())}
    table = pd.concat([table, pd.DataFrame([total])], ignore_index=True)
    for column in ("n_units", "coded_a", "coded_b", "coded_both"):
        table[column] = table[column].astype(np.int64)
    stats = binary_agreement(table["n_units"], table["coded_a"], table["coded_b"],
                             table["coded_both"])
    return pd.concat([table, stats], axis=1)
