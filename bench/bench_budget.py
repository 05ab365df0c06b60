"""The request budget: monitor's TokenBucket next to aiolimiter's AsyncLimiter (when installed).

Both are asked for the same thing: N requests at R per minute with bursts of C, spent by K concurrent
channels. The table shows wall time against the ideal (what the rate allows), how far the
worst waiter fell behind (fairness) and the CPU cost per acquire. Run:

    python bench/bench_budget.py            # pip install aiolimiter to add its row
"""

from __future__ import annotations

import asyncio
import statistics
import time

from monitor.sources.budget import TokenBucket

RATE = 6000.0  # per minute: 100/s, so a run takes seconds, not minutes
CAPACITY = 20.0
REQUESTS = 600
CHANNELS = 30


async def spend(acquire, requests: int, channels: int) -> tuple[float, float, list[float]]:  # type: ignore[no-untyped-def]
    """Wall seconds, CPU seconds, and each channel's finish time."""
    per = requests // channels
    finished: list[float] = []
    start, cpu = time.perf_counter(), time.process_time()

    async def channel() -> None:
        for _ in range(per):
            await acquire()
        finished.append(time.perf_counter() - start)

    await asyncio.gather(*(channel() for _ in range(channels)))
    return time.perf_counter() - start, time.process_time() - cpu, finished


async def main() -> None:
    rows: list[tuple[str, float, float, float, float]] = []
    bucket = TokenBucket(RATE, capacity=CAPACITY)
    rows.append(("monitor TokenBucket", *_figures(await spend(bucket.acquire, REQUESTS, CHANNELS))))
    try:
        from aiolimiter import AsyncLimiter
    except ModuleNotFoundError:
        print("aiolimiter is not installed: only monitor's bucket is measured (pip install aiolimiter)")
    else:
        # AsyncLimiter(max_rate, time_period): a leaky bucket of CAPACITY drained at RATE per minute
        limiter = AsyncLimiter(CAPACITY, CAPACITY / (RATE / 60.0))
        rows.append(("aiolimiter AsyncLimiter", *_figures(await spend(limiter.acquire, REQUESTS, CHANNELS))))
    ideal = max(0.0, (REQUESTS - CAPACITY) / (RATE / 60.0))
    print(f"{REQUESTS} requests by {CHANNELS} channels at {RATE:g}/min, burst {CAPACITY:g}; ideal {ideal:.2f} s")
    print(f"{'budget':26} {'wall s':>8} {'vs ideal':>9} {'finish spread s':>16} {'CPU us/acquire':>15}")
    for name, wall, cpu, spread, _ in rows:
        print(f"{name:26} {wall:8.2f} {wall / ideal:9.3f} {spread:16.2f} {cpu / REQUESTS * 1e6:15.1f}")


def _figures(run: tuple[float, float, list[float]]) -> tuple[float, float, float, float]:
    wall, cpu, finished = run
    return wall, cpu, max(finished) - min(finished), statistics.median(finished)


if __name__ == "__main__":
    asyncio.run(main())
