"""How work reaches the notification service: Kafka subscribers, the mail dispatcher, the operator HTTP API."""
