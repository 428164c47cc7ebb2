"""The SMS gateway adapter interface, and the logging gateway of the demo and the tests.

A gateway is any object with

    name: str
    def send(self, message: SmsMessage) -> str

`send` hands one message to the gateway and returns the gateway's message id; it raises
`SmsUnavailable` for a transient failure (the delivery job retries with backoff) and
`SmsRejected` for a permanent one (a bad number: the row keeps the error, the job fails
and waits on the jobs page). `message.key` is stable per notice and channel
("<notice number>-sms"): pass it to the gateway as its client message id / idempotency
key where the gateway has one, so a job retried after a crash between the gateway's
acceptance and our commit is recognised by the gateway instead of sending twice.

The gateway is chosen by `SMS_GATEWAY` (app config, else the environment): "logging"
(default) or "package.module:factory" returning a gateway, e.g. an adapter for the
operator's HTTP API. Message texts are at most 70 characters (one SMS segment).
"""
from __future__ import annotations

import importlib
import logging
import os
from dataclasses import dataclass

from backoffice.notices.services import SMS_MAX, mask_phone

log = logging.getLogger("backoffice.notices.sms")


@dataclass(frozen=True)
class SmsMessage:
    key: str  # idempotency key: "<notice number>-sms"
    phone: str
    text: str


class SmsUnavailable(Exception):
    """A transient failure: try again later."""


class SmsRejected(Exception):
    """A permanent failure: this message will not go out as it is."""


class LoggingGateway:
    """Writes each message to the log (number masked) instead of sending it."""

    name = "logging"

    def send(self, message: SmsMessage) -> str:
        if len(message.text) > SMS_MAX:
            raise SmsRejected(f"text of {len(message.text)} characters (> {SMS_MAX})")
        log.info("SMS %s to %s: %s", message.key, mask_phone(message.phone), message.text)
        return f"log-{message.key}"


def gateway(config=None):
    spec = ((config or {}).get("SMS_GATEWAY") or os.environ.get("SMS_GATEWAY") or "logging").strip()
    if spec == "logging":
        return LoggingGateway()
    module, _, attr = spec.partition(":")
    return getattr(importlib.import_module(module), attr or "gateway")()
