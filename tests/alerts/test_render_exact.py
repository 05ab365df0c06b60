"""Every alert medium, character for character, on one alert that uses every field renderers read.

Written from the mutation run of monitor/alerts/render.py (docs/testing.md): the hostile-output
tests prove that nothing unsafe gets through, not what an analyst is shown; a renderer that dropped
the "why" line, swapped a label, lost the "and 2 more" count or cut a digest at the wrong alert kept
them green. The exact texts below were read and checked by hand once; a change to any medium's
format must change them on purpose.
"""

from __future__ import annotations

from datetime import UTC, datetime

from monitor.alerts import render
from monitor.models import Alert

FIRED = datetime(2024, 3, 1, 12, 30, tzinfo=UTC)
PERIOD = (datetime(2024, 3, 1, tzinfo=UTC), datetime(2024, 3, 2, 6, 5, tzinfo=UTC))


def rich(**kw: object) -> Alert:
    """An alert with every kind of detail: why, mapped and plain matches over both keys, nested and
    top-level counts, extra keys (sorted, one not JSON-able), keys shown elsewhere, hostile text."""
    base: dict[str, object] = dict(
        rule="iskp-mentions",
        kind="match",
        fired_at=FIRED,
        dedup_key="k",
        summary="ISKP named <b>here</b> & t.me/x",
        details={
            "why": "a group name\x1b[31m in a post",
            "matches": [
                {
                    "as_written": "ИГИЛ-Хуросон",
                    "term": "ignored",
                    "canonical": "ISKP",
                    "group": "ignored",
                    "context": "see evil.example.com *now*",
                    "rule": "alias",
                },
                {"term": "ISIS", "group": "IS"},
                "@channel plain",
            ],
            "terms": ["t4", "t5", "t6", "t7"],
            "counts": {"today": 14, "baseline": 3.25},
            "count": 14,
            "baseline": 3.5,
            "threshold": 8,
            "score": 2.123456,
            "z": [1, 2],
            "zeta": {"b": 1, "a": "x"},
            "alpha": "<i>",
            "rule": "hidden",
            "channel": "hidden",
            "kind": "hidden",
            "weird": {(1, 2): 3},
        },
        channel_id=1234567,
        message_id=101,
        channel_username="ozod_sado",
        link=None,
    )
    base.update(kw)
    return Alert(**base)  # type: ignore[arg-type]


def small(n: int) -> list[Alert]:
    rules = ["b", "a", "b", "c\x1b[1m", "b"]
    return [
        Alert(
            rule=rules[i % 5],
            kind="match",
            fired_at=FIRED,
            dedup_key=str(i),
            summary=f"s{i}",
            channel_id=5,
            message_id=i + 1,
            channel_username="kanal_x",
        )
        for i in range(n)
    ]


PLAIN = "\n".join(
    [
        "[iskp-mentions] ISKP named <b>here</b> & t[.]me/x",
        "rule: iskp-mentions (match), fired 2024-03-01 12:30 UTC",
        "why: a group name in a post",
        'matched: ИГИЛ-Хуросон -> ISKP [alias]: "see evil[.]example[.]com *now*"',
        "matched: ISIS -> IS",
        "matched: @channel plain",
        "matched: t4",
        "matched: t5",
        "... and 2 more matches",
        "counts: today 14, baseline 3.25, count 14, baseline 3.5, threshold 8, score 2.123, z [1, 2]",
        "alpha: <i>",
        "weird: {(1, 2): 3}",
        'zeta: {"a": "x", "b": 1}',
        "channel: @ozod_sado",
        "post: https://t.me/ozod_sado/101",
    ]
)

