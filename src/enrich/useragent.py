"""User agent → browser, OS, device (with its type) and the bot flag, parsed once per string.

`ua-parser` gives families and versions; it has no notion of device type and flags only
crawlers (its "Spider" device), so the type and the other kinds of bots (uptime checkers,
headless browsers, HTTP libraries, link previews) are decided here. The parser's
placeholders ("Other", "Generic_Android", "Spider") are not facts about the visitor, so
they are left out rather than stored as if they were: absent data stays absent.
"""

from __future__ import annotations

import re
from functools import cache, lru_cache
from typing import Any

from ua_parser import BestAvailableResolver, Domain, Resolver, load_builtins, load_lazy_builtins
from ua_parser.core import OS, Device, Result, UserAgent

DEVICE_TYPES = ("desktop", "mobile", "tablet", "bot", "other")
BOT_REASONS = (
    "uptime_checker",
    "headless_browser",
    "http_library",
    "link_preview",
    "crawler",
    "unknown_client",
)


def _tokens(*parts: str) -> tuple[str, ...]:
    """Lowercase substrings, written "a|b|c" to keep the tables short."""
    return tuple(token for part in parts for token in part.split("|"))


# Bot signatures, as lowercase substrings: `in` on a lowercased string is some 50 times
# faster than a case-insensitive regex alternation, and a cold cache parses thousands of
# new user agents a second. Checked in order, before the parser's own crawler flag: the
# first kind that matches is the reason.
_BOT_TOKENS: list[tuple[str, tuple[str, ...]]] = [
    (
        "uptime_checker",
        _tokens(
            "uptimerobot|pingdom|statuscake|site24x7|uptime-kuma|uptimekuma|betteruptime",
            "better uptime|freshping|newrelicpinger|datadog|checkly|hetrixtools|uptimia",
            "updown.io|ohdear|oh dear|elb-healthchecker|kube-probe|googlehc/",
            "route53-health-check|cloudflare-healthchecks|blackbox exporter|zabbix|nagios",
            "check_http|monit/|catchpoint|thousandeyes",
        ),
    ),
    (
        "headless_browser",
        _tokens(
            "headless|phantomjs|slimerjs|puppeteer|playwright|selenium|webdriver",
            "chrome-lighthouse|google page speed|ptst/",
        ),
    ),
    (
        "http_library",
        _tokens(
            "aiohttp|libwww-perl|python-requests|go-http-client|apache-httpclient|okhttp",
            "httpunit|pcore-http|xmlhttp|httrack|python-urllib|python-httpx|guzzlehttp",
            "postmanruntime|node-fetch|java-http-client|pycurl|urllib3",
        ),
    ),
    (
        "link_preview",
        _tokens(
            "facebookexternalhit|facebookcatalog|twitterbot|slackbot|slack-imgproxy|whatsapp/",
            "telegrambot|discordbot|linkedinbot|skypeuripreview|redditbot|pinterestbot",
            "embedly|vkshare|iframely|mastodon/|bluesky",
        ),
    ),
]
# HTTP clients that name themselves first ("curl/8.5.0", "Java/17", "Ruby").
_LIBRARY_PREFIXES = _tokens(
    "curl|wget|httpx|axios|undici|got (|java/|lwp::|lwp-|ruby|faraday|php/|httpie|insomnia",
    "dart/|restsharp|winhttp|jakarta|scrapy|typhoeus|reqwest|hyper/|fasthttp|deno/|bun/",
    "httpclient|libcurl|ahc/|jetty/|http_get",
)
# What the parser's crawler list may miss: crawler words, Google's other agents, link
# checkers and scanners, and the contact that crawlers leave (browsers put no URL in
# their user agent).
_CRAWLER_TOKENS = _tokens(
    "crawler|spider|scraper|archiver|googleother|-google|storebot|mediapartners|linkcheck",
    "link check|checker|scanner|zgrab|nmap|masscan|http://|https://|mailto:",
)
# "bot" needs word boundaries, so the regex runs only when "bot" is there at all:
# "AhrefsBot/7", "GPTBot", "bot;" are bots; the "CUBOT" phone is not.
_BOT_WORD = re.compile(r"(?:^|[^a-z])bot(?:[^a-z]|$)|(?-i:[A-Za-z][bB]ot)(?:/\d|\b)", re.IGNORECASE)
_EMAIL = re.compile(r"[a-z0-9]@[a-z0-9-]+\.[a-z]", re.IGNORECASE)

