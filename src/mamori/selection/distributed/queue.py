"""The JetStream work queue that carries batches from submitters to selection workers.

One stream with work-queue retention (a message is gone once a worker has
acknowledged it) on one subject, and one durable pull consumer that every worker
on every machine shares, with explicit acknowledgement: a batch that is not
acknowledged within ``ack_wait`` — because its worker died — is delivered again,
at most ``max_deliver`` times. Names and timings come from the environment so
that deployments (and tests) can keep several queues apart:

=================================  =============================  =======================
setting                            default                        meaning
=================================  =============================  =======================
``MAMORI_NATS_URL``                ``nats://127.0.0.1:4222``      the NATS server
``MAMORI_SELECTION_STREAM``        ``MAMORI_SELECTION``           stream name
``MAMORI_SELECTION_SUBJECT``       ``mamori.selection.batches``   subject of the batches
``MAMORI_SELECTION_CONSUMER``      ``selection-workers``          durable consumer name
``MAMORI_SELECTION_ACK_WAIT``      ``60``                         seconds before redelivery
``MAMORI_SELECTION_MAX_DELIVER``   ``5``                          deliveries before a dead letter
=================================  =============================  =======================
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlsplit

import nats
from nats.aio.client import Client
from nats.js import JetStreamContext, api
from nats.js.errors import BadRequestError, NotFoundError

from mamori.config import get_settings
from mamori.errors import InvalidInput, MamoriError

DEFAULT_STREAM = "MAMORI_SELECTION"
DEFAULT_SUBJECT = "mamori.selection.batches"
DEFAULT_CONSUMER = "selection-workers"
DEFAULT_ACK_WAIT = 60.0
DEFAULT_MAX_DELIVER = 5
DUPLICATE_WINDOW = 120.0
"""Seconds during which the broker drops a second copy of a batch id it already holds."""
CONNECT_TIMEOUT = 5.0
_NAME = re.compile(r"^[A-Za-z0-9_\-]{1,64}$")
_SUBJECT = re.compile(r"^[A-Za-z0-9_\-]+(\.[A-Za-z0-9_\-]+)*$")


class QueueUnavailable(MamoriError):
    """The NATS server cannot be reached, or it has no JetStream."""

    status_code = 503
    title = "Selection queue unavailable"


def _env(name: str, default: str) -> str:
    return os.environ.get(name, "").strip() or default


def _number(name: str, default: float, *, minimum: float) -> float:
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        raise InvalidInput(f"{name}: a number") from None
    if value < minimum:
        raise InvalidInput(f"{name}: at least {minimum:g}")
    return value


@dataclass(frozen=True)
class QueueConfig:
    """Where the queue is and how it behaves (see the module doc for the settings)."""

    url: str
    stream: str = DEFAULT_STREAM
    subject: str = DEFAULT_SUBJECT
    consumer: str = DEFAULT_CONSUMER
    ack_wait: float = DEFAULT_ACK_WAIT
    max_deliver: int = DEFAULT_MAX_DELIVER

    def __post_init__(self) -> None:
        if not _NAME.match(self.stream):
            raise InvalidInput("stream name: 1 to 64 characters of A-Z a-z 0-9 _ -")
        if not _NAME.match(self.consumer):
            raise InvalidInput("consumer name: 1 to 64 characters of A-Z a-z 0-9 _ -")
        if not _SUBJECT.match(self.subject):
            raise InvalidInput("subject: dot-separated tokens of A-Z a-z 0-9 _ - (no wildcards)")
        if self.ack_wait < 1 or self.max_deliver < 1:
            raise InvalidInput("ack wait and max deliveries must be at least 1")

    @classmethod
    def from_settings(cls, **overrides: Any) -> QueueConfig:
        config = cls(
            url=get_settings().nats_url,
            stream=_env("MAMORI_SELECTION_STREAM", DEFAULT_STREAM),
            subject=_env("MAMORI_SELECTION_SUBJECT", DEFAULT_SUBJECT),
            consumer=_env("MAMORI_SELECTION_CONSUMER", DEFAULT_CONSUMER),
            ack_wait=_number("MAMORI_SELECTION_ACK_WAIT", DEFAULT_ACK_WAIT, minimum=1),
            max_deliver=int(_number("MAMORI_SELECTION_MAX_DELIVER", DEFAULT_MAX_DELIVER,
                                    minimum=1)),
        )  # fmt: skip
        return replace(config, **{k: v for k, v in overrides.items() if v is not None})

    @property
    def server(self) -> str:
        """The server's address without any credentials, for messages and logs."""
        parts = urlsplit(self.url)
        return f"{parts.scheme}://{parts.hostname}:{parts.port or 4222}"


