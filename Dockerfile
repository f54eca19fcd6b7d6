# tenantd on Debian 12, built with the same scripts a developer uses.
FROM debian:12 AS build
WORKDIR /src
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends git ca-certificates >/dev/null
COPY scripts/deps scripts/deps
COPY docs/ui/package.json docs/ui/package-lock.json docs/ui/
# Installs exactly the Debian packages the project needs (and the Swagger UI assets).
RUN ./scripts/deps
COPY . .
RUN ./scripts/build release tenantd tenantctl

FROM debian:12
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends \
      libboost-json1.81.0 libboost-url1.81.0 librocksdb7.8 librdkafka1 libspdlog1.10 libfmt9 \
      libprometheus-cpp-core1.0 libssl3 libjwt0 libicu72 libsimdjson14 libtcmalloc-minimal4 curl ca-certificates \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/build/release/apps/tenantd /src/build/release/apps/tenantctl /usr/local/bin/
COPY --from=build /src/docs /usr/local/share/tenantd/docs
VOLUME /var/lib/tenantd
ENV TENANTD_DATA_DIR=/var/lib/tenantd
EXPOSE 8080
HEALTHCHECK --interval=5s --timeout=2s --retries=10 CMD curl -fs http://127.0.0.1:8080/livez || exit 1
ENTRYPOINT ["/usr/local/bin/tenantd"]
