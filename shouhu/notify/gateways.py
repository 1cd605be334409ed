"""Adapters that take parents' messages off the machine.

`HttpSmsGateway` sends SMS through an HTTP gateway (the operator's or a cloud
provider's relay): `POST SHOUHU_SMS_URL` with JSON `{"to": "+8613800138000",
"text": "【守护】..."}` and `Authorization: Bearer SHOUHU_SMS_TOKEN`. Any 2xx answer is
delivery; anything else, or no answer within `SHOUHU_SMS_TIMEOUT` seconds, is a
failure that `send_to_parent` logs while the other channels still go out. Mainland
SMS must carry the sender's registered signature (`SHOUHU_SMS_SIGNATURE`, default
【守护】).

Enable with `SHOUHU_PARENT_BACKENDS=shouhu.notify.gateways.HttpSmsGateway`
(comma-separated with others, e.g. the console backend for a log line).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


class GatewayError(Exception):
    pass


class HttpSmsGateway:
    name = "sms"

    def __init__(self) -> None:
        self._settings()  # a missing address stops the process at the first message

    @staticmethod
    def _settings() -> tuple[str, str, str, float]:
        url: str = getattr(settings, "SHOUHU_SMS_URL", "")
        if not url.startswith(("https://", "http://")):
            raise ImproperlyConfigured("SHOUHU_SMS_URL must be the gateway's http(s) address.")
        return (
            url,
            getattr(settings, "SHOUHU_SMS_TOKEN", ""),
            getattr(settings, "SHOUHU_SMS_SIGNATURE", "【守护】"),
            float(getattr(settings, "SHOUHU_SMS_TIMEOUT", 10)),
        )

    def deliver(self, phone: str, channel: str, body: str) -> None:
        """Every channel falls back to SMS: a parent who prefers WeChat or a call still gets
        the text with the link and the dial-in number."""
        url, token, signature, timeout = self._settings()
        number = phone if phone.startswith("+") else f"+86{phone}"
        payload = {"to": number, "text": f"{signature}{body}"}
        request = urllib.request.Request(  # noqa: S310 - the address is checked: http(s) only
            url,
            data=json.dumps(payload, ensure_ascii=False).encode("utf-8"),
            headers={
                "Content-Type": "application/json; charset=utf-8",
                **({"Authorization": f"Bearer {token}"} if token else {}),
            },
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
                status = response.status
        except urllib.error.HTTPError as exc:
            raise GatewayError(f"SMS gateway answered {exc.code}") from exc
        except (urllib.error.URLError, TimeoutError) as exc:
            raise GatewayError(f"SMS gateway unreachable: {exc}") from exc
        if not 200 <= status < 300:
            raise GatewayError(f"SMS gateway answered {status}")