# Device types, likewise as lowercase tokens (a few need a regex, guarded by a token).
_OTHER_TOKENS = _tokens(
    "smart-tv|smarttv|hbbtv|appletv|crkey|bravia|web0s|netcast|roku|playstation|xbox",
    "nintendo|oculusbrowser",
)
_OTHER_REGEX = re.compile(r"\bTV\b|AFT[A-Z]|Quest \d")
_TABLET_TOKENS = _tokens("ipad|kindle|silk/|playbook")
# "Tablet" but not Windows' "Tablet PC"; Samsung and Nexus tablets; "Galaxy Tab S7";
# "Macintosh ... Mobile/15E148": an iPad's web view presenting itself as a Mac.
_TABLET_REGEX = re.compile(
    r"Tablet(?! PC)|Nexus (?:7|9|10)\b|SM-[TPX]\d|GT-P\d|Tab[ \d]|Macintosh.*Mobile/",
    re.IGNORECASE,
)
_MOBILE_TOKENS = _tokens(
    "mobi|iphone|ipod|windows phone|iemobile|blackberry|bb10|opera mini|webos|symbian|kaios"
)
# A browser, as opposed to an app's HTTP client (Android's "Dalvik/2.1.0 (Linux; ...").
_BROWSER_PREFIXES = ("mozilla/", "opera/")
_DESKTOP_OS = frozenset(
    {
        "Windows",
        "Mac OS X",
        "Linux",
        "Ubuntu",
        "Kubuntu",
        "Debian",
        "Fedora",
        "Red Hat",
        "SUSE",
        "openSUSE",
        "CentOS",
        "Linux Mint",
        "Arch Linux",
        "Gentoo",
        "Mandriva",
        "Slackware",
        "Chrome OS",
        "FreeBSD",
        "OpenBSD",
        "NetBSD",
        "Solaris",
    }
)
# Not devices: the parser's defaults, and "K", the model that Chrome's reduced user agent
# sends for every Android device ("Linux; Android 10; K").
_PLACEHOLDER_FAMILIES = frozenset(
    {"", "Other", "Spider", "Generic Smartphone", "Generic Tablet", "K"}
)


class UserAgents:
    """Parses user agents with ua-parser's fastest resolver; one LRU entry per string.

    Returned fields are shared by every document with the same string: callers copy
    them (`fields`) rather than mutate them.
    """

    def __init__(self, cache_size: int) -> None:
        self._resolve = _resolver()
        self._parse = lru_cache(maxsize=cache_size)(self._parse_uncached)

    def fields(self, user_agent: str) -> dict[str, Any]:
        """The document fields for a user agent string (a fresh copy, safe to mutate)."""
        return {
            key: dict(value) if isinstance(value, dict) else value
            for key, value in self._parse(user_agent).items()
        }

    def cache_info(self) -> Any:
        return self._parse.cache_info()

    def _parse_uncached(self, user_agent: str) -> dict[str, Any]:
        result = self._resolve(user_agent, Domain.ALL).complete()
        reason = bot_reason(user_agent, result)
        fields: dict[str, Any] = {}
        if browser := _versioned(result.user_agent):
            fields["browser"] = browser
        if os := _versioned(result.os):
            fields["os"] = os
        # A bot's device is whatever it emulates (Googlebot's "Nexus 5X"): only the type.
        fields["device"] = (
            {"type": "bot"}
            if reason
            else {**_device(result.device), "type": device_type(user_agent, result)}
        )
        fields["is_bot"] = reason is not None
        if reason:
            fields["bot_reason"] = reason
        return fields


