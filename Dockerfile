# syntax=docker/dockerfile:1
# The operator image: a static (musl) binary on a distroless base, running as a non-root user.
# Build: docker build -t jira-cloud-operator:0.1.0 .
# Reproducible: the toolchain and base images are pinned, dependencies come from Cargo.lock (--locked), paths
# are remapped, symbols stripped, and SOURCE_DATE_EPOCH (a build argument) sets the image timestamps.

# The official Rust image on Alpine (the toolchain of rust-version in Cargo.toml): musl is its native target, and
# it ships gcc and musl-dev, which ring needs, so nothing is installed here.
FROM rust:1.95.0-alpine3.23 AS builder
ARG SOURCE_DATE_EPOCH=0
ENV CARGO_INCREMENTAL=0 \
    CARGO_TERM_COLOR=never \
    RUSTFLAGS="-C target-feature=+crt-static -C strip=symbols --remap-path-prefix=/src=."
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --target x86_64-unknown-linux-musl -p jira-cloud-operator --bin jira-cloud-operator \
    && install -D -m 0555 target/x86_64-unknown-linux-musl/release/jira-cloud-operator /out/jira-cloud-operator

# distroless static (no shell, no package manager), nonroot variant, pinned by digest.
FROM gcr.io/distroless/static-debian12:nonroot@sha256:afa5c872c891853ca7fcf1f12c3edb23f7eeef36189728842dd51042ff57f7ab
LABEL org.opencontainers.image.title="jira-cloud-operator" \
      org.opencontainers.image.description="Kubernetes operator that syncs Jira Cloud users, licenses and usage" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.source="https://github.com/jira-cloud-operator/jira-cloud-operator"
COPY --from=builder /out/jira-cloud-operator /jira-cloud-operator
USER 65532:65532
# 8080: /metrics; 8081: /healthz and /readyz.
EXPOSE 8080 8081
ENTRYPOINT ["/jira-cloud-operator"]
