"""Matching registered components to vulnerabilities: CPE and purl identities, version
comparison by scheme, applicability statements and the index that keeps matching from
comparing every pair."""