HTML_ONE = "\n".join(
    [
        "<h3>[iskp-mentions] ISKP named &lt;b&gt;here&lt;/b&gt; &amp; t[.]me/x</h3>",
        "<p>rule <b>iskp-mentions</b> (match), 2024-03-01 12:30 UTC</p>",
        "<p>why: a group name in a post</p>",
        "<ul><li><b>ИГИЛ-Хуросон</b> &rarr; ISKP <i>[alias]</i>: &ldquo;see evil[.]example[.]com *now*&rdquo;</li><li><b>ISIS</b> &rarr; IS</li><li><b>@channel plain</b></li><li><b>t4</b></li><li><b>t5</b></li><li>&hellip; and 2 more</li></ul>",
        "<p>counts: today 14, baseline 3.25, count 14, baseline 3.5, threshold 8, score 2.123, z [1, 2]</p>",
        "<p>alpha: &lt;i&gt;<br>weird: {(1, 2): 3}<br>zeta: {&quot;a&quot;: &quot;x&quot;, &quot;b&quot;: 1}</p>",
        "<p>channel: @ozod_sado</p>",
        '<p><a href="https://t.me/ozod_sado/101">https://t.me/ozod_sado/101</a></p>',
    ]
)

SLACK_ONE = "\n".join(
    [
        "*[iskp-mentions]* ISKP named &lt;b&gt;here&lt;/b&gt; &amp; t[\u200b.]\u200bme/x",
        "rule *iskp-mentions* (match), 2024-03-01 12:30 UTC",
        "why: a group name in a post",
        "• matched *ИГИЛ-Хуросон* → ISKP (alias): “see evil[\u200b.]\u200bexample[\u200b.]\u200bcom *\u200bnow*\u200b”",
        "• matched *ISIS* → IS",
        "• matched *@\u2060channel plain*",
        "• matched *t4*",
        "• matched *t5*",
        "• … and 2 more",
        "counts: today 14, baseline 3.25, count 14, baseline 3.5, threshold 8, score 2.123, z [\u200b1, 2]\u200b",
        "alpha: &lt;i&gt;",
        "weird: {(1, 2): 3}",
        'zeta: {"a": "x", "b": 1}',
        "channel: @ozod_\u200bsado",
        "<https://t.me/ozod_sado/101|open post>",
    ]
)

TELEGRAM_ONE = "\n".join(
    [
        "<b>[iskp-mentions]</b> ISKP named &lt;b&gt;here&lt;/b&gt; &amp; t[.]me/x",
        "rule <b>iskp-mentions</b> (match), 2024-03-01 12:30 UTC",
        "why: a group name in a post",
        "• <b>ИГИЛ-Хуросон</b> → ISKP <i>(alias)</i>: «see evil[.]example[.]com *now*»",
        "• <b>ISIS</b> → IS",
        "• <b>@channel plain</b>",
        "• <b>t4</b>",
        "• <b>t5</b>",
        "• … and 2 more",
        "counts: today 14, baseline 3.25, count 14, baseline 3.5, threshold 8, score 2.123, z [1, 2]",
        "alpha: &lt;i&gt;",
        "weird: {(1, 2): 3}",
        "zeta: {&quot;a&quot;: &quot;x&quot;, &quot;b&quot;: 1}",
        "channel: @ozod_sado",
        '<a href="https://t.me/ozod_sado/101">https://t.me/ozod_sado/101</a>',
    ]
)

PLAIN_MANY = "\n".join(
    [
        "Digest 2024-03-01 00:00 - 2024-03-02 06:05 UTC: 2 alerts",
        "",
        "by rule: b: 1, a: 1",
        "",
        "[b] s0",
        "rule: b (match), fired 2024-03-01 12:30 UTC",
        "channel: @kanal_x",
        "post: https://t.me/kanal_x/1",
        "",
        "[a] s1",
        "rule: a (match), fired 2024-03-01 12:30 UTC",
        "channel: @kanal_x",
        "post: https://t.me/kanal_x/2",
    ]
)