@cache
def _resolver() -> Resolver:
    """One resolver per process: it is immutable, and building it takes a quarter second.

    The Rust resolver compiles the regexes itself; lazy matchers avoid compiling them a
    second time in Python. The pure-Python fallback needs eager ones.
    """
    lazy = BestAvailableResolver.__module__ != "ua_parser.basic"
    return BestAvailableResolver(load_lazy_builtins() if lazy else load_builtins())


def bot_reason(user_agent: str, result: Result) -> str | None:
    """Why this user agent is a bot, or None for a person's browser (as far as one can tell)."""
    lowered = user_agent.lower()
    for reason, tokens in _BOT_TOKENS:
        if _any_in(tokens, lowered):
            return reason
    if lowered.startswith(_LIBRARY_PREFIXES):
        return "http_library"
    if result.device is not None and result.device.family == "Spider":
        return "crawler"
    if (
        _any_in(_CRAWLER_TOKENS, lowered)
        or ("bot" in lowered and _BOT_WORD.search(user_agent))
        or ("@" in user_agent and _EMAIL.search(user_agent))
    ):
        return "crawler"
    if (
        result.user_agent is None
        and result.os is None
        and not lowered.startswith(_BROWSER_PREFIXES)
    ):
        # Neither a browser nor a system the parser knows, nor a "Mozilla/" claim: a
        # script or service ("panscient.com", "Upflow/1.0"), not a person's browser.
        return "unknown_client"
    return None


def device_type(user_agent: str, result: Result) -> str:
    """desktop, mobile, tablet or other, for a user agent that is not a bot.

    Tablets are checked before phones because iPads and Android tablets' Firefox say
    "Mobile" too; an Android browser without "Mobile" is a tablet (Google's convention).
    An iPad presenting itself as a Mac is a desktop, unless a web view's "Mobile/" token
    gives it away.
    """
    lowered = user_agent.lower()
    device_family = result.device.family if result.device else ""
    brand = (result.device.brand or "") if result.device else ""
    os_family = result.os.family if result.os else ""
    if _any_in(_OTHER_TOKENS, lowered) or _OTHER_REGEX.search(user_agent):
        return "other"
    if (
        _any_in(_TABLET_TOKENS, lowered)
        or (("tab" in lowered or "mobile/" in lowered) and _TABLET_REGEX.search(user_agent))
        or "Tablet" in brand
        or device_family in {"iPad", "Kindle"}
    ):
        return "tablet"
    if _any_in(_MOBILE_TOKENS, lowered) or device_family in {"iPhone", "iPod"}:
        return "mobile"
    if os_family == "Android" and lowered.startswith(_BROWSER_PREFIXES):
        return "tablet"
    if os_family in {"iOS", "Windows Phone", "BlackBerry OS", "Symbian OS", "KaiOS"}:
        return "mobile"
    if os_family in _DESKTOP_OS or os_family.startswith("Windows"):
        return "desktop"
    return "other"


def _any_in(tokens: tuple[str, ...], lowered: str) -> bool:
    return any(token in lowered for token in tokens)


def _versioned(found: UserAgent | OS | None) -> dict[str, str] | None:
    if found is None or found.family in _PLACEHOLDER_FAMILIES:
        return None
    parts = [found.major, found.minor, found.patch, found.patch_minor]
    version = ".".join(part for part in _leading(parts))
    return {"family": found.family, "version": version} if version else {"family": found.family}


def _leading(parts: list[str | None]) -> list[str]:
    """The version parts up to the first missing one ("10", None, "3" is "10")."""
    leading = []
    for part in parts:
        if not part:
            break
        leading.append(part)
    return leading


def _device(found: Device | None) -> dict[str, str]:
    """The device's family, brand and model, without the parser's generic placeholders."""
    if found is None or found.family in _PLACEHOLDER_FAMILIES:
        return {}
    brand = found.brand or ""
    if brand.startswith("Generic") or brand == "Spider":
        # The parser's "Generic_Android" etc. carry the model as family; no brand is known.
        return {"family": found.family, **({"model": found.model} if found.model else {})}
    device = {"family": found.family}
    if brand:
        device["brand"] = brand
    if found.model:
        device["model"] = found.model
    return device
