"""The DR drill: back up, destroy, restore, bring the service back, verify; RTO and RPO measured."""
