"""Users, organisations, roles, designated handlers, purpose of use, authentication,
and the one ``authorize()`` choke point."""
