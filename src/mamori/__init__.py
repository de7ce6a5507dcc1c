"""mamori (守り): the information platform of the Active Cyber Defense law.

Collection, sealed automatic selection, organisation and analysis, tiered
provision, and oversight — with the secrecy of communications kept by
construction.
"""

__version__ = "0.1.0"
