"""The baseline: the smallest Flask app, served exactly like the shop.

Its throughput is what 2 sync gunicorn workers on this machine can do at all;
the shop's pages are reported as a percentage of it, which makes the figures
comparable between a laptop and a CI runner.
"""

from flask import Flask


def create_app() -> Flask:
    app = Flask(__name__)

    @app.get("/")
    def hello() -> str:
        return "Hello, world!"

    return app
