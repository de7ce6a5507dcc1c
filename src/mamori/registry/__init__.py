"""The register of specified critical computers (特定重要電子計算機の届出, Art 4): special
infrastructure operators, their computers by device category with components (CPE 2.3,
purl), SBOM and CSV import, version history as change notifications, the six-month
transition and the consultation channel.

Other domains use ``mamori.registry.service``.
"""
