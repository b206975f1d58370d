"""Two peer implementations of the classification (the 12 indicators of Decree 07/2021 and the
class, nothing else), written as a user would write them in an afternoon: one DuckDB query and
one Polars lazy query. They read the same Parquet pair as ``giamngheo classify`` and write one
Parquet table: ``household_id``, each indicator as ``deprived`` / ``ok`` / null (unknown), and
``class``. The numbers are the decree's, written here by hand (not read from the rulebook):

    poverty line 1,500,000 VND rural / 2,000,000 urban; ceiling 2,250,000 / 3,000,000;
    3 or more deprivations; a child is under 16; working age from 15 to 735 months (men) and
    680 months (women); insurance from 6 years; adult education 16–30 (16–17: lower secondary,
    18–30: upper secondary or a vocational level); schooling from 3; dependants over half the
    members; under 8 m² a person; 2 of frame, walls, roof not durable.

Unknown inputs follow Kleene's three-valued logic, which SQL NULL and Polars null already are;
an empty list of devices means none. A household whose input giamngheo refuses is not
compared (see ``agreement``).

    python benchmarks/peers.py duckdb households.parquet members.parquet out.parquet
    python benchmarks/peers.py polars households.parquet members.parquet out.parquet
"""

from __future__ import annotations

import sys
from pathlib import Path

INDICATORS = ["employment.dependants", "employment.jobs", "health.insurance", "health.nutrition",
              "education.adult", "education.children", "housing.area", "housing.quality",
              "water.latrine", "water.source", "information.devices", "information.telecom"]  # fmt: skip
CLEAN_WATER = ["piped", "drilled_well", "protected_dug_well", "protected_spring", "rainwater",
               "bottled"]  # fmt: skip
HYGIENIC = ["septic", "semi_septic", "pour_flush", "double_vault", "ventilated_pit", "biogas"]
DEVICES = ["tv", "radio", "desktop", "laptop", "tablet", "smartphone"]
EDU_16_17 = ["lower_secondary", "upper_secondary", "vocational_elementary",
             "vocational_intermediate", "college", "university"]  # fmt: skip
EDU_18_30 = EDU_16_17[1:]
NO_JOB = ["unemployed", "wage_no_contract"]
SEVERE = ["severe", "especially_severe"]


def _list(values: list[str]) -> str:
    return ", ".join(f"'{v}'" for v in values)


_STATES = ", ".join(f"CASE WHEN \"{x}\" THEN 'deprived' WHEN NOT \"{x}\" THEN 'ok' END AS \"{x}\""
                    for x in INDICATORS)  # fmt: skip
_COUNT_LO = " + ".join(f'coalesce("{x}"::INT, 0)' for x in INDICATORS)
_COUNT_HI = " + ".join(f'coalesce("{x}"::INT, 1)' for x in INDICATORS)
# any_member: true if a member is, false if every member is known not to be, else unknown.
_ANY_MEMBER = ", ".join(
    f"CASE WHEN bool_or({c}) THEN TRUE WHEN bool_and({c} IS NOT NULL) THEN FALSE END AS {c}"
    for c in ("no_job", "uninsured", "malnourished", "low_education", "out_of_school"))