HTML_MANY = "\n".join(
    [
        "<!DOCTYPE html>",
        '<html><head><meta charset="utf-8"></head><body>',
        "<h2>Digest 2024-03-01 00:00 - 2024-03-02 06:05 UTC: 2 alerts</h2>",
        "<hr>",
        "<p>by rule: b: 1, a: 1</p>",
        "<hr>",
        "<h3>[b] s0</h3>",
        "<p>rule <b>b</b> (match), 2024-03-01 12:30 UTC</p>",
        "<p>channel: @kanal_x</p>",
        '<p><a href="https://t.me/kanal_x/1">https://t.me/kanal_x/1</a></p>',
        "<hr>",
        "<h3>[a] s1</h3>",
        "<p>rule <b>a</b> (match), 2024-03-01 12:30 UTC</p>",
        "<p>channel: @kanal_x</p>",
        '<p><a href="https://t.me/kanal_x/2">https://t.me/kanal_x/2</a></p>',
        "</body></html>",
        "",
    ]
)


def test_plain() -> None:
    assert render.plain(rich()) == PLAIN


def test_html_one() -> None:
    assert render.html_one(rich()) == HTML_ONE


def test_slack_one() -> None:
    assert render.slack_one(rich()) == SLACK_ONE


def test_telegram_one() -> None:
    assert render.telegram_one(rich()) == TELEGRAM_ONE


def test_a_digest_in_plain_and_html() -> None:
    assert render.plain_many(small(2), PERIOD) == PLAIN_MANY
    assert render.html_many(small(2), PERIOD) == HTML_MANY


def test_one_alert_without_a_period_is_no_digest() -> None:
    one = small(1)
    assert render.plain_many(one) == render.plain(one[0])
    page = render.html_many(one)
    assert page == (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8"></head><body>\n'
        + render.html_one(one[0])
        + "\n</body></html>\n"
    )
    assert render.slack_payload(one)["text"] == render.slack_one(one[0])
    assert render.telegram_messages(one) == [render.telegram_one(one[0])]
    # with a period, even one alert is a digest
    assert render.plain_many(one, PERIOD).startswith("Digest 2024-03-01 00:00 - 2024-03-02 06:05 UTC: 1 alerts\n\n")


def test_subjects() -> None:
    assert render.subject(small(1)) == "[monitor] b: s0"
    assert render.subject(small(5), prefix="[x]") == "[x] digest: 5 alerts (b x3, a x1, c x1)"
    assert (
        render.subject([rich(summary="x" * 400)]).endswith("x…")
        and len(render.subject([rich(summary="x" * 400)])) == 200
    )


def test_a_slack_digest_is_one_block_per_part() -> None:
    payload = render.slack_payload(small(2), PERIOD)
    texts = [b["text"]["text"] for b in payload["blocks"]]  # type: ignore[attr-defined, index]
    assert texts == [
        "*Digest 2024-03-01 00:00 - 2024-03-02 06:05 UTC: 2 alerts*\nby rule: b: 1, a: 1",
        "*[b]* s0\nrule *b* (match), 2024-03-01 12:30 UTC\nchannel: @kanal_\u200bx\n<https://t.me/kanal_x/1|open post>",
        "*[a]* s1\nrule *a* (match), 2024-03-01 12:30 UTC\nchannel: @kanal_\u200bx\n<https://t.me/kanal_x/2|open post>",
    ]
    assert payload["text"] == "\n\n".join(texts)
    assert all(
        b == {"type": "section", "text": {"type": "mrkdwn", "text": t}}
        for b, t in zip(payload["blocks"], texts, strict=True)
    )  # type: ignore[call-overload]


def test_telegram_messages_split_between_alerts_under_the_limit() -> None:
    head = "<b>Digest 2024-03-01 00:00 - 2024-03-02 06:05 UTC: 3 alerts</b>\nby rule: b: 2, a: 1"
    parts = [render.telegram_one(a) for a in small(3)]
    assert parts[0] == (
        "<b>[b]</b> s0\nrule <b>b</b> (match), 2024-03-01 12:30 UTC\nchannel: @kanal_x\n"
        '<a href="https://t.me/kanal_x/1">https://t.me/kanal_x/1</a>'
    )
    joined = len(head) + 2 + len(parts[0])  # 220: the head and the first alert fit one message exactly
    assert render.telegram_messages(small(3), PERIOD, limit=joined) == [f"{head}\n\n{parts[0]}", parts[1], parts[2]]
    assert render.telegram_messages(small(3), PERIOD, limit=joined - 1) == [head, *parts]
    assert render.telegram_messages(small(3), PERIOD) == ["\n\n".join([head, *parts])]


