"""Hooks of scripts/schemathesis.sh (loaded through SCHEMATHESIS_HOOKS)."""

import uuid

import schemathesis


@schemathesis.hook
def map_headers(ctx, headers):
    # A key drawn again for the same body replays the first request's answer (SPEC 7), such as a
    # 201 naming an end user a later case deleted, which the stateful phase then reports as a
    # resource that is gone: each valid key drawn is made unique, an invalid one is left as is.
    key = (headers or {}).get("Idempotency-Key")
    if key and len(key) <= 200 and key.isascii() and key.isprintable():
        headers["Idempotency-Key"] = f"{key}-{uuid.uuid4().hex[:16]}"
    return headers
