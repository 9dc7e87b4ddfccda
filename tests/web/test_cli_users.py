"""The ``injury-risk users`` commands against a real SQLite store."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from api.cli import app
from api.web.accounts import verify_password
from risk.store import create_store_engine, upgrade_store
from training.records import trainer_organisation


def _store(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    upgrade_store(create_store_engine(url))
    return url


def test_users_create_prints_generated_password(tmp_path: Path) -> None:
    """Without --password, the generated password is printed alone on the last line and works."""
    url = _store(tmp_path)

    result = CliRunner().invoke(
        app, ["users", "create", "--username", "admin", "--role", "admin", "--database-url", url]
    )

    assert result.exit_code == 0, result.output
    password = result.stdout.strip().splitlines()[-1]
    assert len(password) >= 16
    assert verify_password(create_store_engine(url), "admin", password) is not None


def test_users_create_trainer_links_organisation(tmp_path: Path) -> None:
    """A trainer created with --organisation sees that organisation's sessions."""
    url = _store(tmp_path)

    result = CliRunner().invoke(
        app,
        [
            "users",
            "create",
            "--username",
            "trainer1",
            "--role",
            "trainer",
            "--password",
            "trainer-password",
            "--organisation",
            "某培训机构",
            "--database-url",
            url,
        ],
    )

    engine = create_store_engine(url)
    user = verify_password(engine, "trainer1", "trainer-password")
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert user is not None
    assert trainer_organisation(engine, user.audit_key_id) == "某培训机构"


def test_users_create_existing_needs_replace(tmp_path: Path) -> None:
    """Creating an existing user fails with a hint; --replace resets its password."""
    url = _store(tmp_path)
    runner = CliRunner()
    base = ["users", "create", "--username", "li", "--role", "inspector", "--database-url", url]

    first = runner.invoke(app, [*base, "--password", "first-password"])
    second = runner.invoke(app, [*base, "--password", "second-password"])
    third = runner.invoke(app, [*base, "--password", "second-password", "--replace"])

    assert first.exit_code == 0
    assert second.exit_code == 2
    assert "--replace" in second.output
    assert third.exit_code == 0
    assert verify_password(create_store_engine(url), "li", "second-password") is not None


def test_users_list_and_disable(tmp_path: Path) -> None:
    """``users list`` shows role and scope; ``users disable`` blocks sign-in."""
    url = _store(tmp_path)
    runner = CliRunner()
    runner.invoke(
        app,
        [
            "users",
            "create",
            "--username",
            "wu",
            "--role",
            "inspector",
            "--districts",
            "330106,330102",
            "--password",
            "long-enough-password",
            "--database-url",
            url,
        ],
    )

    listed = runner.invoke(app, ["users", "list", "--database-url", url])
    disabled = runner.invoke(app, ["users", "disable", "wu", "--database-url", url])
    missing = runner.invoke(app, ["users", "disable", "nobody", "--database-url", url])

    assert "wu\tinspector\t330102,330106\tactive" in listed.stdout
    assert disabled.exit_code == 0
    assert verify_password(create_store_engine(url), "wu", "long-enough-password") is None
    assert missing.exit_code == 1
