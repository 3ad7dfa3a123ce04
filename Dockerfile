FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app

COPY pyproject.toml ./
RUN pip install --upgrade pip && pip install .

COPY . .
# Static files are collected at build time and served by whitenoise.
RUN SECRET_KEY=collectstatic-only python manage.py collectstatic --noinput \
    && useradd --create-home porchlight && mkdir -p /app/var /app/media && chown -R porchlight /app/var /app/media
USER porchlight

EXPOSE 8000
CMD ["gunicorn", "canvass.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3"]
