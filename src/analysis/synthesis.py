"""Evidence-synthesis tables: the study table, CASP appraisal, GRADE-CERQual summary of
findings, and each site's barriers mapped to the training guidance.

What can be computed from the coding is computed here (CERQual adequacy: the
studies and segments behind a finding; coherence: the sites whose coding runs
against it); the judgments are hand-made data (``data/cerqual.csv``).
"""

from __future__ import annotations

import pandas as pd

from analysis.coding import primary
from analysis.errors import InputError
from analysis.schema import SLUG, Column, Schema, read_table, records
from analysis.sources import present

CONFIDENCE = ("high", "moderate", "low", "very_low")
CONCERN = ("no_or_very_minor", "minor", "moderate", "serious")

CERQUAL = Schema("cerqual", (
    Column("finding_id", pattern=r"F\d+", hint="F1, F2, ..."),
    Column("finding"),
    Column("codes", pattern=r"[a-z_]+(;[a-z_]+)*", hint="canonical codes separated by ';'"),
    Column("valence", choices=("positive", "negative")),
    Column("methodological_limitations", choices=CONCERN),
    Column("coherence", choices=CONCERN),
    Column("adequacy", choices=CONCERN),
    Column("relevance", choices=CONCERN),
    Column("confidence", choices=CONFIDENCE),
    Column("explanation"),
    Column("judged_sites", required=False, optional=True, pattern=f"{SLUG}(;{SLUG})*",
           hint="the site slugs the judgment was made on, separated by ';' with no spaces, "
                "or empty"),
), unique=("finding_id",))


def site_set(value: str) -> frozenset[str]:
    """The sites of a ';'-separated list of site slugs (``judged_sites``,
    ``contributing_sites``); an empty value is no site."""
    return frozenset(value.split(";")) if value else frozenset()


def study_table(sites: pd.DataFrame, sources: pd.DataFrame) -> pd.DataFrame:
    """One row per site: its office and study (Table 1 of the report)."""
    case = sources[sources["kind"] == "case_study"]
    merged = sites.merge(case[["site", "source_id", "title", "authors", "year", "venue"]],
                         on="site", how="left")
    cols = ["site", "source_id", "name", "admin_level", "parent", "province", "unit_studied",
            "design", "methods", "informants", "analysis", "framework", "title", "authors",
            "year", "venue"]
    return merged[cols].fillna("").sort_values("site").reset_index(drop=True)


def appraisal_table(appraisal: pd.DataFrame | None, questions: pd.DataFrame | None,
                    sources: pd.DataFrame) -> pd.DataFrame:
    """One row per study x CASP question: site, source_id, question_no, question, answer, reason."""
    cols = ["site", "source_id", "question_no", "question", "answer", "reason"]
    if appraisal is None or questions is None:
        return pd.DataFrame(columns=cols)
    table = appraisal.merge(questions[["question_no", "question"]], on="question_no")
    table = table.merge(sources[["source_id", "site"]], on="source_id")
    return table[cols].sort_values(["site", "question_no"]).reset_index(drop=True)


def load_cerqual(path, codebook: pd.DataFrame, sites: list[str] | None = None) -> pd.DataFrame:
    """The hand-made CERQual judgments, one row per cross-site finding. Every code must be
    canonical and, given the corpus's ``sites``, every site of ``judged_sites`` one of them
    (a slug mistyped or of a site since removed is an error, not a site of the judgment)."""
    table = read_table(path, CERQUAL)
    canonical = set(codebook.loc[codebook["parent"] == "", "code"])
    known = set(sites) if sites is not None else None
    for row in records(table):
        for code in row.codes.split(";"):
            if code not in canonical:
                raise InputError(path, f"'{code}' is not a canonical code", line=row._line,
                                 column="codes")
        for site in sorted(site_set(row.judged_sites) - known) if known is not None else ():
            raise InputError(path, f"unknown site '{site}' (not a site of sites.csv: "
                             f"{', '.join(sorted(known))})", line=row._line,
                             column="judged_sites")
    return table