DUCKDB_SQL = f"""
WITH m AS (
  SELECT household_id,
         TRY_CAST(age AS DOUBLE) AS age,
         TRY_CAST(age AS DOUBLE) * 12 AS months,
         CASE sex WHEN 'male' THEN 735 WHEN 'female' THEN 680 END AS retire,
         CAST(health_insurance AS BOOLEAN) AS insured,
         disability, employment, education,
         CASE in_school WHEN 'True' THEN TRUE WHEN 'False' THEN FALSE END AS in_school,
         CASE school_on_track WHEN 'True' THEN TRUE WHEN 'False' THEN FALSE END AS on_track,
         CASE stunted WHEN 'True' THEN TRUE WHEN 'False' THEN FALSE END AS stunted,
         CASE underweight WHEN 'True' THEN TRUE WHEN 'False' THEN FALSE END AS underweight
  FROM read_parquet(?)
), f AS (
  SELECT household_id,
         age < 16 AS child,
         (age < 16) OR (months >= retire) OR (disability IN ({_list(SEVERE)})) AS dependant,
         (age >= 15 AND months < retire) AND employment IN ({_list(NO_JOB)}) AS no_job,
         age >= 6 AND NOT insured AS uninsured,
         (age < 16) AND (stunted OR underweight) AS malnourished,
         age >= 3 AND age < 16 AND (NOT in_school OR NOT on_track) AS out_of_school,
         age >= 16 AND age <= 30 AND NOT in_school AND (
           (age <= 17 AND NOT (education IN ({_list(EDU_16_17)})))
           OR (age > 17 AND NOT (education IN ({_list(EDU_18_30)})))) AS low_education
  FROM m
), g AS (
  SELECT household_id, count(*) AS n,
         count(*) FILTER (WHERE dependant) AS dep_t,
         count(*) FILTER (WHERE dependant IS NULL) AS dep_u,
         {_ANY_MEMBER}
  FROM f GROUP BY household_id
), h AS (
  SELECT h.household_id, h.area, h.income_per_capita_vnd AS income, g.*,
         TRY_CAST(h.floor_area_m2 AS DOUBLE) AS floor_area,
         h.durable_frame, h.durable_walls, h.durable_roof, h.latrine, h.water_source,
         coalesce(h.info_devices, '') AS devices, h.uses_telecom
  FROM read_parquet(?) h LEFT JOIN g USING (household_id)
), i AS (
  SELECT household_id, area, income,
    CASE WHEN dep_t / n > 0.5 THEN TRUE WHEN (dep_t + dep_u) / n <= 0.5 THEN FALSE END
      AS "employment.dependants",
    no_job AS "employment.jobs", uninsured AS "health.insurance",
    malnourished AS "health.nutrition", low_education AS "education.adult",
    out_of_school AS "education.children",
    floor_area / n < 8 AS "housing.area",
    CASE WHEN (NOT durable_frame)::INT + (NOT durable_walls)::INT + (NOT durable_roof)::INT >= 2
      THEN TRUE ELSE FALSE END AS "housing.quality",
    NOT (latrine IN ({_list(HYGIENIC)})) AS "water.latrine",
    NOT (water_source IN ({_list(CLEAN_WATER)})) AS "water.source",
    NOT list_has_any(string_split(devices, ';'), [{_list(DEVICES)}]) AS "information.devices",
    NOT uses_telecom AS "information.telecom"
  FROM h
), c AS (
  SELECT *,
    {_COUNT_LO} AS dep_lo,
    {_COUNT_HI} AS dep_hi,
    income <= CASE area WHEN 'rural' THEN 1500000 WHEN 'urban' THEN 2000000 END AS at_line,
    income <= CASE area WHEN 'rural' THEN 2250000 WHEN 'urban' THEN 3000000 END AS at_ceiling
  FROM i
)
SELECT household_id,
  {_STATES},
  CASE WHEN at_line AND dep_lo >= 3 THEN 'poor'
       WHEN at_line AND dep_hi < 3 THEN 'near_poor'
       WHEN NOT at_line AND at_ceiling THEN 'average'
       WHEN NOT at_ceiling THEN 'not_poor'
       ELSE 'incomplete' END AS class
FROM c
"""


def run_duckdb(households: Path, members: Path, out: Path) -> None:
    import duckdb

    def quoted(path: Path) -> str:
        return "'" + str(path).replace("'", "''") + "'"

    sql = DUCKDB_SQL.replace("read_parquet(?)", "read_parquet({})")
    sql = sql.format(quoted(members), quoted(households))
    duckdb.connect().execute(f"COPY ({sql}) TO {quoted(out)} (FORMAT parquet)")


