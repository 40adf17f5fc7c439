"""The `siyu` command itself: what it says when it is given nothing to do."""

from __future__ import annotations

from siyu.cli import main


def test_bare_siyu_lists_its_commands(capsys):
    assert main([]) == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: siyu")
    assert all(command in err for command in ("simulate", "build", "sql", "forget", "docs", "bench"))
    assert "arguments are required" not in err
