"""The tamper-evident audit log: an append-only RFC 9162 Merkle tree of entries, signed
tree heads, inclusion and consistency proofs, and a verifier anyone can run."""
