"""User agents: real strings → browser, device type (fine and coarse), bot name and category."""

from __future__ import annotations

import pytest

from footfall.enrich.useragent import UserAgents

# (user agent, browser family (a bot's name) or None, device type, bot category or None
# for a person)
TABLE: list[tuple[str, str | None, str, str | None]] = [
    # Desktop browsers
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/124.0.0.0 Safari/537.36",
        "Chrome",
        "desktop",
        None,
    ),
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0",
        "Firefox",
        "desktop",
        None,
    ),
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.51",
        "Microsoft Edge",
        "desktop",
        None,
    ),
    (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/17.4.1 Safari/605.1.15",
        "Safari",
        "desktop",
        None,
    ),
    (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/124.0.0.0 Safari/537.36",
        "Chrome",
        "desktop",
        None,
    ),
    (
        "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
        "Firefox",
        "desktop",
        None,
    ),
    (
        "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:109.0) Gecko/20100101 Firefox/115.0",
        "Firefox",
        "desktop",
        None,
    ),
    (
        "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/124.0.0.0 Safari/537.36",
        "Chrome",
        "desktop",
        None,
    ),
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/124.0.0.0 Safari/537.36 OPR/109.0.0.0",
        "Opera",
        "desktop",
        None,
    ),
    (
        "Mozilla/5.0 (Windows NT 10.0; WOW64; Trident/7.0; rv:11.0) like Gecko",
        "Internet Explorer",
        "desktop",
        None,
    ),
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/122.0.0.0 YaBrowser/24.4.0.0 Safari/537.36",
        "Yandex Browser",
        "desktop",
        None,
    ),
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/124.0.0.0 Safari/537.36 Vivaldi/6.7.3329.21",
        "Vivaldi",
        "desktop",
        None,
    ),
    (
        "Mozilla/5.0 (Windows NT 6.1; WOW64; Trident/7.0; Tablet PC 2.0; rv:11.0) like Gecko",
        "Internet Explorer",
        "desktop",
        None,
    ),
    # Phones
    (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/17.4.1 Mobile/15E148 Safari/604.1",
        "Mobile Safari",
        "mobile",
        None,
    ),
    (
        "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/124.0.6367.113 Mobile Safari/537.36",
        "Chrome Mobile",
        "mobile",
        None,
    ),
    (
        "Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) "
        "SamsungBrowser/24.0 Chrome/117.0.0.0 Mobile Safari/537.36",
        "Samsung Browser",
        "mobile",
        None,
    ),
    (
        "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/124.0.0.0 Mobile Safari/537.36",
        "Chrome Mobile",
        "mobile",
        None,
    ),
    (
        "Mozilla/5.0 (Android 14; Mobile; rv:125.0) Gecko/125.0 Firefox/125.0",
        "Firefox Mobile",
        "mobile",
        None,
    ),
    (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) CriOS/124.0.6367.88 Mobile/15E148 Safari/604.1",
        "Chrome Mobile iOS",
        "mobile",
        None,
    ),
    (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) FxiOS/125.0 Mobile/15E148 Safari/605.1.15",
        "Firefox Mobile iOS",
        "mobile",
        None,
    ),
    (
        "Opera/9.80 (J2ME/MIDP; Opera Mini/9.80 (S60; SymbOS; Opera Mobi/23.348; U; en) "
        "Presto/2.5.25 Version/10.54",
        "Opera Mini",
        "mobile",
        None,
    ),
    (
        "Mozilla/5.0 (Linux; U; Android 10; en-US; RMX1911 Build/QKQ1.200209.002) "
        "AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/78.0.3904.108 "
        "UCBrowser/13.4.0.1306 Mobile Safari/537.36",
        "UC Browser",
        "mobile",
        None,
    ),
    (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_3_1 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Mobile/15E148 [FBAN/FBIOS;FBAV/453.0.0.35.108;FBBV/577045893;"
        "FBDV/iPhone14,5;FBMD/iPhone;FBSN/iOS;FBSV/17.3.1;FBSS/3;FBID/phone;FBLC/en_US;FBOP/5]",
        "Facebook",
        "mobile",
        None,
    ),
    (
        "Mozilla/5.0 (Mobile; Windows Phone 8.1; Android 4.0; ARM; Trident/7.0; Touch; rv:11.0; "
        "IEMobile/11.0; NOKIA; Lumia 635) like iPhone OS 7_0_3 Mac OS X AppleWebKit/537 "
        "(KHTML, like Gecko) Mobile Safari/537",
        "IE Mobile",
        "mobile",
        None,
    ),
    (
        "Mozilla/5.0 (Linux; U; Android 12; en-in; Redmi Note 10 Pro Build/SKQ1.210908.001) "
        "AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/112.0.5615.136 "
        "Mobile Safari/537.36 XiaoMi/MiuiBrowser/14.4.0-g",
        "Mi Browser",
        "mobile",
        None,
    ),
    (
        "Mozilla/5.0 (Mobile; LYF/F300B/LYF-F300B-001-01-15-130718-i;Android; rv:48.0) "
        "Gecko/48.0 Firefox/48.0 KAIOS/2.5",
        "Firefox Mobile",
        "mobile",
        None,
    ),
    # "CUBOT" is a phone brand, not a bot
    (
        "Mozilla/5.0 (Linux; Android 9; CUBOT P30) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/114.0.0.0 Mobile Safari/537.36",
        "Chrome Mobile",
        "mobile",
        None,
    ),
    # Tablets
    (
        "Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/17.4 Mobile/15E148 Safari/604.1",
        "Mobile Safari",
        "tablet",
        None,
    ),
    (
        "Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "CriOS/124.0.6367.88 Mobile/15E148 Safari/604.1",
        "Chrome Mobile iOS",
        "tablet",
        None,
    ),
    (
        "Mozilla/5.0 (Linux; Android 13; SM-X200) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/120.0.0.0 Safari/537.36",
        "Chrome",
        "tablet",
        None,
    ),
    (
        "Mozilla/5.0 (Android 13; Tablet; rv:125.0) Gecko/125.0 Firefox/125.0",
        "Firefox Mobile",
        "tablet",
        None,
    ),
    (
        "Mozilla/5.0 (Linux; Android 9; KFTRWI) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Silk/124.1.1 like Chrome/124.0.6367.82 Safari/537.36",
        "Mobile Silk",
        "tablet",
        None,
    ),
    (
        "Mozilla/5.0 (Linux; Android 12; Lenovo TB-X606F) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/123.0.0.0 Safari/537.36",
        "Chrome",
        "tablet",
        None,
    ),
    (
        "Mozilla/5.0 (Linux; Android 4.4.2; Nexus 7 Build/KOT49H) AppleWebKit/537.36 "
        "(KHTML, like Gecko) Chrome/34.0.1847.114 Safari/537.36",
        "Chrome",
        "tablet",
        None,
    ),
    # Neither: a TV, a console
    (
        "Mozilla/5.0 (SMART-TV; LINUX; Tizen 6.0) AppleWebKit/537.36 (KHTML, like Gecko) "
        "76.0.3809.146/6.0 TV Safari/537.36",
        "Safari",
        "other",
        None,
    ),
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64; Xbox; Xbox One) AppleWebKit/537.36 "
        "(KHTML, like Gecko) Chrome/70.0.3538.102 Safari/537.36 Edge/18.19041",
        "Microsoft Edge",
        "other",
        None,
    ),
    # An Android app's HTTP client: Matomo knows the phone (a Xiaomi Redmi 9)
    (
        "Dalvik/2.1.0 (Linux; U; Android 11; M2006C3MII Build/RP1A.200720.011)",
        "Android Browser",
        "mobile",
        None,
    ),
    # Bots: (agent, bot name, "bot", Matomo's category)
    # Crawlers
    (
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        "Googlebot",
        "bot",
        "Search bot",
    ),
    (
        "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 "
        "(KHTML, like Gecko) Chrome/124.0.6367.118 Mobile Safari/537.36 "
        "(compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        "Googlebot",
        "bot",
        "Search bot",
    ),
    (
        "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
        "BingBot",
        "bot",
        "Search bot",
    ),
    (
        "Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)",
        "YandexBot",
        "bot",
        "Search bot",
    ),
    (
        "Mozilla/5.0 (compatible; Baiduspider/2.0; +http://www.baidu.com/search/spider.html)",
        "Baidu Spider",
        "bot",
        "Search bot",
    ),
    (
        "DuckDuckBot/1.1; (+http://duckduckgo.com/duckduckbot.html)",
        "DuckDuckBot",
        "bot",
        "Search bot",
    ),
    (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_5) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/13.1.1 Safari/605.1.15 (Applebot/0.1; +http://www.apple.com/go/applebot)",
        "Applebot",
        "bot",
        "AI Search Crawler",
    ),
    (
        "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; "
        "+https://openai.com/gptbot)",
        "GPTBot",
        "bot",
        "AI Data Scraper",
    ),
    (
        "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
        "aHrefs Bot",
        "bot",
        "Crawler",
    ),
    # HTTP libraries
    ("curl/8.5.0", "curl", "bot", "HTTP Library"),
    ("Wget/1.21.4", "Wget", "bot", "HTTP Library"),
    ("python-requests/2.31.0", "Python Requests", "bot", "HTTP Library"),
    ("Python-urllib/3.11", "Python urllib", "bot", "HTTP Library"),
    ("Go-http-client/2.0", "Go-http-client", "bot", "HTTP Library"),
    ("okhttp/4.12.0", "OkHttp", "bot", "HTTP Library"),
    # Headless browsers
    (
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "HeadlessChrome/124.0.6367.60 Safari/537.36",
        "Headless Chrome",
        "bot",
        "Headless Browser",
    ),
    (
        "Mozilla/5.0 (Unknown; Linux x86_64) AppleWebKit/538.1 (KHTML, like Gecko) "
        "PhantomJS/2.1.1 Safari/538.1",
        "PhantomJS",
        "bot",
        "Headless Browser",
    ),
    (
        "Mozilla/5.0 (Linux; Android 11; moto g power (2022)) AppleWebKit/537.36 "
        "(KHTML, like Gecko) Chrome/119.0.0.0 Mobile Safari/537.36 Chrome-Lighthouse",
        "Lighthouse",
        "bot",
        "Site Monitor",
    ),
    # Uptime checkers and health checks
    (
        "Mozilla/5.0+(compatible; UptimeRobot/2.0; http://www.uptimerobot.com/)",
        "UptimeRobot",
        "bot",
        "Site Monitor",
    ),
    (
        "Pingdom.com_bot_version_1.4_(http://www.pingdom.com/)",
        "Pingdom Bot",
        "bot",
        "Site Monitor",
    ),
    ("kube-probe/1.29", "kube-probe", "bot", "Unknown Client"),
    ("ELB-HealthChecker/2.0", "Amazon ELB", "bot", "Site Monitor"),
    # Neither a browser nor a client Matomo knows, nor a "Mozilla/" claim
    ("panscient.com", "Panscient", "bot", "Crawler"),
    ("Upflow/1.0", "Upflow", "bot", "Unknown Client"),
    # Link previews
    (
        "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
        "Facebook Crawler",
        "bot",
        "Social Media Agent",
    ),
    ("Twitterbot/1.0", "Twitterbot", "bot", "Social Media Agent"),
    ("WhatsApp/2.23.20.0 A", "WhatsApp", "other", None),
    (
        "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
        "Slackbot",
        "bot",
        "Crawler",
    ),
]


