"""Scale-out selection: captures queued on NATS JetStream, selected by any number of workers.

``submit`` splits captures into self-contained batches, seals each under a fresh key
wrapped by the zone transport key and publishes it; ``worker`` takes batches from
the shared durable consumer, runs the same engine as ``mamori select run`` and
acknowledges a batch only once its records and receipt are committed.
"""
