"""Tests of the public-data loader, with the HTTP layer mocked (httpx.MockTransport).

The files served are the shared real copies, zipped in a temporary folder, or
official-format files built from them; no request leaves this process.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path

import httpx
import pandas as pd
import pytest

from risk.public.download import DownloadError, PublicSource, download_sources, read_manifest
from risk.public.loader import SUMMARY_FILE, fetch_public_data
from risk.public.msha import (
    EMPLOYMENT_FILE,
    INJURIES_FILE,
    VIOLATIONS_FILE,
    MshaPanel,
    read_msha_panel,
)

BASE = "https://data.example.test/"
MANIFEST_HEADER = "name,url,format,archive,member,min_bytes,sha256\n"


def _zip_bytes(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _transport(files: dict[str, bytes], requests: list[str]) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        requests.append(str(request.url))
        name = request.url.path.lstrip("/")
        if name not in files:
            return httpx.Response(404, content=b"not found")
        return httpx.Response(200, content=files[name])

    return httpx.MockTransport(handler)


def _manifest(path: Path, rows: list[str]) -> Path:
    path.write_text(MANIFEST_HEADER + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_fetch_public_data_real_panel(
    tmp_path: Path, panel_dir: Path, severe_injury_file: Path, full_panel: MshaPanel
) -> None:
    """Served files are verified, unpacked and adapted like the originals."""
    files = {
        "employment.zip": _zip_bytes(
            {"data/employment.csv": (panel_dir / EMPLOYMENT_FILE).read_bytes()}
        ),
        "injuries.zip": _zip_bytes({"injuries.csv": (panel_dir / INJURIES_FILE).read_bytes()}),
        "violations.zip": _zip_bytes({"v.csv.gz": (panel_dir / VIOLATIONS_FILE).read_bytes()}),
        "severeinjury.csv": severe_injury_file.read_bytes(),
    }
    digest = hashlib.sha256(files["severeinjury.csv"]).hexdigest()
    manifest = _manifest(
        tmp_path / "manifest.csv",
        [
            f"employment,{BASE}employment.zip,msha_panel_employment,zip,.csv,1000,",
            f"injuries,{BASE}injuries.zip,msha_panel_injuries,zip,.csv,1000,",
            f"violations,{BASE}violations.zip,msha_panel_violations,zip,.csv.gz,1000,",
            f"severe,{BASE}severeinjury.csv,osha_severe_injury,none,,1000,{digest}",
        ],
    )
    requests: list[str] = []
    out = tmp_path / "out"
    with httpx.Client(transport=_transport(files, requests)) as client:
        result = fetch_public_data(out, manifest=manifest, client=client)

    assert sorted(requests) == sorted(BASE + name for name in files)
    assert result.panel_dir == out / "msha_panel"
    assert result.tables["msha"].row_counts() == full_panel.tables.row_counts()
    assert result.tables["severe"].row_counts()["incidents"] == 195
    summary = json.loads((out / SUMMARY_FILE).read_text(encoding="utf-8"))
    assert {item["name"]: item["sha256"] for item in summary["files"]}["severe"] == digest
    rejected = summary["adapters"]["rejected_by_reason"]
    assert (
        rejected["injury_mine_not_in_employment"]["units"]
        + rejected["injury_quarter_not_in_employment"]["units"]
        == 20532
    )


def _official_files(panel_dir: Path, mine_ids: list[str]) -> dict[str, bytes]:
    """Write a subset of the panel in MSHA's official pipe-delimited layout."""
    employment = pd.read_csv(panel_dir / EMPLOYMENT_FILE, dtype={"mineid": str})
    employment = employment[employment["mineid"].isin(mine_ids)]
    injuries = pd.read_csv(panel_dir / INJURIES_FILE, dtype={"mineid": str})
    injuries = injuries[injuries["mineid"].isin(mine_ids)]
    mines = employment.groupby("mineid").tail(1)
    mines_file = pd.DataFrame(
        {
            # MSHA writes some ids without their leading zeros; the converter restores them.
            "MINE_ID": mines["mineid"].str.lstrip("0"),
            "CURRENT_MINE_NAME": mines["minename"],
            "COAL_METAL_IND": "C",
            "CURRENT_MINE_TYPE": "Underground",
            "STATE": mines["stateabbreviation"],
        }
    )
    extra_mine = pd.DataFrame(
        {
            "MINE_ID": ["4700001"],
            "CURRENT_MINE_NAME": ["Quarry"],
            "COAL_METAL_IND": ["M"],
            "CURRENT_MINE_TYPE": ["Surface"],
            "STATE": ["WI"],
        }
    )
    year = employment["quarter"].floordiv(1).astype(int)
    quarter = ((employment["quarter"] - year) * 4 + 1).round().astype(int)
    # Split each quarter's hours over two subunits, which the converter sums again.
    production = pd.concat(
        [
            pd.DataFrame(
                {
                    "MINE_ID": employment["mineid"],
                    "CAL_YR": year,
                    "CAL_QTR": quarter,
                    "SUBUNIT_CD": code,
                    "HOURS_WORKED": employment["hours_qtr"] * share,
                    "AVG_EMPLOYEE_CNT": employment["employment_qtr"] * share,
                    "COAL_PRODUCTION": employment["coal_prod_qtr"] * share,
                }
            )
            for code, share in (("01", 0.75), ("02", 0.25))
        ]
    )
    counted = injuries.dropna(subset=["quarter"])
    accident_year = counted["quarter"].floordiv(1).astype(int)
    accident_quarter = ((counted["quarter"] - accident_year) * 4 + 1).round().astype(int)
    repeats = counted["totalinjuries"].astype(int)
    accidents = pd.DataFrame(
        {
            "MINE_ID": counted["mineid"].repeat(repeats),
            "CAL_YR": accident_year.repeat(repeats),
            "CAL_QTR": accident_quarter.repeat(repeats),
            "DEGREE_INJURY_CD": "03",
        }
    )
    no_injury = accidents.head(5).assign(DEGREE_INJURY_CD="00")

    def text(frame: pd.DataFrame) -> bytes:
        return frame.to_csv(sep="|", index=False).encode("latin-1")

    return {
        "Mines.zip": _zip_bytes({"Mines.txt": text(pd.concat([mines_file, extra_mine]))}),
        "MinesProdQuarterly.zip": _zip_bytes({"MinesProdQuarterly.txt": text(production)}),
        "Accidents.zip": _zip_bytes({"Accidents.txt": text(pd.concat([accidents, no_injury]))}),
    }


