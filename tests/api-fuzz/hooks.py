"""Schemathesis hooks for `make api-fuzz` (loaded through schemathesis.toml beside this file).

- Bearer auth: two accounts are made on the live Worker (WORKER_URL) before the first
  authenticated request: one without two-factor authentication (an aal1 token) and one with
  TOTP turned on (an aal2 token, from /v1/2fa/totp/confirm). Most cases use the aal2 token, so
  the step-up routes get past the aal check; a fixed share use the aal1 one, so
  `insufficient_user_authentication` is exercised too. Their passwords are random, so no
  generated or documented request body ever holds them.
- Client address: the Worker rate-limits per `CF-Connecting-IP`. Most cases get an address of
  their own (drawn from 198.18.0.0/15, reserved for benchmarking; a header value only, every
  request goes to 127.0.0.1), so the handlers behind the limiter get exercised; one case in four
  shares one address, so the limiter's 429 is exercised too.

The choices are derived from the case itself, so a case sent again (when schemathesis
re-checks a failure) is sent the same way.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import struct
import time
import zlib

import requests
import schemathesis

BASE = os.environ.get("WORKER_URL", "http://127.0.0.1:8787").rstrip("/")
SHARED_IP = "198.18.255.254"


def _digest(case) -> int:
    return zlib.crc32(f"{case.method} {case.path} {case.body!r} {case.query!r}".encode())


def _client_ip(case) -> str:
    n = _digest(case)
    if n % 4 == 0:
        return SHARED_IP
    n //= 4
    return f"198.{18 + n % 2}.{(n >> 1) % 256}.{(n >> 9) % 254 + 1}"


def _totp(secret_b32: str, at: float) -> str:
    key = base64.b32decode(secret_b32 + "=" * (-len(secret_b32) % 8))
    mac = hmac.new(key, struct.pack(">Q", int(at) // 30), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    value = struct.unpack(">I", mac[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{value % 1_000_000:06d}"


def _post(path: str, body: dict, token: str | None = None) -> dict:
    headers = {"CF-Connecting-IP": f"198.19.254.{secrets.randbelow(250) + 1}"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    response = requests.post(f"{BASE}{path}", json=body, headers=headers, timeout=30)
    if response.status_code // 100 != 2:
        raise RuntimeError(f"fuzz account setup: POST {path} -> {response.status_code} {response.text}")
    return response.json()


def _account(with_totp: bool) -> str:
    username = f"fuzz-{secrets.token_hex(6)}"
    password = secrets.token_urlsafe(24)
    _post("/v1/register", {"username": username, "password": password})
    token = _post("/v1/login", {"username": username, "password": password})["access_token"]
    if not with_totp:
        return token
    secret = _post("/v1/2fa/totp/enroll", {"password": password}, token)["secret"]
    return _post("/v1/2fa/totp/confirm", {"code": _totp(secret, time.time())}, token)["access_token"]


# Access tokens live 15 minutes: new accounts every 10. Never refetch on a 401: here a 401 is
# an answer under test (wrong password, wrong code), not an expired token.
@schemathesis.auth(refresh_interval=600, retry_on=[])
class BearerTokens:
    def get(self, case, ctx):
        return {"aal1": _account(with_totp=False), "aal2": _account(with_totp=True)}

    def set(self, case, data, ctx):
        level = "aal1" if _digest(case) % 5 == 1 else "aal2"
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data[level]}"}


@schemathesis.hook
def before_call(context, case, kwargs):
    headers = dict(case.headers or {})
    headers.setdefault("CF-Connecting-IP", _client_ip(case))
    case.headers = headers
