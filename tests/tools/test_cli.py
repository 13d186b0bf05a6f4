import pytest

from course_utils import data
from course_utils.tools import cli


def test_fetch_verify_checks_every_file(monkeypatch, served_dir, capsys):
    monkeypatch.setenv(data.DATA_DIR_ENV, str(served_dir))
    assert cli.main(["fetch", "--verify"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("[1/2] chemical_shifts_theo_exp.csv: sha256 OK")
    assert out[1].startswith("[2/2] radon.csv: sha256 OK")


def test_fetch_reads_the_local_folder(monkeypatch, served_dir, capsys):
    monkeypatch.setenv(data.DATA_DIR_ENV, str(served_dir))
    assert cli.main(["fetch"]) == 0
    assert str(served_dir) in capsys.readouterr().out


def test_fetch_reports_a_corrupted_file_and_fails(monkeypatch, served_dir, capsys):
    (served_dir / "radon.csv").write_text("floor,county\n")
    monkeypatch.setenv(data.DATA_DIR_ENV, str(served_dir))
    assert cli.main(["fetch", "--verify"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("course fetch: error:") and "was not used" in err


def test_verify_without_files_names_the_fix(monkeypatch, tmp_path, capsys):
    monkeypatch.delenv(data.DATA_DIR_ENV, raising=False)
    monkeypatch.setenv(data.CACHE_DIR_ENV, str(tmp_path))
    assert cli.main(["fetch", "--verify"]) == 2
    assert "course fetch" in capsys.readouterr().err


def test_command_is_required(capsys):
    with pytest.raises(SystemExit):
        cli.main([])
    assert "usage: course" in capsys.readouterr().err


def test_commands_outside_a_course_checkout_name_the_fix(monkeypatch, tmp_path, capsys):
    monkeypatch.chdir(tmp_path)
    find_root = cli.manifest.find_root  # with no start it also tries this checkout
    monkeypatch.setattr(cli.manifest, "find_root", lambda start=None: find_root(tmp_path))
    assert cli.main(["run", "01"]) == 2
    assert "no course.toml found" in capsys.readouterr().err
