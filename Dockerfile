# One image for the worker, the gateway and the sandbox; docker-compose.yml picks the command.
FROM python:3.11.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app

COPY pyproject.toml README.md worker.py ./
COPY workflows workflows
COPY activities activities
COPY onboarding onboarding
COPY sandbox sandbox
RUN pip install --no-cache-dir . \
    && useradd --uid 10001 --no-create-home --shell /usr/sbin/nologin onboarding \
    && mkdir -p /data/selfies \
    && chown onboarding /data/selfies

# Not root; the selfie volume starts owned by this user because the directory above is.
USER 10001
CMD ["python", "-m", "worker"]
