"""Who may do what, and how much: API keys, scopes, learner tokens, CORS, rate limits.

Where each check happens, in the order a request meets them:

1. `cors.Cors` (outermost ASGI middleware): answers preflights for origins registered on
   a browser key; adds CORS headers to an answer only when the guard granted its origin.
2. connexion's security middleware calls `guard.api_key_info` (the spec's
   `x-apikeyInfoFunc`) once per security requirement the operation declares: the key is
   authenticated, its scopes checked against the requirement's, and for a `browser`
   requirement the request's Origin against the key's origins.
3. `ratelimit.RateLimit` (after security, before body validation): token buckets in Redis
   per key, and per client IP for browser keys; 429 with Retry-After.
4. In the handler, `identity.caller()` verifies the learner token of a browser request
   and `Caller.admit` decides what each event may say about who sent it.
"""
