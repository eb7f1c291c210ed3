"""What both front ends share: server-side sessions with CSRF tokens, the HTTP client of the services' APIs,
escaped Jinja2 templates and form parsing."""
