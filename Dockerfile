# Kiosk in production: gunicorn as a non-root user. See README, "Deploy".
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    KIOSK_ENV=production \
    KIOSK_MEDIA_DIR=/app/data/media

RUN useradd --create-home --uid 10001 kiosk
WORKDIR /app

COPY requirements.txt ./
RUN pip install -r requirements.txt

COPY pyproject.toml babel.cfg ./
COPY src ./src
COPY templates ./templates
COPY static ./static
COPY migrations ./migrations
COPY data/demo ./data/demo
RUN pip install --no-deps -e . \
    && pybabel compile -d src/kiosk/translations \
    && mkdir -p data/media instance \
    && chown -R kiosk:kiosk data instance

USER kiosk
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s \
    CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz')"

# Migrate first (safe to repeat), then serve. WEB_CONCURRENCY = gunicorn workers.
CMD ["sh", "-c", "flask --app kiosk db upgrade && exec gunicorn --workers ${WEB_CONCURRENCY:-2} --bind 0.0.0.0:8000 --access-logfile - --forwarded-allow-ips='*' 'kiosk:create_app()'"]
