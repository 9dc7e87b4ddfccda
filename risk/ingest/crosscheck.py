"""Checks across the files of one ingest run and against the store.

A key that appears in two files of the same kind is a duplicate, and a row
whose employer is neither in this run's employer files nor in the store is
an orphan. Rows that refer to an employer whose own row is invalid are
rejected with that reason, so ``--skip-invalid`` never loads them alone.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import Engine, select

from risk.credit_code import credit_code_problem
from risk.ingest.exports import ParsedExport
from risk.schema import NATURAL_KEYS, PROBLEM_COLUMNS, credit_code_valid
from risk.store.models import Employer

DUPLICATE_REASON = (
    "编号与本次导入的另一个文件重复",
    "duplicate key: the same key is in another file of this run",
)
ORPHAN_REASON = (
    "统一社会信用代码不在本次导入的单位文件中，也不在数据库中；请先导入该单位",
    "employer not found in this run's employer files or in the store; ingest the employer first",
)
REJECTED_EMPLOYER_REASON = (
    "该单位在本次导入的单位文件中未通过校验，本行一并拒绝",
    "the employer's own row in this run is invalid, so this row is rejected too",
)
DEPENDENT_KINDS = ("headcounts", "incidents", "hazard_findings", "training_records")
# Above this many unknown employer ids, one query for all stored ids beats batches of IN lists.
_IN_LIST_LIMIT = 20_000
_IN_LIST_BATCH = 500


def check_duplicate_keys(exports: list[ParsedExport]) -> None:
    """Add a problem to every row whose natural key is also in another file of its kind."""
    for kind, key in NATURAL_KEYS.items():
        same_kind = [export for export in exports if export.kind == kind and not export.file_errors]
        if len(same_kind) < 2:
            continue
        keys = pd.concat(
            [
                export.frame[list(key)].assign(_file=number, _row=export.frame.index)
                for number, export in enumerate(same_kind)
            ],
            ignore_index=True,
        )
        files_per_key = keys.groupby(list(key), dropna=True)["_file"].transform("nunique")
        repeated = keys[files_per_key.to_numpy() > 1]
        for number, export in enumerate(same_kind):
            rows = repeated.loc[repeated["_file"] == number, "_row"]
            duplicates = _problems(rows, DUPLICATE_REASON).assign(column=key[0])
            export.add_problems(duplicates)


def check_employers_exist(
    exports: list[ParsedExport], engine: Engine, id_scheme: str | None = None
) -> None:
    """Add a problem to every dependent row whose employer is unknown or rejected.

    ``id_scheme`` is the run's scheme for employers without one; with credit
    codes (``None`` or ``"uscc"``), an unknown malformed code is reported as such.
    """
    employer_exports = [e for e in exports if e.kind == "employers" and not e.file_errors]
    in_run = _employer_ids(employer_exports, valid_only=False)
    valid_in_run = _employer_ids(employer_exports, valid_only=True)
    dependents = [e for e in exports if e.kind in DEPENDENT_KINDS and not e.file_errors]
    unknown = [_not_in(e.frame["employer_id"].dropna(), valid_in_run) for e in dependents]
    unknown_ids = pc.unique(pa.concat_arrays([_arrow_text(pd.Series([], dtype="str")), *unknown]))
    in_store = stored_employer_ids(engine, unknown_ids.to_pylist())
    known = pa.concat_arrays([valid_in_run, pa.array(sorted(in_store), type=pa.large_string())])

    for export in dependents:
        ids = export.frame["employer_id"]
        missing = ids.notna() & ~is_in(ids, known)
        rejected = missing & is_in(ids, in_run)
        export.add_problems(_problems(ids.index[rejected.to_numpy()], REJECTED_EMPLOYER_REASON))
        export.add_problems(_orphan_problems(ids[missing & ~rejected], id_scheme))


def _orphan_problems(ids: pd.Series, id_scheme: str | None) -> pd.DataFrame:
    if ids.empty:
        return pd.DataFrame(columns=PROBLEM_COLUMNS)
    problems = _problems(ids.index, ORPHAN_REASON)
    if id_scheme in (None, "uscc"):
        # A malformed credit code is the likelier cause, so the reason names its fault.
        malformed = ~credit_code_valid(ids).to_numpy()
        reasons = [credit_code_problem(code) for code in ids[malformed].tolist()]
        problems.loc[malformed, "reason_zh"] = [zh for zh, _ in reasons]
        problems.loc[malformed, "reason_en"] = [en for _, en in reasons]
    return problems


def _arrow_text(values: pd.Series) -> pa.Array:
    array = pa.array(values.astype("str"), type=pa.large_string())
    return array.combine_chunks() if isinstance(array, pa.ChunkedArray) else array


def is_in(values: pd.Series, allowed: pa.Array) -> pd.Series:
    """Return ``values.isin(allowed)`` for text, computed by Arrow (several times faster)."""
    found = pc.fill_null(pc.is_in(_arrow_text(values), value_set=allowed), False)
    return pd.Series(found.to_numpy(zero_copy_only=False), index=values.index)


def _not_in(values: pd.Series, allowed: pa.Array) -> pa.Array:
    return _arrow_text(values).filter(pa.array(~is_in(values, allowed).to_numpy()))


def _employer_ids(exports: list[ParsedExport], *, valid_only: bool) -> pa.Array:
    ids = [_arrow_text(pd.Series([], dtype="str"))]
    for export in exports:
        frame = export.frame
        if valid_only:
            frame = frame.drop(index=export.invalid_rows(), errors="ignore")
        ids.append(_arrow_text(frame["employer_id"].dropna()))
    return pc.unique(pa.concat_arrays(ids))


def stored_employer_ids(engine: Engine, candidates: list[str]) -> set[str]:
    """Return those of ``candidates`` that are employer ids in the store."""
    if not candidates:
        return set()
    column = Employer.__table__.c.employer_id
    with engine.connect() as connection:
        if len(candidates) > _IN_LIST_LIMIT:
            stored = set(connection.execute(select(column)).scalars())
            return stored.intersection(candidates)
        found: set[str] = set()
        for start in range(0, len(candidates), _IN_LIST_BATCH):
            batch = candidates[start : start + _IN_LIST_BATCH]
            found.update(connection.execute(select(column).where(column.in_(batch))).scalars())
        return found


def _problems(rows: pd.Index | pd.Series, reason: tuple[str, str]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "row": np.asarray(rows, dtype="int64"),
            "column": "employer_id",
            "value": None,
            "reason_zh": reason[0],
            "reason_en": reason[1],
        },
        columns=PROBLEM_COLUMNS,
    )