def test_a_digest_lists_thirty_alerts_and_counts_the_rest() -> None:
    many = small(33)
    assert render.plain_many(many).count("\nrule: ") == render.DIGEST_ITEMS == 30
    assert render.plain_many(many).endswith("\n\n... and 3 more alerts")
    assert render.html_many(many).count("<h3>") == 30 and "<p>&hellip; and 3 more alerts</p>" in render.html_many(many)
    payload = render.slack_payload(many)
    assert len(payload["blocks"]) == 32 and str(payload["text"]).endswith("… and 3 more alerts")  # type: ignore[arg-type]
    text = "\n\n".join(render.telegram_messages(many))
    assert text.count("\nrule <b>") == 30 and text.endswith("… and 3 more alerts")
    assert render.plain_many(small(30)).count("more alerts") == 0
    assert render.plain_many(small(2)).startswith("Digest: 2 alerts\n\nby rule: b: 1, a: 1\n\n[b] s0")


def test_fit_lines_drops_whole_lines_and_keeps_the_last() -> None:
    part = "aaaa\nbbbb\ncccc\nLINK"
    assert render.fit_lines(part, 19) == part  # fits exactly
    assert render.fit_lines(part, 18) == "aaaa\nbbbb\n…\nLINK"
    assert render.fit_lines(part, 17) == "aaaa\nbbbb\n…\nLINK"
    assert render.fit_lines(part, 16) == "aaaa\n…\nLINK"
    assert render.fit_lines(part, 12) == "aaaa\n…\nLINK"
    assert render.fit_lines(part, 11) == "…\nLINK"


def test_the_view_of_an_alert_without_details_or_names() -> None:
    bare = render.view(rich(details={}, channel_username=None, message_id=None))
    assert (bare.why, bare.matches, bare.more_matches, bare.counts, bare.extra) == ("", (), 0, (), ())
    assert (bare.channel, bare.link) == ("id:1234567", None)
    nothing = render.view(
        rich(details=["not", "a", "mapping"], channel_username=None, channel_id=None, message_id=None)
    )
    assert (nothing.channel, nothing.matches, nothing.extra) == ("", (), ())


def test_the_view_caps_and_cleans_each_field() -> None:
    long = "w" * 1000
    v = render.view(
        rich(
            rule=long,
            kind=long,
            summary=long,
            details={
                "why": long,
                "matches": [{"term": long, "canonical": long, "context": long, "rule": long}] * 7,
                "counts": {f"k{i}": i for i in range(12)},
                **{f"x{i}": long for i in range(10)},
            },
            channel_username="u" * 50,
        )
    )
    assert (len(v.rule), len(v.kind), len(v.summary), len(v.why)) == (80, 20, 300, 300)
    m = v.matches[0]
    assert (len(m.term), len(m.target), len(m.context), len(m.rule)) == (60, 40, 120, 30)
    assert (len(v.matches), v.more_matches) == (5, 2)
    assert [k for k, _ in v.counts] == [f"k{i}" for i in range(10)]
    assert [k for k, _ in v.extra] == [f"x{i}" for i in range(8)] and {len(val) for _, val in v.extra} == {200}
    assert v.channel == "@" + "u" * 39 + "…"


def test_values_are_shown_by_type() -> None:
    v = render.view(rich(details={"f": 0.000123456, "i": 7, "s": "http://a.io", "l": ["x", 1], "big": 1e20}))
    assert dict(v.extra) == {"f": "0.0001235", "i": "7", "s": "hxxp://a[.]io", "l": '["x", 1]', "big": "1e+20"}


def test_post_links_are_built_never_trusted() -> None:
    assert render.post_link(rich(link="https://t.me/ozod_sado/7")) == "https://t.me/ozod_sado/7"
    assert render.post_link(rich(link="https://t.me/c/1234567/7")) == "https://t.me/c/1234567/7"
    assert render.post_link(rich(link="https://t.me/ozod_sado/7?x=1")) == "https://t.me/ozod_sado/101"
    assert render.post_link(rich(link="https://evil.example/ozod_sado/7")) == "https://t.me/ozod_sado/101"
    assert render.post_link(rich(link=None, channel_username=None)) == "https://t.me/c/1234567/101"
    assert render.post_link(rich(link=None, message_id=None)) is None


