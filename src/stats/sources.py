"""Traffic sources: where a visit came from, by its entry view's referrer and UTM tags.

The categories follow the usual web-analytics split: a campaign when the landing URL has
UTM parameters; else direct (no referrer), search, social, e-mail or other sites by the
referring host. The host lists are the widely used engines and networks; an operator who
needs another can tag links with `utm_medium` instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

SEARCH = (
    "google.",
    "bing.com",
    "duckduckgo.com",
    "search.yahoo.",
    "yahoo.com",
    "baidu.com",
    "yandex.",
    "ecosia.org",
    "ask.com",
    "naver.com",
    "search.brave.com",
    "qwant.com",
)
SOCIAL = (
    "facebook.com",
    "fb.com",
    "t.co",
    "twitter.com",
    "x.com",
    "linkedin.com",
    "lnkd.in",
    "instagram.com",
    "youtube.com",
    "youtu.be",
    "reddit.com",
    "pinterest.",
    "quora.com",
    "whatsapp.com",
    "wa.me",
    "telegram.org",
    "t.me",
    "tiktok.com",
    "threads.net",
)
EMAIL = (
    "mail.google.com",
    "outlook.live.com",
    "outlook.office.com",
    "mail.yahoo.com",
    "mail.proton.me",
    "webmail.",
    "mail.",
    "rediffmail.com",
)
#: What the system Footfall replaces stored for "no referrer".
NO_REFERRER = {"", "(No referring link)", "(none)"}
Category = str  # "direct" | "search" | "social" | "email" | "other sites" | "campaign"


@dataclass(frozen=True)
class Source:
    category: Category
    referrer: str | None  # the referring URL without its query string
    domain: str | None
    campaign: str | None


def classify(path: str, referrer: str | None) -> Source:
    query = parse_qs(urlsplit(path).query)
    utm = {k: v[0] for k, v in query.items() if k.startswith("utm_") and v and v[0]}
    ref, domain = _referrer(referrer)
    campaign = utm.get("utm_campaign") or utm.get("utm_source")
    if campaign:
        medium = utm.get("utm_medium", "").lower()
        category = "email" if medium in {"email", "e-mail", "newsletter"} else "campaign"
        return Source(category, ref, domain, campaign)
    if domain is None:
        return Source("direct", None, None, None)
    return Source(_by_host(domain), ref, domain, None)


def _referrer(referrer: str | None) -> tuple[str | None, str | None]:
    if referrer is None or referrer.strip() in NO_REFERRER:
        return None, None
    parts = urlsplit(referrer.strip())
    host = (parts.hostname or "").lower()
    if not host:
        return None, None
    host = host.removeprefix("www.")
    return f"{parts.scheme}://{parts.netloc}{parts.path}", host


def _by_host(host: str) -> Category:
    for category, patterns in (("email", EMAIL), ("search", SEARCH), ("social", SOCIAL)):
        if any(_host_matches(host, pattern) for pattern in patterns):
            return category
    return "other sites"


def _host_matches(host: str, pattern: str) -> bool:
    """`google.` matches any google.<tld> (and subdomains); `t.co` itself or a subdomain."""
    if pattern.endswith("."):
        return host.startswith(pattern) or "." + pattern in host
    return host == pattern or host.endswith("." + pattern)


def host_of(url: str) -> str:
    return (urlsplit(url).hostname or "").lower().removeprefix("www.")