def load_findings(corpus) -> pd.DataFrame | None:
    """:func:`load_cerqual` of the corpus's ``cerqual.csv``; None when there is no such file
    (a broken link or an unreadable file is an error, not "no judgments")."""
    path = corpus.layout.cerqual_csv
    return load_cerqual(path, corpus.codebook, corpus.site_ids) if present(path) else None


def cerqual_summary(findings: pd.DataFrame, segments: pd.DataFrame,
                    sites: list[str]) -> pd.DataFrame:
    """One row per cross-site finding, its judgments joined with what the coding shows.

    Computed columns: ``contributing_sites`` (sites with primary segments of the
    finding's codes and valence), ``n_studies`` and ``n_segments`` (adequacy),
    ``disagreeing_sites`` (sites with primary segments of the opposite valence:
    a coherence flag) and ``n_disagreeing_segments``; ``to_review`` is True when the
    contributing sites differ from ``judged_sites``, the ones the judgment was made on
    (or those are not recorded): the judgment and its explanation are then stale.
    """
    prim = primary(segments)
    rows = []
    for row in records(findings):
        codes = row.codes.split(";")
        hits = prim[prim["canonical_code"].isin(codes)]
        agree = hits[hits["valence"] == row.valence]
        disagree = hits[hits["valence"] != row.valence]
        rows.append({
            "finding_id": row.finding_id, "finding": row.finding, "codes": row.codes,
            "valence": row.valence,
            "contributing_sites": ";".join(sorted(agree["site"].unique())),
            "n_studies": int(agree["site"].nunique()), "n_sites_total": len(sites),
            "n_segments": int(len(agree)),
            "disagreeing_sites": ";".join(sorted(disagree["site"].unique())),
            "n_disagreeing_segments": int(len(disagree)),
            "methodological_limitations": row.methodological_limitations,
            "coherence": row.coherence, "adequacy": row.adequacy,
            "relevance": row.relevance, "confidence": row.confidence,
            "explanation": row.explanation, "judged_sites": row.judged_sites,
            "to_review": not row.judged_sites
            or site_set(row.judged_sites) != set(agree["site"]),
        })
    return pd.DataFrame(rows, columns=[
        "finding_id", "finding", "codes", "valence", "contributing_sites", "n_studies",
        "n_sites_total", "n_segments", "disagreeing_sites", "n_disagreeing_segments",
        "methodological_limitations", "coherence", "adequacy", "relevance", "confidence",
        "explanation", "judged_sites", "to_review"])


def barrier_training(segments: pd.DataFrame, guidance: pd.DataFrame | None,
                     codebook: pd.DataFrame, sites: list[str]) -> pd.DataFrame:
    """One row per site x barrier code the site reports: what the training guidance offers.

    Columns: site, code, n_site_segments, n_guidance_challenge, n_guidance_material,
    n_guidance_strategy, addressed (the guidance offers a material or strategy for
    it), guidance_segment_ids.
    """
    barriers = set(codebook.loc[(codebook["category"] == "barrier")
                                & (codebook["parent"] == ""), "code"])
    prim = primary(segments)
    site_barriers = (prim[prim["canonical_code"].isin(barriers)]
                     .groupby(["site", "canonical_code"]).size().rename("n_site_segments")
                     .reset_index().rename(columns={"canonical_code": "code"}))
    site_barriers = site_barriers[site_barriers["site"].isin(sites)]
    guide = guidance if guidance is not None else pd.DataFrame(
        columns=["segment_id", "element", "code"])
    counts = guide.groupby(["code", "element"]).size().unstack("element", fill_value=0)
    for element in ("challenge", "material", "strategy"):
        if element not in counts:
            counts[element] = 0
    counts = counts[["challenge", "material", "strategy"]].add_prefix("n_guidance_")
    ids = guide.groupby("code")["segment_id"].agg(lambda s: ";".join(sorted(s)))
    table = site_barriers.merge(counts, left_on="code", right_index=True, how="left")
    for col in counts.columns:
        table[col] = table[col].fillna(0).astype("int64")
    table["addressed"] = (table["n_guidance_material"] + table["n_guidance_strategy"]) > 0
    table["guidance_segment_ids"] = table["code"].map(ids.astype(object)).astype(object).fillna("")
    return table.sort_values(["site", "code"]).reset_index(drop=True)
