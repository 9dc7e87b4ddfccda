"""Download, verify and unpack the public MSHA and OSHA files, then adapt them.

The addresses and expected formats are in ``mappings/public_sources.csv``; a
caller may pass another manifest with the same columns. Each file is checked
before it is used:

* the HTTP status is 200 and, when the server sends ``Content-Length``, the
  body has that many bytes;
* the file has at least ``min_bytes`` bytes, a floor that catches an error
  page served in place of the data;
* its SHA-256 equals ``sha256`` when the manifest gives one (MSHA and OSHA
  publish no checksums, so the shipped manifest leaves it blank and the
  report records the digest of what was downloaded);
* a ZIP archive passes :meth:`zipfile.ZipFile.testzip` and contains a member
  whose name ends with ``member``. Only that member is extracted, under a
  name chosen here, so a crafted archive cannot write outside the folder.
"""

from __future__ import annotations

import hashlib
import logging
import zipfile
from dataclasses import dataclass
from pathlib import Path

import httpx
import pandas as pd

from risk.errors import InputDataError, RiskError
from risk.public import codemaps
from risk.public.msha import EMPLOYMENT_FILE, INJURIES_FILE, VIOLATIONS_FILE
from risk.public.msha_official import build_panel_files
from risk.public.report import AdapterReport

logger = logging.getLogger(__name__)

MANIFEST_COLUMNS = ("name", "url", "format", "archive", "member", "min_bytes", "sha256")
PANEL_DIR = "msha_panel"
# Panel files served as they are (the shared panel's own format) and their names in PANEL_DIR.
PANEL_FORMATS = {
    "msha_panel_employment": EMPLOYMENT_FILE,
    "msha_panel_injuries": INJURIES_FILE,
    "msha_panel_violations": VIOLATIONS_FILE,
}
OFFICIAL_MSHA_FORMATS = ("msha_mines", "msha_quarterly_employment", "msha_accidents")
_CHUNK_BYTES = 1 << 20


class DownloadError(RiskError):
    """A public file could not be downloaded, or failed a check after download."""


@dataclass(frozen=True)
class PublicSource:
    """One file to download: its address, its format and the checks it must pass."""

    name: str
    url: str
    format: str
    archive: str
    member: str
    min_bytes: int
    sha256: str


@dataclass(frozen=True)
class DownloadedFile:
    """A verified download: the data file ready for an adapter, with its digest."""

    source: PublicSource
    path: Path
    size_bytes: int
    sha256: str


def read_manifest(path: Path | None = None) -> list[PublicSource]:
    """Return the sources of ``path``, or of the shipped manifest when None."""
    if path is None:
        frame = codemaps.public_sources()
    else:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        missing = [column for column in MANIFEST_COLUMNS if column not in frame.columns]
        if missing:
            raise InputDataError(
                f"下载清单缺少列 {missing!r} / manifest {str(path)!r}"
                f" is missing columns {missing!r}"
            )
        frame["min_bytes"] = pd.to_numeric(frame["min_bytes"], errors="raise").astype(int)
    return [
        PublicSource(
            name=row.name,
            url=row.url,
            format=row.format,
            archive=row.archive,
            member=row.member,
            min_bytes=int(row.min_bytes),
            sha256=row.sha256.strip().lower(),
        )
        for row in frame.itertuples(index=False)
    ]


def download_sources(
    sources: list[PublicSource], out_dir: Path, client: httpx.Client | None = None
) -> list[DownloadedFile]:
    """Download, verify and unpack every source into ``out_dir``.

    Raises
    ------
    DownloadError
        On the first source that cannot be fetched or fails a check; files
        already verified stay in ``out_dir``.
    """
    own_client = client is None
    http = client or httpx.Client(follow_redirects=True, timeout=httpx.Timeout(60.0, read=600.0))
    try:
        return [_download_one(source, out_dir, http) for source in sources]
    finally:
        if own_client:
            http.close()


