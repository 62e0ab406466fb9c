# The example client of docker-compose.yml: curl and a script, nothing else.
FROM debian:bookworm-slim
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
        --no-install-recommends curl ca-certificates \
    && rm -rf /var/lib/apt/lists/*
COPY example-client.sh /usr/local/bin/example-client
ENTRYPOINT ["/usr/local/bin/example-client"]
