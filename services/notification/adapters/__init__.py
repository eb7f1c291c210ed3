"""Adapters of the notification service: SMTP (aiosmtplib), templates (Jinja2), PostgreSQL (asyncpg)."""
