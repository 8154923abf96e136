# A slim image of the bot, built from the package (pyproject.toml): wheels in a build stage, only
# the installed package in the final one, run as an unprivileged user. Secrets come from the
# environment at run time (never baked into the image); the SQLite default lives in /data.
#
#   docker build -t maturity-bot .
#   docker run --rm -it -v maturity-data:/data maturity-bot console
#   docker run --rm --env-file .env -p 127.0.0.1:3000:3000 maturity-bot slack --http --host 0.0.0.0
#
# compose.yaml runs it with PostgreSQL and two workers.

FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY flows ./flows
COPY model_data ./model_data
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim
# pango (and a font) for the board report's PDF (WeasyPrint); the HTML report needs neither
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*
RUN useradd --system --uid 10001 --home-dir /data --create-home maturity
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
USER maturity
WORKDIR /data
ENV MATURITY_DB=/data/maturity.db \
    MATURITY_CHART_DIR=/data/charts \
    PYTHONUNBUFFERED=1
VOLUME ["/data"]
EXPOSE 3000 8443
ENTRYPOINT ["maturity-bot"]
CMD ["console"]