@pytest.fixture(scope="module")
def agents() -> UserAgents:
    return UserAgents(cache_size=1_000)


def test_the_table_covers_every_kind_of_client() -> None:
    assert len(TABLE) >= 40
    assert {device_type for _, _, device_type, _ in TABLE} == {
        "desktop",
        "mobile",
        "tablet",
        "bot",
        "other",
    }
    assert {category for *_, category in TABLE} >= {
        "Search bot",
        "Crawler",
        "HTTP Library",
        "Headless Browser",
        "Site Monitor",
    }


@pytest.mark.parametrize(("user_agent", "name", "device_type", "category"), TABLE)
def test_real_user_agent_gives_family_type_and_bot_flag(
    agents: UserAgents,
    user_agent: str,
    name: str | None,
    device_type: str,
    category: str | None,
) -> None:
    fields = agents.fields(user_agent)
    assert fields["device"]["type"] == device_type
    assert fields["is_bot"] is (category is not None)
    if category is None:
        assert fields.get("browser", {}).get("family") == name
        assert "bot" not in fields
    else:
        assert fields["bot"] == {"name": name, "category": category}
        assert "browser" not in fields  # a bot's claimed browser is not a fact about it


def test_versions_and_device_details_are_kept(agents: UserAgents) -> None:
    fields = agents.fields(
        "Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) "
        "SamsungBrowser/24.0 Chrome/117.0.0.0 Mobile Safari/537.36"
    )
    assert fields["browser"] == {"family": "Samsung Browser", "version": "24.0"}
    assert fields["client_type"] == "browser"
    assert fields["os"] == {"family": "Android", "version": "14"}
    assert fields["device"] == {
        "type": "mobile",
        "fine_type": "smartphone",
        "brand": "Samsung",
        "model": "Galaxy S23 Ultra",
    }


