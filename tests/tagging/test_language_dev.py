"""Regression floors on shared/data/lid/dev.tsv and its Telegram-noisy variant (skipped without shared data).

The floors sit just under the measured values (docs/language.md), so a change
that costs a handful of rows fails here.
"""

from __future__ import annotations

from _language_shared import lid_dir_or_skip

from monitor.tagging.language import get_identifier
from monitor.tagging.language.evaluation import noisy, read_tsv, score


def test_default_engine_meets_the_floors_on_dev() -> None:
    rows = read_tsv(lid_dir_or_skip() / "dev.tsv")
    engine = get_identifier()
    s = score(rows, engine.identify_many)
    assert s.n > 8000
    assert s.core_macro_f1 >= 0.9955, s.core_macro_f1
    assert s.core_short_acc >= 0.9780, s.core_short_acc
    assert s.all_macro_f1 >= 0.9970, s.all_macro_f1
    assert min(acc for _, acc in s.per_class_acc.values()) >= 0.98, s.per_class_acc


def test_default_engine_meets_the_floors_on_noisy_dev() -> None:
    rows = noisy(read_tsv(lid_dir_or_skip() / "dev.tsv"))
    s = score(rows, get_identifier().identify_many)
    assert s.core_macro_f1 >= 0.9955, s.core_macro_f1
    assert s.core_short_acc >= 0.9850, s.core_short_acc
    assert s.all_macro_f1 >= 0.9970, s.all_macro_f1


def test_one_text_path_equals_the_batch_path_on_every_dev_row() -> None:
    rows = read_tsv(lid_dir_or_skip() / "dev.tsv")
    texts = [r.text for r in rows] + [r.text for r in noisy(rows[:2000])]
    engine = get_identifier()
    assert [engine(t) for t in texts] == engine.identify_many(texts)
