"""Synthetic identifiers: credit codes, employer names and injured workers' personal data.

Everything here is random and vectorised over numpy arrays. The personal data
(names, resident ID numbers, phone numbers) exists only so that ingest's removal
of personal-data columns is exercised. No real person is described.
"""

from __future__ import annotations

import numpy as np

from risk.credit_code import ALPHABET, WEIGHTS

# Code point -> value in the credit-code alphabet, for vectorised check characters.
_CREDIT_VALUE = np.full(128, -1, dtype=np.int64)
for _value, _symbol in enumerate(ALPHABET):
    _CREDIT_VALUE[ord(_symbol)] = _value
_CREDIT_WEIGHTS = np.array(WEIGHTS, dtype=np.int64)
_CREDIT_ALPHABET = np.array(list(ALPHABET))

# GB 11714 organisation code: weights of the 8 body digits. Check value 10 is "X", 11 is "0".
_ORG_WEIGHTS = np.array([3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)
_ORG_CHECK = np.array(["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "X", "0"])

# GB 11643 resident ID number: weights of the 17 digits and the check character by sum % 11.
_ID_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)
_ID_CHECK = np.array(list("10X98765432"))
# Birthplace area codes: Hangzhou districts and common origins of migrant workers.
_ID_AREAS = np.array([
    "330102", "330106", "330109", "330110", "330122", "330182", "330281", "330621",
    "341221", "362330", "412722", "431021", "511623", "522422", "532128", "421181",
])

_PHONE_PREFIXES = np.array([
    "130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152",
    "153", "155", "156", "157", "158", "159", "176", "177", "180", "181", "186", "187",
    "188", "189", "198", "199",
])
_SURNAMES = np.array(list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹"))
_GIVEN = np.array(list("伟芳娜敏静丽强磊军洋勇艳杰涛明超秀英华平刚桂兰文辉鹏建国红飞燕玲志强浩宇"))

_NAME_WORDS = np.array([
    "华盛", "恒达", "鑫源", "宏远", "永安", "金桥", "天成", "博瑞", "新锐", "明辉", "东方",
    "中联", "瑞丰", "正泰", "长城", "海纳", "万通", "信诚", "嘉禾", "润泽", "凯达", "远航",
    "同创", "立信", "汇通", "顺发", "盛世", "和美", "锦程", "宝利", "德昌", "大洋", "安吉",
    "兴旺", "富春", "钱江", "西溪", "之江", "运河", "良渚", "青山", "绿源", "星辰", "卓越",
])
_SECTION_WORDS = {
    "A": "农业", "B": "矿业", "D": "能源", "E": "建设", "F": "商贸", "G": "物流",
    "H": "餐饮管理", "I": "网络科技", "J": "投资管理", "K": "房地产开发", "L": "企业管理咨询",
    "M": "检测技术", "N": "环境工程", "O": "家政服务", "P": "教育科技", "Q": "医疗管理",
    "R": "文化传媒", "S": "社会服务",
}
_DIVISION_WORDS = {
    "13": "食品", "14": "食品", "15": "饮料", "16": "烟草", "17": "纺织", "18": "服饰",
    "19": "鞋业", "20": "木业", "21": "家具", "22": "纸业", "23": "印务", "24": "文体用品",
    "25": "燃料", "26": "化工", "27": "医药", "28": "化纤", "29": "塑胶", "30": "建材",
    "31": "钢铁", "32": "铝业", "33": "金属制品", "34": "机械", "35": "装备", "36": "汽车部件",
    "37": "船舶", "38": "电气", "39": "电子", "40": "仪表", "41": "工艺品", "42": "再生资源",
    "43": "设备维修",
}
_PUBLIC_BODY_WORDS = {"P": "学校", "Q": "医院", "S": "服务中心"}


def credit_check_characters(first17: np.ndarray) -> np.ndarray:
    """Compute GB 32100 check characters for an array of 17-character strings."""
    points = np.asarray(first17, dtype="<U17").view(np.uint32).reshape(-1, 17)
    values = _CREDIT_VALUE[points]
    total = values @ _CREDIT_WEIGHTS
    return _CREDIT_ALPHABET[(31 - total % 31) % 31]


def make_credit_codes(
    rng: np.random.Generator, district_codes: np.ndarray, prefixes: np.ndarray
) -> np.ndarray:
    """Draw unique unified social credit codes with the district in characters 3-8.

    ``prefixes`` are the two registration characters, e.g. ``"91"`` for a company
    or ``"12"`` for a public institution.
    """
    codes = np.empty(len(district_codes), dtype="<U18")
    todo = np.arange(len(district_codes))
    while len(todo):
        body = rng.integers(0, 10, size=(len(todo), 8))
        org_check = _ORG_CHECK[(11 - (body @ _ORG_WEIGHTS) % 11)]
        body_text = _digits_to_text(body)
        first17 = _join(prefixes[todo], district_codes[todo], body_text, org_check)
        codes[todo] = np.char.add(first17, credit_check_characters(first17))
        # Redraw the later copies of any duplicate until every code is unique.
        _, first_index = np.unique(codes, return_index=True)
        duplicated = np.ones(len(codes), dtype=bool)
        duplicated[first_index] = False
        todo = np.nonzero(duplicated)[0]
    return codes


def make_resident_ids(rng: np.random.Generator, birth_dates: np.ndarray) -> np.ndarray:
    """Draw GB 11643 resident ID numbers (18 characters with check digit) for birth dates."""
    areas = _ID_AREAS[rng.integers(0, len(_ID_AREAS), size=len(birth_dates))]
    days = birth_dates.astype("datetime64[D]")
    months = days.astype("datetime64[M]")
    year = months.astype("datetime64[Y]").astype(np.int64) + 1970
    month = months.astype(np.int64) % 12 + 1
    day = (days - months.astype("datetime64[D]")).astype(np.int64) + 1
    births = (year * 10_000 + month * 100 + day).astype(str)
    sequence = _digits_to_text(rng.integers(0, 10, size=(len(birth_dates), 3)))
    first17 = _join(areas, births, sequence)
    digits = first17.astype("<U17").view(np.uint32).reshape(-1, 17).astype(np.int64) - ord("0")
    return np.char.add(first17, _ID_CHECK[(digits @ _ID_WEIGHTS) % 11])


def make_phone_numbers(rng: np.random.Generator, size: int) -> np.ndarray:
    """Draw 11-digit mainland mobile numbers."""
    prefixes = _PHONE_PREFIXES[rng.integers(0, len(_PHONE_PREFIXES), size=size)]
    return np.char.add(prefixes, _digits_to_text(rng.integers(0, 10, size=(size, 8))))


def make_person_names(rng: np.random.Generator, size: int) -> np.ndarray:
    """Draw Chinese personal names of two or three characters."""
    surnames = _SURNAMES[rng.integers(0, len(_SURNAMES), size=size)]
    first = _GIVEN[rng.integers(0, len(_GIVEN), size=size)]
    second = _GIVEN[rng.integers(0, len(_GIVEN), size=size)]
    second = np.where(rng.random(size) < 0.7, second, "")
    return _join(surnames, first, second)


def make_employer_names(
    rng: np.random.Generator,
    district_names: np.ndarray,
    sections: np.ndarray,
    divisions: np.ndarray,
    public_body: np.ndarray,
) -> np.ndarray:
    """Draw employer names: ``杭州<word><industry>有限公司`` or a public body's name."""
    size = len(sections)
    word = _NAME_WORDS[rng.integers(0, len(_NAME_WORDS), size=size)]
    industry = np.array([_SECTION_WORDS.get(section, "实业") for section in sections])
    manufacturing = np.array([_DIVISION_WORDS.get(division, "") for division in divisions])
    industry = np.where(sections == "C", manufacturing, industry)
    suffix = np.where(rng.random(size) < 0.06, "股份有限公司", "有限公司")
    # A quarter of the companies carry the district in their name, as many local firms do.
    place = np.where(rng.random(size) < 0.25, np.char.add("杭州", _short(district_names)), "杭州")
    companies = _join(place, word, industry, suffix)
    body_kind = np.array([_PUBLIC_BODY_WORDS.get(section, "中心") for section in sections])
    public = _join(np.char.add("杭州市", _short(district_names)), word, body_kind)
    return np.where(public_body, public, companies)


def _short(district_names: np.ndarray) -> np.ndarray:
    # 萧山区 -> 萧山, 建德市 -> 建德.
    return np.char.rstrip(np.asarray(district_names, dtype=str), "区县市")


def _digits_to_text(digits: np.ndarray) -> np.ndarray:
    width = digits.shape[1]
    points = (digits + ord("0")).astype(np.uint32)
    return np.ascontiguousarray(points).view(f"<U{width}").reshape(-1)


def _join(*parts: np.ndarray) -> np.ndarray:
    joined = np.asarray(parts[0], dtype=str)
    for part in parts[1:]:
        joined = np.char.add(joined, np.asarray(part, dtype=str))
    return joined