def test_fine_types_map_to_the_coarse_classes(agents: UserAgents) -> None:
    phablet = agents.fields(
        "Mozilla/5.0 (Linux; U; Android 12; en-in; Redmi Note 10 Pro Build/SKQ1.210908.001) "
        "AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/112.0.5615.136 "
        "Mobile Safari/537.36 XiaoMi/MiuiBrowser/14.4.0-g"
    )
    assert phablet["device"]["fine_type"] == "phablet"
    assert phablet["device"]["type"] == "mobile"
    feature_phone = agents.fields(
        "Micromax X312/Q03C MAUI-Browser Profile/MIDP-2.0 Configuration/CLDC-1.1"
    )
    assert feature_phone["is_bot"] is False
    assert feature_phone["device"] == {
        "type": "mobile",
        "fine_type": "feature phone",
        "brand": "MicroMax",
        "model": "X312",
    }
    tv = agents.fields(
        "Mozilla/5.0 (SMART-TV; LINUX; Tizen 6.0) AppleWebKit/537.36 (KHTML, like Gecko) "
        "76.0.3809.146/6.0 TV Safari/537.36"
    )
    assert tv["device"]["fine_type"] == "tv"
    assert tv["device"]["type"] == "other"


def test_client_hints_reveal_what_a_reduced_user_agent_hides(agents: UserAgents) -> None:
    reduced = (
        "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/124.0.0.0 Mobile Safari/537.36"
    )
    hints = {
        "sec-ch-ua": '"Chromium";v="124", "Google Chrome";v="124", "Not-A.Brand";v="99"',
        "sec-ch-ua-mobile": "?1",
        "sec-ch-ua-platform": '"Android"',
        "sec-ch-ua-platform-version": '"14.0.0"',
        "sec-ch-ua-model": '"Pixel 8"',
    }
    without = agents.fields(reduced)
    assert without["os"] == {"family": "Android", "version": "10"}
    assert "model" not in without["device"]
    hinted = agents.fields(reduced, hints)
    assert hinted["os"] == {"family": "Android", "version": "14.0.0"}
    assert hinted["device"]["brand"] == "Google"
    assert hinted["device"]["model"] == "Pixel 8"


