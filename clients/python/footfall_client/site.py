"""What every server middleware shares: which requests to log, what leaves the site, and
the page view built from a request. Framework-free; `wsgi`, `flask` and `django` adapt it.

Redacted keys are removed here, at the site, so their values never reach Footfall (which
redacts again, as a second line). Keys MongoDB reserves (`$x`, `a.b`) are renamed rather
than sent, since Footfall would refuse the whole page view for them.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode

#: Footfall's own REDACT_KEYS default: a key matches when, lowercased and without
#: "_", "-", "." and spaces, it contains one of these.
DEFAULT_REDACT = (
    "password", "passwd", "pwd", "secret", "token", "csrfmiddlewaretoken", "apikey",
    "authorization", "cookie", "sessionid", "cardnumber", "creditcard", "ccnum", "cvv", "cvc",
)  # fmt: skip
FORM = "application/x-www-form-urlencoded"


def _normalise(key: str) -> str:
    return re.sub(r"[_\-. ]", "", key.lower())


@dataclass
class SiteOptions:
    """`include`/`exclude`: regular expressions searched in the path (anchor with `^`);
    with `include`, only paths it matches are logged; `exclude` then removes some.
    `trusted_proxies`: CIDRs whose `X-Forwarded-For` is believed (your load balancer)."""

    include: Iterable[str] = ()
    exclude: Iterable[str] = ()
    redact: Iterable[str] = DEFAULT_REDACT
    trusted_proxies: Iterable[str] = ()
    #: POST bodies up to this size (form or JSON) are sent as `request_data`; 0: none.
    max_body_bytes: int = 65_536
    _include: list[re.Pattern[str]] = field(init=False, repr=False)
    _exclude: list[re.Pattern[str]] = field(init=False, repr=False)
    _redact: list[str] = field(init=False, repr=False)
    _proxies: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._include = [re.compile(p) for p in self.include]
        self._exclude = [re.compile(p) for p in self.exclude]
        self._redact = [_normalise(k) for k in self.redact]
        self._proxies = [ipaddress.ip_network(c, strict=False) for c in self.trusted_proxies]

    @classmethod
    def of(cls, options: Mapping[str, Any] | None) -> SiteOptions:
        return cls(**{k: v for k, v in (options or {}).items() if k in _OPTION_NAMES})

    def wanted(self, path: str) -> bool:
        if self._include and not any(p.search(path) for p in self._include):
            return False
        return not any(p.search(path) for p in self._exclude)

    def secret(self, key: str) -> bool:
        normal = _normalise(key)
        return any(k in normal for k in self._redact)

    def clean(self, value: Any) -> Any:
        """A copy without secret keys, with keys MongoDB reserves renamed."""
        if isinstance(value, Mapping):
            return {
                _safe_key(str(k)): self.clean(v)
                for k, v in value.items()
                if not self.secret(str(k))
            }
        if isinstance(value, list | tuple):
            return [self.clean(v) for v in value]
        return value

    def query(self, query: str) -> str:
        pairs = parse_qsl(query, keep_blank_values=True)
        return urlencode([(k, v) for k, v in pairs if not self.secret(k)])

    def client_ip(self, peer: str | None, forwarded_for: str | None) -> str | None:
        """The peer, or behind trusted proxies the rightmost untrusted `X-Forwarded-For` hop
        (as Footfall's own TRUSTED_PROXIES rule)."""
        address = _address(peer)
        if address is None or not self._trusted(address) or not forwarded_for:
            return None if address is None else str(address)
        for hop in reversed(forwarded_for.split(",")):
            hop_address = _address(hop)
            if hop_address is None:
                break
            address = hop_address
            if not self._trusted(hop_address):
                break
        return str(address)

    def _trusted(self, address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
        return any(address in network for network in self._proxies)

    def body_data(self, content_type: str, body: bytes) -> dict[str, Any] | None:
        """`request_data` from a form or JSON body (None for anything else)."""
        kind = content_type.split(";")[0].strip().lower()
        if kind == FORM:
            return form_data(parse_qsl(body.decode(errors="replace"), keep_blank_values=True))
        if kind == "application/json":
            try:
                parsed = json.loads(body)
            except ValueError:
                return None
            return parsed if isinstance(parsed, dict) else None
        return None

    def pageview(
        self,
        *,
        path: str,
        query: str = "",
        method: str,
        username: str | None,
        referrer: str | None,
        ip: str | None,
        user_agent: str | None,
        view_args: list[Any] | None = None,
        view_kwargs: Mapping[str, Any] | None = None,
        request_data: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """The `pageview` item: only the fields known, each within Footfall's limits."""
        query = self.query(query) if query else ""
        event: dict[str, Any] = {
            "source": "server",
            "path": ((path or "/") + (f"?{query}" if query else ""))[:2048],
            "method": method.upper(),
            "visited_at": datetime.now(UTC).isoformat(),
            "username": username[:150] if username else None,
            "referrer": referrer[:2048] if referrer else None,
            "ip": ip,
            "user_agent": user_agent[:1024] if user_agent else None,
            "view_args": self.clean(list(view_args)) if view_args else None,
            "view_kwargs": self.clean(dict(view_kwargs)) if view_kwargs else None,
            "request_data": self.clean(dict(request_data)) if request_data else None,
        }
        return {k: v for k, v in event.items() if v is not None}


_OPTION_NAMES = {"include", "exclude", "redact", "trusted_proxies", "max_body_bytes"}


def form_data(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """Form fields: a value, or a list when the field came several times."""
    found: dict[str, list[str]] = {}
    for key, value in pairs:
        found.setdefault(key, []).append(value)
    return {k: v[0] if len(v) == 1 else v for k, v in found.items()}


def _safe_key(key: str) -> str:
    key = key.replace(".", "_").replace("\x00", "")
    return "_" + key[1:] if key.startswith("$") else key


def _address(text: str | None) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address((text or "").strip())
    except ValueError:
        return None
