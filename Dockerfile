# aibc as a container image: the static (musl) binary on an empty base, run as a non-root
# user. Build: docker build -t aibc . ; use: docker run --rm -v "$PWD:/work" aibc validate image.yaml
#
# Stage 1 builds the static binary from this checkout (Alpine's Rust targets musl, so the
# result needs no libc); stage 2 holds only that binary and the CA bundle rustls reads to
# trust Azure's TLS certificates.
FROM rust:1-alpine AS build
# mimalloc and aws-lc (rustls' crypto) compile C; cmake and perl are aws-lc's build tools.
RUN apk add --no-cache musl-dev gcc make cmake perl git ca-certificates
WORKDIR /src
COPY . .
ARG AIBC_COMMIT=""
ENV AIBC_COMMIT=${AIBC_COMMIT}
RUN cargo build --release --locked && ./target/release/aibc --version

FROM scratch
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /src/target/release/aibc /usr/local/bin/aibc
ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
# A numeric user: scratch has no /etc/passwd, and Kubernetes' runAsNonRoot checks the number.
USER 65532:65532
WORKDIR /work
ENTRYPOINT ["/usr/local/bin/aibc"]
CMD ["--help"]
