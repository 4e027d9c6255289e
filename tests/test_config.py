"""Loading config.toml: strict validation with file, line and key; env overrides; frozen."""

from __future__ import annotations

import textwrap
from dataclasses import FrozenInstanceError
from pathlib import Path

import pytest
from pydantic import ValidationError
from support import line_with

from styrhjul.config import Settings, load_settings
from styrhjul.errors import ConfigError, InputError, exit_code

REPO_CONFIG = Path(__file__).resolve().parents[1] / "config.toml"


def write(tmp_path: Path, text: str, name: str = "config.toml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


# --- the shipped file ---------------------------------------------------------------------


def test_repository_config_is_valid() -> None:
    settings = load_settings(REPO_CONFIG, environ={})
    assert isinstance(settings, Settings)
    assert settings.path == REPO_CONFIG
    assert settings.root == REPO_CONFIG.parent
    assert settings.general.timezone == "Europe/Stockholm"
    assert str(settings.tz) == "Europe/Stockholm"
    assert settings.mail.transport == "maildir"
    assert settings.mail.smtp.port == 587
    assert settings.mail.smtp.timeout_seconds == 30.0
    assert settings.dialogs.default_location.startswith("Teams")
    assert settings.secrets == {}


def test_repository_config_paths_resolve_against_its_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # the working directory must not matter
    settings = load_settings(REPO_CONFIG, environ={})
    root = REPO_CONFIG.parent
    assert settings.database_url == f"sqlite:///{(root / 'data' / 'styrhjul.db').resolve()}"
    assert settings.maildir_path == root / "data" / "mail"
    assert settings.workflows_folder == root / "data" / "workflows"


def test_copied_config_resolves_relative_to_the_copy(tmp_path: Path) -> None:
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    path = folder / "config.toml"
    path.write_text(REPO_CONFIG.read_text(encoding="utf-8"), encoding="utf-8")
    settings = load_settings(path, environ={})
    assert settings.database_url == f"sqlite:///{(folder / 'data' / 'styrhjul.db').resolve()}"
    assert settings.maildir_path == folder.resolve() / "data" / "mail"
    assert settings.workflows_folder == folder.resolve() / "data" / "workflows"


def test_relative_path_given_explicitly_is_resolved_against_cwd(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, "[general]\n")
    monkeypatch.chdir(tmp_path)
    settings = load_settings("config.toml", environ={})
    assert settings.path == (tmp_path / "config.toml").resolve()
    assert settings.path.is_absolute()


def test_empty_file_gives_defaults(tmp_path: Path) -> None:
    path = write(tmp_path, "")
    settings = load_settings(path, environ={})
    root = path.resolve().parent
    assert settings.database_url == f"sqlite:///{root / 'data' / 'styrhjul.db'}"
    assert settings.maildir_path == root / "data" / "mail"
    assert settings.mail.smtp.security == "starttls"
    assert settings.mail.max_attempts == 8


@pytest.mark.parametrize(
    "url",
    ["sqlite:////var/lib/styrhjul.db", "sqlite:///:memory:", "postgresql://u@h/db"],
)
def test_absolute_and_non_file_urls_are_kept(tmp_path: Path, url: str) -> None:
    path = write(tmp_path, f'[database]\nurl = "{url}"\n')
    assert load_settings(path, environ={}).database_url == url


def test_absolute_maildir_path_is_kept(tmp_path: Path) -> None:
    target = tmp_path / "abs" / "mail"
    path = write(tmp_path, f'[mail.maildir]\npath = "{target}"\n')
    assert load_settings(path, environ={}).maildir_path == target


def test_workflows_folder_default_relative_and_absolute(tmp_path: Path) -> None:
    root = tmp_path.resolve()
    assert load_settings(write(tmp_path, ""), environ={}).workflows_folder == (
        root / "data" / "workflows"
    )
    relative = write(tmp_path, '[workflows]\nfolder = "installerade"\n')
    assert load_settings(relative, environ={}).workflows_folder == root / "installerade"
    target = tmp_path / "abs" / "workflows"
    absolute = write(tmp_path, f'[workflows]\nfolder = "{target}"\n')
    settings = load_settings(absolute, environ={})
    assert settings.workflows_folder == target
    assert not target.exists()  # a missing folder is fine and not created by reading


def test_workflows_folder_that_is_a_file_names_the_key(tmp_path: Path) -> None:
    (tmp_path / "workflows.toml").write_text("", encoding="utf-8")
    path = write(tmp_path, '[general]\n\n[workflows]\nfolder = "workflows.toml"\n')
    with pytest.raises(ConfigError) as info:
        load_settings(path, environ={})
    err = info.value
    assert (err.file, err.line, err.key) == (str(path), 4, "workflows.folder")
    assert "is not a folder" in err.detail
    empty = write(tmp_path, '[workflows]\nfolder = ""\n')
    with pytest.raises(ConfigError) as info:
        load_settings(empty, environ={})
    assert (info.value.line, info.value.key) == (2, "workflows.folder")


# --- missing and unreadable files -----------------------------------------------------------


def test_missing_file_names_path_and_mentions_config_option(tmp_path: Path) -> None:
    missing = tmp_path / "nope" / "config.toml"
    with pytest.raises(ConfigError) as info:
        load_settings(missing, environ={})
    err = info.value
    assert err.file == str(missing)
    assert str(missing) in str(err)
    assert "--config" in str(err)
    assert "STYRHJUL_CONFIG" in str(err)
    assert exit_code(err) == 2


def test_invalid_toml(tmp_path: Path) -> None:
    path = write(tmp_path, '[general]\ntimezone = "Europe/Stockholm\n')
    with pytest.raises(ConfigError) as info:
        load_settings(path, environ={})
    assert info.value.file == str(path)
    assert "not valid TOML" in str(info.value)
    assert str(path) in str(info.value)


def test_duplicate_table_is_invalid_toml(tmp_path: Path) -> None:
    path = write(tmp_path, "[mail]\n[mail]\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(path, environ={})


# --- unknown keys ----------------------------------------------------------------------------


def test_unknown_top_level_key(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        [general]
        timezone = "Europe/Stockholm"

        [logging]
        level = "debug"
        """,
    )
    with pytest.raises(ConfigError) as info:
        load_settings(path, environ={})
    err = info.value
    assert err.file == str(path)
    assert err.key == "logging"
    assert err.line == line_with(path.read_text(encoding="utf-8"), "[logging]") == 4
    message = str(err)
    assert f"{path}:4: logging: unknown key" in message
    for allowed in ("general", "database", "mail", "dialogs"):
        assert allowed in message


def test_unknown_nested_key(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        [mail]
        transport = "smtp"

        [mail.smtp]
        host = "smtp.example.se"
        prot = 25
        """,
    )
    with pytest.raises(ConfigError) as info:
        load_settings(path, environ={})
    err = info.value
    assert err.file == str(path)
    assert err.key == "mail.smtp.prot"
    assert err.line == line_with(path.read_text(encoding="utf-8"), "prot = 25") == 6
    message = str(err)
    assert f"{path}:6: mail.smtp.prot:" in message
    assert "unknown key; allowed here: host, port, security, timeout_seconds" in message


def test_unknown_key_as_dotted_key_in_table(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        [mail]
        from_name = "Styrhjul"
        maildir.folder = "x"
        """,
    )
    with pytest.raises(ConfigError) as info:
        load_settings(path, environ={})
    assert info.value.key == "mail.maildir.folder"
    assert info.value.line == 3
    assert "allowed here: path" in str(info.value)


def test_secrets_in_file_are_rejected(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        [mail.smtp]
        host = "smtp.example.se"
        password = "hunter2"
        """,
    )
    with pytest.raises(ConfigError) as info:
        load_settings(path, environ={"STYRHJUL_SMTP_PASSWORD": "s3cret"})
    assert info.value.key == "mail.smtp.password"
    assert info.value.line == 3
    assert "unknown key" in str(info.value)


# --- wrong types and bad values ---------------------------------------------------------------


def test_wrong_type_port_as_string(tmp_path: Path) -> None:
    path = write(tmp_path, '[mail.smtp]\nhost = "h"\nport = "25"\n')
    with pytest.raises(ConfigError) as info:
        load_settings(path, environ={})
    err = info.value
    assert err.key == "mail.smtp.port"
    assert err.line == 3
    assert err.file == str(path)
    assert "integer" in err.detail
    assert "'25'" in err.detail


def test_wrong_type_bool_as_string(tmp_path: Path) -> None:
    path = write(tmp_path, '[database]\necho = "yes"\n')
    with pytest.raises(ConfigError) as info:
        load_settings(path, environ={})
    assert info.value.key == "database.echo"
    assert info.value.line == 2


@pytest.mark.parametrize(
    ("text", "needle", "key", "fragment"),
    [
        ("[mail.smtp]\nport = 70000\n", "port", "mail.smtp.port", "65535"),
        ("[mail.smtp]\nport = 0\n", "port", "mail.smtp.port", "greater than or equal to 1"),
        (
            '[general]\ntimezone = "Mars/Olympus"\n',
            "timezone",
            "general.timezone",
            "Input should be 'Europe/Stockholm' (got 'Mars/Olympus')",
        ),
        ('[mail]\ntransport = "pigeon"\n', "transport", "mail.transport", "'pigeon'"),
        (
            '[database]\nurl = "mysql://x"\n',
            "url",
            "database.url",
            "expected a URL starting with sqlite:///",
        ),
        ('[mail]\nfrom_address = "nobody"\n', "from_address", "mail.from_address", "nobody"),
        (
            '[general]\ntimezone = "Europe/Helsinki"\n',
            "timezone",
            "general.timezone",
            "'Europe/Helsinki'",
        ),
        (
            '[mail]\nfrom_address = "a<b@example.se"\n',
            "from_address",
            "mail.from_address",
            "a<b@example.se",
        ),
        ('[mail.smtp]\nsecurity = "tls"\n', "security", "mail.smtp.security", "'tls'"),
        ("[mail.smtp]\ntimeout_seconds = 0\n", "timeout", "mail.smtp.timeout_seconds", "0"),
    ],
)
def test_bad_values(tmp_path: Path, text: str, needle: str, key: str, fragment: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_settings(path, environ={})
    err = info.value
    assert err.key == key
    assert err.line == line_with(path.read_text(encoding="utf-8"), needle) == 2
    assert err.file == str(path)
    assert fragment in str(err)
    assert str(err).startswith(f"{path}:2: {key}: ")


def test_transport_error_lists_choices(tmp_path: Path) -> None:
    path = write(tmp_path, '[mail]\ntransport = "pigeon"\n')
    with pytest.raises(ConfigError) as info:
        load_settings(path, environ={})
    for choice in ("maildir", "smtp", "console"):
        assert choice in str(info.value)


def test_several_errors_are_all_reported(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        [general]
        timezone = "Mars/Olympus"

        [database]
        url = "mysql://x"

        [mail]
        transport = "pigeon"

        [mail.smtp]
        port = 70000
        colour = "red"
        """,
    )
    with pytest.raises(ConfigError) as info:
        load_settings(path, environ={})
    err = info.value
    message = str(err)
    assert err.key == "general.timezone"
    assert err.line == 2
    assert f"{path}:5: database.url:" in message
    assert f"{path}:8: mail.transport:" in message
    assert f"{path}:11: mail.smtp.port:" in message
    assert f"{path}:12: mail.smtp.colour: unknown key" in message
    assert len(message.splitlines()) == 5


# --- environment -----------------------------------------------------------------------------


def test_database_url_override(tmp_path: Path) -> None:
    path = write(tmp_path, '[database]\nurl = "sqlite:///data/file.db"\n')
    url = "postgresql+psycopg://styrhjul@db.example.se/styrhjul"
    settings = load_settings(path, environ={"STYRHJUL_DATABASE_URL": url})
    assert settings.database_url == url
    assert settings.database.url == "sqlite:///data/file.db"


def test_database_url_override_relative_sqlite_resolves_against_config(tmp_path: Path) -> None:
    path = write(tmp_path, "")
    settings = load_settings(path, environ={"STYRHJUL_DATABASE_URL": "sqlite:///other.db"})
    assert settings.database_url == f"sqlite:///{(tmp_path / 'other.db').resolve()}"


def test_empty_database_url_override_is_ignored(tmp_path: Path) -> None:
    path = write(tmp_path, '[database]\nurl = "postgresql://h/db"\n')
    settings = load_settings(path, environ={"STYRHJUL_DATABASE_URL": ""})
    assert settings.database_url == "postgresql://h/db"


def test_invalid_database_url_override(tmp_path: Path) -> None:
    path = write(tmp_path, "")
    with pytest.raises(ConfigError) as info:
        load_settings(path, environ={"STYRHJUL_DATABASE_URL": "mysql://x"})
    err = info.value
    assert err.key == "$STYRHJUL_DATABASE_URL"
    assert "expected a URL starting with sqlite:///" in str(err)
    assert "'mysql://x'" in str(err)
    assert "Value error" not in str(err)
    assert exit_code(err) == 2


def test_styrhjul_config_chooses_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    chosen = write(tmp_path, '[mail]\nfrom_name = "Vald"\n', name="chosen.toml")
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    write(cwd, '[mail]\nfrom_name = "Arbetskatalog"\n')
    monkeypatch.chdir(cwd)
    settings = load_settings(environ={"STYRHJUL_CONFIG": str(chosen)})
    assert settings.path == chosen.resolve()
    assert settings.mail.from_name == "Vald"


def test_explicit_path_beats_styrhjul_config(tmp_path: Path) -> None:
    explicit = write(tmp_path, '[mail]\nfrom_name = "Explicit"\n', name="explicit.toml")
    env_file = write(tmp_path, '[mail]\nfrom_name = "Env"\n', name="env.toml")
    settings = load_settings(explicit, environ={"STYRHJUL_CONFIG": str(env_file)})
    assert settings.mail.from_name == "Explicit"


def test_styrhjul_config_pointing_nowhere(tmp_path: Path) -> None:
    missing = tmp_path / "missing.toml"
    with pytest.raises(ConfigError) as info:
        load_settings(environ={"STYRHJUL_CONFIG": str(missing)})
    assert info.value.file == str(missing)


def test_falls_back_to_config_toml_in_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, '[mail]\nfrom_name = "Här"\n')
    monkeypatch.chdir(tmp_path)
    settings = load_settings(environ={})
    assert settings.mail.from_name == "Här"
    assert settings.path == (tmp_path / "config.toml").resolve()


def test_secrets_come_only_from_smtp_environment(tmp_path: Path) -> None:
    path = write(tmp_path, "")
    environ = {
        "STYRHJUL_SMTP_USERNAME": "kansli",
        "STYRHJUL_SMTP_PASSWORD": "s3cret",
        "STYRHJUL_DATABASE_URL": "postgresql://h/db",
        "SMTP_PASSWORD": "not-ours",
        "HOME": "/home/x",
    }
    settings = load_settings(path, environ=environ)
    assert settings.secrets == {
        "STYRHJUL_SMTP_USERNAME": "kansli",
        "STYRHJUL_SMTP_PASSWORD": "s3cret",
    }
    environ["STYRHJUL_SMTP_PASSWORD"] = "changed"
    assert settings.secrets["STYRHJUL_SMTP_PASSWORD"] == "s3cret"


# --- immutability ----------------------------------------------------------------------------


def test_settings_are_frozen(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, ""), environ={})
    with pytest.raises(FrozenInstanceError):
        settings.database_url = "postgresql://h/db"  # type: ignore[misc]
    with pytest.raises(FrozenInstanceError):
        settings.path = tmp_path  # type: ignore[misc]
    with pytest.raises(FrozenInstanceError):
        settings.anything_new = 1  # type: ignore[attr-defined]
    with pytest.raises(ValidationError):
        settings.mail.smtp.port = 25  # type: ignore[misc]
    assert settings.mail.smtp.port == 587


# --- errors ----------------------------------------------------------------------------------


def test_config_error_exit_code_and_format() -> None:
    err = ConfigError("bad value", file="/etc/styrhjul.toml", line=7, key="mail.smtp.port")
    assert exit_code(err) == 2
    assert isinstance(err, InputError)
    assert str(err) == "/etc/styrhjul.toml:7: mail.smtp.port: bad value"
    assert (err.file, err.line, err.key, err.detail) == (
        "/etc/styrhjul.toml",
        7,
        "mail.smtp.port",
        "bad value",
    )
    assert exit_code(ConfigError("plain")) == 2
    assert str(ConfigError("plain")) == "plain"
    assert str(ConfigError("x", key="$STYRHJUL_DATABASE_URL")) == "$STYRHJUL_DATABASE_URL: x"
