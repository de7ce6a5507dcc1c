"""The sealed automatic-selection zone (自動選別, automatic selection).

Communications information enters here and only selected mechanical information
and receipts leave. Nothing in this package offers a way for a person to view
pre-selection content: no UI, no query, no debug dump, no log line carrying it.
The package imports only ``mamori.config``, ``mamori.audit`` and the read-only
measure check ``mamori.governance.gate`` from the rest of the platform.
"""