async def connect(config: QueueConfig) -> Client:
    """A connection to the queue's server, or a clear error naming the server."""
    try:
        return await nats.connect(
            config.url, connect_timeout=CONNECT_TIMEOUT, max_reconnect_attempts=3,
            allow_reconnect=True, name="mamori-selection",
        )  # fmt: skip
    except Exception as exc:  # the client raises assorted errors for "unreachable"
        raise QueueUnavailable(
            f"the selection queue at {config.server} cannot be reached ({type(exc).__name__})"
        ) from None


async def ensure_queue(js: JetStreamContext, config: QueueConfig) -> QueueConfig:
    """Create the stream and the durable consumer if missing; returns the effective config.

    An existing consumer keeps its own ``ack_wait`` and ``max_deliver``; the returned
    config carries them, so that heartbeats and dead-letter decisions follow the broker.
    """
    try:
        info = await js.stream_info(config.stream)
    except NotFoundError:
        info = await _create_stream(js, config)
    except Exception as exc:
        raise QueueUnavailable(
            f"the NATS server at {config.server} has no usable JetStream ({type(exc).__name__})"
        ) from None
    if info.config.retention != api.RetentionPolicy.WORK_QUEUE:
        raise InvalidInput(f"stream {config.stream} exists but is not a work queue")
    if config.subject not in (info.config.subjects or []):
        raise InvalidInput(f"stream {config.stream} exists but does not carry {config.subject}")
    try:
        consumer = await js.consumer_info(config.stream, config.consumer)
    except NotFoundError:
        consumer = await _create_consumer(js, config)
    ack_wait = consumer.config.ack_wait or config.ack_wait
    max_deliver = consumer.config.max_deliver
    if max_deliver is None or max_deliver < 1:
        max_deliver = config.max_deliver
    return replace(config, ack_wait=float(ack_wait), max_deliver=int(max_deliver))


async def _create_stream(js: JetStreamContext, config: QueueConfig) -> api.StreamInfo:
    stream = api.StreamConfig(
        name=config.stream,
        description="mamori selection batches (AES-GCM sealed captures)",
        subjects=[config.subject],
        retention=api.RetentionPolicy.WORK_QUEUE,
        storage=api.StorageType.FILE,
        duplicate_window=DUPLICATE_WINDOW,
    )
    try:
        return await js.add_stream(stream)
    except BadRequestError:  # created meanwhile by another process
        return await js.stream_info(config.stream)


async def _create_consumer(js: JetStreamContext, config: QueueConfig) -> api.ConsumerInfo:
    consumer = api.ConsumerConfig(
        durable_name=config.consumer,
        ack_policy=api.AckPolicy.EXPLICIT,
        deliver_policy=api.DeliverPolicy.ALL,
        ack_wait=config.ack_wait,
        max_deliver=config.max_deliver,
        filter_subject=config.subject,
        max_ack_pending=-1,
    )
    try:
        return await js.add_consumer(config.stream, consumer)
    except BadRequestError:
        return await js.consumer_info(config.stream, config.consumer)


async def delete_queue(config: QueueConfig) -> bool:
    """Remove the stream (and with it the consumer and every queued batch)."""
    client = await connect(config)
    try:
        return await client.jetstream().delete_stream(config.stream)
    except NotFoundError:
        return False
    finally:
        await client.close()
