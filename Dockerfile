FROM python:3.11-slim
WORKDIR /app
COPY setup.cfg pyproject.toml README.md ./
COPY domain domain
COPY adapters adapters
COPY entrypoints entrypoints
COPY projections projections
RUN pip install --no-cache-dir .
ENV BLDR_HOST=0.0.0.0 BLDR_DATA_DIR=/var/lib/bldr
ENTRYPOINT ["bldr"]