def test_fetch_public_data_official_msha_layout(tmp_path: Path, panel_dir: Path) -> None:
    """Official MSHA files are converted to the panel and adapt like the panel they came from."""
    mine_ids = sorted(
        pd.read_csv(panel_dir / EMPLOYMENT_FILE, dtype={"mineid": str})["mineid"].unique()
    )[:40]
    files = _official_files(panel_dir, mine_ids)
    manifest = _manifest(
        tmp_path / "manifest.csv",
        [
            f"mines,{BASE}Mines.zip,msha_mines,zip,Mines.txt,100,",
            f"production,{BASE}MinesProdQuarterly.zip,msha_quarterly_employment,zip,MinesProdQuarterly.txt,100,",
            f"accidents,{BASE}Accidents.zip,msha_accidents,zip,Accidents.txt,100,",
        ],
    )
    with httpx.Client(transport=_transport(files, [])) as client:
        result = fetch_public_data(tmp_path / "out", manifest=manifest, client=client)
    expected = read_msha_panel(panel_dir, mine_ids=mine_ids)
    converted = result.tables["msha"]

    assert (
        converted.employers["employer_id"].tolist()
        == expected.tables.employers["employer_id"].tolist()
    )
    pd.testing.assert_frame_equal(converted.headcounts, expected.tables.headcounts)
    assert len(converted.incidents) == len(expected.tables.incidents)
    assert result.report.excluded["mine_not_underground_coal"] == 1
    assert result.report.excluded["accident_without_employee_injury"] == 5
    reasons = result.report.counts_by_reason()
    assert reasons == {
        code: counts
        for code, counts in expected.report.counts_by_reason().items()
        if not code.startswith("violations")
    }


def _source(
    url: str, archive: str = "none", member: str = "", min_bytes: int = 1, sha256: str = ""
) -> PublicSource:
    return PublicSource("item", url, "osha_severe_injury", archive, member, min_bytes, sha256)


@pytest.mark.parametrize(
    ("response", "source", "message"),
    [
        (httpx.Response(404, content=b"gone"), _source(BASE + "a"), "HTTP status 404"),
        (
            httpx.Response(200, content=b"tiny"),
            _source(BASE + "a", min_bytes=100),
            "fewer than the expected",
        ),
        (httpx.Response(200, content=b"abcdef"), _source(BASE + "a", sha256="0" * 64), "SHA-256"),
        (
            httpx.Response(200, content=b"not a zip archive"),
            _source(BASE + "a", archive="zip", member=".txt"),
            "not a valid ZIP",
        ),
        (
            httpx.Response(200, content=_zip_bytes({"readme.md": b"x"})),
            _source(BASE + "a", archive="zip", member=".txt"),
            "no member ending in",
        ),
        (
            httpx.Response(200, content=b"abc", headers={"Content-Length": "10"}),
            _source(BASE + "a"),
            "truncated",
        ),
    ],
)
def test_download_sources_rejects_bad_file(
    tmp_path: Path, response: httpx.Response, source: PublicSource, message: str
) -> None:
    """A download that fails a check raises DownloadError naming the check."""
    transport = httpx.MockTransport(lambda request: response)
    with httpx.Client(transport=transport) as client, pytest.raises(DownloadError, match=message):
        download_sources([source], tmp_path, client=client)


def test_download_sources_zip_member_stays_inside(tmp_path: Path) -> None:
    """A member path that climbs out of the folder is written under a name chosen by the loader."""
    archive = _zip_bytes({"../../escape.txt": b"MINE_ID|X\n1|2\n"})
    transport = httpx.MockTransport(lambda request: httpx.Response(200, content=archive))
    with httpx.Client(transport=transport) as client:
        [downloaded] = download_sources(
            [_source(BASE + "a", archive="zip", member=".txt")], tmp_path, client=client
        )
    assert downloaded.path == tmp_path / "unpacked" / "item.txt"
    assert not (tmp_path.parent / "escape.txt").exists()


def test_download_sources_connection_error(tmp_path: Path) -> None:
    """An unreachable host raises a DownloadError whose message asks to check the network."""

    def reject_connection(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    with (
        httpx.Client(transport=httpx.MockTransport(reject_connection)) as client,
        pytest.raises(DownloadError, match="check the network"),
    ):
        download_sources([_source(BASE + "a")], tmp_path, client=client)


def test_read_manifest_shipped_sources() -> None:
    """The shipped manifest names the MSHA and OSHA files at their official hosts."""
    sources = {source.name: source for source in read_manifest()}
    assert {
        "msha_mines",
        "msha_quarterly_employment",
        "msha_accidents",
        "osha_severe_injury",
    } <= set(sources)
    assert any(name.startswith("osha_ita_300a") for name in sources)
    assert sources["msha_mines"].url.startswith("https://arlweb.msha.gov/")
    assert all(
        source.url.startswith("https://www.osha.gov/")
        for name, source in sources.items()
        if name.startswith("osha")
    )
