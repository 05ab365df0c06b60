"""One place that turns an Alert into text for each medium, escaping what strangers wrote.

Everything that came from a post (the summary, matched terms, context snippets,
any string in ``Alert.details``) is attacker-controlled. It passes ``clean()``
first (``monitor.escape.one_line``: escape sequences, control, bidi and invisible
characters out, whitespace folded, length capped), then ``defang()`` (``http://`` ->
``hxxp://``, every dot of a host name -> ``[.]`` so bare domains such as
``evil-login.example.com`` and ``t.me`` are not linked, IPv4 dots too, ``tg:`` ->
``tg[:]``, ``[x](url)`` -> ``[x] (url)``: the threat-intel convention, so a post cannot
smuggle a clickable link into the alert), then the escaper of the medium: HTML
entities for e-mail and Telegram; for Slack/Mattermost, Slack's ``& < >`` entities,
a word joiner in ``@channel``/``@here``/``@all``/``@everyone`` so no team is notified,
and a zero-width space that breaks Markdown links and emphasis.
The only link an alert carries is the post link, which we build ourselves
(https://t.me/<channel>/<id>) and validate.

Keys of ``Alert.details`` this module understands (anything else is shown as
``key: value``, cleaned and capped):

- ``why``: one sentence saying why the rule fired (shown first);
- ``terms`` (or ``matches``): list of {"as_written"|"term", "canonical"|"group",
  "context", "rule"}, or plain strings: the matched terms with their context;
- ``counts`` (a mapping) and ``count``, ``baseline``, ``threshold``, ``score``/``z``:
  counts against the baseline, shown on one "counts" line.
Keys that repeat what is shown elsewhere (rule, kind, channel, groups, people,
keywords) are left out.
"""

from __future__ import annotations

import html
import json
import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from monitor import identity
from monitor.escape import defang, one_line
from monitor.identity import id_key
from monitor.models import Alert

CONTEXT_CHARS = 120  # per matched-term context snippet
VALUE_CHARS = 200  # per other details value
SUMMARY_CHARS = 300
MAX_MATCHES = 5  # matched terms shown per alert
DIGEST_ITEMS = 30  # alerts listed in full in one digest; the rest are counted per rule

_COUNT_KEYS = ("count", "baseline", "threshold", "score", "z")
_MATCH_KEYS = ("matches", "terms")
_SHOWN_ELSEWHERE = frozenset({"why", "counts", "rule", "kind", "channel", "groups", "people", "keywords"})
_USERNAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{3,31}$")
_LINK = re.compile(r"^https://t\.me/(?:c/\d+|[A-Za-z][A-Za-z0-9_]{3,31})/\d+$")
_MENTION = re.compile(r"(?i)([@!])(channel|here|all|everyone|group)\b")


def clean(text: object, limit: int | None = None) -> str:
    """Untrusted text -> one printable line: no escape sequences, control, bidi or invisible
    characters, whitespace folded, capped at ``limit`` (``monitor.escape.one_line``)."""
    return one_line(text, limit)


def unmention(text: str) -> str:
    """``@channel``/``@here``/``@all``/``@everyone`` (and Slack's ``!channel``) with a word joiner after
    the sigil, so Slack and Mattermost notify nobody; the text still reads the same."""
    return _MENTION.sub(lambda m: f"{m.group(1)}\u2060{m.group(2)}", text)


def untrusted(text: object, limit: int | None = None) -> str:
    """clean + defang: the form of attacker-controlled text before any medium's escaping."""
    return defang(clean(text, limit))


def post_link(alert: Alert) -> str | None:
    """https://t.me/<channel>/<id>, built from fields we can check; never a link taken on trust."""
    if alert.link and _LINK.match(alert.link):
        return alert.link
    if alert.message_id is None:
        return None
    return identity.post_link(int(alert.message_id), username=alert.channel_username, channel_id=alert.channel_id)


@dataclass(frozen=True, slots=True, kw_only=True)
class MatchLine:
    term: str
    target: str  # canonical group/keyword, '' if unknown
    context: str
    rule: str


@dataclass(frozen=True, slots=True, kw_only=True)
class AlertView:
    """An alert reduced to cleaned, defanged, NOT yet escaped strings; each medium escapes these."""

    rule: str
    kind: str
    fired_at: str
    summary: str
    why: str
    matches: tuple[MatchLine, ...]
    more_matches: int
    counts: tuple[tuple[str, str], ...]
    extra: tuple[tuple[str, str], ...]
    channel: str
    link: str | None


