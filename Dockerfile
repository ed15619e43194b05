# Kiosk in production: gunicorn as a non-root user, migrating on start. See README, "Deploy".
#
# The base is a build argument, so the same file builds from Docker Hub's Python image and from
# a plain Debian image (CI builds it from one made by debootstrap, .ci/container-check):
#   docker build -t kiosk .
#   podman build --build-arg BASE_IMAGE=local/debian:bookworm -t kiosk .
ARG BASE_IMAGE=python:3.11-slim
FROM ${BASE_IMAGE}

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PATH=/opt/venv/bin:$PATH \
    KIOSK_ENV=production

# fonts-dejavu-core: the font every invoice PDF embeds (fpdf2's core fonts have no "€").
# postgresql-client: pg_dump and pg_restore for `flask kiosk backup` / `restore` on PostgreSQL.
# python3, python3-venv: only where the base has no Python of its own (plain Debian).
RUN set -eu; \
    packages="fonts-dejavu-core postgresql-client"; \
    if ! python3 -c "import ensurepip, venv" 2>/dev/null; then \
        packages="$packages python3 python3-venv"; \
    fi; \
    apt-get update; \
    apt-get install -y --no-install-recommends $packages; \
    rm -rf /var/lib/apt/lists/*; \
    test -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf; \
    python3 -m venv /opt/venv; \
    useradd --create-home --uid 10001 kiosk

WORKDIR /app
COPY requirements.txt ./
RUN pip install -r requirements.txt

COPY pyproject.toml babel.cfg ./
COPY src ./src
COPY templates ./templates
COPY static ./static
COPY migrations ./migrations
# The shipping methods (create_app refuses to start without them) and the demo catalog.
COPY data/shipping.toml ./data/shipping.toml
COPY data/demo ./data/demo
# What the shop writes goes to folders under /app/data owned by the kiosk user; mount a
# volume on each (not on /app/data, which holds the files above): media (pictures),
# backups, outbox (mail files), db (for DATABASE_URL=sqlite:////app/data/db/kiosk.sqlite3).
RUN pip install --no-deps -e . \
    && pybabel compile -d src/kiosk/translations \
    && mkdir -p data/media data/outbox data/backups data/db instance \
    && chown kiosk:kiosk data data/media data/outbox data/backups data/db instance

USER kiosk
ENV PORT=8000 \
    WEB_CONCURRENCY=2
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s --start-period=30s \
    CMD python3 -c "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ['PORT'], timeout=2)"

# Migrate first (safe to repeat), then serve. WEB_CONCURRENCY = gunicorn workers.
CMD ["sh", "-c", "flask --app kiosk db upgrade && exec gunicorn --workers \"$WEB_CONCURRENCY\" --bind \"0.0.0.0:$PORT\" --access-logfile - --forwarded-allow-ips='*' 'kiosk:create_app()'"]
