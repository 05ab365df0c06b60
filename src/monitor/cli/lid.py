"""``monitor lid``: rebuild the language models from the training text, and score engines on a TSV."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click

from monitor.tagging.language import ENGINE_NAMES, get_identifier

__all__ = ["lid"]


def _default_shared() -> Path:
    return Path(os.environ.get("MONITOR_SHARED", "../shared"))


def _default_data_dir() -> Path:
    from monitor.tagging.language import data

    return Path(data.__file__).parent


def _folder_option(flag: str, dest: str, help: str) -> Any:
    """An optional folder (it need not exist yet) given as a Path, None when left out."""
    return click.option(flag, dest, type=click.Path(file_okay=False, path_type=Path), default=None, help=help)


@click.group()
def lid() -> None:
    """Language identification: build model data, evaluate engines."""


@lid.command()
@_folder_option("--train", "train_dir", "Training text, one <lang>-<Script>.txt per class [default: $MONITOR_SHARED/data/lid/train].")
@_folder_option("--out", "out_dir", "Where to write the model data [default: the installed package's data directory].")
def build(train_dir: Path | None, out_dir: Path | None) -> None:
    """Rebuild the naive Bayes tables and langdetect profiles (byte-identical for the same input)."""
    from monitor.tagging.language.build import build_all

    train_dir = train_dir or _default_shared() / "data" / "lid" / "train"
    if not train_dir.is_dir():
        raise click.ClickException(f"training directory not found: {train_dir}")
    out_dir = out_dir or _default_data_dir()
    prov = build_all(train_dir, out_dir)
    click.echo(f"model version {prov['model_version']} written to {out_dir}")
    outputs = prov["outputs"]
    assert isinstance(outputs, dict)
    width = max(len(name) for name in outputs)
    for name in outputs:
        click.echo(f"  {name.ljust(width)}  {(out_dir / name).stat().st_size:>9,} bytes")


@lid.command("eval")
@click.argument("tsv", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--engine",
    "engines",
    multiple=True,
    type=click.Choice(ENGINE_NAMES),
    help="Engine to score (repeatable) [default: nb, pycld2, py3langid].",
)
@click.option("--per-class/--no-per-class", default=True, help="Also print accuracy per class.")
def evaluate(tsv: Path, engines: tuple[str, ...], per_class: bool) -> None:
    """Score engines on TSV (header lang, script, source, text): macro-F1, accuracy per class and speed."""
    from monitor.tagging.language.evaluation import read_tsv, score
    from monitor.tagging.language.report import per_class_table, summary_table

    try:
        rows = read_tsv(tsv)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    results = []
    for name in engines or ("nb", "pycld2", "py3langid"):
        engine = get_identifier(name)
        results.append((f"{name}@{engine.version}", score(rows, engine.identify_many)))
    click.echo(f"{tsv}: {len(rows)} rows")
    click.echo(summary_table(results))
    if per_class:
        click.echo()
        click.echo(per_class_table(results))
