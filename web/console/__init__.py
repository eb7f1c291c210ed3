"""The operator console (管理画面): one shop per login, by its operator key; Japanese UI over the services' operator
APIs (orders, payments, mails, subscriptions, customers' cards, settings, a dashboard). Server-rendered."""
