"""`monitor import` of a large synthetic Desktop export: peak memory and posts/s, next to the daemon's path.

    python bench/bench_import.py                      # 200,000 messages (> 200 MB of JSON; minutes)
    python bench/bench_import.py --messages 20000

Generates an account export (20 channels; message texts built from the real sentences in
../shared/data/lid/train, with text arrays, entities, links, photos, reactions, forwards,
the fields Telegram Desktop writes), then runs, each in its own process on a fresh SQLite file:

* import: `monitor import -c CONFIG EXPORT` (check pass, then streaming tag-and-save pass);
* reference: the daemon's tag-and-save path over the same posts, built in memory from the same
  generator (no JSON at all): `tagger.tag_posts` + `store.save_posts` in the same batch size.

Peak RSS is the child's own maximum resident set, CPU time its user + system time (wait4; a
loaded shared machine stretches wall time, hardly CPU time). Both use the same tagger (from the
compiled-tagger cache, warmed first) and the same batch size.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TRAIN = Path(os.environ.get("MONITOR_SHARED", ROOT.parent / "shared")) / "data" / "lid" / "train"
CHANNELS = 20
BATCH = 50
T0 = 1_700_000_000  # 2023-11-14


def _sentences() -> list[str]:
    out: list[str] = []
    for name in ("ru-Cyrl.txt", "tg-Cyrl.txt", "uz-Latn.txt", "uz-Cyrl.txt", "en-Latn.txt", "ky-Cyrl.txt"):
        path = TRAIN / name
        if path.is_file():
            out += [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    if not out:
        sys.exit(f"no training sentences found under {TRAIN} (set MONITOR_SHARED)")
    return out


def messages(n: int, seed: int = 7) -> Iterator[tuple[int, dict[str, Any]]]:
    """(channel index, message object) in file order: channel by channel, ids ascending."""
    rng = random.Random(seed)
    sentences = _sentences()
    per = -(-n // CHANNELS)
    made = 0
    for chan in range(CHANNELS):
        for mid in range(1, per + 1):
            if made >= n:
                return
            made += 1
            when = T0 + chan * 7 + mid * 97
            body = " ".join(rng.choice(sentences) for _ in range(rng.randint(2, 6)))
            msg: dict[str, Any] = {
                "id": mid,
                "type": "message",
                "date": datetime.fromtimestamp(when, UTC).strftime("%Y-%m-%dT%H:%M:%S"),
                "date_unixtime": str(when),
                "from": f"Channel {chan}",
                "from_id": f"channel{1_000_000 + chan}",
            }
            if rng.random() < 0.3:
                link = f"https://example.org/a/{mid}"
                msg["text"] = [body + " ", {"type": "link", "text": link}]
                msg["text_entities"] = [{"type": "plain", "text": body + " "}, {"type": "link", "text": link}]
            else:
                msg["text"] = body
                msg["text_entities"] = [{"type": "plain", "text": body}]
            if rng.random() < 0.4:
                msg |= {"photo": f"photos/photo_{mid}@01-01-2024_00-00-00.jpg", "width": 1280, "height": 720}
            if rng.random() < 0.5:
                msg["reactions"] = [{"type": "emoji", "count": rng.randint(1, 500), "emoji": "👍"}]
            if rng.random() < 0.1:
                msg |= {"forwarded_from": "Source", "forwarded_from_id": "channel1999"}
            if rng.random() < 0.05:
                msg = {"id": mid, "type": "service", "date": msg["date"], "date_unixtime": str(when),
                       "actor": "x", "action": "pin_message", "message_id": 1, "text": "", "text_entities": []}
            yield chan, msg


def write_export(path: Path, n: int) -> None:
    with path.open("w", encoding="utf-8") as out:
        out.write('{"about": "synthetic account export", "chats": {"about": "chats", "list": [')
        current = -1
        for chan, msg in messages(n):
            if chan != current:
                if current >= 0:
                    out.write("]}, ")
                out.write(f'{{"name": "Channel {chan}", "type": "public_channel", "id": {1_000_000 + chan}, '
                          '"messages": [')
                current = chan
                first = True
            out.write(("" if first else ", ") + json.dumps(msg, ensure_ascii=False, indent=1))
            first = False
        out.write("]}]}}\n")


def write_config(folder: Path, db: str) -> Path:
    scenario = folder / "empty-scenario.json"
    scenario.write_text(json.dumps({"format": "monitor-scenario/1", "channels": []}), encoding="utf-8")
    config = folder / f"{db}.toml"
    config.write_text(
        f'[monitor]\ndatabase = "{db}.db"\nstore_text = true\n[source]\nkind = "scenario"\nscenario = "{scenario}"\n'
        f"[polling]\nbatch_size = {BATCH}\n",
        encoding="utf-8",
    )
    return config


def reference(config: Path, n: int) -> None:
    """The daemon's tag-and-save path over the same posts, built in memory (runs in its own process)."""
    sys.path.insert(0, str(ROOT / "src"))
    from monitor.compose import build_tagger
    from monitor.models import Channel
    from monitor.settings import load
    from monitor.sources.export import ExportChat, ExportFile
    from monitor.store import open_store

    settings = load(config)
    tagger = build_tagger(settings)
    converter = ExportFile.__new__(ExportFile)  # only its message -> Post mapping, no file
    converter._tz, converter._latest, converter.path = UTC, datetime(2100, 1, 1, tzinfo=UTC), config

    async def go() -> None:
        store = open_store(settings.database_url)
        await store.open()
        now = datetime.now(UTC)
        seen: set[int] = set()
        batch: list[Any] = []
        chat: ExportChat | None = None

        async def flush() -> None:
            assert chat is not None
            if chat.channel.id not in seen:
                await store.set_resolved(f"id:{chat.channel.id}", chat.channel, at=now)
                seen.add(chat.channel.id)
            tagged = await asyncio.to_thread(tagger.tag_posts, batch)
            await store.save_posts(chat.channel.id, tagged, at=now, checkpoint=None, store_text=True, source="export")
            batch.clear()

        for chan, msg in messages(n):
            cid = 1_000_000 + chan
            if batch and (chat is None or cid != chat.channel.id or len(batch) >= BATCH):
                await flush()
            if chat is None or chat.channel.id != cid:
                chat = ExportChat(channel=Channel(id=cid, username=None, title=f"Channel {chan}"),
                                  chat_type="public_channel", where="", messages=0, posts=0)
            post = converter._post(chat, msg, "")
            if post is not None:
                batch.append(post)
        if batch:
            await flush()
        await store.close()

    asyncio.run(go())