def _value(value: object, limit: int = VALUE_CHARS) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, (str, int)):
        return untrusted(value, limit)
    try:
        dumped = json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    except (TypeError, ValueError):
        dumped = str(value)
    return untrusted(dumped, limit)


def _match_lines(details: Mapping[str, object]) -> tuple[list[MatchLine], int]:
    items: list[object] = []
    for key in _MATCH_KEYS:
        value = details.get(key)
        if isinstance(value, Sequence) and not isinstance(value, (str, bytes)):
            items.extend(value)
    lines: list[MatchLine] = []
    for item in items:
        if isinstance(item, Mapping):
            lines.append(
                MatchLine(
                    term=untrusted(item.get("as_written") or item.get("term") or "", 60),
                    target=untrusted(item.get("canonical") or item.get("group") or "", 40),
                    context=untrusted(item.get("context", ""), CONTEXT_CHARS),
                    rule=untrusted(item.get("rule", ""), 30),
                )
            )
        else:
            lines.append(MatchLine(term=untrusted(item, 60), target="", context="", rule=""))
    return lines[:MAX_MATCHES], max(len(lines) - MAX_MATCHES, 0)


def view(alert: Alert) -> AlertView:
    details = alert.details if isinstance(alert.details, Mapping) else {}
    matches, more = _match_lines(details)
    counts: list[tuple[str, str]] = []
    nested = details.get("counts")
    if isinstance(nested, Mapping):
        counts += [(untrusted(k, 40), _value(v, 60)) for k, v in list(nested.items())[:10]]
    counts += [(k, _value(details[k], 60)) for k in _COUNT_KEYS if k in details]
    extra = tuple(
        (untrusted(k, 40), _value(v))
        for k, v in sorted(details.items(), key=lambda kv: str(kv[0]))
        if k not in _COUNT_KEYS and k not in _MATCH_KEYS and k not in _SHOWN_ELSEWHERE
    )
    if alert.channel_username:
        channel = "@" + untrusted(alert.channel_username, 40)
    elif alert.channel_id is not None:
        channel = id_key(int(alert.channel_id))
    else:
        channel = ""
    return AlertView(
        rule=untrusted(alert.rule, 80),
        kind=untrusted(alert.kind, 20),
        fired_at=alert.fired_at.strftime("%Y-%m-%d %H:%M UTC"),
        summary=untrusted(alert.summary, SUMMARY_CHARS),
        why=untrusted(details.get("why", ""), SUMMARY_CHARS),
        matches=tuple(matches),
        more_matches=more,
        counts=tuple(counts),
        extra=extra[:8],
        channel=channel,
        link=post_link(alert),
    )


def _counts_line(v: AlertView) -> str:
    return ", ".join(f"{k} {val}" for k, val in v.counts)


# -- plain text (log, e-mail text part, JSON "text") -----------------------------------------
@dataclass(frozen=True, slots=True, kw_only=True)
class _Markup:
    """How one medium spells an alert's lines; every value passes through ``esc`` before it is placed
    (``more`` takes ``{n}``; ``link`` takes ``{link}`` escaped or ``{raw}`` as is)."""

    esc: Callable[[str], str]
    head: str
    rule: str
    target: str
    how: str
    ctx: str
    match: str
    more: str
    link: str


def _lines(alert: Alert, mk: _Markup) -> str:
    """The alert in ``mk``'s markup: head, rule, why, matches, counts, extra facts, channel, link."""
    v = view(alert)
    e = mk.esc
    lines = [mk.head.format(rule=e(v.rule), summary=e(v.summary)),
             mk.rule.format(rule=e(v.rule), kind=e(v.kind), fired_at=e(v.fired_at))]
    if v.why:
        lines.append(f"why: {e(v.why)}")
    for m in v.matches:
        target = mk.target.format(e(m.target)) if m.target else ""
        how = mk.how.format(e(m.rule)) if m.rule else ""
        ctx = mk.ctx.format(e(m.context)) if m.context else ""
        lines.append(mk.match.format(term=e(m.term), target=target, how=how, ctx=ctx))
    if v.more_matches:
        lines.append(mk.more.format(n=v.more_matches))
    if v.counts:
        lines.append(f"counts: {e(_counts_line(v))}")
    lines += [f"{e(k)}: {e(val)}" for k, val in v.extra]
    if v.channel:
        lines.append(f"channel: {e(v.channel)}")
    if v.link:
        lines.append(mk.link.format(link=e(v.link), raw=v.link))
    return "\n".join(lines)