def test_unmention_and_slack_escape() -> None:
    assert render.unmention("@channel @HERE !all @everyone @group @channels x@all") == (
        "@\u2060channel @\u2060HERE !\u2060all @\u2060everyone @\u2060group @channels x@\u2060all"
    )
    assert render.slack_escape("<@U1|x> & [a](b) *b* _i_ ~s~ `c` | # >") == (
        "&lt;@U1|\u200bx&gt; &amp; [\u200ba]\u200b(b) *\u200bb*\u200b _\u200bi_\u200b ~\u200bs~\u200b `\u200bc`\u200b |\u200b #\u200b &gt;"
    )
    assert render.untrusted("x\x00 http://t.me/a", 12) == "x hxxp://t.…"


def test_every_cap_is_where_it_is_said() -> None:
    """Each field is cut at its own cap, one character past it: the caps of counts, extra keys and
    plain matches too, and of the rules named in digests and subjects."""
    v = render.view(
        rich(
            details={
                "counts": {"k" * 41: "v" * 61},
                "count": "c" * 61,
                "e" * 41: ["l" * 300],
                "matches": ["t" * 61],
            }
        )
    )
    assert v.counts == (("k" * 39 + "…", "v" * 59 + "…"), ("count", "c" * 59 + "…"))
    assert v.extra == (("e" * 39 + "…", '["' + "l" * 197 + "…"),)
    assert v.matches == (render.MatchLine(term="t" * 59 + "…", target="", context="", rule=""),)
    long_rules = [rich(rule="r" * 81), rich(rule="s" * 81)]
    assert render.plain_many(long_rules).split("\n")[2] == f"by rule: {'r' * 79}…: 1, {'s' * 79}…: 1"
    assert render.subject(long_rules) == f"[monitor] digest: 2 alerts ({'r' * 39}… x1, {'s' * 39}… x1)"
    many_rules = [rich(rule=r) for r in ("a", "b", "b", "c", "c", "c", "d", "d", "d", "d")]
    assert render.subject(many_rules) == "[monitor] digest: 10 alerts (d x4, c x3, b x2)"  # the three most frequent
    digest = render.subject([rich(rule="x" * 40)] * 2 + [rich(rule="y" * 40)] * 3, prefix="[" + "p" * 100 + "]")
    assert len(digest) == 200 and digest.endswith("x…")


def test_details_values_by_kind() -> None:
    v = render.view(
        rich(details={"names": ["ИГИЛ", "t.me"], "when": [FIRED], "a mapping": {"context": "no term"}, 3: "int key"})
    )
    assert dict(v.extra) == {
        "3": "int key",
        "names": '["ИГИЛ", "t[.]me"]',  # Cyrillic as written, not \\u escapes
        "when": '["2024-03-01 12:30:00+00:00"]',
        "a mapping": '{"context": "no term"}',
    }
    m = render.view(rich(details={"matches": [{"context": "c"}]})).matches
    assert m == (render.MatchLine(term="", target="", context="c", rule=""),)


def test_thirty_alerts_are_all_listed_with_nothing_more_to_count() -> None:
    thirty = small(30)
    assert "more alerts" not in render.html_many(thirty)
    assert "more alerts" not in str(render.slack_payload(thirty)["text"])
    assert "more alerts" not in "".join(render.telegram_messages(thirty))


def test_one_alert_with_a_period_is_a_telegram_digest() -> None:
    assert render.telegram_messages(small(1), PERIOD)[0].startswith("<b>Digest 2024-03-01 00:00 - 2024-03-02 06:05 UTC")


def test_fit_lines_cuts_at_lines_not_words() -> None:
    assert render.fit_lines("a a a\nb b b\nthe link", 18) == "a a a\n…\nthe link"