def run_polars(households: Path, members: Path, out: Path) -> None:
    import polars as pl

    def flag(name: str) -> pl.Expr:
        c = pl.col(name)
        return pl.when(c == "True").then(True).when(c == "False").then(False)

    def among(name: str, values: list[str]) -> pl.Expr:
        c = pl.col(name)
        return pl.when(c.is_null()).then(None).otherwise(c.is_in(values))

    def any_member(e: pl.Expr) -> pl.Expr:
        return (pl.when(e.any()).then(True).when(e.is_not_null().all()).then(False)
                .otherwise(None))  # fmt: skip

    age = pl.col("age").cast(pl.Float64, strict=False)
    months = age * 12
    retire = pl.when(pl.col("sex") == "male").then(735).when(pl.col("sex") == "female").then(680)
    child = age < 16
    severe = among("disability", SEVERE)
    dependant = child | (months >= retire) | severe
    no_job = (age >= 15) & (months < retire) & among("employment", NO_JOB)
    uninsured = (age >= 6) & ~pl.col("health_insurance").cast(pl.Boolean)
    malnourished = child & (flag("stunted") | flag("underweight"))
    out_of_school = (age >= 3) & child & (~flag("in_school") | ~flag("school_on_track"))
    low_edu = ((age >= 16) & (age <= 30) & ~flag("in_school")
               & (((age <= 17) & ~among("education", EDU_16_17))
                  | ((age > 17) & ~among("education", EDU_18_30))))  # fmt: skip
    groups = pl.scan_parquet(members).group_by("household_id").agg(
        pl.len().alias("n"),
        dependant.fill_null(False).sum().alias("dep_t"),
        dependant.is_null().sum().alias("dep_u"),
        any_member(no_job).alias("employment.jobs"),
        any_member(uninsured).alias("health.insurance"),
        any_member(malnourished).alias("health.nutrition"),
        any_member(low_edu).alias("education.adult"),
        any_member(out_of_school).alias("education.children"),
    )
    n = pl.col("n")
    share_lo, share_hi = pl.col("dep_t") / n, (pl.col("dep_t") + pl.col("dep_u")) / n
    devices = pl.col("info_devices").fill_null("")  # an empty list: no device
    has_device = devices.str.split(";").list.set_intersection(DEVICES).list.len() > 0
    parts = sum((~pl.col(c)).cast(pl.Int32) for c in ("durable_frame", "durable_walls",
                                                      "durable_roof"))  # fmt: skip
    income = pl.col("income_per_capita_vnd")
    area = pl.col("area")
    line = pl.when(area == "rural").then(1_500_000).when(area == "urban").then(2_000_000)
    ceiling = pl.when(area == "rural").then(2_250_000).when(area == "urban").then(3_000_000)
    frame = (
        pl.scan_parquet(households)
        .join(groups, on="household_id", how="left")
        .with_columns(
            pl.when(share_lo > 0.5).then(True).when(share_hi <= 0.5).then(False)
            .otherwise(None).alias("employment.dependants"),
            (pl.col("floor_area_m2").cast(pl.Float64, strict=False) / n < 8).alias("housing.area"),
            (parts >= 2).fill_null(False).alias("housing.quality"),
            (~among("latrine", HYGIENIC)).alias("water.latrine"),
            (~among("water_source", CLEAN_WATER)).alias("water.source"),
            (~has_device).alias("information.devices"),
            (~pl.col("uses_telecom")).alias("information.telecom"),
            (income <= line).alias("at_line"),
            (income <= ceiling).alias("at_ceiling"),
        )
        .with_columns(
            pl.sum_horizontal([pl.col(x).cast(pl.Int32).fill_null(0) for x in INDICATORS])
            .alias("lo"),
            pl.sum_horizontal([pl.col(x).cast(pl.Int32).fill_null(1) for x in INDICATORS])
            .alias("hi"),
        )
        .select(
            "household_id",
            *[pl.when(pl.col(x)).then(pl.lit("deprived")).when(~pl.col(x)).then(pl.lit("ok"))
              .alias(x) for x in INDICATORS],
            pl.when(pl.col("at_line") & (pl.col("lo") >= 3)).then(pl.lit("poor"))
            .when(pl.col("at_line") & (pl.col("hi") < 3)).then(pl.lit("near_poor"))
            .when(~pl.col("at_line") & pl.col("at_ceiling")).then(pl.lit("average"))
            .when(~pl.col("at_ceiling")).then(pl.lit("not_poor"))
            .otherwise(pl.lit("incomplete")).alias("class"),
        )
    )
    frame.sink_parquet(out)


def agreement(peer: Path, results: Path) -> dict[str, int]:
    """Households compared and disagreements (indicator states and class) between a peer's
    table and giamngheo's results, over the households giamngheo did not refuse."""
    import pandas as pd

    ours = pd.read_parquet(results, columns=["household_id", *INDICATORS, "class"])
    ours = ours[ours["class"] != "invalid"]
    theirs = pd.read_parquet(peer).set_index("household_id").reindex(ours["household_id"])
    ours = ours.set_index("household_id")
    out = {"households": len(ours), "class": int((ours["class"] != theirs["class"]).sum())}
    for x in INDICATORS:
        mine = ours[x].replace({"unknown": None}).fillna("?")
        out[x] = int((mine != theirs[x].fillna("?")).sum())
    return out


if __name__ == "__main__":
    which, hh, mem, target = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]), Path(sys.argv[4])
    {"duckdb": run_duckdb, "polars": run_polars}[which](hh, mem, target)
