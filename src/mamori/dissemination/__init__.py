"""Provision (提供): recipients and their entitlements, delivery (TAXII 2.1, webhooks,
e-mail, the portal, the public site) and the feedback that comes back.

Other domains use ``mamori.dissemination.service``; the tables stay inside.
"""
