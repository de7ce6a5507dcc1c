"""Governance: party agreements (当事者協定) and other-purpose consents, transmission
measures and the oversight committee's approvals, notifications to the committee,
retention policies and purges, and the statistics for the annual report.

``mamori.governance.gate`` is the read-only check the sealed selection zone imports.
"""
