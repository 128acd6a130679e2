# patternd: build on Debian 12 with the packages ./dev installs, run as a
# non-root user with only the runtime libraries.
#   docker build -t patternd .
#   docker run --rm patternd --help

FROM debian:12 AS build
# The same list as `packages` in ./dev (a test keeps the two equal).
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      build-essential cmake ninja-build ccache pkg-config \
      librdkafka-dev libsqlitecpp-dev libsqlite3-dev sqlite3 prometheus-cpp-dev libmicrohttpd-dev \
      libyaml-cpp-dev libsimdjson-dev libcli11-dev nlohmann-json3-dev libssl-dev \
      libgtest-dev prometheus curl clang libclang-rt-14-dev clang-format docker-compose chromium \
      postgresql libpq-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY CMakeLists.txt ./
COPY cmake cmake
COPY schema schema
COPY worker worker
COPY tests tests
RUN cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
 && cmake --build build --target patternd \
 && strip build/patternd

FROM debian:12-slim
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      librdkafka++1 libsqlite3-0 libprometheus-cpp-core1.0 libmicrohttpd12 libyaml-cpp0.7 \
      libsimdjson14 libssl3 libpq5 ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /var/lib/patternd --shell /usr/sbin/nologin patternd \
 && mkdir -p /var/lib/patternd /etc/patternd \
 && chown patternd:patternd /var/lib/patternd
COPY --from=build /src/build/patternd /usr/local/bin/patternd
COPY config/patternd.yaml config/patterns.yaml /etc/patternd/
USER patternd
WORKDIR /var/lib/patternd
EXPOSE 9464
ENV PATTERND_STORAGE_PATH=/var/lib/patternd/patternd.db \
    PATTERND_DETECTION_RULES=/etc/patternd/patterns.yaml \
    PATTERND_METRICS_LISTEN=0.0.0.0:9464
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s \
  CMD curl -fsS http://127.0.0.1:9464/healthz || exit 1
ENTRYPOINT ["patternd"]
CMD ["run", "--config", "/etc/patternd/patternd.yaml"]
