"""Field encryption (AES-256-GCM) and keyed hashes (HMAC-SHA256) for identifying fields.

Both keys are derived with HKDF from `SHOUHU_FIELD_KEY`, which lives outside the database.
Ciphertexts carry a version prefix so that keys can be rotated later.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from functools import lru_cache

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_PREFIX = "v1:"


class DecryptionError(ValueError):
    pass


@lru_cache(maxsize=4)
def _keys(master: str) -> tuple[bytes, bytes]:
    material = HKDF(
        algorithm=hashes.SHA256(), length=64, salt=b"shouhu-field-keys", info=b"v1"
    ).derive(master.encode("utf-8"))
    return material[:32], material[32:]


def encrypt(plaintext: str, *, master: str) -> str:
    enc_key, _ = _keys(master)
    nonce = os.urandom(12)
    ciphertext = AESGCM(enc_key).encrypt(nonce, plaintext.encode("utf-8"), _PREFIX.encode())
    return _PREFIX + base64.b64encode(nonce + ciphertext).decode("ascii")


def decrypt(token: str, *, master: str) -> str:
    if not token.startswith(_PREFIX):
        raise DecryptionError("Unknown ciphertext version.")
    enc_key, _ = _keys(master)
    raw = base64.b64decode(token[len(_PREFIX) :])
    try:
        plain = AESGCM(enc_key).decrypt(raw[:12], raw[12:], _PREFIX.encode())
    except Exception as exc:  # cryptography raises InvalidTag
        raise DecryptionError("Ciphertext does not decrypt with this key.") from exc
    return plain.decode("utf-8")


def keyed_hash(value: str, *, master: str, purpose: str) -> str:
    """Deterministic HMAC for exact-match lookup; `purpose` separates hash families."""
    _, mac_key = _keys(master)
    message = purpose.encode("utf-8") + b"\x00" + value.encode("utf-8")
    return hmac.new(mac_key, message, hashlib.sha256).hexdigest()
