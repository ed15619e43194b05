"""Kiosk: a hypermedia-driven, lightweight web shop."""

from kiosk.app import create_app

__all__ = ["create_app"]