def test_unknown_parts_stay_absent_rather_than_other(agents: UserAgents) -> None:
    fields = agents.fields("Mozilla/5.0")
    assert fields == {"device": {"type": "other"}, "is_bot": False}
    linux = agents.fields(
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/124.0.0.0 Safari/537.36"
    )
    assert linux["os"] == {"family": "GNU/Linux"}  # no version known: no version field
    # Matomo leaves the type open: Android's "desktop site" mode sends this very agent.
    assert linux["device"] == {"type": "other"}


def test_a_bot_keeps_only_the_device_type_it_cannot_fake(agents: UserAgents) -> None:
    fields = agents.fields(
        "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 "
        "(KHTML, like Gecko) Chrome/124.0.6367.118 Mobile Safari/537.36 "
        "(compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
    )
    assert fields["device"] == {"type": "bot"}


def test_each_distinct_string_is_classified_once_and_the_cache_is_bounded() -> None:
    agents = UserAgents(cache_size=2)
    for user_agent in ["curl/1", "curl/1", "curl/2", "curl/3", "curl/1"]:
        agents.fields(user_agent)
    info = agents.cache_info()
    assert (info.hits, info.misses, info.currsize, info.maxsize) == (1, 4, 2, 2)


def test_a_browser_update_on_the_same_device_needs_no_new_device_lookup() -> None:
    agents = UserAgents(cache_size=10)
    phone = (
        "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/{} Mobile Safari/537.36"
    )
    first = agents.fields(phone.format("124.0.6367.113"))
    second = agents.fields(phone.format("125.0.6422.53"))
    assert agents.device_lookups == 1
    assert first["device"] == second["device"]
    assert second["browser"] == {"family": "Chrome Mobile", "version": "125.0.6422.53"}
    agents.fields(phone.format("124.0.6367.113").replace("SM-S918B", "SM-A546B"))
    assert agents.device_lookups == 2  # another phone: its own lookup


def test_fields_are_copies_that_a_document_may_change(agents: UserAgents) -> None:
    first = agents.fields("curl/8.5.0")
    first["device"]["type"] = "changed"
    first["bot"]["name"] = "changed"
    assert agents.fields("curl/8.5.0")["device"]["type"] == "bot"
    assert agents.fields("curl/8.5.0")["bot"]["name"] == "curl"
