"""Builders of agency export files for the ingest tests.

``write_agency_exports`` writes one small, valid set of the five exports with
the agency's Chinese headers; tests copy and change single cells to make
exactly the fault they test.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import openpyxl
from factories import credit_code

Row = Sequence[object]

EMPLOYER_HEADERS = ["统一社会信用代码", "单位名称", "行业代码", "所属区县"]
HEADCOUNT_HEADERS = ["统一社会信用代码", "年度", "参保人数"]
INCIDENT_HEADERS = [
    "工伤认定书编号",
    "统一社会信用代码",
    "姓名",
    "身份证号",
    "手机号",
    "事故发生日期",
    "事故类别",
    "伤害程度",
    "停工留薪期(天)",
    "伤残等级",
    "是否上下班途中",
]
FINDING_HEADERS = [
    "隐患编号",
    "统一社会信用代码",
    "检查日期",
    "隐患类别",
    "隐患等级",
    "整改日期",
    "隐患描述",
]
TRAINING_HEADERS = ["培训记录编号", "统一社会信用代码", "课程编号", "培训日期", "参训人数"]

CODES = [credit_code(number) for number in (11, 12, 13)]
WORKER_NAMES = ["张伟", "李娜", "王芳", "刘洋"]
WORKER_ID_NUMBERS = [
    "330106199001011237",
    "33010619851231002X",
    "330109197707070019",
    "330110200002291234",
]
WORKER_PHONES = ["13800000001", "13800000002", "13800000003", "13800000004"]


def write_csv(
    path: Path, headers: Sequence[str], rows: Sequence[Row], encoding: str = "utf-8"
) -> Path:
    """Write a CSV export with ``headers`` and ``rows`` in ``encoding``; return the path."""
    lines = [",".join(headers)] + [
        ",".join("" if cell is None else str(cell) for cell in row) for row in rows
    ]
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode(encoding))
    return path


def write_xlsx(path: Path, headers: Sequence[str], rows: Sequence[Row]) -> Path:
    """Write an XLSX export; cells keep their Python types (dates, numbers, text)."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(list(headers))
    for row in rows:
        sheet.append(list(row))
    workbook.save(path)
    return path


def employer_rows() -> list[list[object]]:
    """Three employers in 萧山区, 西湖区 and 余杭区."""
    return [
        [CODES[0], "杭州甲机械有限公司", "C3311", "萧山区"],
        [CODES[1], "杭州乙建筑工程有限公司", "E4710", "330106"],
        [CODES[2], "杭州丙软件有限公司", "I6510", "余杭区"],
    ]


def headcount_rows() -> list[list[object]]:
    """Two years of insured headcount per employer."""
    return [
        [code, year, 100 + number] for number, code in enumerate(CODES) for year in (2022, 2023)
    ]


def incident_rows() -> list[list[object]]:
    """Four incidents with the injured workers' personal data in the export."""
    return [
        [
            "GS2023-0001",
            CODES[0],
            WORKER_NAMES[0],
            WORKER_ID_NUMBERS[0],
            WORKER_PHONES[0],
            "2023-03-05",
            "机械伤害",
            "轻伤",
            "30",
            "",
            "否",
        ],
        [
            "GS2023-0002",
            CODES[0],
            WORKER_NAMES[1],
            WORKER_ID_NUMBERS[1],
            WORKER_PHONES[1],
            "2023/6/7",
            "起重伤害",
            "重伤",
            "150",
            "七级",
            "否",
        ],
        [
            "GS2023-0003",
            CODES[1],
            WORKER_NAMES[2],
            WORKER_ID_NUMBERS[2],
            WORKER_PHONES[2],
            "2023年9月1日",
            "高处坠落",
            "死亡",
            "",
            "",
            "否",
        ],
        [
            "GS2023-0004",
            CODES[2],
            WORKER_NAMES[3],
            WORKER_ID_NUMBERS[3],
            WORKER_PHONES[3],
            "2023.11.20",
            "车辆伤害",
            "轻伤",
            "12",
            "",
            "是",
        ],
    ]


def finding_rows() -> list[list[object]]:
    """Three hazard findings, one still open."""
    return [
        [
            "YH-001",
            CODES[0],
            "2023-02-01",
            "机械设备防护缺陷",
            "一般隐患",
            "2023-02-20",
            "冲床防护罩缺失",
        ],
        ["YH-002", CODES[1], "2023-04-10", "fall_protection", "重大隐患", "", "脚手架未设防护栏"],
        ["YH-003", CODES[2], "2023-05-15", "消防安全隐患", "一般隐患", "2023-05-16", "灭火器过期"],
    ]


def training_rows() -> list[list[object]]:
    """Two delivered courses."""
    return [
        ["PX-001", CODES[0], "C-MACH-01", "2023-03-20", "25"],
        ["PX-002", CODES[1], "C-FALL-01", "2023-05-02", "40"],
    ]


@dataclass(frozen=True)
class AgencyExports:
    """Paths of one set of valid export files."""

    employers: Path
    headcounts: Path
    incidents: Path
    hazard_findings: Path
    training_records: Path

    def paths(self) -> list[Path]:
        """Return every file, employers first."""
        return [
            self.employers,
            self.headcounts,
            self.incidents,
            self.hazard_findings,
            self.training_records,
        ]


def write_agency_exports(folder: Path) -> AgencyExports:
    """Write the five valid exports into ``folder`` in the encodings agencies use."""
    folder.mkdir(parents=True, exist_ok=True)
    return AgencyExports(
        employers=write_csv(
            folder / "employers.csv", EMPLOYER_HEADERS, employer_rows(), "utf-8-sig"
        ),
        headcounts=write_csv(
            folder / "headcounts.csv", HEADCOUNT_HEADERS, headcount_rows(), "gb18030"
        ),
        incidents=write_csv(folder / "incidents.csv", INCIDENT_HEADERS, incident_rows()),
        hazard_findings=write_csv(folder / "hazard_findings.csv", FINDING_HEADERS, finding_rows()),
        training_records=write_xlsx(
            folder / "training_records.xlsx",
            TRAINING_HEADERS,
            [[r[0], r[1], r[2], dt.date.fromisoformat(r[3]), int(r[4])] for r in training_rows()],
        ),
    )
