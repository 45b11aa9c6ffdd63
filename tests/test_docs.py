"""The README stays true: every setting and every CLI command is documented."""

from pathlib import Path

from typer.main import get_command

from loadbay.cli import app
from loadbay.config import Settings

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def test_every_setting_is_in_the_readme() -> None:
    missing = [
        f"LOADBAY_{name.upper()}"
        for name in Settings.model_fields
        if f"`LOADBAY_{name.upper()}`" not in README
    ]
    assert missing == []


def test_every_command_is_in_the_readme() -> None:
    group = get_command(app)
    names = []
    for name, cmd in group.commands.items():  # type: ignore[attr-defined]
        sub = getattr(cmd, "commands", None)
        names += [f"loadbay {name} {s}" for s in sub] if sub else [f"loadbay {name}"]
    assert [n for n in names if f"`{n}" not in README] == []
