# The AMF1 service image (also runs the watcher and the set-up one-shots in docker-compose.elk.yml).
# Dependencies come from uv.lock, exactly as ./scripts/bootstrap.sh installs them.
FROM python:3.11-slim

# LightGBM needs the OpenMP runtime.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libgomp1 \
    && rm -rf /var/lib/apt/lists/*
RUN pip install --no-cache-dir uv==0.13.8

WORKDIR /app
ENV UV_PYTHON_DOWNLOADS=never \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    PATH=/app/.venv/bin:$PATH
# Dependencies first, so a source change does not reinstall them.
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-dev --no-install-project
COPY amf1 ./amf1
COPY service ./service
COPY logshipping ./logshipping
COPY tracing ./tracing
COPY elk ./elk
COPY kibana ./kibana
COPY alerting ./alerting
COPY hatch_build.py ./
# Installing the project compiles the C hot paths (tracing/_hotpath.c, logshipping/_hotpath.c;
# hatch_build.py); the compiler leaves in the same layer. Without it both run pure Python.
RUN apt-get update \
    && apt-get install -y --no-install-recommends gcc libc6-dev \
    && uv sync --frozen --no-dev \
    && apt-get purge -y --auto-remove gcc libc6-dev \
    && rm -rf /var/lib/apt/lists/*

RUN useradd --create-home --uid 10001 amf1 && mkdir -p /data && chown amf1 /data
USER amf1
EXPOSE 8000
CMD ["amf1", "serve", "--host", "0.0.0.0", "--port", "8000"]
