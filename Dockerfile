# litekeep container image: multi-stage build on Debian 12; the runtime
# stage carries only the binary, its shared libraries and the entrypoint.
#   docker build -t litekeep .
#   docker run --rm litekeep version
FROM debian:12-slim AS build
RUN apt-get update && apt-get install -y --no-install-recommends \
      build-essential cmake ninja-build pkg-config ccache \
      libsqlite3-dev libcurl4-openssl-dev libssl-dev liblz4-dev libzstd-dev \
      libyaml-cpp-dev libcli11-dev libspdlog-dev libfmt-dev nlohmann-json3-dev libssh2-1-dev \
      nodejs npm \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# The SQLite amalgamation the binary compiles in (docs/architecture.md
# "SQLite"): reused from the build context if fetched there, else fetched.
RUN scripts/install-deps.sh
RUN cmake -S . -B /build -G Ninja -DCMAKE_BUILD_TYPE=Release \
      -DLITEKEEP_BUILD_TESTS=OFF -DLITEKEEP_BUILD_BENCH=OFF \
    && ninja -C /build litekeep && strip /build/litekeep

FROM debian:12-slim
RUN apt-get update && apt-get install -y --no-install-recommends \
      ca-certificates curl libcurl4 libssl3 liblz4-1 libssh2-1 \
      libyaml-cpp0.7 libspdlog1.10 libfmt9 \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /build/litekeep /usr/local/bin/litekeep
COPY etc/entrypoint.sh /usr/local/bin/litekeep-entrypoint
COPY etc/litekeep.yml /etc/litekeep.yml
# Sidecar use: `docker run litekeep replicate -config /etc/litekeep.yml`.
# Single-container use: ENTRYPOINT ["litekeep-entrypoint"] with
# LITEKEEP_DB set and the app's command as CMD (see etc/entrypoint.sh).
ENTRYPOINT ["/usr/local/bin/litekeep"]
CMD ["replicate", "-config", "/etc/litekeep.yml"]
