"""Vulnerability information: CVE, JVN, KEV and CSAF feeds matched against the register
of specified critical computers, exposure, the domestic exploited-vulnerability
catalogue, supplier coordination and CSAF advisories. Other domains use ``service``."""
