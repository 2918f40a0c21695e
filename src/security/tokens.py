"""Learner tokens: who the learner is, as the site's server vouches for it to a browser.

A browser key is public, so a page could claim to be any learner. The site's server,
which knows who is signed in, signs a short-lived JWT (HS256, with the browser key's own
token secret): `sub` the username, `aud` LEARNER_TOKEN_AUDIENCE, `exp`. The page sends
it in `X-Learner-Token`; Footfall takes the username from it and from nowhere else.

PyJWT does the JOSE work (algorithm pinning, `exp`/`aud` checks, constant-time
signature comparison): hand-made JWT code is where such bugs live.
"""

from __future__ import annotations

import time

import jwt

ALGORITHM = "HS256"
HEADER = "X-Learner-Token"
#: Clock skew allowed between the site's server and Footfall.
LEEWAY_S = 30
MAX_USERNAME = 150


class LearnerTokenError(Exception):
    """The token cannot be believed; `reason` says why, without echoing the token."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def issue(secret: str, username: str, audience: str = "footfall", ttl_s: int = 600) -> str:
    """What a site's server does (tests and docs use it; sites use any JWT library)."""
    now = int(time.time())
    claims = {"sub": username, "aud": audience, "iat": now, "exp": now + ttl_s}
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def verify(token: str, secret: str, audience: str, max_ttl_s: int) -> str:
    """The username a valid token names; LearnerTokenError otherwise.

    A token that expires further ahead than `max_ttl_s` is refused too: a token is
    copied into pages, so one that lives long is one that can be replayed long.
    """
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            audience=audience,
            leeway=LEEWAY_S,
            options={"require": ["exp", "sub", "aud"]},
        )
    except jwt.ExpiredSignatureError:
        raise LearnerTokenError("the learner token has expired") from None
    except jwt.InvalidAudienceError:
        raise LearnerTokenError("the learner token is for another audience") from None
    except jwt.InvalidSignatureError:
        raise LearnerTokenError("the learner token's signature does not match") from None
    except jwt.MissingRequiredClaimError as error:
        raise LearnerTokenError(f"the learner token has no {error.claim!r} claim") from None
    except jwt.InvalidTokenError:
        raise LearnerTokenError("the learner token is not a valid JWT") from None
    if claims["exp"] - time.time() > max_ttl_s + LEEWAY_S:
        raise LearnerTokenError(f"the learner token lives longer than {max_ttl_s} s")
    username = claims["sub"]
    if not isinstance(username, str) or not 0 < len(username) <= MAX_USERNAME:
        raise LearnerTokenError(f"the learner token's sub is not a username (1-{MAX_USERNAME})")
    return username
