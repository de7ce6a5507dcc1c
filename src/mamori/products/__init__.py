"""Products: handling labels, the three tiers, the sanitiser with its report, the labels
lint, and the renderers (STIX, CSAF, HTML/PDF, ATT&CK Navigator)."""
