# Two images from one file. The default target, `product`, is what production runs (the
# worker and the gateway): the product install only, no sandbox, no dev server binary. The
# `sandbox` target adds the dev tooling for the stand-ins of the remote systems
# (docker-compose.yml's `sandbox` profile). BUILD_ID names the build: every worker of it
# declares it (Worker Deployment Versioning), so give each release its own.
FROM python:3.11.11-slim-bookworm AS base

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app

COPY pyproject.toml README.md worker.py ./
COPY onboarding_client onboarding_client
COPY clients/python/pyproject.toml clients/python/README.md clients/python/
COPY contracts contracts
COPY workflows workflows
COPY activities activities
COPY onboarding onboarding
COPY schema schema
# The caller's client first (its package is the checkout's onboarding_client, linked in).
RUN ln -s ../../onboarding_client clients/python/onboarding_client \
    && pip install --no-cache-dir ./clients/python . \
    && useradd --uid 10001 --no-create-home --shell /usr/sbin/nologin onboarding \
    && mkdir -p /data/selfies \
    && chown onboarding /data/selfies


FROM base AS sandbox
COPY devstack devstack
COPY sandbox sandbox
COPY devtools/pyproject.toml devtools/pyproject.toml
RUN ln -s ../devstack devtools/devstack && ln -s ../sandbox devtools/sandbox \
    && pip install --no-cache-dir ./devtools
USER 10001
CMD ["python", "-m", "sandbox"]


FROM base AS product
ARG BUILD_ID=1.0.0
ENV TEMPORAL_WORKER_BUILD_ID=${BUILD_ID}
# Not root; the selfie volume starts owned by this user because the directory above is.
USER 10001
CMD ["python", "-m", "worker"]