_PLAIN = _Markup(
    esc=str, head="[{rule}] {summary}", rule="rule: {rule} ({kind}), fired {fired_at}", target=" -> {}",
    how=" [{}]", ctx=': "{}"', match="matched: {term}{target}{how}{ctx}", more="... and {n} more matches",
    link="post: {link}",
)


def plain(alert: Alert) -> str:
    return _lines(alert, _PLAIN)


def subject(alerts: Sequence[Alert], prefix: str = "[monitor]") -> str:
    """A one-line mail subject (no CR/LF: header injection is impossible after clean())."""
    if len(alerts) == 1:
        v = view(alerts[0])
        return clean(f"{prefix} {v.rule}: {v.summary}", 200)
    rules = Counter(clean(a.rule, 40) for a in alerts)
    top = ", ".join(f"{r} x{n}" for r, n in rules.most_common(3))
    return clean(f"{prefix} digest: {len(alerts)} alerts ({top})", 200)


def _digest_head(alerts: Sequence[Alert], period: tuple[datetime, datetime] | None) -> str:
    span = ""
    if period is not None:
        span = f" {period[0]:%Y-%m-%d %H:%M} - {period[1]:%Y-%m-%d %H:%M} UTC"
    return f"Digest{span}: {len(alerts)} alerts"


def _rule_counts(alerts: Sequence[Alert]) -> str:
    rules = Counter(untrusted(a.rule, 80) for a in alerts)
    return ", ".join(f"{r}: {n}" for r, n in rules.most_common())


def plain_many(alerts: Sequence[Alert], period: tuple[datetime, datetime] | None = None) -> str:
    if len(alerts) == 1 and period is None:
        return plain(alerts[0])
    parts = [_digest_head(alerts, period), f"by rule: {_rule_counts(alerts)}"]
    parts += [plain(a) for a in alerts[:DIGEST_ITEMS]]
    if len(alerts) > DIGEST_ITEMS:
        parts.append(f"... and {len(alerts) - DIGEST_ITEMS} more alerts")
    return "\n\n".join(parts)


# -- HTML (e-mail) ------------------------------------------------------------------------------
def _h(text: str) -> str:
    return html.escape(text, quote=True)


def html_one(alert: Alert) -> str:
    v = view(alert)
    rows = [
        f"<h3>[{_h(v.rule)}] {_h(v.summary)}</h3>",
        f"<p>rule <b>{_h(v.rule)}</b> ({_h(v.kind)}), {_h(v.fired_at)}</p>",
    ]
    if v.why:
        rows.append(f"<p>why: {_h(v.why)}</p>")
    if v.matches:
        items = []
        for m in v.matches:
            target = f" &rarr; {_h(m.target)}" if m.target else ""
            how = f" <i>[{_h(m.rule)}]</i>" if m.rule else ""
            ctx = f": &ldquo;{_h(m.context)}&rdquo;" if m.context else ""
            items.append(f"<li><b>{_h(m.term)}</b>{target}{how}{ctx}</li>")
        if v.more_matches:
            items.append(f"<li>&hellip; and {v.more_matches} more</li>")
        rows.append("<ul>" + "".join(items) + "</ul>")
    if v.counts:
        rows.append(f"<p>counts: {_h(_counts_line(v))}</p>")
    if v.extra:
        rows.append("<p>" + "<br>".join(f"{_h(k)}: {_h(val)}" for k, val in v.extra) + "</p>")
    if v.channel:
        rows.append(f"<p>channel: {_h(v.channel)}</p>")
    if v.link:
        rows.append(f'<p><a href="{_h(v.link)}">{_h(v.link)}</a></p>')
    return "\n".join(rows)


def html_many(alerts: Sequence[Alert], period: tuple[datetime, datetime] | None = None) -> str:
    if len(alerts) == 1 and period is None:
        body = html_one(alerts[0])
    else:
        parts = [
            f"<h2>{_h(_digest_head(alerts, period))}</h2>",
            f"<p>by rule: {_h(_rule_counts(alerts))}</p>",
        ]
        parts += [html_one(a) for a in alerts[:DIGEST_ITEMS]]
        if len(alerts) > DIGEST_ITEMS:
            parts.append(f"<p>&hellip; and {len(alerts) - DIGEST_ITEMS} more alerts</p>")
        body = "\n<hr>\n".join(parts)
    return f'<!DOCTYPE html>\n<html><head><meta charset="utf-8"></head><body>\n{body}\n</body></html>\n'


