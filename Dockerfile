# syntax=docker/dockerfile:1
# Build: docker build -t certverify .
# Run:   docker run -p 8080:8080 -v certverify-data:/var/lib/certverify certverify

FROM rust:1.95-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends libpq-dev && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Dependencies first, so that a source change does not rebuild them.
COPY Cargo.toml Cargo.lock ./
RUN mkdir src && echo 'fn main() {}' > src/main.rs && touch src/lib.rs \
    && cargo build --release --locked && rm -rf src
COPY . .
RUN touch src/main.rs src/lib.rs && cargo build --release --locked

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends libpq5 ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --home-dir /var/lib/certverify --create-home --uid 10001 certverify
COPY --from=build /src/target/release/certverify /usr/local/bin/certverify
USER certverify
WORKDIR /var/lib/certverify
ENV CERTVERIFY_LISTEN=0.0.0.0:8080 \
    CERTVERIFY_LOG_FORMAT=json
EXPOSE 8080
ENTRYPOINT ["certverify"]
CMD ["serve"]