def _download_one(source: PublicSource, out_dir: Path, client: httpx.Client) -> DownloadedFile:
    raw_dir = out_dir / "downloads"
    raw_dir.mkdir(parents=True, exist_ok=True)
    target = raw_dir / (source.name + (".zip" if source.archive == "zip" else ".data"))
    partial = target.with_suffix(target.suffix + ".part")
    digest = hashlib.sha256()
    size = 0
    logger.info("downloading %s from %s", source.name, source.url)
    try:
        with client.stream("GET", source.url) as response:
            if response.status_code != 200:
                raise DownloadError(
                    f"下载 {source.name} 失败：HTTP {response.status_code} /"
                    f" downloading {source.name!r}"
                    f" from {source.url} failed with HTTP status {response.status_code}"
                )
            expected = response.headers.get("Content-Length")
            with partial.open("wb") as handle:
                for chunk in response.iter_bytes(_CHUNK_BYTES):
                    handle.write(chunk)
                    digest.update(chunk)
                    size += len(chunk)
    except httpx.HTTPError as exc:
        raise DownloadError(
            f"无法下载 {source.name}：{exc} / downloading {source.name!r} from {source.url}"
            f" failed: {exc};"
            " check the network connection or the address in the manifest"
        ) from exc

    sha256 = digest.hexdigest()
    _verify(source, size, sha256, expected)
    partial.replace(target)
    data_path = _unpack(source, target, out_dir / "unpacked") if source.archive == "zip" else target
    logger.info("verified %s: %d bytes, sha256 %s", source.name, size, sha256)
    return DownloadedFile(source=source, path=data_path, size_bytes=size, sha256=sha256)


def _verify(source: PublicSource, size: int, sha256: str, content_length: str | None) -> None:
    if content_length is not None and content_length.isdigit() and int(content_length) != size:
        raise DownloadError(
            f"{source.name} 下载不完整 / {source.name!r} is truncated:"
            f" received {size} bytes, the server announced {content_length}"
        )
    if size < source.min_bytes:
        raise DownloadError(
            f"{source.name} 文件过小 / {source.name!r} has {size} bytes, fewer than the expected"
            f" minimum {source.min_bytes}; the server may have sent an error page"
        )
    if source.sha256 and source.sha256 != sha256:
        raise DownloadError(
            f"{source.name} 校验和不符 / {source.name!r} has SHA-256 {sha256},"
            f" the manifest expects {source.sha256}"
        )


def _unpack(source: PublicSource, archive_path: Path, unpack_dir: Path) -> Path:
    try:
        with zipfile.ZipFile(archive_path) as archive:
            broken = archive.testzip()
            if broken is not None:
                raise DownloadError(
                    f"{source.name} 压缩包损坏 / {source.name!r}: member {broken!r}"
                    " fails its CRC check"
                )
            suffix = source.member.lower()
            members = [
                info
                for info in archive.infolist()
                if not info.is_dir() and info.filename.lower().endswith(suffix)
            ]
            if not members:
                names = [info.filename for info in archive.infolist()][:5]
                raise DownloadError(
                    f"{source.name} 压缩包中没有 {source.member} / {source.name!r} has no"
                    " member ending"
                    f" in {source.member!r}; it has {names!r}"
                )
            unpack_dir.mkdir(parents=True, exist_ok=True)
            # The extracted name is ours, never the archive's path, so nothing can land
            # outside unpack_dir.
            target = unpack_dir / f"{source.name}{Path(members[0].filename).suffix.lower()}"
            with archive.open(members[0]) as member, target.open("wb") as handle:
                while chunk := member.read(_CHUNK_BYTES):
                    handle.write(chunk)
            return target
    except zipfile.BadZipFile as exc:
        raise DownloadError(
            f"{source.name} 不是有效的 ZIP 文件 / {source.name!r} is not a valid ZIP archive"
        ) from exc


def assemble_msha_panel(
    files: list[DownloadedFile], out_dir: Path
) -> tuple[Path | None, list[AdapterReport]]:
    """Put the downloaded MSHA files into ``out_dir / msha_panel`` in the panel's format.

    Returns the panel folder (None when no MSHA file was downloaded) and the
    reports of any conversion from the official files.
    """
    by_format = {item.source.format: item for item in files}
    panel_dir = out_dir / PANEL_DIR
    reports: list[AdapterReport] = []
    panel_files = [item for item in files if item.source.format in PANEL_FORMATS]
    if panel_files:
        panel_dir.mkdir(parents=True, exist_ok=True)
        for item in panel_files:
            target = panel_dir / PANEL_FORMATS[item.source.format]
            target.write_bytes(item.path.read_bytes())
    official = [by_format.get(name) for name in OFFICIAL_MSHA_FORMATS]
    if all(item is not None for item in official):
        mines, production, accidents = (item.path for item in official if item is not None)
        reports.append(build_panel_files(mines, production, accidents, panel_dir))
    elif any(item is not None for item in official):
        missing = [
            name for name, item in zip(OFFICIAL_MSHA_FORMATS, official, strict=True) if item is None
        ]
        raise DownloadError(
            f"缺少 MSHA 文件 {missing!r} / the MSHA panel needs {missing!r} as well"
        )
    has_panel = (panel_dir / EMPLOYMENT_FILE).exists() and (panel_dir / INJURIES_FILE).exists()
    return (panel_dir if has_panel else None), reports
