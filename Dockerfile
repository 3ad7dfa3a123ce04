FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app

# Pango and a font for WeasyPrint, which renders the walk-sheet PDFs.
RUN apt-get update && apt-get install -y --no-install-recommends \
        libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*
COPY pyproject.toml ./
RUN pip install --upgrade pip && pip install .

COPY . .
# Static files are collected at build time and served by whitenoise.
RUN SECRET_KEY=collectstatic-only python manage.py collectstatic --noinput \
    && useradd --create-home porchlight && mkdir -p /app/var /app/media && chown -R porchlight /app/var /app/media
USER porchlight

EXPOSE 8000
CMD ["gunicorn", "canvass.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3"]
