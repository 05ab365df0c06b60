"""Regression floors of issue 3 on shared/data/lid/dev.tsv (skipped without shared data)."""

from __future__ import annotations

from _language_shared import lid_dir_or_skip

from monitor.tagging.language import get_identifier
from monitor.tagging.language.evaluation import read_tsv, score


def test_default_engine_meets_the_floors_on_dev() -> None:
    rows = read_tsv(lid_dir_or_skip() / "dev.tsv")
    engine = get_identifier()
    s = score(rows, engine.identify_many)
    assert s.n > 8000
    assert s.core_macro_f1 >= 0.995, s.core_macro_f1
    assert s.core_short_acc >= 0.98, s.core_short_acc
    assert s.all_macro_f1 >= 0.99, s.all_macro_f1
    assert min(acc for _, acc in s.per_class_acc.values()) >= 0.98, s.per_class_acc


def test_one_text_path_equals_the_batch_path_on_every_dev_row() -> None:
    texts = [r.text for r in read_tsv(lid_dir_or_skip() / "dev.tsv")]
    engine = get_identifier()
    assert [engine(t) for t in texts] == engine.identify_many(texts)