def _measure(cmd: list[str], cwd: Path) -> tuple[float, float, float]:
    """(wall seconds, CPU seconds, peak RSS in MB) of one child process."""
    t = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _pid, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - t
    err = proc.stderr.read().decode() if proc.stderr else ""
    if status != 0:
        sys.exit(f"{cmd} failed: {err[-2000:]}")
    return elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--messages", type=int, default=200_000)
    ap.add_argument("--reference-run", nargs=2, metavar=("CONFIG", "N"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.reference_run:
        reference(Path(args.reference_run[0]), int(args.reference_run[1]))
        return
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        export = folder / "result.json"
        write_export(export, args.messages)
        posts = sum(1 for _, m in messages(args.messages) if m["type"] == "message")
        size_mb = export.stat().st_size / 1e6
        env_py = sys.executable
        warm = write_config(folder, "warm")  # fill the tagger cache outside the timings
        subprocess.run([env_py, "-c", "import sys; from monitor.compose import build_tagger;"
                        "from monitor.settings import load; build_tagger(load(sys.argv[1]))", str(warm)], check=True)
        imp_s, imp_cpu, imp_rss = _measure([env_py, "-m", "monitor", "import", "-c",
                                            str(write_config(folder, "imp")), str(export)], folder)
        ref_s, ref_cpu, ref_rss = _measure([env_py, __file__, "--reference-run", str(write_config(folder, "ref")),
                                            str(args.messages)], folder)
    print(f"export: {args.messages:,} messages, {posts:,} posts, {size_mb:.0f} MB of JSON, {CHANNELS} channels")
    print(f"{'path':44} {'wall s':>8} {'CPU s':>8} {'posts/CPU s':>12} {'peak RSS MB':>12}")
    print(f"{'monitor import (check pass + save pass)':44} {imp_s:8.1f} {imp_cpu:8.1f} {posts / imp_cpu:12.0f}"
          f" {imp_rss:12.0f}")
    print(f"{'daemon tag-and-save, same posts (no JSON)':44} {ref_s:8.1f} {ref_cpu:8.1f} {posts / ref_cpu:12.0f}"
          f" {ref_rss:12.0f}")
    print(f"import throughput / daemon path: {ref_cpu / imp_cpu:.2f} by CPU time, {ref_s / imp_s:.2f} by wall time")
    print(f"python {platform.python_version()}, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
