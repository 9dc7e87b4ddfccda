"""Page tests over HTTP against the live server: sign-in, sessions, CSRF, roles and scope."""

from __future__ import annotations

import re

import httpx
from web_factories import ScoredWebStore
from web_support import ACCOUNTS, SCOPED_DISTRICT, csrf_token_of, sign_in


def _employer_ids(html: str) -> list[str]:
    return re.findall(r'href="/web/employers/([0-9A-Z]+)"', html)


def _employer_in(store: ScoredWebStore, district: str, inside: bool) -> str:
    employers = store.tables.employers
    rows = employers[(employers["district_code"] == district) == inside]
    return str(rows["employer_id"].iloc[0])


def test_ranking_without_session_redirects_to_sign_in(client: httpx.Client) -> None:
    """A page opened without a session sends the browser to the sign-in form and back."""
    response = client.get("/web/ranking?band=red")

    assert response.status_code == 303
    assert response.headers["location"] == "/web/login?next=/web/ranking%3Fband%3Dred"


def test_sign_in_sets_session_cookie_attributes(client: httpx.Client) -> None:
    """The session cookie is HttpOnly, SameSite=Lax, site-wide, and not Secure by default."""
    form = client.get("/web/login")
    token = csrf_token_of(form.text)
    account = ACCOUNTS["inspector"]

    response = client.post(
        "/web/login",
        data={"username": account.username, "password": account.password, "csrf_token": token},
    )

    assert response.status_code == 303
    assert response.headers["location"] == "/web/ranking"
    cookie = next(
        value
        for value in response.headers.get_list("set-cookie")
        if value.startswith("irk_session=")
    )
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie or "SameSite=Lax" in cookie
    assert "Path=/" in cookie
    assert "Secure" not in cookie


def test_sign_in_wrong_password_rejected(client: httpx.Client) -> None:
    """A wrong password shows the form again with a 401 and no session cookie."""
    token = csrf_token_of(client.get("/web/login").text)

    response = client.post(
        "/web/login",
        data={"username": "inspector", "password": "wrong-password", "csrf_token": token},
    )

    assert response.status_code == 401
    assert "用户名或密码不正确" in response.text
    assert "irk_session" not in response.cookies


def test_sign_in_without_csrf_token_rejected(client: httpx.Client) -> None:
    """The sign-in form is refused when its token does not match the form's cookie."""
    client.get("/web/login")
    account = ACCOUNTS["inspector"]

    response = client.post(
        "/web/login",
        data={"username": account.username, "password": account.password, "csrf_token": "forged"},
    )

    assert response.status_code == 403
    assert "表单已过期或来源无效" in response.text


def test_sign_in_next_url_stays_on_site(client: httpx.Client) -> None:
    """A ``next_url`` pointing to another site is replaced by the home page."""
    token = csrf_token_of(client.get("/web/login").text)
    account = ACCOUNTS["inspector"]

    response = client.post(
        "/web/login",
        data={
            "username": account.username,
            "password": account.password,
            "csrf_token": token,
            "next_url": "https://example.org/phish",
        },
    )

    assert response.status_code == 303
    assert response.headers["location"] == "/web/ranking"


def test_what_if_without_csrf_token_rejected(
    client: httpx.Client, web_store: ScoredWebStore
) -> None:
    """A form post without the session's CSRF token is refused with 403."""
    sign_in(client, ACCOUNTS["inspector"])
    employer_id = str(web_store.tables.employers["employer_id"].iloc[0])

    response = client.post(
        f"/web/employers/{employer_id}/what-if", data={"rectify_open_hazards": "1"}
    )

    assert response.status_code == 403
    assert "表单已过期或来源无效" in response.text


def test_sign_out_ends_session(client: httpx.Client) -> None:
    """After signing out, the old session cookie no longer opens pages."""
    page = sign_in(client, ACCOUNTS["inspector"])
    cookie = client.cookies.get("irk_session")

    response = client.post("/web/logout", data={"csrf_token": csrf_token_of(page.text)})

    assert response.status_code == 303
    assert response.headers["location"] == "/web/login"
    client.cookies.set("irk_session", cookie or "")
    assert client.get("/web/ranking").status_code == 303


def test_forged_session_cookie_rejected(client: httpx.Client) -> None:
    """A session cookie without a valid signature counts as no session."""
    client.cookies.set("irk_session", "made-up-token.signature")

    response = client.get("/web/ranking")

    assert response.status_code == 303