# -- Slack / Mattermost mrkdwn ----------------------------------------------------------------
_MD_BREAK = re.compile(r"([\[\]*_~`|#>])")


def slack_escape(text: str) -> str:
    """Slack's three entities (so no <url|label>, <!channel> or <@U..> survives), ``@channel``-style
    team mentions broken (``unmention``), then a zero-width space after each Markdown metacharacter
    so Mattermost/Slack see no link or emphasis syntax."""
    text = unmention(text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"))
    return _MD_BREAK.sub("\\1\u200b", text)


_SLACK = _Markup(
    esc=slack_escape, head="*[{rule}]* {summary}", rule="rule *{rule}* ({kind}), {fired_at}", target=" → {}",
    how=" ({})", ctx=": “{}”", match="• matched *{term}*{target}{how}{ctx}", more="• … and {n} more",
    link="<{raw}|open post>",
)


def slack_one(alert: Alert) -> str:
    return _lines(alert, _SLACK)


def fit_lines(part: str, limit: int) -> str:
    """Cap a rendered alert at ``limit`` characters by dropping whole lines (each line is balanced
    markup on its own) from the end, but keep the last line: the post link."""
    if len(part) <= limit:
        return part
    *lines, last = part.split("\n")
    kept: list[str] = []
    room = limit - len(last) - 3  # "…" and two newlines
    for line in lines:
        if len(line) + 1 > room:
            break
        kept.append(line)
        room -= len(line) + 1
    return "\n".join([*kept, "…", last])


def slack_payload(
    alerts: Sequence[Alert], period: tuple[datetime, datetime] | None = None
) -> dict[str, object]:
    """{"text", "blocks"}: Mattermost renders ``text``; Slack renders the blocks (text is its fallback)."""
    parts: list[str] = []
    if not (len(alerts) == 1 and period is None):
        parts.append(
            f"*{slack_escape(_digest_head(alerts, period))}*\nby rule: {slack_escape(_rule_counts(alerts))}"
        )
    parts += [slack_one(a) for a in alerts[:DIGEST_ITEMS]]
    if len(alerts) > DIGEST_ITEMS:
        parts.append(f"… and {len(alerts) - DIGEST_ITEMS} more alerts")
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": fit_lines(p, 3000)}} for p in parts]
    return {"text": "\n\n".join(parts), "blocks": blocks[:50]}


# -- Telegram Bot API, parse_mode=HTML -------------------------------------------------------
TELEGRAM_LIMIT = 4096


_TELEGRAM = _Markup(
    esc=_h, head="<b>[{rule}]</b> {summary}", rule="rule <b>{rule}</b> ({kind}), {fired_at}", target=" → {}",
    how=" <i>({})</i>", ctx=": «{}»", match="• <b>{term}</b>{target}{how}{ctx}", more="• … and {n} more",
    link='<a href="{link}">{link}</a>',
)


def telegram_one(alert: Alert) -> str:
    """Telegram's HTML subset: <b>, <i>, <a>; everything else escaped (& < > ")."""
    return _lines(alert, _TELEGRAM)


def telegram_messages(
    alerts: Sequence[Alert], period: tuple[datetime, datetime] | None = None, limit: int = TELEGRAM_LIMIT
) -> list[str]:
    """The messages to send, each under Telegram's limit, split only between alerts (never inside a tag)."""
    parts: list[str] = []
    if not (len(alerts) == 1 and period is None):
        parts.append(f"<b>{_h(_digest_head(alerts, period))}</b>\nby rule: {_h(_rule_counts(alerts))}")
    parts += [telegram_one(a) for a in alerts[:DIGEST_ITEMS]]
    if len(alerts) > DIGEST_ITEMS:
        parts.append(f"… and {len(alerts) - DIGEST_ITEMS} more alerts")
    messages: list[str] = []
    current = ""
    for part in parts:
        part = fit_lines(part, limit)  # never cuts inside a tag: whole lines go
        candidate = f"{current}\n\n{part}" if current else part
        if len(candidate) <= limit:
            current = candidate
        else:
            messages.append(current)
            current = part
    if current:
        messages.append(current)
    return messages


__all__ = [
    "AlertView",
    "clean",
    "defang",
    "html_many",
    "html_one",
    "plain",
    "plain_many",
    "post_link",
    "slack_escape",
    "slack_payload",
    "subject",
    "telegram_messages",
    "telegram_one",
    "unmention",
    "untrusted",
    "view",
]
