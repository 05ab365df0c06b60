"""The fictional channels of the demo, and the unwatched ones they forward from.

Kept apart from the generator so the config writer and the docs can list them
without building the whole scenario.  Every name here is invented for the demo.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date


@dataclass(frozen=True, slots=True, kw_only=True)
class DemoChannel:
    """One watched demo channel: its identity, labels for the config and how it writes.

    ``langs`` weights the text pools (keys of texts/*.toml); ``rate`` is the mean
    number of own posts per day; ``bias`` multiplies the weight of a topic, so
    the channel has a recognisable beat.
    """

    id: int
    username: str
    title: str
    access_hash: int
    country: str
    affiliation: str
    langs: dict[str, float]
    rate: float
    start: date
    subscribers: int
    first_id: int
    apostrophe: str = "'"  # how this channel types the Uzbek o'/g' apostrophe
    authors: tuple[str, ...] = ()
    comments: bool = False
    bias: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class UnwatchedChannel:
    """A channel that watched ones forward from or link to, for the discovery report."""

    id: int
    username: str
    title: str
    weight: float  # how often it is cited, relative to the other unwatched ones


DEMO_START = date(2024, 1, 1)
DEMO_END = date(2024, 6, 30)

DEMO_CHANNELS: tuple[DemoChannel, ...] = (
    DemoChannel(
        id=1001,
        username="ozod_sado",
        title="Озод Садо | Хабарҳо",
        access_hash=7310254401193311,
        country="TJ",
        affiliation="independent-media",
        langs={"tg": 0.65, "ru": 0.35},
        rate=0.8,
        start=DEMO_START,
        subscribers=14_000,
        first_id=3120,
        comments=True,
        bias={"IRPT": 2.0, "JA": 2.0, "TALIBAN": 1.5},
    ),
    DemoChannel(
        id=1002,
        username="markaziy_xabar",
        title="Markaziy Osiyo Xabar",
        access_hash=5582019937710042,
        country="UZ",
        affiliation="independent-media",
        langs={"uz_latn": 0.75, "uz_cyrl": 0.1, "ru": 0.15},
        rate=0.7,
        start=DEMO_START,
        subscribers=22_000,
        first_id=8841,
        apostrophe="\u02bb",
        comments=True,
        bias={"TALIBAN": 1.5, "IMU": 1.5},
    ),
    DemoChannel(
        id=1003,
        username="ekstremizm_digest",
        title="Экстремизм в ЦА: дайджест",
        access_hash=9033817720045563,
        country="KZ",
        affiliation="analyst-digest",
        langs={"ru": 0.85, "en": 0.15},
        rate=0.6,
        start=DEMO_START,
        subscribers=6_500,
        first_id=1502,
        authors=("Редакция", "А. Сейткали", "М. Оразова"),
        bias={"IS": 1.5, "ISKP": 1.3, "AQ": 2.0, "HAD": 2.0},
    ),
    DemoChannel(
        id=1004,
        username="vodiy_kuzatuvchi",
        title="Водий кузатувчиси",
        access_hash=4120098876543104,
        country="KG",
        affiliation="unknown",
        langs={"uz_cyrl": 0.5, "uz_latn": 0.3, "ru": 0.2},
        rate=0.5,
        start=DEMO_START,
        subscribers=3_800,
        first_id=611,
        apostrophe="\u2018",
        bias={"HT": 2.0, "KTJ": 1.5, "IJU": 2.0},
    ),
    DemoChannel(
        id=1005,
        username="muhojirlar_xabari",
        title="Muhojirlar xabari",
        access_hash=2904417755001205,
        country="SY",
        affiliation="HTS-aligned (suspected)",
        langs={"uz_latn": 0.6, "ru": 0.4},
        rate=0.45,
        start=DEMO_START,
        subscribers=5_200,
        first_id=2277,
        apostrophe="`",
        bias={"KTJ": 4.0, "KIB": 4.0, "HTS": 4.0, "TIP": 3.0, "HAD": 3.0},
    ),
    DemoChannel(
        id=1006,
        username="xuroson_sharh",
        title="Хуросон: шарҳи хабарҳо",
        access_hash=6677123400991006,
        country="AF",
        affiliation="unknown",
        langs={"tg": 0.5, "ru": 0.3, "en": 0.2},
        rate=1.0,
        start=date(2024, 4, 3),
        subscribers=2_400,
        first_id=1,
        comments=True,
        bias={"TALIBAN": 2.0, "JA": 2.0},
    ),
    DemoChannel(
        id=1007,
        username="toshkent_tahlil",
        title="Тошкент таҳлил",
        access_hash=1188442266009107,
        country="UZ",
        affiliation="pro-government",
        langs={"uz_cyrl": 0.7, "ru": 0.3},
        rate=0.4,
        start=DEMO_START,
        subscribers=31_000,
        first_id=12005,
        authors=("Таҳририят", "Ш. Каримов"),
        bias={"HT": 1.5, "IS": 1.5},
    ),
)

UNWATCHED_CHANNELS: tuple[UnwatchedChannel, ...] = (
    UnwatchedChannel(id=2001, username="idlib_xronika", title="Idlib xronikasi", weight=6.0),
    UnwatchedChannel(id=2002, username="afgon_front_xabar", title="Afg'on front xabarlari", weight=2.5),
    UnwatchedChannel(id=2003, username="mintaqa_amniyati", title="Минтақа амнияти", weight=1.2),
    UnwatchedChannel(id=2004, username="sharq_tahlil_markazi", title="Шарқ таҳлил маркази", weight=0.4),
)
