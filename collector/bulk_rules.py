"""The per-event rules of the writer path, split so that a bulk load can evaluate them once
per distinct input instead of once per event. Pure.

`folding.event_signals(props, lc, ref, ip, user_agent)` gives the attribution signals of one
event. Read closely, each signal depends on only a few of its inputs:

- `url`, `ip`, `user_agent`: the non-empty `lc`, `ip`, `user_agent` itself;
- `title`, the utm values, the click ids, `sw`, `sh`: the non-empty property of that name
  (`ti` for the title) -- see `PROP_SIGNALS`;
- `referrer`: `ref` when it is external to `lc` (`referrer_signal`, per distinct pair);
- `channel`: the referrer signal, `utm_medium`, `utm_source`, `utm_campaign` and whether any
  click id is set (`channel_signal`, per distinct combination);
- `browser`, `browser_version`, `platform`: the `browser`, `browserVersion` and `platform`
  properties and the user agent (`agent_signals`, per distinct combination).

The signals of an event come out in `SIGNAL_ORDER` (the order `event_signals` inserts them,
which decides the key order of a fold's `first`/`last`). `signals_from_parts` puts the parts
back together; a property test checks it equals `folding.event_signals` on arbitrary input,
so the bulk path (which evaluates the parts in SQL joins) cannot drift from the writer.
"""

from __future__ import annotations

from collector import enrich, folding

SIGNAL_ORDER: tuple[str, ...] = (
    "url",
    "title",
    "referrer",
    "channel",
    *enrich.UTM_KEYS,
    *enrich.CLICK_IDS,
    "sw",
    "sh",
    "browser",
    "browser_version",
    "platform",
    "ip",
    "user_agent",
)
SIGNAL_POSITION: dict[str, int] = {name: pos for pos, name in enumerate(SIGNAL_ORDER)}

# Properties whose non-empty value is a signal unchanged: property name -> signal name.
PROP_SIGNALS: dict[str, str] = {
    "ti": "title",
    **{k: k for k in (*enrich.UTM_KEYS, *enrich.CLICK_IDS, "sw", "sh")},
}
# The properties `channel_signal` and `agent_signals` read.
CHANNEL_PROPS: tuple[str, ...] = ("utm_medium", "utm_source", "utm_campaign")
AGENT_PROPS: tuple[str, ...] = ("browser", "browserVersion", "platform")
# Every value `channel_signal` can return.
CHANNELS: tuple[str, ...] = ("paid", "email", "social", "organic", "referral")


def referrer_signal(ref: str, lc: str) -> str | None:
    """The `referrer` signal of an event with this `ref` and `lc` (None: it has none)."""
    return enrich.external_referrer(ref, lc) or None


def channel_signal(
    referrer: str | None,
    medium: str | None,
    source: str | None,
    campaign: str | None,
    clicked: bool,
) -> str | None:
    """The `channel` signal. `referrer` is the event's referrer signal; medium, source and
    campaign are its utm properties (None when absent); `clicked`: some click id property
    is non-empty (`channel_of` reads the click ids only through that test)."""
    props = {
        name: value
        for name, value in zip(CHANNEL_PROPS, (medium, source, campaign), strict=True)
        if value is not None
    }
    if clicked:
        props[enrich.CLICK_IDS[0]] = "1"
    return enrich.channel_of(props, referrer) or None


def agent_signals(
    browser: str | None, version: str | None, platform: str | None, user_agent: str
) -> tuple[str | None, str | None, str | None]:
    """(browser, browser_version, platform) signals from the properties of those names
    (None when absent) and the user agent; None for a signal the event does not carry."""
    props = {
        name: value
        for name, value in zip(AGENT_PROPS, (browser, version, platform), strict=True)
        if value is not None
    }
    signals = folding.event_signals(props, "", "", "", user_agent)
    return signals.get("browser"), signals.get("browser_version"), signals.get("platform")


def signals_from_parts(
    props: dict[str, str], lc: str, ref: str, ip: str, user_agent: str
) -> dict[str, str]:
    """`folding.event_signals` rebuilt from the parts above, the way the bulk path does."""
    found: dict[str, str] = {}
    if lc:
        found["url"] = lc
    for name, signal in PROP_SIGNALS.items():
        value = props.get(name)
        if value:
            found[signal] = value
    referrer = referrer_signal(ref, lc)
    if referrer is not None:
        found["referrer"] = referrer
    clicked = any(props.get(k) for k in enrich.CLICK_IDS)
    medium, source, campaign = (props.get(k) for k in CHANNEL_PROPS)
    channel = channel_signal(referrer, medium, source, campaign, clicked)
    if channel is not None:
        found["channel"] = channel
    browser, version, platform = agent_signals(
        props.get("browser"), props.get("browserVersion"), props.get("platform"), user_agent
    )
    for name, value in (("browser", browser), ("browser_version", version), ("platform", platform)):
        if value is not None:
            found[name] = value
    if ip:
        found["ip"] = ip
    if user_agent:
        found["user_agent"] = user_agent
    return {name: found[name] for name in SIGNAL_ORDER if name in found}
