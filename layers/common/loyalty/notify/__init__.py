"""Emails partners receive: templated and localized per event, per-partner preferences and
unsubscribe, bounces recorded."""