def test_trainer_cannot_open_risk_pages(client: httpx.Client, web_store: ScoredWebStore) -> None:
    """Trainers get 403 on every risk page and export, as the API refuses their keys."""
    landing = sign_in(client, ACCOUNTS["trainer"])
    employer_id = str(web_store.tables.employers["employer_id"].iloc[0])

    assert landing.url.path == "/web/training"
    assert "风险排名" not in landing.text
    for path in (
        "/web/ranking",
        f"/web/employers/{employer_id}",
        "/web/districts",
        "/web/ranking/export.xlsx",
        "/web/ranking/export.csv",
        "/web/audit",
    ):
        response = client.get(path)
        assert response.status_code == 403, path
        assert "无权查看此页面" in response.text, path


def test_scoped_inspector_sees_own_district_only(
    client: httpx.Client, web_store: ScoredWebStore
) -> None:
    """A district-scoped user lists, opens and exports employers of that district only."""
    sign_in(client, ACCOUNTS["scoped"])
    inside = _employer_in(web_store, SCOPED_DISTRICT, inside=True)
    outside = _employer_in(web_store, SCOPED_DISTRICT, inside=False)
    district_of = dict(
        zip(
            web_store.tables.employers["employer_id"],
            web_store.tables.employers["district_code"],
            strict=True,
        )
    )

    listed = _employer_ids(client.get("/web/ranking").text)
    exported = client.get("/web/ranking/export.csv").content.decode("utf-8-sig")

    assert listed
    assert {district_of[employer_id] for employer_id in listed} == {SCOPED_DISTRICT}
    assert client.get(f"/web/employers/{inside}").status_code == 200
    assert client.get(f"/web/employers/{outside}").status_code == 404
    assert client.get("/web/ranking?district=330102").status_code == 403
    assert outside not in exported
    assert all(employer_id in exported for employer_id in listed)


def test_ranking_search_by_name_and_code(client: httpx.Client, web_store: ScoredWebStore) -> None:
    """Search finds an employer by part of its name and by the start of its credit code."""
    sign_in(client, ACCOUNTS["inspector"])
    employer = web_store.tables.employers.iloc[7]

    by_name = _employer_ids(client.get("/web/ranking", params={"q": employer["name"]}).text)
    by_code = _employer_ids(
        client.get("/web/ranking", params={"q": employer["employer_id"][:17].lower()}).text
    )

    assert employer["employer_id"] in by_name
    assert set(by_code) == {employer["employer_id"]}


def test_ranking_filters_band_and_pages(client: httpx.Client) -> None:
    """The band filter keeps one band, and page 2 continues the ranks of page 1."""
    sign_in(client, ACCOUNTS["inspector"])

    first = client.get("/web/ranking").text
    second = client.get("/web/ranking?page=2").text
    blue = client.get("/web/ranking?band=blue").text

    first_ranks = [int(rank) for rank in re.findall(r'<td class="rank">(\d+)', first)]
    second_ranks = [int(rank) for rank in re.findall(r'<td class="rank">(\d+)', second)]
    assert first_ranks == list(range(1, 51))
    assert second_ranks[0] == 51
    assert set(re.findall(r'<tr class="row-(\w+)">', blue)) <= {"blue"}


def test_ranking_shows_rank_change(client: httpx.Client) -> None:
    """Rows carry the change in rank since the previous scoring run."""
    sign_in(client, ACCOUNTS["inspector"])

    html = client.get("/web/ranking").text

    assert re.search(r'class="change (up|down|same)"', html)


def test_language_query_sets_cookie(client: httpx.Client) -> None:
    """``?lang=en`` shows English and keeps English for the next pages."""
    sign_in(client, ACCOUNTS["inspector"])

    english = client.get("/web/ranking?lang=en")
    next_page = client.get("/web/districts")

    assert "<h1>Risk ranking</h1>" in english.text
    assert client.cookies.get("irk_lang") == "en"
    assert "<h1>District overview</h1>" in next_page.text


def test_accept_language_english(client: httpx.Client) -> None:
    """Without cookie or query, ``Accept-Language: en`` chooses English; Chinese is the default."""
    assert "Sign in" in client.get("/web/login", headers={"Accept-Language": "en-US,en;q=0.9"}).text
    assert "登录" in client.get("/web/login").text


def test_pages_send_security_headers(client: httpx.Client) -> None:
    """Pages forbid scripts, styles and fonts from other origins and framing."""
    response = client.get("/web/login")

    policy = response.headers["content-security-policy"]
    assert "default-src 'self'" in policy
    assert "script-src 'self'" in policy
    assert response.headers["x-frame-options"] == "DENY"


