"""The TAXII 2.1 server of provision: parsing, cursors and the routes."""
