"""Cookieless, first-party shop analytics.

The server already sees every product view, search, cart change, checkout step and order,
so it counts them itself: no cookie, no script, no third party, and so no consent needed.
A visitor is a hash of IP address, user agent and a salt that changes every day and is then
deleted; neither the address nor the user agent is stored. Raw events are rolled up into
daily (and, for today, hourly) figures and deleted after `KIOSK_ANALYTICS_RAW_DAYS`; the
days of a finished month are summed into monthly figures, so long ranges read few rows.

This domain sits low in the domain order: the shop's pages record into it, the back
office's dashboard reads from it, and it imports neither.
"""