def test_audit_page_names_web_users(client: httpx.Client, web_store: ScoredWebStore) -> None:
    """Employer reads through the pages appear in the audit log under the user's name."""
    inspector = httpx.Client(base_url=str(client.base_url), timeout=30)
    with inspector:
        sign_in(inspector, ACCOUNTS["inspector"])
        employer_id = str(web_store.tables.employers["employer_id"].iloc[3])
        assert inspector.get(f"/web/employers/{employer_id}").status_code == 200
        assert inspector.get("/web/audit").status_code == 403
    sign_in(client, ACCOUNTS["admin"])

    html = client.get("/web/audit", params={"employer_id": employer_id}).text

    assert "GET /web/employers/{employer_id}" in html
    assert ">inspector</td>" in html


def test_model_page_shows_champion(client: httpx.Client) -> None:
    """The model page shows the served version and its recorded metrics to any role."""
    sign_in(client, ACCOUNTS["trainer"])

    html = client.get("/web/model").text

    assert 'id="model-version">3<' in html
    assert "backtest_roc_auc_mean" in html


def test_district_overview_counts_every_employer(
    client: httpx.Client, web_store: ScoredWebStore
) -> None:
    """The district table's employer counts add up to the scored employers."""
    sign_in(client, ACCOUNTS["inspector"])

    html = client.get("/web/districts").text

    table = html.split('id="district-table"')[1].split("</table>")[0]
    counts = [int(value) for value in re.findall(r'</a></td>\s*<td class="num">(\d+)</td>', table)]
    assert sum(counts) == len(web_store.tables.employers)


def test_trainer_lists_own_sessions(client: httpx.Client) -> None:
    """A linked trainer sees the published sessions of its organisation only."""
    html = sign_in(client, ACCOUNTS["trainer"]).text

    assert "杭州之江安全技术服务有限公司（示例）" in html
    assert html.count('class="card session') >= 1
    assert "/web/training/sessions.xlsx" in html


def test_trainer_marks_session_delivered(client: httpx.Client, web_store: ScoredWebStore) -> None:
    """Marking a session delivered writes a training record and shows it as delivered."""
    html = sign_in(client, ACCOUNTS["trainer"]).text
    session_id = re.findall(r'action="/web/training/sessions/(\d+)/delivered"', html)[-1]

    response = client.post(
        f"/web/training/sessions/{session_id}/delivered",
        data={"csrf_token": csrf_token_of(html), "delivered_on": "2025-01-08", "attendees": "12"},
    )
    again = client.post(
        f"/web/training/sessions/{session_id}/delivered",
        data={"csrf_token": csrf_token_of(html), "delivered_on": "2025-01-08", "attendees": "12"},
    )

    assert response.status_code == 303
    assert response.headers["location"] == f"/web/training?delivered={session_id}"
    with web_store.engine.connect() as connection:
        stored = connection.exec_driver_sql(
            "SELECT attendees FROM training_record WHERE record_id = ?", (f"PLAN-{session_id}",)
        ).scalar_one()
    assert stored == 12
    assert again.status_code == 409


def test_trainer_downloads_sessions(client: httpx.Client) -> None:
    """The trainer's sessions download as XLSX, CSV with BOM and an ICS calendar."""
    sign_in(client, ACCOUNTS["trainer"])

    xlsx = client.get("/web/training/sessions.xlsx")
    csv = client.get("/web/training/sessions.csv")
    ics = client.get("/web/training/sessions.ics")

    assert xlsx.status_code == 200
    assert xlsx.content[:2] == b"PK"
    assert csv.content.startswith(b"\xef\xbb\xbf")
    assert ics.text.startswith("BEGIN:VCALENDAR")


def test_planner_downloads_plan_within_scope(client: httpx.Client) -> None:
    """A district-scoped inspector downloads the plan with its own district's sessions only."""
    html = sign_in(client, ACCOUNTS["scoped"]).text
    html = client.get("/web/training").text
    link = re.search(r'href="(/web/training/plans/\d+/export\.csv\?version=\d+)"', html)
    assert link is not None

    body = client.get(link.group(1)).content.decode("utf-8-sig")

    lines = [line for line in body.splitlines()[1:] if line]
    assert all(f",{SCOPED_DISTRICT}," in line for line in lines)


def test_ranking_escapes_employer_names(client: httpx.Client) -> None:
    """Employer names are HTML-escaped, so a name cannot inject markup into the page."""
    sign_in(client, ACCOUNTS["inspector"])

    html = client.get("/web/ranking", params={"q": "HYPERLINK"}).text

    assert "=HYPERLINK(&#34;http://example.invalid&#34;,&#34;点我&#34;)" in html
    assert 'HYPERLINK("' not in html
