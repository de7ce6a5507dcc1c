"""The web application: app factory, templates, static files and translations."""
